//! Tracking-URI handling: the base URL requests go to, the credentials embedded in
//! it, and the form shown in reports (credentials and query stripped).

use super::MlflowError;
use super::credentials::{Credentials, Secret};

/// A tracking URI split into what requests use and what reports show.
#[derive(Debug, Clone)]
pub struct TrackingUri {
    /// `scheme://host[:port][/path]` with no userinfo, query or fragment, no trailing `/`.
    pub base: String,
    /// Safe to print: the same as `base` (credentials and query never survive).
    pub display: String,
    /// `user:pass@` found in the URI, used when no credentials came from the environment.
    pub embedded: Credentials,
}

/// Split a tracking URI. Accepts `http(s)://…`, `azureml://…` (the Azure ML workspace
/// URI, served over https at the same host and path) and `databricks` (host from
/// `DATABRICKS_HOST`, resolved by the caller through `databricks_host`).
pub fn parse(raw: &str, databricks_host: Option<&str>) -> Result<TrackingUri, MlflowError> {
    let raw = raw.trim();
    let resolved: String = if raw == "databricks" || raw.starts_with("databricks://") {
        match databricks_host {
            Some(h) if !h.trim().is_empty() => {
                let h = h.trim();
                if h.contains("://") {
                    h.to_string()
                } else {
                    format!("https://{h}")
                }
            }
            _ => {
                return Err(MlflowError::InvalidUri {
                    uri: "databricks".into(),
                    reason: "the `databricks` tracking URI needs DATABRICKS_HOST".into(),
                });
            }
        }
    } else if let Some(rest) = raw.strip_prefix("azureml://") {
        format!("https://{rest}")
    } else {
        raw.to_string()
    };

    let (scheme, rest) = match resolved.split_once("://") {
        Some((s, r)) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => {
            (s.to_ascii_lowercase(), r)
        }
        _ => {
            return Err(MlflowError::InvalidUri {
                uri: display_without_secrets(raw),
                reason: "expected an http(s):// tracking URI (or azureml://, databricks)".into(),
            });
        }
    };
    // Drop the fragment and the query: query parameters are where tokens hide
    // (`?token=`, `?private_token=`), and no MLflow-compatible API needs them on the base.
    let rest = rest.split('#').next().unwrap_or("");
    let rest = rest.split('?').next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if host.is_empty() {
        return Err(MlflowError::InvalidUri {
            uri: display_without_secrets(raw),
            reason: "no host".into(),
        });
    }
    let embedded = match userinfo {
        Some(u) => {
            let (user, pass) = u.split_once(':').unwrap_or((u, ""));
            Credentials::Basic {
                username: percent_decode(user),
                password: Secret::new(percent_decode(pass)),
            }
        }
        None => Credentials::None,
    };
    let path = path.trim_end_matches('/');
    let base = format!("{scheme}://{host}{path}");
    Ok(TrackingUri {
        display: base.clone(),
        base,
        embedded,
    })
}

/// Best-effort printable form of a URI that did not parse: userinfo and query removed.
pub fn display_without_secrets(raw: &str) -> String {
    let no_query = raw.split(['?', '#']).next().unwrap_or("");
    match no_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        // scp-like `git@host:path`: the conventional `git` user is not a secret.
        None => match no_query.rsplit_once('@') {
            Some(("git", _)) | None => no_query.to_string(),
            Some((_, host)) => host.to_string(),
        },
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes.get(i).copied().unwrap_or(0);
        if byte == b'%' {
            // `get` keeps a stray '%' before a multi-byte character from panicking.
            if let Some(Ok(v)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(byte);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Normalise a git remote URL for comparison: scheme, credentials, `.git`, trailing
/// slashes and case dropped; `git@host:path` and `ssh://git@host/path` become `host/path`.
pub fn normalise_repo_url(url: &str) -> String {
    let url = url.trim();
    let without_scheme = match url.split_once("://") {
        Some((_, rest)) => rest,
        None => url,
    };
    let without_user = match without_scheme.find('/') {
        Some(slash) => {
            let (authority, path) = without_scheme.split_at(slash);
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{host}{path}")
        }
        None => without_scheme
            .rsplit_once('@')
            .map_or(without_scheme, |(_, h)| h)
            .to_string(),
    };
    // scp-like `host:owner/repo` (no scheme): the first ':' separates host and path.
    let scp_fixed = if !url.contains("://") {
        without_user.replacen(':', "/", 1)
    } else {
        // drop a port (`host:22/…`) so ssh and https remotes compare equal
        match without_user.split_once('/') {
            Some((host, path)) => {
                let host = host.split(':').next().unwrap_or(host);
                format!("{host}/{path}")
            }
            None => without_user,
        }
    };
    let trimmed = scp_fixed.trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(".git").unwrap_or(trimmed);
    trimmed.trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_userinfo_and_query_token() {
        let t = parse(
            "https://alice:s3cr%40t@mlflow.example.com/api/?token=abc#frag",
            None,
        )
        .unwrap();
        assert_eq!(t.base, "https://mlflow.example.com/api");
        assert_eq!(t.display, "https://mlflow.example.com/api");
        match &t.embedded {
            Credentials::Basic { username, password } => {
                assert_eq!(username, "alice");
                assert_eq!(password.expose(), "s3cr@t");
            }
            other => panic!("expected basic credentials, got {other:?}"),
        }
        assert!(!format!("{t:?}").contains("s3cr"));
    }

    #[test]
    fn gitlab_base_path_is_kept() {
        let t = parse("https://gitlab.com/api/v4/projects/42/ml/mlflow/", None).unwrap();
        assert_eq!(t.base, "https://gitlab.com/api/v4/projects/42/ml/mlflow");
    }

    #[test]
    fn azureml_and_databricks() {
        let t = parse(
            "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/x",
            None,
        )
        .unwrap();
        assert_eq!(
            t.base,
            "https://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/x"
        );
        assert!(parse("databricks", None).is_err());
        let d = parse("databricks", Some("adb-1.azuredatabricks.net")).unwrap();
        assert_eq!(d.base, "https://adb-1.azuredatabricks.net");
    }

    #[test]
    fn rejects_other_schemes_without_echoing_secrets() {
        let err = parse("file:///tmp/mlruns", None).unwrap_err().to_string();
        assert!(err.contains("http"), "{err}");
        let err = parse("ftp://u:pw@h/x?token=t", None)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("pw") && !err.contains("token=t"), "{err}");
    }

    #[test]
    fn display_keeps_scp_git_user_only() {
        assert_eq!(
            display_without_secrets("git@github.com:a/b.git"),
            "git@github.com:a/b.git"
        );
        assert_eq!(
            display_without_secrets("tok@github.com:a/b.git"),
            "github.com:a/b.git"
        );
        assert_eq!(
            display_without_secrets("https://oauth2:glpat-x@gitlab.com/a/b.git"),
            "https://gitlab.com/a/b.git"
        );
    }

    #[test]
    fn repo_urls_compare_across_forms() {
        let want = "github.com/acme/churn";
        for u in [
            "https://github.com/acme/churn.git",
            "https://token@github.com/Acme/churn/",
            "git@github.com:acme/churn.git",
            "ssh://git@github.com:22/acme/churn",
            "http://github.com/acme/churn",
        ] {
            assert_eq!(normalise_repo_url(u), want, "{u}");
        }
        assert_ne!(normalise_repo_url("https://github.com/acme/other"), want);
    }
}
