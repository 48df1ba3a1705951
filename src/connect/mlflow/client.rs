//! The HTTP side: one GET with retries, a request budget, bounded bodies, and the
//! bookkeeping (stats, diagnostics) every call shares.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::{Deserialize, Serialize};

use super::credentials::Credentials;
use super::{EvidenceKind, MlflowError};
use crate::evidence::Diagnostic;

/// Largest response body read; a registry page is far smaller. Anything larger is a
/// misbehaving server, not evidence.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Counters about the requests a collection made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestStats {
    /// HTTP requests sent, retries included.
    pub requests: u32,
    /// Requests that were retries of an earlier attempt.
    pub retries: u32,
    /// Responses 2xx.
    pub ok: u32,
    /// 401/403 responses and endpoints that do not exist (404 without an MLflow error body).
    pub not_visible: u32,
    /// Bodies that were not the JSON expected.
    pub malformed: u32,
    /// Requests that failed for good (after retries): 5xx, timeouts, connection errors.
    pub failed: u32,
    /// Pages followed through `next_page_token`.
    pub pages: u32,
    pub bytes: u64,
    /// Wall time of the whole collection, milliseconds.
    pub elapsed_ms: u64,
    /// The request budget ran out before the collection finished.
    pub budget_exhausted: bool,
}

/// How a GET ended, once retries are spent.
#[derive(Debug)]
pub enum Outcome {
    Json(serde_json::Value),
    /// 401 or 403: the credentials may not read this.
    Denied,
    /// 404 with an MLflow error body (`RESOURCE_DOES_NOT_EXIST`): the thing is gone.
    Missing,
    /// 404 without an MLflow error body: the server does not offer this endpoint.
    NoEndpoint,
    /// Anything else; a diagnostic was already recorded.
    Failed,
}

enum Raw {
    /// The 2xx body, with the request as shown in messages.
    Body(String, Vec<u8>),
    Other(Outcome),
}

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// Delay before the first retry; doubled for each further one.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_millis(200),
        }
    }
}

#[derive(Default)]
struct Shared {
    stats: RequestStats,
    diagnostics: Vec<Diagnostic>,
    /// (kind, endpoint) already reported as not visible, to say it once.
    denied: Vec<(EvidenceKind, String, u16)>,
}

pub struct Client {
    http: reqwest::Client,
    /// The tracking base (`scheme://host[:port][/path]`), no credentials.
    base: String,
    /// The tracking base without credentials, for messages.
    pub display: String,
    auth: Option<HeaderValue>,
    has_credentials: bool,
    retry: RetryPolicy,
    max_requests: u32,
    shared: Mutex<Shared>,
}

