//! Helm's `output.EncodeJSON` (encoding/json, HTML-safe escaping, one trailing newline) and
//! `output.EncodeYAML` (`sigs.k8s.io/yaml.Marshal`: the JSON read back by go-yaml v2, which
//! sorts map keys, then emitted) for the structs the commands print.

use std::collections::BTreeMap;

use rudder_engine::value::{IntKind, Str, UintKind, Value};
use rudder_engine::yaml::Native;

use super::InspectError;

/// JSON text of a serde value with Go's escaping of `<`, `>`, `&`, U+2028 and U+2029.
/// (Those characters can only occur inside JSON strings, so replacing them in the whole text
/// is exact.) Field order is the struct's declaration order, as Go's.
pub fn go_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, InspectError> {
    let text = serde_json::to_string(v).map_err(|e| InspectError::new(format!("unable to write JSON output: {e}")))?;
    Ok(go_escape(&text))
}

/// Go's HTML-safe escaping over already-encoded JSON text.
pub fn go_escape(text: &str) -> String {
    if !text.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `EncodeJSON`: the JSON and a newline.
pub fn encode_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, InspectError> {
    let mut s = go_json(v)?;
    s.push('\n');
    Ok(s)
}

/// `EncodeYAML` of a value whose Go JSON text is `json`.
pub fn json_text_to_yaml(json: &str) -> Result<String, InspectError> {
    let native = rudder_engine::yaml::from_yaml_native(json)
        .map_err(|e| InspectError::new(format!("unable to write YAML output: {e}")))?;
    rudder_engine::yaml::to_yaml(&native_to_value(&native))
        .map_err(|e| InspectError::new(format!("unable to write YAML output: {e}")))
}

/// `EncodeYAML` of a serde value (through its Go JSON text).
pub fn encode_yaml<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, InspectError> {
    json_text_to_yaml(&go_json(v)?)
}

/// `EncodeYAML` of a template value (Helm's `map[string]interface{}` values).
pub fn value_yaml(v: &Value) -> Result<String, InspectError> {
    rudder_engine::yaml::to_yaml(v).map_err(|e| InspectError::new(format!("unable to write YAML output: {e}")))
}

/// `EncodeJSON` of a template value.
pub fn value_json(v: &Value) -> Result<String, InspectError> {
    let mut s = rudder_engine::json::to_json(v).map_err(|e| InspectError::new(format!("unable to write JSON output: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// go-yaml's decoded JSON as a template value with the same types (ints stay ints).
fn native_to_value(n: &Native) -> Value {
    match n {
        Native::Nil => Value::Nil,
        Native::Bool(b) => Value::Bool(*b),
        Native::Int(i) => Value::Int(*i, IntKind::Int),
        Native::Uint(u) => Value::Uint(*u, UintKind::Uint64),
        Native::Float(f) => Value::float(*f),
        Native::Str(s) => Value::string(s.as_str()),
        Native::Seq(items) => Value::list(items.iter().map(native_to_value).collect()),
        Native::Map(entries) => {
            let mut m: BTreeMap<Str, Value> = BTreeMap::new();
            for (k, v) in entries {
                let key = match k {
                    Native::Str(s) => s.clone(),
                    other => rudder_engine::yaml::scalar_for_string_field(other).unwrap_or_default(),
                };
                m.insert(Str::from(key.as_str()), native_to_value(v));
            }
            Value::map(m)
        }
    }
}

/// A record's `config` (or any stored JSON) as Go's `json.Unmarshal` into `interface{}` gives
/// it: numbers `float64`.
pub fn json_value(v: &serde_json::Value) -> Value {
    Value::from_json(v)
}
