//! The JSON report: the serialised [`Report`], schema `mlops-maturity/report/v1`
//! (documented field by field in `docs/report-schema.md`).

use super::Report;

pub fn render(report: &Report) -> String {
    // Serialising plain data with string keys cannot fail; keep a valid JSON error object anyway.
    serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        serde_json::json!({ "schema": super::SCHEMA, "error": e.to_string() }).to_string()
    }) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn json_snapshot() {
        let mut r = fixture::report();
        r.tool.version = "0.0.0-test";
        let out = render(&r);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["schema"], "mlops-maturity/report/v1");
        assert_eq!(v["table_version"], "2026.11.2");
        let subs: usize = v["projects"][0]["sub_domains"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["items"].as_array().unwrap())
            .map(|i| i["sub_items"].as_array().unwrap().len())
            .sum();
        assert_eq!(subs, 32);
        insta::assert_snapshot!(out);
    }
}
