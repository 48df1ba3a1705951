//! A thin HTTP client for the GitHub REST and GraphQL APIs: authentication
//! headers, conditional requests against the persistent cache, `Link` pagination,
//! primary and secondary rate limits, and bounded retries. Requests are sent one
//! at a time, as GitHub asks of integrations to stay clear of secondary limits.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};

use super::cache::{Cache, HttpEntry};
use super::time::{format_rfc3339, now_unix};
use super::{GithubError, GithubOptions, RequestStats, Token};

pub const API_VERSION: &str = "2022-11-28";
const USER_AGENT: &str = concat!("mlops-maturity/", env!("CARGO_PKG_VERSION"));
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries after a 5xx, a timeout or a dropped connection (so at most 4 sends).
const MAX_RETRIES: u32 = 3;
const RETRY_BASE: Duration = Duration::from_millis(500);
/// GitHub: "wait at least one minute" when a secondary limit gives no retry-after.
const SECONDARY_BACKOFF: Duration = Duration::from_secs(60);
/// Rate-limit waits allowed for one request before it is given up.
const MAX_RATE_WAITS: u32 = 4;
/// Largest response body accepted (a page of 100 runs is about 1 MiB).
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// What a request came back with, when it came back at all.
#[derive(Debug)]
pub(crate) enum Outcome {
    Ok {
        body: String,
        /// Absolute URL of the next page (`Link: <…>; rel="next"`), same origin only.
        next: Option<String>,
    },
    /// A status the caller must interpret (404 off / not permitted, 409 empty, …).
    Status {
        status: u16,
        /// GitHub's `message` field, or the start of the body.
        message: String,
        /// `X-Accepted-GitHub-Permissions`: what a fine-grained token would need.
        accepted_permissions: Option<String>,
    },
}

/// Failures of one request that are not a status.
#[derive(Debug)]
pub(crate) enum ClientError {
    /// Stop the whole scan (rate limit beyond the allowed wait).
    Fatal(GithubError),
    /// `max_requests` reached; the caller records what it could not collect.
    Budget,
    /// Gave up after retries (network, timeout).
    Network(String),
}

pub(crate) struct Client {
    http: reqwest::Client,
    api_url: String,
    graphql_url: String,
    token: Option<Token>,
    identity: String,
    cache: Option<Cache>,
    max_requests: u32,
    max_wait: Duration,
    /// Unix time until which the primary limit of a resource (`core`, `graphql`) is
    /// known to be exhausted. GitHub keeps separate budgets per resource.
    exhausted_until: HashMap<String, i64>,
    pub stats: RequestStats,
}

/// `https://api.github.com` → `https://api.github.com/graphql`;
/// GHES `https://host/api/v3` → `https://host/api/graphql`.
pub(crate) fn graphql_url(api_url: &str) -> String {
    match api_url.strip_suffix("/v3") {
        Some(base) if base.ends_with("/api") => format!("{base}/graphql"),
        _ => format!("{api_url}/graphql"),
    }
}

