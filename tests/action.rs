//! action/entrypoint.sh end to end: a temporary git repository with the base and head
//! revisions of fixtures/pr, a fake `pull_request` event, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY
//! files, the locally built binary (MLOPS_MATURITY_BIN, so nothing is downloaded), and a
//! loopback stand-in for the GitHub comments API that records every request.
//!
//! Skipped with a message when `bash` or `git` is missing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "ghs_TEST_TOKEN_must_never_be_printed_4242";
const BOT: &str = "github-actions[bot]";
const MARKER: &str = "<!-- mlops-maturity:sticky -->";
/// Head commit of pull request #7 as the fake API reports it.
const PR_HEAD_SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn skip() -> bool {
    for tool in ["bash", "git"] {
        if !have(tool) {
            eprintln!("skipping: `{tool}` is not installed");
            return true;
        }
    }
    false
}

// ── A tiny recording GitHub API ──────────────────────────────────────────────────────

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
    body: String,
}

#[derive(Debug, Clone)]
struct Comment {
    id: u64,
    login: String,
    body: String,
}

#[derive(Default)]
struct State {
    requests: Vec<Request>,
    comments: Vec<Comment>,
    next_id: u64,
    /// Writes answer 403, like the read-only token of a fork pull request.
    read_only: bool,
}

struct FakeGitHub {
    url: String,
    state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    fn start(read_only: bool, comments: Vec<Comment>) -> FakeGitHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            read_only,
            comments,
            next_id: 1000,
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        let base = url.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                handle(stream, &shared, &base);
            }
        });
        FakeGitHub { url, state }
    }

    fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    fn writes(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
    }

    fn comments(&self) -> Vec<Comment> {
        self.state.lock().unwrap().comments.clone()
    }
}

fn handle(mut stream: TcpStream, state: &Mutex<State>, base: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut length = 0usize;
    let mut authorization = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            let value = value.trim().to_string();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "authorization" => authorization = Some(value),
                "private-token" => authorization = Some(format!("Bearer {value}")),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body).to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let page: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);

    let mut st = state.lock().unwrap();
    st.requests.push(Request {
        method: method.clone(),
        path: path.to_string(),
        authorization: authorization.clone(),
        body: body.clone(),
    });
    let authorised = authorization.as_deref() == Some(&format!("Bearer {TOKEN}"));
    let json_body = |b: &str| -> String {
        serde_json::from_str::<serde_json::Value>(b).unwrap()["body"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let gitlab = path.starts_with("/api/v4/");
    let comment_json = |c: &Comment| {
        if gitlab {
            return serde_json::json!({
                "id": c.id, "body": c.body, "system": false, "author": { "username": c.login },
            });
        }
        serde_json::json!({
            "id": c.id, "body": c.body, "user": { "login": c.login, "type": "Bot" },
            "html_url": format!("https://github.example/octo/churn/pull/7#issuecomment-{}", c.id),
        })
    };
    let (status, extra, payload) = if !authorised {
        (
            401,
            String::new(),
            serde_json::json!({"message": "Bad credentials"}),
        )
    } else if gitlab {
        gitlab_route(
            &mut st,
            &method,
            path,
            &json_body(if body.is_empty() {
                "{\"body\":\"\"}"
            } else {
                &body
            }),
            comment_json,
        )
    } else if method == "GET" && path == "/repos/octo/churn/pulls/7" {
        (
            200,
            String::new(),
            serde_json::json!({"number": 7, "head": {"sha": PR_HEAD_SHA}}),
        )
    } else if method == "GET" && path == "/user" {
        // An Actions GITHUB_TOKEN cannot read /user.
        (
            403,
            String::new(),
            serde_json::json!({"message": "Resource not accessible by integration"}),
        )
    } else if method == "GET" && path == "/repos/octo/churn/issues/7/comments" {
        // Two comments per page, whatever per_page says: the client must follow Link.
        let all: Vec<_> = st.comments.iter().map(comment_json).collect();
        let chunk: Vec<_> = all.iter().skip((page - 1) * 2).take(2).cloned().collect();
        let link = if page * 2 < all.len() {
            format!(
                "Link: <{base}{path}?per_page=100&page={}>; rel=\"next\"\r\n",
                page + 1
            )
        } else {
            String::new()
        };
        (200, link, serde_json::Value::Array(chunk))
    } else if st.read_only && method != "GET" {
        (
            403,
            String::new(),
            serde_json::json!({"message": "Resource not accessible by integration"}),
        )
    } else if method == "POST" && path == "/repos/octo/churn/issues/7/comments" {
        st.next_id += 1;
        let c = Comment {
            id: st.next_id,
            login: BOT.into(),
            body: json_body(&body),
        };
        let j = comment_json(&c);
        st.comments.push(c);
        (201, String::new(), j)
    } else if method == "PATCH" && path.starts_with("/repos/octo/churn/issues/comments/") {
        let id: u64 = path.rsplit('/').next().unwrap().parse().unwrap();
        let new_body = json_body(&body);
        match st.comments.iter_mut().find(|c| c.id == id) {
            Some(c) => {
                c.body = new_body;
                let j = comment_json(c);
                (200, String::new(), j)
            }
            None => (
                404,
                String::new(),
                serde_json::json!({"message": "Not Found"}),
            ),
        }
    } else {
        (
            404,
            String::new(),
            serde_json::json!({"message": "Not Found"}),
        )
    };
    drop(st);
    let payload = payload.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{payload}",
        payload.len()
    );
}

