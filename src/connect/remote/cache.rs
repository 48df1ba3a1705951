//! The persistent response cache: ETag + body per URL (for conditional requests,
//! which GitHub does not count against the rate limit when they answer 304, and
//! which GitLab answers without rebuilding the body), and
//! blob texts by git blob sha (GraphQL and raw blobs have no ETags, but a blob sha names its
//! content forever, so an unchanged file is never fetched twice).
//!
//! Nothing here ever holds the token. HTTP entries are keyed by a hash of the
//! token's identity hash and the URL, so two identities that see different things
//! (a private repository, a permission) never share an answer. The cache is best
//! effort: any I/O or decoding failure is a miss, never an error.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Largest cache file read back (a GitHub page is well under this).
const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HttpEntry {
    pub url: String,
    pub etag: String,
    /// The `rel="next"` link of the cached page: a 304 need not repeat it.
    #[serde(default)]
    pub next: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BlobEntry {
    pub binary: bool,
    #[serde(default)]
    pub text: Option<String>,
    /// The text was decoded lossily.
    #[serde(default)]
    pub not_utf8: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
}

pub(crate) fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update((p.len() as u64).to_le_bytes());
        hasher.update(p);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The user cache folder: `$XDG_CACHE_HOME`, else `~/.cache` (`%LOCALAPPDATA%` on
/// Windows), then `mlops-maturity/{provider}` (`github`, `gitlab`).
pub(crate) fn default_dir(provider: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .or_else(|| std::env::var_os("LOCALAPPDATA").map(PathBuf::from))?;
    Some(base.join("mlops-maturity").join(provider))
}

fn is_hex(s: &str) -> bool {
    s.len() >= 4 && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Cache {
    pub fn new(dir: &Path) -> Self {
        Cache {
            dir: dir.to_path_buf(),
        }
    }

    fn http_path(&self, identity: &str, url: &str) -> PathBuf {
        let key = hex_sha256(&[identity.as_bytes(), url.as_bytes()]);
        self.dir.join("http").join(&key[..2]).join(&key)
    }

    fn blob_path(&self, sha: &str) -> Option<PathBuf> {
        // The sha comes from the API: never let it name a path outside the cache.
        is_hex(sha).then(|| {
            let lower = sha.to_ascii_lowercase();
            self.dir.join("blobs").join(&lower[..2]).join(&lower)
        })
    }

    pub fn get_http(&self, identity: &str, url: &str) -> Option<HttpEntry> {
        let entry: HttpEntry = read_json(&self.http_path(identity, url))?;
        // A hash collision or a hand-edited file must not answer for another URL.
        (entry.url == url).then_some(entry)
    }

    pub fn put_http(&self, identity: &str, entry: &HttpEntry) {
        write_json(&self.http_path(identity, &entry.url), entry);
    }

    pub fn get_blob(&self, sha: &str) -> Option<BlobEntry> {
        read_json(&self.blob_path(sha)?)
    }

    pub fn put_blob(&self, sha: &str, entry: &BlobEntry) {
        if let Some(path) = self.blob_path(sha) {
            write_json(&path, entry);
        }
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_ENTRY_BYTES {
        return None;
    }
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

/// Write through a temporary file and rename, so a concurrent scan never reads half
/// an entry.
fn write_json<T: Serialize>(path: &Path, value: &T) {
    let Some(parent) = path.parent() else { return };
    if fs::create_dir_all(parent).is_err() {
        return;
    }
    let Ok(bytes) = serde_json::to_vec(value) else {
        return;
    };
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if write_private(&tmp, &bytes).is_ok() && fs::rename(&tmp, path).is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

/// Bodies of private repositories land here: readable by the user only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_entries_are_per_identity_and_url() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let entry = HttpEntry {
            url: "https://x/a".into(),
            etag: "\"e\"".into(),
            next: None,
            body: "{}".into(),
        };
        cache.put_http("id1", &entry);
        assert_eq!(cache.get_http("id1", "https://x/a").unwrap().etag, "\"e\"");
        assert!(cache.get_http("id2", "https://x/a").is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = cache.http_path("id1", "https://x/a");
            let mode = fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "cache entries are private to the user");
        }
        assert!(cache.get_http("id1", "https://x/b").is_none());
    }

    #[test]
    fn blob_sha_cannot_escape() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        cache.put_blob(
            "../../etc",
            &BlobEntry {
                binary: false,
                text: Some("x".into()),
                not_utf8: false,
            },
        );
        assert!(cache.get_blob("../../etc").is_none());
        assert!(cache.get_blob("a").is_none(), "too short to name a file");
        cache.put_blob(
            "abcdef",
            &BlobEntry {
                binary: false,
                text: Some("x".into()),
                not_utf8: false,
            },
        );
        assert_eq!(cache.get_blob("ABCDEF").unwrap().text.as_deref(), Some("x"));
    }
}
