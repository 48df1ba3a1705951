//! A real MLflow tracking server on 127.0.0.1 for tests and the benchmark.
//!
//! The server comes from the venv made by `scripts/mlflow-test-server.sh`
//! (`MLOPS_MLFLOW_BIN`, else `${MLOPS_MLFLOW_VENV:-$HOME/.cache/mlops-maturity/mlflow-venv}/bin/mlflow`).
//! It runs in its own process group, which the Drop guard ends, workers included.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MlflowServer {
    child: Child,
    pub uri: String,
    pub port: u16,
    pub python: PathBuf,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for MlflowServer {
    fn drop(&mut self) {
        // The server forks workers (uvicorn); end the whole group we created.
        let pgid = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &pgid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                // Workers that ignored TERM go with the group too.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &pgid])
                    .stderr(Stdio::null())
                    .status();
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &pgid]).status();
        let _ = self.child.wait();
    }
}

/// Where the test venv's `mlflow` is, or why it is not there.
pub fn locate_mlflow() -> Result<PathBuf, String> {
    if let Ok(bin) = std::env::var("MLOPS_MLFLOW_BIN") {
        let bin = PathBuf::from(bin);
        return if bin.is_file() {
            Ok(bin)
        } else {
            Err(format!("MLOPS_MLFLOW_BIN={} does not exist", bin.display()))
        };
    }
    let venv = match std::env::var("MLOPS_MLFLOW_VENV") {
        Ok(v) => PathBuf::from(v),
        Err(_) => match std::env::var("HOME") {
            Ok(home) => Path::new(&home).join(".cache/mlops-maturity/mlflow-venv"),
            Err(_) => return Err("HOME is not set and MLOPS_MLFLOW_VENV is not given".into()),
        },
    };
    let bin = venv.join("bin/mlflow");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("no MLflow venv at {}", venv.display()))
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Plain HTTP/1.0 GET on loopback; the status code, or None when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).ok()?;
    let text = std::str::from_utf8(&head[..n]).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

impl MlflowServer {
    /// Start a server, or say why not (the caller prints it and returns).
    pub fn start() -> Result<MlflowServer, String> {
        let mlflow = locate_mlflow()?;
        let python = mlflow.with_file_name("python");
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = free_port();
        let log = dir.path().join("server.log");
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
        let db = format!("sqlite:///{}", dir.path().join("mlflow.db").display());
        let artifacts = dir.path().join("artifacts");
        let mut command = Command::new(&mlflow);
        command
            .args([
                "server",
                "--backend-store-uri",
                &db,
                "--default-artifact-root",
            ])
            .arg(&artifacts)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--workers",
                "1",
            ])
            .env("MLFLOW_HOME", dir.path())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", mlflow.display()))?;
        let mut server = MlflowServer {
            child,
            uri: format!("http://127.0.0.1:{port}"),
            port,
            python,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if http_status(port, "/health") == Some(200) {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "mlflow server exited ({status}): {}",
                    server.log_tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "mlflow server not healthy after 120 s: {}",
                    server.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Run tests/mlflow/seed.py with the venv's python; its JSON line.
    pub fn seed(&self) -> serde_json::Value {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mlflow/seed.py");
        let out = Command::new(&self.python)
            .arg(&script)
            .arg(&self.uri)
            // Keep the seeding client from looking for git metadata of this checkout
            // or writing anything outside the server's temporary directory.
            .env("GIT_PYTHON_REFRESH", "quiet")
            .env("MLFLOW_TRACKING_URI", &self.uri)
            .current_dir(self._dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run seed.py");
        assert!(
            out.status.success(),
            "seed.py failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .expect("seed.py printed its JSON line");
        serde_json::from_str(line).expect("seed.py JSON")
    }
}

/// Start the server, or print why the real-server checks are skipped. Only a missing
/// venv skips: an installed MLflow that does not come up is a failure, not a skip.
pub fn start_or_skip(test: &str) -> Option<MlflowServer> {
    if let Err(reason) = locate_mlflow() {
        // Written to the real stderr, not through eprintln! (which the test harness
        // captures), so a skip is visible in every test run.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: real MLflow server not available ({reason}). \
             `.ci/run` installs it with scripts/mlflow-test-server.sh \
             (venv at $MLOPS_MLFLOW_VENV or ~/.cache/mlops-maturity/mlflow-venv; \
             or set MLOPS_MLFLOW_BIN)."
        );
        return None;
    }
    match MlflowServer::start() {
        Ok(server) => Some(server),
        Err(reason) => panic!("{test}: MLflow is installed but its server did not start: {reason}"),
    }
}
