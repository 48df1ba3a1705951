//! Credentials for the tracking server. They are sent as an `Authorization` header
//! and nowhere else: `Debug` and `Display` print only which kind they are.

use std::fmt;

/// A secret string whose `Debug`/`Display` never show its value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The value itself, for building the request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How to authenticate: MLflow's own environment variables, the same ones its
/// client reads (`MLFLOW_TRACKING_TOKEN`, or `MLFLOW_TRACKING_USERNAME` and
/// `MLFLOW_TRACKING_PASSWORD`). GitLab and Databricks take the token as a bearer.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Token(Secret),
    /// `Authorization: Basic …` (MLflow's basic-auth app).
    Basic { username: String, password: Secret },
}

impl Credentials {
    /// Read MLflow's variables from the process environment. A token wins over a
    /// username/password pair, as in MLflow's client. For the `databricks` URI,
    /// `DATABRICKS_TOKEN` is used when no MLflow token is set.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Same as [`Credentials::from_env`] with an injectable lookup (for tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |k: &str| lookup(k).filter(|v| !v.is_empty());
        if let Some(token) = non_empty("MLFLOW_TRACKING_TOKEN") {
            return Credentials::Token(Secret::new(token));
        }
        if let Some(username) = non_empty("MLFLOW_TRACKING_USERNAME") {
            return Credentials::Basic {
                username,
                password: Secret::new(non_empty("MLFLOW_TRACKING_PASSWORD").unwrap_or_default()),
            };
        }
        if let Some(token) = non_empty("DATABRICKS_TOKEN") {
            return Credentials::Token(Secret::new(token));
        }
        Credentials::None
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Credentials::None)
    }

    /// What kind of credentials, for messages ("a token", "basic auth as alice").
    pub fn describe(&self) -> String {
        match self {
            Credentials::None => "no credentials".into(),
            Credentials::Token(_) => "a bearer token".into(),
            Credentials::Basic { username, .. } => format!("basic auth as {username}"),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("Credentials::None"),
            Credentials::Token(_) => f.write_str("Credentials::Token(<redacted>)"),
            Credentials::Basic { username, .. } => {
                write!(f, "Credentials::Basic({username}:<redacted>)")
            }
        }
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn token_wins_and_is_redacted() {
        let c = Credentials::from_lookup(lookup(&[
            ("MLFLOW_TRACKING_TOKEN", "tok-123"),
            ("MLFLOW_TRACKING_USERNAME", "bob"),
        ]));
        assert_eq!(c, Credentials::Token(Secret::new("tok-123")));
        assert!(!format!("{c:?} {c}").contains("tok-123"));
    }

    #[test]
    fn basic_auth_is_redacted() {
        let c = Credentials::from_lookup(lookup(&[
            ("MLFLOW_TRACKING_USERNAME", "bob"),
            ("MLFLOW_TRACKING_PASSWORD", "hunter2"),
        ]));
        let shown = format!("{c:?} {c}");
        assert!(
            shown.contains("bob") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn empty_variables_mean_none() {
        let c = Credentials::from_lookup(lookup(&[("MLFLOW_TRACKING_TOKEN", "")]));
        assert!(c.is_none());
    }
}