/// GitLab: /user answers (a project access token), notes are listed, created and updated.
fn gitlab_route(
    st: &mut State,
    method: &str,
    path: &str,
    body: &str,
    comment_json: impl Fn(&Comment) -> serde_json::Value,
) -> (u16, String, serde_json::Value) {
    let notes = "/api/v4/projects/42/merge_requests/7/notes";
    if method == "GET" && path == "/api/v4/user" {
        (
            200,
            String::new(),
            serde_json::json!({"username": "project_42_bot"}),
        )
    } else if method == "GET" && path == notes {
        let all: Vec<_> = st.comments.iter().map(comment_json).collect();
        (200, String::new(), serde_json::Value::Array(all))
    } else if method == "POST" && path == notes {
        st.next_id += 1;
        let c = Comment {
            id: st.next_id,
            login: "project_42_bot".into(),
            body: body.to_string(),
        };
        let j = comment_json(&c);
        st.comments.push(c);
        (201, String::new(), j)
    } else if method == "PUT" && path.starts_with(notes) {
        let id: u64 = path.rsplit('/').next().unwrap().parse().unwrap_or(0);
        match st.comments.iter_mut().find(|c| c.id == id) {
            Some(c) => {
                c.body = body.to_string();
                (200, String::new(), comment_json(c))
            }
            None => (
                404,
                String::new(),
                serde_json::json!({"message": "404 Not found"}),
            ),
        }
    } else {
        (
            404,
            String::new(),
            serde_json::json!({"message": "404 Not found"}),
        )
    }
}

// ── The repository and the runner environment ────────────────────────────────────────

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

struct Repo {
    dir: tempfile::TempDir,
    base: String,
    head: String,
}

impl Repo {
    fn path(&self) -> PathBuf {
        self.dir.path().join("repo")
    }
}

/// A repository whose first commit is fixtures/pr/base and second fixtures/pr/head.
fn repo() -> Repo {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pr");
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    copy_dir(&fixtures.join("base"), &repo);
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "base"]);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    git(&repo, &["rm", "-rq", "."]);
    copy_dir(&fixtures.join("head"), &repo);
    git(&repo, &["add", "-A"]);
    git(
        &repo,
        &["commit", "-qm", "head: canary rollout, no evaluation gate"],
    );
    let head = git(&repo, &["rev-parse", "HEAD"]);
    Repo { dir, base, head }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    summary: String,
    outputs: String,
}

