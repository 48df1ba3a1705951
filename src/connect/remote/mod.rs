//! What the API connectors (GitHub, GitLab) share: the retrying, rate-limit-aware
//! HTTP client with request counting and a budget (`client`), the persistent
//! ETag and blob cache (`cache`), timestamp arithmetic (`time`) and the
//! classification of fetched file bytes (`files`). Provider differences are
//! data: a `Flavor` (rate-limit and pagination headers) and a `Credential`
//! (which header carries the token).

use std::collections::BTreeMap;

use serde::Serialize;

pub(crate) mod cache;
pub(crate) mod client;
pub(crate) mod evidence;
pub(crate) mod files;
pub(crate) mod time;

/// Counters about the requests of one scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RequestStats {
    /// Requests sent (each retry and each 304 included).
    pub total: u32,
    /// Requests per endpoint family (`repo`, `git/trees`, `graphql`, `pipelines`, …).
    pub by_family: BTreeMap<String, u32>,
    /// Answers `304 Not Modified` (served from the cache; GitHub does not count them).
    pub not_modified: u32,
    /// Resends after a 5xx, a timeout or a dropped connection.
    pub retries: u32,
    /// Seconds spent waiting for rate limits and retry backoff.
    pub waited_seconds: f64,
    /// File texts taken from the blob cache instead of the network.
    pub blobs_from_cache: u32,
}

impl RequestStats {
    pub(crate) fn count(&mut self, family: &str) {
        self.total += 1;
        *self.by_family.entry(family.to_string()).or_insert(0) += 1;
    }

    /// Requests counted against the rate limit (304s are free on GitHub; GitLab
    /// counts them, but they cost it almost nothing).
    pub fn counted_against_limit(&self) -> u32 {
        self.total.saturating_sub(self.not_modified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_count_families() {
        let mut s = RequestStats::default();
        s.count("repo");
        s.count("graphql");
        s.count("graphql");
        s.not_modified = 1;
        assert_eq!(s.total, 3);
        assert_eq!(s.by_family["graphql"], 2);
        assert_eq!(s.counted_against_limit(), 2);
    }
}
