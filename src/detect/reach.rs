//! Following what a pipeline step invokes inside the repository (Makefile targets,
//! shell scripts, tox/nox sessions, job specs), with a bounded depth, so that a
//! practice found there counts as run by the pipeline.

use crate::evidence::{FileSet, Location};
use crate::pipeline::Step;

/// A part of a repository file that a step reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    pub path: String,
    /// 1-based inclusive line range inside `path` (a Makefile recipe, a tox section);
    /// `None` = the whole file.
    pub lines: Option<(u32, u32)>,
    /// How it was reached: the step's location, then each file:line on the way.
    pub chain: Vec<Location>,
}

/// Everything a step reaches, up to `max_depth` hops.
pub fn follow_step(files: &FileSet, step: &Step, max_depth: usize) -> Vec<Reached> {
    let _ = (files, step, max_depth);
    Vec::new()
}