impl Run {
    fn output(&self, name: &str) -> Option<&str> {
        self.outputs
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
    }
    fn assert_no_token(&self) {
        for (what, text) in [
            ("stdout", &self.stdout),
            ("stderr", &self.stderr),
            ("summary", &self.summary),
            ("outputs", &self.outputs),
        ] {
            assert!(!text.contains(TOKEN), "the token leaked into {what}");
        }
    }
}

fn run_action(
    repo: &Repo,
    api: &FakeGitHub,
    event: serde_json::Value,
    env: &[(&str, &str)],
) -> Run {
    let runner = tempfile::tempdir_in(repo.dir.path()).unwrap();
    let event_path = runner.path().join("event.json");
    std::fs::write(&event_path, event.to_string()).unwrap();
    let output = runner.path().join("output");
    let summary = runner.path().join("summary.md");
    let github_env = runner.path().join("env");
    for f in [&output, &summary, &github_env] {
        std::fs::write(f, "").unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("action/entrypoint.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .arg("run")
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", repo.dir.path())
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_ENV", &github_env)
        .env("GITHUB_WORKSPACE", repo.path())
        .env("GITHUB_REPOSITORY", "octo/churn")
        .env("GITHUB_API_URL", &api.url)
        .env("GITHUB_TOKEN", TOKEN)
        .env("RUNNER_TEMP", runner.path())
        .env("MLOPS_MATURITY_BIN", env!("CARGO_BIN_EXE_mlops-maturity"))
        .env("INPUT_PATH", ".")
        .env("INPUT_COMMENT", "true")
        .env("INPUT_LANG", "en");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        summary: std::fs::read_to_string(&summary).unwrap(),
        outputs: std::fs::read_to_string(&output).unwrap(),
    };
    run.assert_no_token();
    // Keep the runner folder alive until the outputs were read; the report paths point into it.
    std::mem::forget(runner);
    run
}

fn pr_event(base: &str, fork: bool) -> serde_json::Value {
    serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": { "sha": base, "ref": "main" },
            "head": { "sha": "ignored", "ref": "feature", "repo": { "fork": fork } }
        }
    })
}

