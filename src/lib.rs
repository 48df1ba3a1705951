//! mlops-maturity: infer CAICT Model/MLOps (model delivery) maturity levels from
//! the evidence in a repository.
//!
//! Data flows one way: [`connect`] → [`evidence::Snapshot`] → [`pipeline`] (one job
//! graph) → [`detect`] (practices) → [`assess`] (levels) → [`report`].
//! [`config`] reads the scanned repository's `.mlops-maturity.toml`.

pub mod assess;
pub mod comment;
pub mod config;
pub mod connect;
pub mod detect;
pub mod diff;
pub mod evidence;
pub mod history;
pub mod org;
pub mod pipeline;
pub mod report;
pub mod standard;
