//! Go's `encoding/json` for template values. Placeholder bodies until the JSON work lands.

use crate::value::Value;

/// `json.Marshal(v)`: sorted keys, `<`, `>`, `&` escaped as `\u003c` etc., Go's float format.
pub fn to_json(v: &Value) -> Result<String, String> {
    let _ = v;
    Err("toJson: not implemented yet".into())
}

/// `json.MarshalIndent(v, prefix, indent)`.
pub fn to_json_indent(v: &Value, prefix: &str, indent: &str) -> Result<String, String> {
    let _ = (v, prefix, indent);
    Err("toPrettyJson: not implemented yet".into())
}

/// `json.Unmarshal` into `interface{}` (numbers `float64`). Errors carry Go's message.
pub fn from_json(text: &str) -> Result<Value, String> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|v| Value::from_json(&v))
        .map_err(|e| e.to_string())
}
