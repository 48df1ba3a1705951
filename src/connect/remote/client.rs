//! The HTTP client both API connectors use: authentication, conditional requests
//! against the persistent cache, pagination, rate limits (the remaining/reset
//! headers a [`Flavor`] names, `Retry-After`), bounded retries with backoff,
//! timeouts, request counting and a request budget. Requests are sent one at a
//! time: both GitHub and GitLab ask integrations not to hammer them concurrently.
//!
//! What differs between providers is data ([`Flavor`], [`Credential`]), not code.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::RequestStats;
use super::cache::{Cache, HttpEntry};
use super::time::{format_rfc3339, now_unix};

const USER_AGENT: &str = concat!("mlops-maturity/", env!("CARGO_PKG_VERSION"));
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries after a 5xx, a timeout or a dropped connection (so at most 4 sends).
const MAX_RETRIES: u32 = 3;
const RETRY_BASE: Duration = Duration::from_millis(500);
/// Rate-limit waits allowed for one request before it is given up.
const MAX_RATE_WAITS: u32 = 4;
/// Largest response body accepted (a page of 100 runs is about 1 MiB).
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// How a provider speaks HTTP: its headers for rate limits and permissions, its
/// default media type, and how it names the next page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flavor {
    pub accept: &'static str,
    /// Sent with every request (e.g. GitHub's API version header).
    pub extra_headers: &'static [(&'static str, &'static str)],
    /// Requests left in the current window (`x-ratelimit-remaining`, `ratelimit-remaining`).
    pub remaining_header: &'static str,
    /// Unix time the window resets (`x-ratelimit-reset`, `ratelimit-reset`).
    pub reset_header: &'static str,
    /// Which budget the answer counted against (GitHub keeps `core` and `graphql` apart).
    pub resource_header: Option<&'static str>,
    /// What the server says a refused request needed (`x-accepted-github-permissions`).
    pub permissions_header: Option<&'static str>,
    /// Wait before retrying a limit that names no time (GitHub: "at least one minute").
    pub unnamed_limit_backoff: Duration,
    /// Read `x-next-page` (GitLab offset pagination) when there is no `Link: rel="next"`.
    pub next_page_header: bool,
    /// Follow a next-page link that names another origin under the same API path
    /// by asking our own origin for that path (GitLab builds links from its
    /// configured external URL, which behind a proxy may differ in scheme or host
    /// from the URL we were given). The token still goes to our origin only.
    pub rebase_links: bool,
}

/// The authentication header and the secret in it. Never printed: `Debug` hides it.
#[derive(Clone)]
pub(crate) struct Credential {
    pub header: &'static str,
    /// The full header value (`Bearer …`, or the bare token).
    pub value: String,
    /// The secret alone, redacted from everything that comes back.
    pub secret: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({}: ***)", self.header)
    }
}

/// Everything a [`Client`] needs to start.
pub(crate) struct ClientConfig {
    pub api_url: String,
    /// Where `POST` GraphQL queries go, when the provider has GraphQL.
    pub graphql_url: Option<String>,
    pub credential: Option<Credential>,
    /// Resolved cache folder; `None`: no cache.
    pub cache_dir: Option<PathBuf>,
    pub max_requests: u32,
    pub max_wait: Duration,
    pub flavor: Flavor,
}

/// What a request came back with, when it came back at all.
#[derive(Debug)]
pub(crate) enum Outcome {
    Ok {
        body: String,
        /// Absolute URL of the next page (same origin only).
        next: Option<String>,
    },
    /// A status the caller must interpret (404 off / not permitted, 409 empty, …).
    Status {
        status: u16,
        /// The provider's `message` (or `error`) field, or the start of the body.
        message: String,
        /// What the provider says the request needed, when it says so.
        accepted_permissions: Option<String>,
    },
}

/// A rate limit that would need a longer wait than allowed: the scan stops.
#[derive(Debug, Clone)]
pub(crate) struct RateLimitStop {
    pub endpoint: String,
    pub resets_at: String,
    pub wait_seconds: u64,
    pub max_wait_seconds: u64,
    /// A limit without a reset time (GitHub's secondary limits, GitLab's 429s).
    pub secondary: bool,
}

