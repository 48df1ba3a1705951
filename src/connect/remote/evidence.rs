//! Small pieces both connectors' evidence fetching uses.

use serde_json::Value;

use crate::evidence::ApiRecord;

/// What a fetch of one evidence kind came to.
pub(crate) enum Got {
    Json(Value, Option<String>),
    /// Not visible, with the reason (already reported as a diagnostic).
    Off(String),
}

/// An API record of one item of an endpoint's answer.
pub(crate) fn record(endpoint: &str, what: String, url: Option<String>) -> ApiRecord {
    ApiRecord {
        endpoint: endpoint.to_string(),
        record: Some(what),
        url,
    }
}

/// Strip the query from a path for display.
pub(crate) fn endpoint_of(path: &str) -> String {
    format!("GET {}", path.split('?').next().unwrap_or(path))
}

/// A string field of an API answer by JSON pointer.
pub(crate) fn str_of(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}
