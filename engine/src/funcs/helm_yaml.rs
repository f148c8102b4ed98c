//! Helm's YAML template functions (pkg/engine/funcs.go): `toYaml`, `mustToYaml`,
//! `toYamlPretty`, `fromYaml`, `fromYamlArray`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::util::*;
use super::FuncMap;
use crate::value::{GoType, List, Str, Value};
use crate::yaml;

/// Adds the YAML functions to `map`.
pub fn register(m: &mut FuncMap) {
    // toYAML: errors are swallowed; the single trailing newline is trimmed.
    add(m, "toYaml", vec![any()], str_t(), |a| {
        Ok(Value::string(yaml::to_yaml(&a[0]).map(|s| trim_nl(&s)).unwrap_or_default()))
    });
    // mustToYAML: panics with the error (template error "error calling mustToYaml: ...").
    add(m, "mustToYaml", vec![any()], str_t(), |a| match yaml::to_yaml(&a[0]) {
        Ok(s) => Ok(Value::string(trim_nl(&s))),
        Err(e) => err(e),
    });
    add(m, "toYamlPretty", vec![any()], str_t(), |a| {
        Ok(Value::string(yaml::to_yaml_pretty(&a[0]).map(|s| trim_nl(&s)).unwrap_or_default()))
    });
    add(m, "fromYaml", vec![str_t()], map_t(), |a| Ok(from_yaml_map(arg_str(&a[0]))));
    add(m, "fromYamlArray", vec![str_t()], list_t(), |a| Ok(from_yaml_array(arg_str(&a[0]))));
}

fn trim_nl(s: &str) -> String {
    s.strip_suffix('\n').unwrap_or(s).to_string()
}

fn decode_error(v: &Value, target: &str) -> String {
    format!(
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type {target}",
        yaml::json_kind(v)
    )
}

/// Helm `fromYAML`: a `map[string]interface {}`; on error `{"Error": msg}`.
pub fn from_yaml_map(s: &str) -> Value {
    let err_map = |msg: String| {
        let mut m = BTreeMap::new();
        m.insert(Str::from("Error"), Value::string(msg));
        Value::map(m)
    };
    match yaml::from_yaml(s) {
        Ok(v @ Value::Map(_)) => v,
        Ok(Value::Nil) => Value::empty_map(),
        Ok(other) => err_map(decode_error(&other, "map[string]interface {}")),
        Err(e) => err_map(e),
    }
}

/// Helm `fromYAMLArray`: a `[]interface {}`; on error `[msg]`.
pub fn from_yaml_array(s: &str) -> Value {
    let list = |items: Vec<Value>| Value::List(Arc::new(List { elem: GoType::Interface, items }));
    match yaml::from_yaml(s) {
        Ok(v @ Value::List(_)) => v,
        Ok(Value::Nil) => list(Vec::new()),
        Ok(other) => list(vec![Value::string(decode_error(&other, "[]interface {}"))]),
        Err(e) => list(vec![Value::string(e)]),
    }
}