#[test]
fn first_run_creates_then_updates_one_sticky_comment() {
    if skip() {
        return;
    }
    let repo = repo();
    // Someone else's comment carrying the marker must never be touched, and the bot's
    // comment is on the second page.
    let api = FakeGitHub::start(
        false,
        vec![
            Comment {
                id: 1,
                login: "mallory".into(),
                body: format!("{MARKER} fake"),
            },
            Comment {
                id: 2,
                login: "octocat".into(),
                body: "LGTM".into(),
            },
        ],
    );
    let first = run_action(&repo, &api, pr_event(&repo.base, false), &[]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    let writes = api.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].method, "POST");
    assert_eq!(writes[0].path, "/repos/octo/churn/issues/7/comments");
    assert!(writes[0].body.contains("mlops-maturity:sticky"));
    assert_eq!(
        writes[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let created = api.comments().last().unwrap().clone();
    assert!(created.body.starts_with(MARKER));
    assert!(created.body.contains("MLOps maturity changes"));
    assert!(first.summary.contains("MLOps maturity changes"));
    assert_eq!(
        first
            .output("overall-level")
            .map(|v| v.parse::<u8>().is_ok()),
        Some(true)
    );
    assert!(
        first
            .output("changed-sub-items")
            .unwrap()
            .parse::<u32>()
            .is_ok()
    );
    let report = first.output("report-path").unwrap();
    assert!(
        std::fs::read_to_string(report)
            .unwrap()
            .contains("mlops-maturity/report/v1")
    );
    let diff = first.output("diff-path").unwrap();
    assert!(
        std::fs::read_to_string(diff)
            .unwrap()
            .contains("MLOps maturity changes")
    );
    // The base worktree is cleaned up.
    assert!(!git(&repo.path(), &["worktree", "list"]).contains("mlops-maturity."));

    // Second run: the same comment is updated in place.
    let second = run_action(&repo, &api, pr_event(&repo.base, false), &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let writes = api.writes();
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert_eq!(writes[1].method, "PATCH");
    assert_eq!(
        writes[1].path,
        format!("/repos/octo/churn/issues/comments/{}", created.id)
    );
    let listed_pages = api
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/issues/7/comments"))
        .count();
    assert!(
        listed_pages >= 3,
        "pagination followed: {listed_pages} list requests"
    );
    let comments = api.comments();
    assert_eq!(comments.len(), 3, "no second sticky comment");
    assert_eq!(
        comments[0].body,
        format!("{MARKER} fake"),
        "others' comments untouched"
    );

    // Nothing changed (base = head): the comment says so.
    let same = run_action(&repo, &api, pr_event(&repo.head, false), &[]);
    assert_eq!(same.code, 0, "{}", same.stderr);
    let updated = api
        .comments()
        .into_iter()
        .find(|c| c.id == created.id)
        .unwrap();
    assert!(
        updated.body.contains("No maturity change."),
        "{}",
        updated.body
    );
    assert_eq!(same.output("changed-sub-items"), Some("0"));
    assert_eq!(api.writes().len(), 3);
}

#[test]
fn fork_pull_request_writes_the_summary_and_explains_workflow_run() {
    if skip() {
        return;
    }
    let repo = repo();
    let api = FakeGitHub::start(true, Vec::new());
    let run = run_action(&repo, &api, pr_event(&repo.base, true), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.summary.contains("MLOps maturity changes"));
    assert!(run.stdout.contains("::notice"), "{}", run.stdout);
    assert!(run.stdout.contains("workflow_run"));
    assert!(api.writes().is_empty(), "no write is attempted from a fork");
}

#[test]
fn read_only_token_gets_403_and_the_run_still_succeeds() {
    if skip() {
        return;
    }
    let repo = repo();
    let api = FakeGitHub::start(true, Vec::new());
    let run = run_action(&repo, &api, pr_event(&repo.base, false), &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let writes = api.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].method, "POST");
    assert!(run.stderr.contains("403"), "{}", run.stderr);
    assert!(run.stdout.contains("workflow_run"), "{}", run.stdout);
    assert!(run.summary.contains("MLOps maturity changes"));
    assert_eq!(run.output("comment"), Some("read-only"));
}

#[test]
fn push_writes_the_full_report_and_fail_under_fails() {
    if skip() {
        return;
    }
    let repo = repo();
    let api = FakeGitHub::start(false, Vec::new());
    let run = run_action(
        &repo,
        &api,
        serde_json::json!({"ref": "refs/heads/main"}),
        &[("GITHUB_EVENT_NAME", "push"), ("INPUT_FAIL_UNDER", "5")],
    );
    assert!(
        run.summary.contains("MLOps maturity report"),
        "{}",
        run.summary
    );
    assert!(
        api.requests().is_empty(),
        "no comment outside pull requests"
    );
    let overall: u8 = run.output("overall-level").unwrap().parse().unwrap();
    assert!(overall < 5);
    assert_eq!(run.code, 1, "overall {overall} is below fail-under 5");
    assert!(run.stdout.contains("below fail-under 5"));
}

#[test]
fn hostile_inputs_are_refused_not_run() {
    if skip() {
        return;
    }
    let repo = repo();
    let api = FakeGitHub::start(false, Vec::new());
    let mut event = pr_event(&repo.base, false);
    event["pull_request"]["base"]["sha"] = serde_json::json!("$(touch pwned)");
    let run = run_action(&repo, &api, event, &[]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("not a commit id"));
    assert!(!repo.path().join("pwned").exists());
    let run = run_action(
        &repo,
        &api,
        pr_event(&repo.base, false),
        &[("INPUT_PATH", "../outside")],
    );
    assert_eq!(run.code, 2);
    assert!(api.writes().is_empty());
}

/// The GitLab template's script, run as GitLab would run it on a merge request, with
/// the binary already in the job cache (so nothing is downloaded).
fn run_gitlab_template(repo: &Repo, api: &FakeGitHub, base_sha: &str) -> Run {
    let template = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("ci-templates/gitlab/mlops-maturity.gitlab-ci.yml");
    let doc =
        mlops_maturity::pipeline::yaml::parse(&std::fs::read_to_string(template).unwrap()).unwrap();
    let job = doc.get("mlops-maturity").unwrap();
    let script: String = job.get("script").unwrap().string_list().join("\n");
    assert!(script.contains("--gitlab-project \"$CI_PROJECT_ID\" --mr \"$CI_MERGE_REQUEST_IID\""));
    let cache = repo.path().join(".mlops-maturity-bin");
    std::fs::create_dir_all(&cache).unwrap();
    let bin = cache.join("mlops-maturity");
    if !bin.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_mlops-maturity"), &bin).unwrap();
        let sum = Command::new("sha256sum")
            .arg("mlops-maturity")
            .current_dir(&cache)
            .output()
            .unwrap();
        std::fs::write(cache.join("mlops-maturity.sha256"), sum.stdout).unwrap();
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", repo.dir.path())
        .env("CI_PIPELINE_SOURCE", "merge_request_event")
        .env("CI_MERGE_REQUEST_DIFF_BASE_SHA", base_sha)
        .env("CI_PROJECT_ID", "42")
        .env("CI_MERGE_REQUEST_IID", "7")
        .env("CI_API_V4_URL", format!("{}/api/v4", api.url))
        .env("CI_JOB_TOKEN", "job-token-not-used")
        .env("GITLAB_TOKEN", TOKEN)
        .env(
            "MLOPS_MATURITY_DOWNLOAD_URL",
            "https://invalid.example/never-used",
        )
        .env("MLOPS_MATURITY_PATH", ".")
        .env("MLOPS_MATURITY_LANG", "en")
        .env("MLOPS_MATURITY_FAIL_ON_REGRESSION", "false")
        .env("MLOPS_MATURITY_FAIL_UNDER", "")
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        summary: String::new(),
        outputs: String::new(),
    };
    run.assert_no_token();
    run
}

