//! File records shared by the API connectors: raw blob bytes are classified
//! exactly as the local connector classifies a file on disk (NUL sniff, UTF-8),
//! so every connector gives the same [`FileSet`](crate::evidence::FileSet) for the same tree.

use std::sync::Arc;

use super::cache::BlobEntry;
use crate::evidence::{Diagnostic, Location, RepoFile, ScanStats, SkipReason};

/// Bytes inspected for NUL when deciding whether a file is binary (as git and the local connector do).
const BINARY_SNIFF_BYTES: usize = 8 * 1024;

pub(crate) fn skipped(path: String, size: u64, reason: SkipReason) -> RepoFile {
    RepoFile {
        path,
        size,
        content: None,
        skipped: Some(reason),
    }
}

pub(crate) fn record_from_entry(
    path: String,
    size: u64,
    entry: &BlobEntry,
    diagnostics: &mut Vec<Diagnostic>,
) -> RepoFile {
    if entry.binary {
        diagnostics.push(Diagnostic::info(
            "binary-file",
            "contains NUL bytes (binary): not read",
            Some(Location::file(path.clone())),
        ));
        return skipped(path, size, SkipReason::Binary);
    }
    match &entry.text {
        Some(text) => {
            let skip = if entry.not_utf8 {
                diagnostics.push(Diagnostic::info(
                    "not-utf8",
                    "not valid UTF-8: decoded lossily",
                    Some(Location::file(path.clone())),
                ));
                Some(SkipReason::NotUtf8)
            } else {
                None
            };
            RepoFile {
                path,
                size,
                content: Some(Arc::from(text.as_str())),
                skipped: skip,
            }
        }
        None => skipped(path, size, SkipReason::Unreadable),
    }
}

/// Classify raw blob bytes exactly as the local connector classifies a file.
pub(crate) fn entry_from_bytes(bytes: Vec<u8>) -> BlobEntry {
    let sniff = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
    if memchr::memchr(0, sniff).is_some() {
        return BlobEntry {
            binary: true,
            text: None,
            not_utf8: false,
        };
    }
    match String::from_utf8(bytes) {
        Ok(text) => BlobEntry {
            binary: false,
            text: Some(text),
            not_utf8: false,
        },
        Err(e) => BlobEntry {
            binary: false,
            text: Some(String::from_utf8_lossy(e.as_bytes()).into_owned()),
            not_utf8: true,
        },
    }
}

/// Counters of a file list, as the local connector counts them.
pub(crate) fn scan_stats(records: &[RepoFile]) -> ScanStats {
    let mut stats = ScanStats::default();
    for f in records {
        stats.files_seen += 1;
        match (&f.content, &f.skipped) {
            (Some(text), _) => {
                stats.files_read += 1;
                stats.bytes_read += text.len() as u64;
            }
            (None, Some(SkipReason::NotOfInterest)) => {}
            (None, _) => stats.files_skipped += 1,
        }
    }
    stats
}
