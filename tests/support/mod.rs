//! A loopback HTTP server that replays GitHub (or GitLab) API answers, for tests
//! and benches that must never reach github.com or gitlab.com.
//!
//! GitLab flavour ([`Replay::start_gitlab`]): `RateLimit-Limit/Remaining/Reset/
//! Observed` headers instead of `x-ratelimit-*`, every answer counted (GitLab
//! counts 304s too), GitLab-shaped error bodies ([`Reply::gitlab_error`]).
//!
//! Answers are shaped like GitHub's documented ones: JSON bodies, `Link` pagination
//! headers, `x-ratelimit-*` headers (a 304 does not consume the limit, as on
//! GitHub), weak ETags with `If-None-Match` → `304 Not Modified`, `retry-after`
//! on secondary limits. HTTP/1.1, one request per connection.

#![allow(dead_code)]

pub mod fixture;
pub mod gitlab;
pub mod levels;
pub mod org;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One canned answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Give this answer an ETag and honour `If-None-Match` with a 304.
    pub etag: bool,
}

impl Reply {
    pub fn json(body: impl Into<String>) -> Self {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
            etag: true,
        }
    }
    pub fn value(v: &serde_json::Value) -> Self {
        Self::json(v.to_string())
    }
    pub fn status(status: u16, message: &str) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: serde_json::json!({
                "message": message,
                "documentation_url": "https://docs.github.com/rest",
                "status": status.to_string(),
            })
            .to_string(),
            etag: false,
        }
    }
    /// Close the connection without answering (a dropped connection).
    pub fn hang_up() -> Self {
        Reply {
            status: 0,
            headers: Vec::new(),
            body: String::new(),
            etag: false,
        }
    }
    /// A GitLab error: `{"message": "404 Project Not Found"}`.
    pub fn gitlab_error(status: u16, message: &str) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: serde_json::json!({ "message": message }).to_string(),
            etag: false,
        }
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }
}

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    pub status: u16,
}

impl Seen {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or(&self.target)
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

struct Route {
    method: String,
    path: String,
    /// Query pairs that must all be present.
    query: Vec<(String, String)>,
    /// Answers in order; the last one repeats.
    replies: VecDeque<Reply>,
    handler: Option<Handler>,
}

#[derive(Default)]
struct State {
    routes: Vec<Route>,
    seen: Vec<Seen>,
    /// Primary limit left (decremented by every answer but a 304).
    remaining: i64,
    /// Answer like GitLab (rate-limit header names, server).
    gitlab: bool,
    /// Answers requests no route matches (generated organisations); `None`: 404.
    fallback: Option<Handler>,
}

#[derive(Clone)]
pub struct Replay {
    pub base: String,
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

fn split_query(target: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    (path.to_string(), pairs)
}

fn weak_etag(body: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

impl Replay {
    /// Start on 127.0.0.1 with an ephemeral port, on the current tokio runtime.
    pub async fn start() -> Replay {
        Self::start_flavoured(false).await
    }

    /// [`Replay::start`] answering with GitLab's headers.
    pub async fn start_gitlab() -> Replay {
        Self::start_flavoured(true).await
    }

    async fn start_flavoured(gitlab: bool) -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            remaining: if gitlab { 2000 } else { 5000 },
            gitlab,
            ..Default::default()
        }));
        let replay = Replay {
            base: format!("http://{addr}"),
            addr,
            state: state.clone(),
        };
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, state, addr).await;
                });
            }
        });
        replay
    }

    /// Start on a background thread with its own runtime, for synchronous callers.
    pub fn start_in_thread() -> Replay {
        Self::start_in_thread_flavoured(false)
    }

    /// [`Replay::start_in_thread`] answering with GitLab's headers.
    pub fn start_gitlab_in_thread() -> Replay {
        Self::start_in_thread_flavoured(true)
    }

    fn start_in_thread_flavoured(gitlab: bool) -> Replay {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                tx.send(Replay::start_flavoured(gitlab).await).unwrap();
                std::future::pending::<()>().await;
            });
        });
        rx.recv().unwrap()
    }

    /// Answer `method target` (target may carry required query pairs) with these
    /// replies in turn, the last one repeating. Later routes take precedence.
    pub fn route(&self, method: &str, target: &str, replies: Vec<Reply>) {
        let (path, query) = split_query(target);
        self.state.lock().unwrap().routes.push(Route {
            method: method.to_string(),
            path,
            query,
            replies: replies.into(),
            handler: None,
        });
    }

    pub fn get(&self, target: &str, reply: Reply) {
        self.route("GET", target, vec![reply]);
    }

    pub fn handler(
        &self,
        method: &str,
        target: &str,
        f: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) {
        let (path, query) = split_query(target);
        self.state.lock().unwrap().routes.push(Route {
            method: method.to_string(),
            path,
            query,
            replies: VecDeque::new(),
            handler: Some(Arc::new(f)),
        });
    }

    /// Answer every request no route matches with `f` (instead of a 404).
    pub fn fallback(&self, f: impl Fn(&Seen) -> Reply + Send + Sync + 'static) {
        self.state.lock().unwrap().fallback = Some(Arc::new(f));
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn clear_seen(&self) {
        self.state.lock().unwrap().seen.clear();
    }

    /// Requests whose path starts with `prefix` (query ignored).
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path().starts_with(prefix))
            .count()
    }

    /// Set the rate-limit budget left (benches that send thousands of requests).
    pub fn set_remaining(&self, remaining: i64) {
        self.state.lock().unwrap().remaining = remaining;
    }

    pub fn remaining(&self) -> i64 {
        self.state.lock().unwrap().remaining
    }
}