#[test]
fn gitlab_template_creates_then_updates_one_mr_note() {
    if skip() || !have("sha256sum") {
        return;
    }
    let repo = repo();
    let api = FakeGitHub::start(false, Vec::new());
    let first = run_gitlab_template(&repo, &api, &repo.base);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    let second = run_gitlab_template(&repo, &api, &repo.base);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    let writes = api.writes();
    let methods: Vec<&str> = writes.iter().map(|w| w.method.as_str()).collect();
    assert_eq!(methods, ["POST", "PUT"]);
    assert_eq!(
        writes[1].path,
        format!(
            "/api/v4/projects/42/merge_requests/7/notes/{}",
            api.comments()[0].id
        )
    );
    assert_eq!(api.comments().len(), 1);
    assert!(api.comments()[0].body.starts_with(MARKER));
    assert!(repo.path().join("mlops-maturity/diff.md").is_file());
    assert!(first.stdout.contains("MLOps maturity changes"));
}

#[test]
fn workflow_run_recipe_posts_from_reports_only_for_the_right_pr() {
    if skip() {
        return;
    }
    let repo = repo();
    // The untrusted pull_request run (comment: false) leaves the two reports behind.
    let api = FakeGitHub::start(false, Vec::new());
    let pr_run = run_action(
        &repo,
        &api,
        pr_event(&repo.base, true),
        &[("INPUT_COMMENT", "false")],
    );
    assert_eq!(pr_run.code, 0, "{}", pr_run.stderr);
    assert!(
        !pr_run.stdout.contains("::notice"),
        "comment: false is not a fork warning"
    );
    let base_report = pr_run.output("base-report-path").unwrap().to_string();
    let head_report = pr_run.output("report-path").unwrap().to_string();
    let artifact = tempfile::tempdir().unwrap();
    let pr_file = artifact.path().join("pr-number");
    std::fs::write(&pr_file, "7\n").unwrap();
    let pr_file = pr_file.to_str().unwrap().to_string();
    let inputs = |sha: &'static str| {
        vec![
            ("GITHUB_EVENT_NAME", "workflow_run".to_string()),
            ("INPUT_BASE_REPORT", base_report.clone()),
            ("INPUT_HEAD_REPORT", head_report.clone()),
            ("INPUT_PR_NUMBER_FILE", pr_file.clone()),
            ("INPUT_HEAD_SHA", sha.to_string()),
        ]
    };

    // A PR number that does not belong to the run's head commit: refused, nothing written.
    let wrong = inputs("ffffffffffffffffffffffffffffffffffffffff");
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = run_action(&repo, &api, serde_json::json!({}), &wrong);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("not the expected"), "{}", run.stderr);
    assert!(api.writes().is_empty());

    // The right one: the comment is created from the reports.
    let right = inputs(PR_HEAD_SHA);
    let right: Vec<(&str, &str)> = right.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = run_action(&repo, &api, serde_json::json!({}), &right);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let writes = api.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].method, "POST");
    assert!(api.comments()[0].body.contains("MLOps maturity changes"));
    assert!(run.summary.contains("MLOps maturity changes"));
}

