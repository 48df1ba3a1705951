//! Detector rules: data in `detectors/`, embedded at build time, extensible by users.

use std::path::Path;

/// A loaded, compiled set of rules.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {}

/// What `mlops-maturity detectors` lists about a rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub practice: String,
    pub description: String,
    /// `rule` (data, with its file) or `coded` (a named detector in Rust).
    pub kind: String,
    /// Where the rule is defined (`detectors/ci.toml`, a user folder, or `src/detect/coded.rs`).
    pub source: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl RuleSet {
    /// The rules shipped in the binary.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        Ok(RuleSet {})
    }
    /// Add the rules of a user folder (every `*.toml` in it).
    pub fn load_dir(&mut self, dir: &Path) -> Result<(), RuleError> {
        let _ = dir;
        Ok(())
    }
    pub fn infos(&self) -> Vec<RuleInfo> {
        Vec::new()
    }
}
