//! Values files (Helm: `loader.LoadValues`, `loader.MergeMaps`).

use std::sync::Arc;

use rudder_engine::{Map, Value};

use super::coalesce::table;

/// Helm 4's `LoadValues`: every YAML document of `data` (split on `---` lines as
/// k8s.io/apimachinery's YAMLReader does) decoded into a map and deep-merged in order. An empty
/// file gives `{}`. The error is Helm's text (`error reading yaml document: ...`,
/// `cannot unmarshal yaml document: ...`).
pub fn load_values(data: &[u8]) -> Result<Value, String> {
    rudder_engine::yaml::load_values(&String::from_utf8_lossy(data))
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

/// k8s.io/apimachinery's `YAMLReader.Read` loop: a line starting with `---` ends a document (only
/// spaces or a comment may follow it); empty documents are skipped.
pub(crate) fn split_documents(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut data = data.to_vec();
    if data.last().is_some_and(|&b| b != b'\n') {
        data.push(b'\n');
    }
    let mut docs = Vec::new();
    let mut buffer: Vec<u8> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"---") {
            let trimmed = String::from_utf8_lossy(rest);
            let trimmed = trimmed.trim();
            if !trimmed.is_empty() && !trimmed.starts_with('#') {
                return Err(format!("error reading yaml document: invalid Yaml document separator: {trimmed}"));
            }
            if !buffer.is_empty() {
                docs.push(std::mem::take(&mut buffer));
            }
            continue;
        }
        buffer.extend_from_slice(line);
    }
    if !buffer.is_empty() {
        docs.push(buffer);
    }
    Ok(docs)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_like_yamlreader() {
        let docs = split_documents(b"a: 1\n---\n---  # c\nb: 2\n--- \nc: 3").unwrap();
        assert_eq!(docs, vec![b"a: 1\n".to_vec(), b"b: 2\n".to_vec(), b"c: 3\n".to_vec()]);
        assert!(split_documents(b"a: 1\n--- x\n").is_err());
    }
}