fn find(state: &mut State, seen: &Seen) -> Option<Reply> {
    let (path, query) = split_query(&seen.target);
    let Some(route) = state.routes.iter_mut().rev().find(|r| {
        r.method == seen.method && r.path == path && r.query.iter().all(|q| query.contains(q))
    }) else {
        return state.fallback.as_ref().map(|f| f(seen));
    };
    if let Some(h) = &route.handler {
        return Some(h(seen));
    }
    if route.replies.len() > 1 {
        route.replies.pop_front()
    } else {
        route.replies.front().cloned()
    }
}

async fn serve(
    mut stream: tokio::net::TcpStream,
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = BTreeMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut seen = Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        status: 0,
    };

    let (status, reply_headers, reply_body, gitlab) = {
        let mut st = state.lock().unwrap();
        let reply = find(&mut st, &seen).unwrap_or_else(|| Reply::status(404, "Not Found"));
        let mut headers = reply.headers.clone();
        let mut status = reply.status;
        let mut body = reply.body.replace("{BASE}", &format!("http://{addr}"));
        if reply.etag && status == 200 {
            let etag = weak_etag(&body);
            if seen.headers.get("if-none-match") == Some(&etag) {
                status = 304;
                body.clear();
            }
            headers.push(("etag".into(), etag));
        }
        let gitlab = st.gitlab;
        if gitlab && !headers.iter().any(|(k, _)| k == "ratelimit-remaining") {
            // GitLab counts every request, 304s included.
            st.remaining -= 1;
            let reset = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 60;
            headers.push(("ratelimit-limit".into(), "2000".into()));
            headers.push((
                "ratelimit-observed".into(),
                (2000 - st.remaining).to_string(),
            ));
            headers.push((
                "ratelimit-remaining".into(),
                st.remaining.max(0).to_string(),
            ));
            headers.push(("ratelimit-reset".into(), reset.to_string()));
        }
        if !gitlab && status != 304 && !headers.iter().any(|(k, _)| k == "x-ratelimit-remaining") {
            st.remaining -= 1;
        }
        let resource = if seen.target.starts_with("/graphql") || seen.target.ends_with("/graphql") {
            "graphql"
        } else {
            "core"
        };
        if !gitlab && !headers.iter().any(|(k, _)| k == "x-ratelimit-remaining") {
            let reset = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 3600;
            headers.push(("x-ratelimit-limit".into(), "5000".into()));
            headers.push((
                "x-ratelimit-remaining".into(),
                st.remaining.max(0).to_string(),
            ));
            headers.push(("x-ratelimit-used".into(), (5000 - st.remaining).to_string()));
            headers.push(("x-ratelimit-reset".into(), reset.to_string()));
            headers.push(("x-ratelimit-resource".into(), resource.into()));
        }
        for (_, v) in headers.iter_mut() {
            *v = v.replace("{BASE}", &format!("http://{addr}"));
        }
        seen.status = status;
        st.seen.push(seen);
        (status, headers, body, gitlab)
    };

    if status == 0 {
        return Ok(());
    }
    let reason = match status {
        200 => "OK",
        304 => "Not Modified",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Status",
    };
    let server = if gitlab { "nginx" } else { "github.com" };
    let mut out =
        format!("HTTP/1.1 {status} {reason}\r\nconnection: close\r\nserver: {server}\r\n");
    if status != 304 {
        out.push_str("content-type: application/json; charset=utf-8\r\n");
        out.push_str(&format!("content-length: {}\r\n", reply_body.len()));
    }
    for (k, v) in &reply_headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    stream.write_all(out.as_bytes()).await?;
    if status != 304 {
        stream.write_all(reply_body.as_bytes()).await?;
    }
    stream.flush().await?;
    stream.shutdown().await
}
