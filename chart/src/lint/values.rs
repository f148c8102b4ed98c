//! values.yaml rules (Helm: pkg/chart/v2/lint/rules/values.go).

use rudder_engine::Value;

use super::{Linter, Severity};
use crate::values::options::go_errno_text;

/// `rules.ValuesWithOverrides`: values.yaml exists (INFO), parses, and — with the overrides
/// coalesced over it as `CoalesceTables` does (nulls kept) — validates against the top-level
/// values.schema.json only.
pub fn values_with_overrides(linter: &mut Linter, overrides: &Value, skip_schema: bool) {
    let file = "values.yaml";
    let path = linter.chart_dir.join(file);
    let exists = std::fs::metadata(&path).is_ok();
    if !linter.rule(Severity::Info, file, if exists { Ok(()) } else { Err("file does not exist".into()) }) {
        return;
    }
    let res = validate_values_file(&path, overrides, skip_schema);
    linter.rule(Severity::Error, file, res);
}

/// `common.ReadValues`: the first YAML document as a map (`{}` when empty).
pub fn read_values(data: &[u8]) -> Result<Value, String> {
    let v = rudder_engine::yaml::from_yaml(&String::from_utf8_lossy(data))?;
    match v {
        Value::Map(_) => Ok(v),
        Value::Nil => Ok(Value::empty_map()),
        other => Err(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type common.Values",
            rudder_engine::yaml::json_kind(&other)
        )),
    }
}

fn validate_values_file(path: &std::path::Path, overrides: &Value, skip_schema: bool) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| format!("unable to parse YAML: read {}: {}", path.display(), go_errno_text(&e)))?;
    let values = read_values(&data).map_err(|e| format!("unable to parse YAML: {e}"))?;
    let mut w = crate::values::Warnings::default();
    let base = crate::values::coalesce_tables(&Value::empty_map(), &crate::values::deep_copy(overrides), &mut w);
    let coalesced = crate::values::coalesce_tables(&base, &values, &mut w);
    let schema_path = path.with_file_name("values.schema.json");
    let schema = std::fs::read(&schema_path).unwrap_or_default();
    if schema.is_empty() || skip_schema {
        return Ok(());
    }
    crate::values::schema::validate_single(&coalesced, &schema).map(|_| ())
}
