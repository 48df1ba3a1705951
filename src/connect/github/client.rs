//! The GitHub side of the shared client ([`crate::connect::remote::client`]):
//! `Authorization: Bearer`, the `x-ratelimit-*` headers with a resource per
//! budget (`core`, `graphql`), `Link` pagination, the one-minute backoff GitHub
//! asks for after a secondary limit without `retry-after`, and the GraphQL URL
//! of github.com and of GitHub Enterprise Server.

use std::time::Duration;

use super::{GithubError, GithubOptions};
use crate::connect::remote::RequestStats;
use crate::connect::remote::cache::{self, Cache};
use crate::connect::remote::client::{self as shared, ClientConfig, Credential, Flavor};

pub(crate) use crate::connect::remote::client::Outcome;

pub const API_VERSION: &str = "2022-11-28";

const GITHUB: Flavor = Flavor {
    accept: "application/vnd.github+json",
    extra_headers: &[("x-github-api-version", API_VERSION)],
    remaining_header: "x-ratelimit-remaining",
    reset_header: "x-ratelimit-reset",
    resource_header: Some("x-ratelimit-resource"),
    permissions_header: Some("x-accepted-github-permissions"),
    // GitHub: "wait at least one minute" when a secondary limit gives no retry-after.
    unnamed_limit_backoff: Duration::from_secs(60),
    next_page_header: false,
    rebase_links: false,
};

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

impl From<shared::ClientError> for ClientError {
    fn from(e: shared::ClientError) -> Self {
        match e {
            shared::ClientError::Fatal(stop) => ClientError::Fatal(GithubError::RateLimited {
                endpoint: stop.endpoint,
                resets_at: stop.resets_at,
                wait_seconds: stop.wait_seconds,
                max_wait_seconds: stop.max_wait_seconds,
                secondary: stop.secondary,
            }),
            shared::ClientError::Budget => ClientError::Budget,
            shared::ClientError::Network(m) => ClientError::Network(m),
        }
    }
}

pub(crate) struct Client {
    inner: shared::Client,
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
        let cache_dir = match &opts.cache_dir {
            Some(dir) if dir.as_os_str().is_empty() => None,
            Some(dir) => Some(dir.clone()),
            None => cache::default_dir("github"),
        };
        let credential = opts.token.as_ref().map(|t| Credential {
            header: "authorization",
            value: format!("Bearer {}", t.expose()),
            secret: t.expose().to_string(),
        });
        let inner = shared::Client::new(ClientConfig {
            graphql_url: Some(graphql_url(&api_url)),
            api_url,
            credential,
            cache_dir,
            max_requests: opts.max_requests,
            max_wait: opts.max_wait,
            flavor: GITHUB,
        })
        .map_err(GithubError::InvalidOptions)?;
        Ok(Client { inner })
    }

    pub fn max_requests(&self) -> u32 {
        self.inner.max_requests()
    }

    pub fn has_token(&self) -> bool {
        self.inner.has_token()
    }

    pub fn cache(&self) -> Option<&Cache> {
        self.inner.cache()
    }

    pub fn stats_mut(&mut self) -> &mut RequestStats {
        &mut self.inner.stats
    }

    pub fn into_stats(self) -> RequestStats {
        self.inner.stats
    }

    /// The provider-neutral client inside (org listings paginate with it).
    pub(crate) fn into_shared(self) -> shared::Client {
        self.inner
    }

    /// `GET {api}{path}` (path starts with `/`), with conditional caching.
    pub async fn get(
        &mut self,
        family: &str,
        path: &str,
        accept: Option<&str>,
    ) -> Result<Outcome, ClientError> {
        Ok(self.inner.get(family, path, accept).await?)
    }

    /// `GET` an absolute URL taken from a `Link` header (already checked same-origin).
    pub async fn get_url(&mut self, family: &str, url: &str) -> Result<Outcome, ClientError> {
        Ok(self.inner.get_url(family, url).await?)
    }

    /// `POST {graphql}`; never cached (GraphQL has no ETags).
    pub async fn graphql(&mut self, body: &serde_json::Value) -> Result<Outcome, ClientError> {
        Ok(self.inner.graphql(body).await?)
    }

    /// The endpoint as shown to users: method and path without the host or query.
    pub fn endpoint(&self, url: &str, post: bool) -> String {
        self.inner.endpoint(url, post)
    }

    /// Replace any occurrence of the token in text that came from outside.
    pub fn redact(&self, text: &str) -> String {
        self.inner.redact(text)
    }

    #[cfg(test)]
    fn same_origin(&self, url: &str) -> bool {
        self.inner.same_origin(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