impl Client {
    pub fn new(
        base: &str,
        display: &str,
        credentials: &Credentials,
        timeout: Duration,
        max_requests: u32,
        retry: RetryPolicy,
    ) -> Result<Self, MlflowError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("mlops-maturity/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MlflowError::Client(e.to_string()))?;
        let auth = match credentials {
            Credentials::None => None,
            Credentials::Token(token) => Some(format!("Bearer {}", token.expose())),
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                base64(format!("{username}:{}", password.expose()).as_bytes())
            )),
        }
        .map(|value| {
            HeaderValue::from_str(&value)
                .map(|mut v| {
                    v.set_sensitive(true);
                    v
                })
                .map_err(|_| {
                    MlflowError::Client(
                        "credentials contain characters not allowed in a header".into(),
                    )
                })
        })
        .transpose()?;
        Ok(Client {
            http,
            base: base.to_string(),
            display: display.to_string(),
            auth,
            has_credentials: !credentials.is_none(),
            retry,
            max_requests,
            shared: Mutex::new(Shared::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        // A panic elsewhere cannot leave the counters inconsistent in a way that
        // matters; keep going with what is there.
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn diagnose(&self, diagnostic: Diagnostic) {
        self.lock().diagnostics.push(diagnostic);
    }

    pub fn count_page(&self) {
        self.lock().stats.pages += 1;
    }

    /// Stats and diagnostics gathered so far, leaving the client empty.
    pub fn take(
        &self,
    ) -> (
        RequestStats,
        Vec<Diagnostic>,
        Vec<(EvidenceKind, String, u16)>,
    ) {
        let mut shared = self.lock();
        (
            std::mem::take(&mut shared.stats),
            std::mem::take(&mut shared.diagnostics),
            std::mem::take(&mut shared.denied),
        )
    }

    /// Take one request from the budget; false (and a diagnostic, once) when none is left.
    fn spend(&self) -> bool {
        let mut shared = self.lock();
        if shared.stats.requests >= self.max_requests {
            if !shared.stats.budget_exhausted {
                shared.stats.budget_exhausted = true;
                let message = format!(
                    "{}: stopped after {} requests (--max-requests); the registry evidence is partial",
                    self.display, self.max_requests
                );
                shared.diagnostics.push(Diagnostic::warning(
                    "mlflow-request-budget",
                    message,
                    None,
                ));
            }
            return false;
        }
        shared.stats.requests += 1;
        true
    }

    /// `GET <base>/api/2.0/mlflow/<endpoint>?query` as a JSON object.
    pub async fn get(&self, kind: EvidenceKind, endpoint: &str, query: &[(&str, &str)]) -> Outcome {
        let path = format!("/api/2.0/mlflow/{endpoint}");
        match self.fetch(kind, &path, query).await {
            Raw::Body(shown, body) => self.decode(kind, &shown, &body),
            Raw::Other(outcome) => outcome,
        }
    }

    /// `GET <base><path>?query`, the body as it came (artifacts are YAML, not JSON).
    pub async fn get_bytes(
        &self,
        kind: EvidenceKind,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<u8>, Outcome> {
        match self.fetch(kind, path, query).await {
            Raw::Body(_, body) => {
                self.lock().stats.ok += 1;
                Ok(body)
            }
            Raw::Other(outcome) => Err(outcome),
        }
    }

    /// One GET with retries on 5xx, 429, timeouts and connection errors (exponential
    /// backoff). 401/403/404 are answers, not retried.
    async fn fetch(&self, kind: EvidenceKind, path: &str, query: &[(&str, &str)]) -> Raw {
        let url = format!("{}{path}", self.base);
        let shown = format!("GET {}{path}", self.display);
        let mut delay = self.retry.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if !self.spend() {
                return Raw::Other(Outcome::Failed);
            }
            if attempt > 1 {
                self.lock().stats.retries += 1;
            }
            let mut request = self.http.get(&url).query(query);
            if let Some(auth) = &self.auth {
                request = request.header(AUTHORIZATION, auth.clone());
            }
            let transient: String = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    match read_body(response).await {
                        Ok(body) => {
                            self.lock().stats.bytes += body.len() as u64;
                            match status {
                                200..=299 => return Raw::Body(shown, body),
                                401 | 403 => return Raw::Other(self.denied(kind, &shown, status)),
                                404 if is_mlflow_error(&body) => {
                                    return Raw::Other(Outcome::Missing);
                                }
                                404 => return Raw::Other(self.denied(kind, &shown, 404)),
                                429 | 500..=599 => format!("HTTP {status}"),
                                _ => {
                                    let mut shared = self.lock();
                                    shared.stats.failed += 1;
                                    shared.diagnostics.push(Diagnostic::warning(
                                        "mlflow-http-error",
                                        format!("{shown}: HTTP {status}: {}", error_message(&body)),
                                        None,
                                    ));
                                    return Raw::Other(Outcome::Failed);
                                }
                            }
                        }
                        Err(e) => e,
                    }
                }
                Err(e) if e.is_timeout() => "timed out".into(),
                Err(e) if e.is_connect() => "connection failed".into(),
                Err(e) => format!("request failed ({})", strip_url(&e.to_string())),
            };
            if attempt >= self.retry.attempts.max(1) {
                let mut shared = self.lock();
                shared.stats.failed += 1;
                shared.diagnostics.push(Diagnostic::warning(
                    "mlflow-unreachable",
                    format!(
                        "{shown}: {transient} after {attempt} attempts; {} from it are missing",
                        kind.noun()
                    ),
                    None,
                ));
                return Raw::Other(Outcome::Failed);
            }
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2);
        }
    }

    fn decode(&self, kind: EvidenceKind, shown: &str, body: &[u8]) -> Outcome {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value @ serde_json::Value::Object(_)) => {
                self.lock().stats.ok += 1;
                Outcome::Json(value)
            }
            Ok(_) | Err(_) => {
                let mut shared = self.lock();
                shared.stats.ok += 1;
                shared.stats.malformed += 1;
                shared.diagnostics.push(Diagnostic::warning(
                    "mlflow-malformed-json",
                    format!(
                        "{shown}: the response is not a JSON object ({} bytes); {} from it are skipped",
                        body.len(),
                        kind.noun()
                    ),
                    None,
                ));
                Outcome::Failed
            }
        }
    }

    /// Record that `kind` is not visible through `endpoint` (once per kind and endpoint).
    fn denied(&self, kind: EvidenceKind, shown: &str, status: u16) -> Outcome {
        let mut shared = self.lock();
        shared.stats.not_visible += 1;
        let endpoint = shown.split('?').next().unwrap_or(shown).to_string();
        if !shared
            .denied
            .iter()
            .any(|(k, e, _)| *k == kind && *e == endpoint)
        {
            let why = match status {
                401 if !self.has_credentials => {
                    "the server wants credentials and none were given (set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)".to_string()
                }
                401 => "the credentials were refused".to_string(),
                403 => format!("the credentials lack {}", kind.permission()),
                _ => "this server does not offer the endpoint".to_string(),
            };
            shared.diagnostics.push(Diagnostic::warning(
                "mlflow-not-visible",
                format!(
                    "{endpoint}: HTTP {status}: {} not visible: {why}; they are reported as not visible, not as absent",
                    kind.noun()
                ),
                None,
            ));
            shared.denied.push((kind, endpoint, status));
        }
        if status == 404 {
            Outcome::NoEndpoint
        } else {
            Outcome::Denied
        }
    }
}

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(format!("response larger than {MAX_BODY_BYTES} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err("timed out reading the response".into()),
            Err(e) => {
                return Err(format!(
                    "reading the response failed ({})",
                    strip_url(&e.to_string())
                ));
            }
        }
    }
}

