//! The JSON shapes of the MLflow REST API (2.0), as lenient as the servers that
//! speak it: every field optional, unknown fields ignored, numbers that some
//! servers send as strings accepted.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct KeyValue {
    pub key: String,
    #[serde(deserialize_with = "string_or_number")]
    pub value: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Alias {
    pub alias: String,
    #[serde(deserialize_with = "string_or_number")]
    pub version: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegisteredModel {
    pub name: String,
    #[serde(deserialize_with = "opt_i64")]
    pub creation_timestamp: Option<i64>,
    #[serde(deserialize_with = "opt_i64")]
    pub last_updated_timestamp: Option<i64>,
    pub description: Option<String>,
    pub latest_versions: Vec<ModelVersion>,
    pub tags: Vec<KeyValue>,
    pub aliases: Vec<Alias>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchRegisteredModels {
    pub registered_models: Vec<RegisteredModel>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GetRegisteredModel {
    pub registered_model: Option<RegisteredModel>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ModelVersion {
    pub name: String,
    #[serde(deserialize_with = "string_or_number")]
    pub version: String,
    #[serde(deserialize_with = "opt_i64")]
    pub creation_timestamp: Option<i64>,
    #[serde(deserialize_with = "opt_i64")]
    pub last_updated_timestamp: Option<i64>,
    pub current_stage: Option<String>,
    pub description: Option<String>,
    pub source: Option<String>,
    pub run_id: Option<String>,
    pub status: Option<String>,
    pub tags: Vec<KeyValue>,
    /// Alias names (MLflow ≥ 2.3 returns them on each version too).
    pub aliases: Vec<String>,
    /// MLflow 3: the logged model behind the version (`m-…`).
    pub model_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchModelVersions {
    pub model_versions: Vec<ModelVersion>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GetModelVersion {
    pub model_version: Option<ModelVersion>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Metric {
    pub key: String,
    #[serde(deserialize_with = "opt_f64")]
    pub value: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunInfo {
    pub run_id: Option<String>,
    /// Older servers only send `run_uuid`.
    pub run_uuid: Option<String>,
    pub experiment_id: Option<String>,
    pub status: Option<String>,
    pub lifecycle_stage: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunData {
    pub metrics: Vec<Metric>,
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Dataset {
    pub name: Option<String>,
    pub digest: Option<String>,
    pub source_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DatasetInput {
    pub dataset: Option<Dataset>,
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunInputs {
    pub dataset_inputs: Vec<DatasetInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Run {
    pub info: RunInfo,
    pub data: RunData,
    pub inputs: RunInputs,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GetRun {
    pub run: Option<Run>,
}

/// One entry of the `mlflow.log-model.history` run tag (a JSON list in a string).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoggedModelHistoryEntry {
    pub artifact_path: Option<String>,
    pub model_uuid: Option<String>,
    pub signature: Option<serde_json::Value>,
    pub saved_input_example_info: Option<serde_json::Value>,
}

pub fn tag_map(tags: &[KeyValue]) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|t| !t.key.is_empty())
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    })
}

fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_f64(),
        // MLflow encodes NaN/Infinity as strings in JSON.
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_model_version() {
        let v: ModelVersion = serde_json::from_str(
            r#"{"name":"m","version":3,"creation_timestamp":"1700000000000","tags":[{"key":"k","value":1}],"extra":true}"#,
        )
        .unwrap();
        assert_eq!(v.version, "3");
        assert_eq!(v.creation_timestamp, Some(1_700_000_000_000));
        assert_eq!(tag_map(&v.tags).get("k").map(String::as_str), Some("1"));
    }

    #[test]
    fn metric_nan_as_string() {
        let m: Metric = serde_json::from_str(r#"{"key":"loss","value":"NaN"}"#).unwrap();
        assert!(m.value.is_some_and(f64::is_nan));
    }
}