/// Failures of one request that are not a status.
#[derive(Debug)]
pub(crate) enum ClientError {
    /// Stop the whole scan (rate limit beyond the allowed wait).
    Fatal(RateLimitStop),
    /// `max_requests` reached; the caller records what it could not collect.
    Budget,
    /// Gave up after retries (network, timeout).
    Network(String),
}

pub(crate) struct Client {
    http: reqwest::Client,
    api_url: String,
    graphql_url: Option<String>,
    credential: Option<Credential>,
    identity: String,
    cache: Option<Cache>,
    max_requests: u32,
    max_wait: Duration,
    flavor: Flavor,
    /// Unix time until which the limit of a resource (`core`, `graphql`) is known
    /// to be exhausted.
    exhausted_until: HashMap<String, i64>,
    pub stats: RequestStats,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, String> {
        let api_url = config.api_url.trim_end_matches('/').to_string();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(format!(
                "API URL `{api_url}` must start with https:// (or http:// for a local server)"
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            // A redirect to another host must not carry the token along; renamed
            // repositories answer 301, which we follow on the same host only.
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
            .map_err(|e| format!("HTTP client: {e}"))?;
        let identity = match &config.credential {
            Some(c) => super::cache::hex_sha256(&[
                b"mlops-maturity token v1",
                c.header.as_bytes(),
                c.secret.as_bytes(),
            ]),
            None => "anonymous".to_string(),
        };
        // A token header GitHub has always hashed without its name: keep that
        // identity so existing GitHub caches stay valid.
        let identity = match &config.credential {
            Some(c) if c.header == "authorization" => {
                super::cache::hex_sha256(&[b"mlops-maturity token v1", c.secret.as_bytes()])
            }
            _ => identity,
        };
        Ok(Client {
            http,
            graphql_url: config.graphql_url,
            api_url,
            credential: config.credential,
            identity,
            cache: config.cache_dir.map(|d| Cache::new(&d)),
            max_requests: config.max_requests,
            max_wait: config.max_wait,
            flavor: config.flavor,
            exhausted_until: HashMap::new(),
            stats: RequestStats::default(),
        })
    }

    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    pub fn max_requests(&self) -> u32 {
        self.max_requests
    }

    pub fn has_token(&self) -> bool {
        self.credential.is_some()
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

    /// `GET` an absolute URL taken from a pagination header (already checked same-origin).
    pub async fn get_url(&mut self, family: &str, url: &str) -> Result<Outcome, ClientError> {
        self.send(family, url, None, None).await
    }

    /// `POST {graphql}`; never cached (GraphQL has no ETags).
    pub async fn graphql(&mut self, body: &serde_json::Value) -> Result<Outcome, ClientError> {
        let Some(url) = self.graphql_url.clone() else {
            return Ok(Outcome::Status {
                status: 404,
                message: "no GraphQL endpoint".into(),
                accepted_permissions: None,
            });
        };
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
        match &self.credential {
            Some(c) if !c.secret.is_empty() => text.replace(&c.secret, "***"),
            _ => text.to_string(),
        }
    }

    fn headers(&self, accept: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "accept",
            HeaderValue::from_str(accept.unwrap_or(self.flavor.accept))
                .unwrap_or(HeaderValue::from_static("application/json")),
        );
        for (name, value) in self.flavor.extra_headers {
            h.insert(*name, HeaderValue::from_static(value));
        }
        if let Some(c) = &self.credential
            && let Ok(mut v) = HeaderValue::from_str(&c.value)
        {
            // Sensitive values are left out of reqwest's and hyper's Debug output.
            v.set_sensitive(true);
            h.insert(HeaderName::from_static(c.header), v);
        }
        h
    }

    /// Wait (or stop) for a rate limit.
    async fn rate_wait(
        &mut self,
        endpoint: &str,
        wait: Duration,
        resets_at: i64,
        secondary: bool,
    ) -> Result<(), ClientError> {
        if wait > self.max_wait {
            return Err(ClientError::Fatal(RateLimitStop {
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

    /// The next page: `Link: rel="next"`, else (GitLab) `x-next-page` put into this URL.
    fn next_page(&self, headers: &HeaderMap, url: &str) -> Option<String> {
        let next = link_next(headers)
            .map(|link| {
                if self.flavor.rebase_links && !self.same_origin(&link) {
                    self.rebase(&link).unwrap_or(link)
                } else {
                    link
                }
            })
            .or_else(|| {
                if !self.flavor.next_page_header {
                    return None;
                }
                let page = headers
                    .get("x-next-page")
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))?;
                Some(with_query_param(url, "page", page))
            });
        next.filter(|n| self.same_origin(n))
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
        let flavor = self.flavor;
        let mut failures = 0u32;
        let mut rate_waits = 0u32;
        let mut unnamed_backoff = flavor.unnamed_limit_backoff;
        loop {
            // The last answer said the limit is spent: wait before asking again.
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
                header(flavor.remaining_header).and_then(|v| v.trim().parse::<u64>().ok());
            let reset = header(flavor.reset_header).and_then(|v| v.trim().parse::<i64>().ok());
            let permissions = flavor.permissions_header.and_then(header);
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
                            next: self
                                .next_page(&head, url)
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
                    if remaining == Some(0)
                        && let Some(reset) = reset
                    {
                        let resource = flavor
                            .resource_header
                            .and_then(header)
                            .unwrap_or_else(|| resource.to_string());
                        self.exhausted_until.insert(resource, reset);
                    }
                    let next = self.next_page(&head, url);
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
                    let lower = message.to_ascii_lowercase();
                    let limit_msg = lower.contains("secondary rate limit")
                        || lower.contains("abuse")
                        || lower.contains("rate limit exceeded")
                        || lower.contains("retry later");
                    let is_limit =
                        retry_after.is_some() || remaining == Some(0) || limit_msg || status == 429;
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
                            let wait = unnamed_backoff;
                            let at = now_unix()
                                .saturating_add(i64::try_from(wait.as_secs()).unwrap_or(60));
                            self.rate_wait(&endpoint, wait, at, true).await?;
                            unnamed_backoff = unnamed_backoff.saturating_mul(2);
                        }
                        continue;
                    }
                    if is_limit {
                        return Err(ClientError::Fatal(RateLimitStop {
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
                        accepted_permissions: permissions,
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
                        accepted_permissions: permissions,
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

    /// `scheme://other-host/PREFIX/api/v4/x?y` → `{api_url}/x?y` when the link's
    /// path starts with our API path; `None` otherwise.
    fn rebase(&self, link: &str) -> Option<String> {
        let api_path = path_of(&self.api_url)?;
        let link_path = path_of(link)?;
        let rest = link_path.strip_prefix(api_path)?;
        (rest.starts_with('/') || rest.starts_with('?')).then(|| format!("{}{rest}", self.api_url))
    }

    /// Only follow links to the API we were pointed at: the token must not travel
    /// to a host named by a response.
    pub fn same_origin(&self, url: &str) -> bool {
        url.strip_prefix(&self.api_url)
            .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'))
    }
}

/// The path and query of an absolute URL (`/` when it has none).
fn path_of(url: &str) -> Option<&str> {
    let after_scheme = url.split_once("://")?.1;
    Some(match after_scheme.find(['/', '?']) {
        Some(i) => after_scheme.get(i..)?,
        None => "/",
    })
}

/// `url` with `name=value` set in its query (replacing an existing `name`).
pub(crate) fn with_query_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| p.split('=').next() != Some(name))
        .map(str::to_string)
        .collect();
    pairs.push(format!("{name}={value}"));
    format!("{base}?{}", pairs.join("&"))
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

/// The error `message` (GitHub, GitLab) or `error` (GitLab OAuth), or the first 200
/// characters of a non-JSON body.
pub(crate) fn message_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let m = v.get("message").or_else(|| v.get("error"))?;
            Some(match m.as_str() {
                Some(s) => s.to_string(),
                // GitLab validation errors: `{"message": {"field": ["…"]}}`.
                None => m.to_string(),
            })
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

    pub(crate) const TEST_FLAVOR: Flavor = Flavor {
        accept: "application/json",
        extra_headers: &[],
        remaining_header: "ratelimit-remaining",
        reset_header: "ratelimit-reset",
        resource_header: None,
        permissions_header: None,
        unnamed_limit_backoff: Duration::from_secs(1),
        next_page_header: true,
        rebase_links: true,
    };

    fn client(api_url: &str) -> Client {
        Client::new(ClientConfig {
            api_url: api_url.into(),
            graphql_url: None,
            credential: Some(Credential {
                header: "private-token",
                value: "glpat-secret".into(),
                secret: "glpat-secret".into(),
            }),
            cache_dir: None,
            max_requests: 10,
            max_wait: Duration::from_secs(1),
            flavor: TEST_FLAVOR,
        })
        .unwrap()
    }

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
    fn x_next_page_is_put_into_the_url() {
        let c = client("https://gl.example/gitlab/api/v4");
        let mut h = HeaderMap::new();
        h.insert("x-next-page", HeaderValue::from_static("3"));
        assert_eq!(
            c.next_page(
                &h,
                "https://gl.example/gitlab/api/v4/projects/1/pipelines?per_page=100&page=2"
            )
            .as_deref(),
            Some("https://gl.example/gitlab/api/v4/projects/1/pipelines?per_page=100&page=3")
        );
        // The last page sends an empty `x-next-page`.
        let mut last = HeaderMap::new();
        last.insert("x-next-page", HeaderValue::from_static(""));
        assert_eq!(
            c.next_page(&last, "https://gl.example/gitlab/api/v4/x"),
            None
        );
        // A Link to another host is never followed there: under our API path it is
        // asked of our own origin (GitLab's external URL behind a proxy), else dropped.
        let mut proxied = HeaderMap::new();
        proxied.insert(
            "link",
            HeaderValue::from_static(
                "<http://internal:8080/gitlab/api/v4/projects/1/repository/tree?page_token=x>; rel=\"next\"",
            ),
        );
        assert_eq!(
            c.next_page(&proxied, "https://gl.example/gitlab/api/v4/x")
                .as_deref(),
            Some("https://gl.example/gitlab/api/v4/projects/1/repository/tree?page_token=x")
        );
        let mut evil = HeaderMap::new();
        evil.insert(
            "link",
            HeaderValue::from_static("<https://evil.example/api/v4/x?page=2>; rel=\"next\""),
        );
        assert_eq!(
            c.next_page(&evil, "https://gl.example/gitlab/api/v4/x"),
            None
        );
        assert_eq!(path_of("https://h"), Some("/"));
        assert_eq!(path_of("https://h?x=1"), Some("?x=1"));
    }

    #[test]
    fn credentials_never_print_and_are_redacted() {
        let c = client("https://gl.example/api/v4");
        assert!(!format!("{:?}", c.credential).contains("glpat-secret"));
        assert_eq!(c.redact("echo glpat-secret here"), "echo *** here");
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
    fn message_from_json_or_text() {
        assert_eq!(
            message_of(r#"{"message":"Not Found","documentation_url":"x"}"#),
            "Not Found"
        );
        assert_eq!(
            message_of(r#"{"error":"insufficient_scope"}"#),
            "insufficient_scope"
        );
        assert_eq!(message_of("<html>oops"), "<html>oops");
    }

    #[test]
    fn query_params_are_replaced() {
        assert_eq!(
            with_query_param("https://x/a", "page", "2"),
            "https://x/a?page=2"
        );
        assert_eq!(
            with_query_param("https://x/a?page=1&per_page=5", "page", "2"),
            "https://x/a?per_page=5&page=2"
        );
    }
}