/// reqwest errors quote the URL; ours never carries credentials, but keep messages
/// short and free of query strings anyway.
fn strip_url(message: &str) -> String {
    message
        .split(" for url (")
        .next()
        .unwrap_or(message)
        .to_string()
}

/// MLflow answers missing resources with `{"error_code": "...", "message": "..."}`.
fn is_mlflow_error(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct ErrorBody {
        error_code: Option<String>,
    }
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.error_code)
        .is_some()
}

fn error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error_code: Option<String>,
        message: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => {
            let text = format!(
                "{} {}",
                b.error_code.unwrap_or_default(),
                b.message.unwrap_or_default()
            );
            truncate(text.trim(), 200)
        }
        Err(_) => format!("non-JSON body of {} bytes", body.len()),
    }
}

pub fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max_chars).collect();
        out.push('…');
        out
    }
}

/// Standard base64 (RFC 4648, padded), for the Basic authorization header.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0) as u32;
        let b1 = chunk.get(1).copied().unwrap_or(0) as u32;
        let b2 = chunk.get(2).copied().unwrap_or(0) as u32;
        let n = (b0 << 16) | (b1 << 8) | b2;
        let sextet = |shift: u32| ALPHABET[((n >> shift) & 0x3f) as usize] as char;
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
    out
}

/// Elapsed milliseconds since `start`, saturating.
pub fn millis_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"alice:pw"), "YWxpY2U6cHc=");
    }

    #[test]
    fn mlflow_error_bodies() {
        assert!(is_mlflow_error(
            br#"{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"x"}"#
        ));
        assert!(!is_mlflow_error(b"<html>404</html>"));
        assert_eq!(
            error_message(br#"{"error_code":"INVALID_PARAMETER_VALUE","message":"bad filter"}"#),
            "INVALID_PARAMETER_VALUE bad filter"
        );
    }
}