#[test]
fn action_yml_passes_untrusted_values_through_env_only() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let doc = mlops_maturity::pipeline::yaml::parse(&text).unwrap();
    let steps = doc
        .get("runs")
        .unwrap()
        .get("steps")
        .unwrap()
        .as_seq()
        .unwrap();
    let mut scripts = 0;
    for step in steps {
        if let Some(run) = step.get("run").and_then(|r| r.as_str()) {
            scripts += 1;
            assert!(
                !run.contains("${{"),
                "expression interpolated into a script: {run}"
            );
            assert!(run.contains("entrypoint.sh"));
        }
    }
    assert_eq!(scripts, 3, "resolve, install, run");
    let inputs = doc.get("inputs").unwrap();
    for name in [
        "path",
        "fail-under",
        "fail-on-regression",
        "comment",
        "sarif",
        "version",
        "lang",
    ] {
        assert!(inputs.get(name).is_some(), "input {name}");
    }
    let outputs = doc.get("outputs").unwrap();
    for name in [
        "overall-level",
        "changed-sub-items",
        "report-path",
        "diff-path",
    ] {
        assert!(outputs.get(name).is_some(), "output {name}");
    }
    assert!(text.contains("github/codeql-action/upload-sarif"));
    assert!(text.contains("actions/cache"));
    assert!(!text.contains("pull_request_target"));
}

fn comment_cli(api: &FakeGitHub, token: Option<&str>, repo: &str, body: &Path) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mlops-maturity"));
    cmd.args(["comment", "--github-repo", repo, "--pr", "7", "--body-file"])
        .arg(body)
        .args(["--api-url", &api.url])
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL");
    if let Some(t) = token {
        cmd.env("GITHUB_TOKEN", t);
    }
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        summary: String::new(),
        outputs: String::new(),
    };
    run.assert_no_token();
    run
}

#[test]
fn comment_errors_are_clear() {
    let api = FakeGitHub::start(false, Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.md");
    std::fs::write(&body, "hello").unwrap();

    let missing = comment_cli(&api, None, "octo/churn", &body);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("GITHUB_TOKEN is not set"));

    let rejected = comment_cli(&api, Some("wrong-token-9999"), "octo/churn", &body);
    assert_eq!(rejected.code, 3, "{}", rejected.stderr);
    assert!(rejected.stderr.contains("401"), "{}", rejected.stderr);
    assert!(!rejected.stderr.contains("wrong-token-9999"));

    let unknown = comment_cli(&api, Some(TOKEN), "octo/elsewhere", &body);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("404 Not Found"),
        "{}",
        unknown.stderr
    );

    let bad = comment_cli(&api, Some(TOKEN), "octo/churn/../x", &body);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("expected OWNER/REPO"));
    assert!(api.writes().is_empty());

    let ok = comment_cli(&api, Some(TOKEN), "octo/churn", &body);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stdout.starts_with("created comment 1001"),
        "{}",
        ok.stdout
    );
}

