//! Values files (Helm: `loader.LoadValues`, `loader.MergeMaps`).

use std::sync::Arc;

use rudder_engine::{Map, Value};

use super::coalesce::table;

/// Helm 4's `LoadValues`: every YAML document of `data` (split on `---` lines as
/// k8s.io/apimachinery's YAMLReader does) decoded into a map and deep-merged in order. An empty
/// file gives `{}`. The error is Helm's text (`error reading yaml document: ...`,
/// `cannot unmarshal yaml document: ...`).
pub fn load_values(data: &[u8]) -> Result<Value, String> {
    rudder_engine::yaml::load_values(&crate::model::text_of(data))
}

/// encoding/json's name for the JSON kind of a decoded value (`UnmarshalTypeError.Value`).
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Map(_) => "object",
        Value::List(_) => "array",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Int(..) | Value::Uint(..) | Value::Float(..) => "number",
        _ => "null",
    }
}

/// Helm's `MergeMaps(a, b)`: a new map, `b` over `a`, maps merged recursively, anything else
/// replaced.
pub fn merge_maps(a: &Value, b: &Value) -> Value {
    let out = match table(a) {
        Some(m) => m.shallow_copy(),
        None => Map::new(rudder_engine::GoType::Interface, Default::default()),
    };
    if let Some(bm) = table(b) {
        let entries: Vec<_> = bm.read().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (k, v) in entries {
            if is_map(&v) {
                if let Some(bv) = out.get(&k) {
                    if is_map(&bv) {
                        let merged = merge_maps(&bv, &v);
                        out.write().insert(k, merged);
                        continue;
                    }
                }
            }
            out.write().insert(k, v);
        }
    }
    Value::Map(Arc::new(out))
}

fn is_map(v: &Value) -> bool {
    table(v).is_some()
}