impl Client {
    pub fn new(opts: &GithubOptions) -> Result<Self, GithubError> {
        let api_url = opts.api_url.trim_end_matches('/').to_string();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(GithubError::InvalidOptions(format!(
                "API URL `{api_url}` must start with https:// (or http:// for a local server)"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            // A redirect to another host must not carry the token along; GitHub
            // answers renamed repositories with 301, which we follow on the same host only.
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let same = attempt
                    .previous()
                    .first()
                    .is_some_and(|first| first.host_str() == attempt.url().host_str());
                if same && attempt.previous().len() < 5 {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| GithubError::InvalidOptions(format!("HTTP client: {e}")))?;
        let identity = match &opts.token {
            Some(t) => {
                super::cache::hex_sha256(&[b"mlops-maturity token v1", t.expose().as_bytes()])
            }
            None => "anonymous".to_string(),
        };
        let cache_dir = match &opts.cache_dir {
            Some(dir) if dir.as_os_str().is_empty() => None,
            Some(dir) => Some(dir.clone()),
            None => super::cache::default_dir(),
        };
        Ok(Client {
            http,
            graphql_url: graphql_url(&api_url),
            api_url,
            token: opts.token.clone(),
            identity,
            cache: cache_dir.map(|d| Cache::new(&d)),
            max_requests: opts.max_requests,
            max_wait: opts.max_wait,
            exhausted_until: HashMap::new(),
            stats: RequestStats::default(),
        })
    }

    pub fn max_requests(&self) -> u32 {
        self.max_requests
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    pub fn cache(&self) -> Option<&Cache> {
        self.cache.as_ref()
    }

    /// `GET {api}{path}` (path starts with `/`), with conditional caching.
    pub async fn get(
        &mut self,
        family: &str,
        path: &str,
        accept: Option<&str>,
    ) -> Result<Outcome, ClientError> {
        let url = format!("{}{}", self.api_url, path);
        self.send(family, &url, None, accept).await
    }

    /// `GET` an absolute URL taken from a `Link` header (already checked same-origin).
    pub async fn get_url(&mut self, family: &str, url: &str) -> Result<Outcome, ClientError> {
        self.send(family, url, None, None).await
    }

    /// `POST {graphql}`; never cached (GraphQL has no ETags).
    pub async fn graphql(&mut self, body: &serde_json::Value) -> Result<Outcome, ClientError> {
        let url = self.graphql_url.clone();
        self.send("graphql", &url, Some(body.to_string()), None)
            .await
    }

    /// The endpoint as shown to users: method and path without the host or query.
    pub fn endpoint(&self, url: &str, post: bool) -> String {
        let path = url.strip_prefix(&self.api_url).unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        let path = if post {
            url.rsplit('/')
                .next()
                .map(|p| format!("/{p}"))
                .unwrap_or_default()
        } else {
            path.to_string()
        };
        format!("{} {}", if post { "POST" } else { "GET" }, path)
    }

    /// Replace any occurrence of the token in text that came from outside.
    pub fn redact(&self, text: &str) -> String {
        match &self.token {
            Some(t) if !t.expose().is_empty() => text.replace(t.expose(), "***"),
            _ => text.to_string(),
        }
    }

    fn headers(&self, accept: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "accept",
            HeaderValue::from_str(accept.unwrap_or("application/vnd.github+json"))
                .unwrap_or(HeaderValue::from_static("application/vnd.github+json")),
        );
        h.insert(
            "x-github-api-version",
            HeaderValue::from_static(API_VERSION),
        );
        if let Some(token) = &self.token
            && let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        {
            // Sensitive values are left out of reqwest's and hyper's Debug output.
            v.set_sensitive(true);
            h.insert("authorization", v);
        }
        h
    }

    /// Wait (or stop) for a rate limit. `why` says which limit, for the message.
    async fn rate_wait(
        &mut self,
        endpoint: &str,
        wait: Duration,
        resets_at: i64,
        secondary: bool,
    ) -> Result<(), ClientError> {
        if wait > self.max_wait {
            return Err(ClientError::Fatal(GithubError::RateLimited {
                endpoint: endpoint.to_string(),
                resets_at: format_rfc3339(resets_at),
                wait_seconds: wait.as_secs(),
                max_wait_seconds: self.max_wait.as_secs(),
                secondary,
            }));
        }
        self.stats.waited_seconds += wait.as_secs_f64();
        tokio::time::sleep(wait).await;
        Ok(())
    }

    async fn send(
        &mut self,
        family: &str,
        url: &str,
        post_body: Option<String>,
        accept: Option<&str>,
    ) -> Result<Outcome, ClientError> {
        let post = post_body.is_some();
        let endpoint = self.endpoint(url, post);
        let resource = if post { "graphql" } else { "core" };
        let cached = match (&self.cache, post) {
            (Some(cache), false) => cache.get_http(&self.identity, url),
            _ => None,
        };
        let mut failures = 0u32;
        let mut rate_waits = 0u32;
        let mut secondary_backoff = SECONDARY_BACKOFF;
        loop {
            // The last answer said the primary limit is spent: wait before asking again.
            if let Some(reset) = self.exhausted_until.remove(resource) {
                let now = now_unix();
                if reset >= now {
                    let wait = Duration::from_secs(seconds_until(reset, now));
                    self.rate_wait(&endpoint, wait, reset, false).await?;
                }
            }
            if self.stats.total >= self.max_requests {
                return Err(ClientError::Budget);
            }
            let mut headers = self.headers(accept);
            if let Some(entry) = &cached
                && let Ok(v) = HeaderValue::from_str(&entry.etag)
            {
                headers.insert("if-none-match", v);
            }
            let request = match &post_body {
                Some(body) => self
                    .http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.clone()),
                None => self.http.get(url),
            };
            self.stats.count(family);
            let response = request.headers(headers).send().await;
            let response = match response {
                Ok(r) => r,
                Err(e) => {
                    let msg = self.redact(&e.without_url().to_string());
                    if failures < MAX_RETRIES {
                        failures += 1;
                        self.retry_pause(failures).await;
                        continue;
                    }
                    return Err(ClientError::Network(format!("{endpoint}: {msg}")));
                }
            };
            let status = response.status().as_u16();
            let head = response.headers().clone();
            let header = |name: &str| {
                head.get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let remaining =
                header("x-ratelimit-remaining").and_then(|v| v.trim().parse::<u64>().ok());
            let reset = header("x-ratelimit-reset").and_then(|v| v.trim().parse::<i64>().ok());
            let body = match read_body(response).await {
                // A server that echoes the token must not get it into the cache,
                // the snapshot or a message: redact at the door.
                Ok(b) => self.redact(&b),
                Err(msg) => {
                    if failures < MAX_RETRIES {
                        failures += 1;
                        self.retry_pause(failures).await;
                        continue;
                    }
                    return Err(ClientError::Network(format!(
                        "{endpoint}: {}",
                        self.redact(&msg)
                    )));
                }
            };
            match status {
                304 => {
                    self.stats.not_modified += 1;
                    if let Some(entry) = &cached {
                        return Ok(Outcome::Ok {
                            body: entry.body.clone(),
                            next: link_next(&head)
                                .or_else(|| entry.next.clone())
                                .filter(|n| self.same_origin(n)),
                        });
                    }
                    // A 304 without a cached body (the entry vanished): nothing to reuse.
                    return Ok(Outcome::Status {
                        status,
                        message: "304 without a cached body".into(),
                        accepted_permissions: None,
                    });
                }
                200..=299 => {
                    if remaining == Some(0) {
                        if let Some(reset) = reset {
                            let resource = header("x-ratelimit-resource")
                                .unwrap_or_else(|| resource.to_string());
                            self.exhausted_until.insert(resource, reset);
                        }
                    }
                    let next = link_next(&head).filter(|n| self.same_origin(n));
                    if let (Some(cache), false, Some(etag)) = (&self.cache, post, header("etag")) {
                        cache.put_http(
                            &self.identity,
                            &HttpEntry {
                                url: url.to_string(),
                                etag,
                                next: next.clone(),
                                body: body.clone(),
                            },
                        );
                    }
                    return Ok(Outcome::Ok { body, next });
                }
                403 | 429 => {
                    let message = self.redact(&message_of(&body));
                    let retry_after =
                        header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
                    let secondary_msg = message
                        .to_ascii_lowercase()
                        .contains("secondary rate limit")
                        || message.to_ascii_lowercase().contains("abuse");
                    let is_limit = retry_after.is_some()
                        || remaining == Some(0)
                        || secondary_msg
                        || status == 429;
                    if is_limit && rate_waits < MAX_RATE_WAITS {
                        rate_waits += 1;
                        if let Some(secs) = retry_after {
                            let wait = Duration::from_secs(secs.max(1));
                            let at =
                                now_unix().saturating_add(i64::try_from(secs).unwrap_or(i64::MAX));
                            self.rate_wait(&endpoint, wait, at, true).await?;
                        } else if remaining == Some(0) {
                            let reset = reset.unwrap_or_else(|| now_unix().saturating_add(60));
                            let wait = Duration::from_secs(seconds_until(reset, now_unix()));
                            self.rate_wait(&endpoint, wait, reset, false).await?;
                        } else {
                            let wait = secondary_backoff;
                            let at = now_unix()
                                .saturating_add(i64::try_from(wait.as_secs()).unwrap_or(60));
                            self.rate_wait(&endpoint, wait, at, true).await?;
                            secondary_backoff = secondary_backoff.saturating_mul(2);
                        }
                        continue;
                    }
                    if is_limit {
                        return Err(ClientError::Fatal(GithubError::RateLimited {
                            endpoint,
                            resets_at: format_rfc3339(reset.unwrap_or_else(now_unix)),
                            wait_seconds: 0,
                            max_wait_seconds: self.max_wait.as_secs(),
                            secondary: remaining != Some(0),
                        }));
                    }
                    return Ok(Outcome::Status {
                        status,
                        message,
                        accepted_permissions: header("x-accepted-github-permissions"),
                    });
                }
                500..=599 if failures < MAX_RETRIES => {
                    failures += 1;
                    self.retry_pause(failures).await;
                    continue;
                }
                _ => {
                    return Ok(Outcome::Status {
                        status,
                        message: self.redact(&message_of(&body)),
                        accepted_permissions: header("x-accepted-github-permissions"),
                    });
                }
            }
        }
    }

    /// Exponential backoff with jitter: base·2^(n-1) plus up to half of it again.
    async fn retry_pause(&mut self, attempt: u32) {
        self.stats.retries += 1;
        let base = RETRY_BASE.saturating_mul(1 << attempt.saturating_sub(1).min(6));
        let jitter = base.mul_f64(fastrand_f64() * 0.5);
        let wait = base + jitter;
        self.stats.waited_seconds += wait.as_secs_f64();
        tokio::time::sleep(wait).await;
    }

    /// Only follow links to the API we were pointed at: the token must not travel
    /// to a host named by a response.
    fn same_origin(&self, url: &str) -> bool {
        url.strip_prefix(&self.api_url)
            .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'))
    }
}

/// Whole seconds to wait for a reset at `reset`, one more for clock skew, at least one.
fn seconds_until(reset: i64, now: i64) -> u64 {
    u64::try_from(reset.saturating_sub(now).saturating_add(1))
        .unwrap_or(1)
        .max(1)
}

/// A cheap jitter source (no need for cryptographic randomness here).
fn fastrand_f64() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(now_unix() as u64);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

async fn read_body(mut response: reqwest::Response) -> Result<String, String> {
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(format!("response larger than {MAX_BODY_BYTES} bytes"));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(e.without_url().to_string()),
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// GitHub's error `message`, or the first 200 characters of a non-JSON body.
fn message_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| {
            body.chars()
                .take(200)
                .collect::<String>()
                .trim()
                .to_string()
        })
}

/// The `rel="next"` target of a `Link` header.
pub(crate) fn link_next(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|value| {
            value.split(',').find_map(|part| {
                let (target, params) = part.split_once(';')?;
                let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
                params
                    .split(';')
                    .any(|p| {
                        let p = p.trim().replace(' ', "");
                        p == "rel=\"next\"" || p == "rel=next"
                    })
                    .then(|| target.to_string())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static(
                "<https://api.github.com/repositories/1/releases?page=2>; rel=\"next\", <https://api.github.com/repositories/1/releases?page=5>; rel=\"last\"",
            ),
        );
        assert_eq!(
            link_next(&h).as_deref(),
            Some("https://api.github.com/repositories/1/releases?page=2")
        );
        let mut last_only = HeaderMap::new();
        last_only.insert(
            "link",
            HeaderValue::from_static("<https://x/?page=1>; rel=\"prev\""),
        );
        assert_eq!(link_next(&last_only), None);
    }

    #[test]
    fn links_are_followed_on_the_configured_api_only() {
        let opts = GithubOptions {
            api_url: "https://ghe.example/api/v3/".into(),
            cache_dir: Some(std::path::PathBuf::new()),
            ..Default::default()
        };
        let client = Client::new(&opts).unwrap();
        assert!(client.same_origin("https://ghe.example/api/v3/repositories/1/releases?page=2"));
        assert!(!client.same_origin("https://ghe.example/api/v3.evil/x"));
        assert!(!client.same_origin("https://evil.example/api/v3/repositories/1"));
        assert!(!client.same_origin("http://ghe.example/api/v3/repositories/1"));
        assert!(
            client.cache().is_none(),
            "an empty cache path turns the cache off"
        );
        assert_eq!(
            client.endpoint(
                "https://ghe.example/api/v3/repos/o/r/tags?per_page=100",
                false
            ),
            "GET /repos/o/r/tags"
        );
        assert!(
            Client::new(&GithubOptions {
                api_url: "ftp://x".into(),
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn waits_never_overflow() {
        assert_eq!(
            seconds_until(i64::MAX, i64::MIN),
            u64::try_from(i64::MAX).unwrap()
        );
        assert_eq!(seconds_until(10, 20), 1);
        assert_eq!(seconds_until(12, 10), 3);
    }

    #[test]
    fn graphql_endpoint_for_dotcom_and_ghes() {
        assert_eq!(
            graphql_url("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_url("https://ghe.example/api/v3"),
            "https://ghe.example/api/graphql"
        );
        assert_eq!(
            graphql_url("http://127.0.0.1:9"),
            "http://127.0.0.1:9/graphql"
        );
    }

    #[test]
    fn message_from_json_or_text() {
        assert_eq!(
            message_of(r#"{"message":"Not Found","documentation_url":"x"}"#),
            "Not Found"
        );
        assert_eq!(message_of("<html>oops"), "<html>oops");
    }
}