/// `entrypoint.sh resolve` / `install` without network: the cache is verified before use.
#[test]
fn install_uses_only_a_verified_cached_binary() {
    if skip() || !have("sha256sum") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("action/entrypoint.sh");
    // PATH without cargo, so a failed download cannot fall back to a (slow) release build.
    let path: Vec<PathBuf> = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|p| !p.join("cargo").exists())
        .collect();
    let path = std::env::join_paths(path).unwrap();
    let run = |sub: &str, install_dir: &Path, download: &str| {
        let output = dir.path().join("output");
        let github_env = dir.path().join("env");
        std::fs::write(&output, "").unwrap();
        std::fs::write(&github_env, "").unwrap();
        let out = Command::new("bash")
            .arg(&script)
            .arg(sub)
            .env_clear()
            .env("PATH", &path)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", dir.path())
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_ENV", &github_env)
            .env("INSTALL_DIR", install_dir)
            .env("MLOPS_MATURITY_DOWNLOAD_URL", download)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&output).unwrap(),
            std::fs::read_to_string(&github_env).unwrap(),
        )
    };
    // Nothing listens there: any download attempt fails fast.
    let nowhere = "https://127.0.0.1:9/none";
    let (code, _, outputs, _) = run("resolve", dir.path(), nowhere);
    assert_eq!(code, 0);
    assert!(
        outputs.contains(&format!("version={}", env!("CARGO_PKG_VERSION"))),
        "{outputs}"
    );
    assert!(outputs.contains("target=x86_64-unknown-linux-gnu"));

    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_mlops-maturity"),
        cache.join("mlops-maturity"),
    )
    .unwrap();
    let sum = Command::new("sha256sum")
        .arg("mlops-maturity")
        .current_dir(&cache)
        .output()
        .unwrap();
    std::fs::write(cache.join("mlops-maturity.sha256"), &sum.stdout).unwrap();
    let (code, log, _, github_env) = run("install", &cache, nowhere);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("using the cached"), "{log}");
    assert!(
        github_env.starts_with("MLOPS_MATURITY_BIN="),
        "{github_env}"
    );

    // A cached binary that no longer matches its checksum is not run.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(cache.join("mlops-maturity"))
        .unwrap();
    f.write_all(b"tampered").unwrap();
    drop(f);
    let (code, log, _, github_env) = run("install", &cache, nowhere);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("download of"), "{log}");
    assert!(log.contains("no release binary and no cargo"), "{log}");
    assert!(github_env.is_empty());

    // A release mirror (file://): the download is verified against its .sha256.
    if !have("curl") {
        eprintln!("skipping the download part: `curl` is not installed");
        return;
    }
    let mirror = dir.path().join("mirror");
    std::fs::create_dir_all(&mirror).unwrap();
    let asset = "mlops-maturity-x86_64-unknown-linux-gnu";
    std::fs::copy(env!("CARGO_BIN_EXE_mlops-maturity"), mirror.join(asset)).unwrap();
    let sum = Command::new("sha256sum")
        .arg(asset)
        .current_dir(&mirror)
        .output()
        .unwrap();
    std::fs::write(mirror.join(format!("{asset}.sha256")), &sum.stdout).unwrap();
    let url = format!("file://{}", mirror.display());
    let fresh = dir.path().join("fresh");
    let (code, log, _, github_env) = run("install", &fresh, &url);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("installed the verified release binary"),
        "{log}"
    );
    assert!(github_env.contains(&fresh.join("mlops-maturity").display().to_string()));
    // Second time: from the cache, no download.
    let (code, log, _, _) = run("install", &fresh, nowhere);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("using the cached"), "{log}");

    // A mirror whose checksum does not match: refused, nothing installed.
    std::fs::write(
        mirror.join(format!("{asset}.sha256")),
        format!("{}  {asset}\n", "0".repeat(64)),
    )
    .unwrap();
    let other = dir.path().join("other");
    let (code, log, _, github_env) = run("install", &other, &url);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("checksum mismatch"), "{log}");
    assert!(!other.join("mlops-maturity").exists());
    assert!(github_env.is_empty());
}
