//! YAML as Helm reads and writes it.
//!
//! - Reading follows `sigs.k8s.io/yaml` v1.6.0: go-yaml v2 (go.yaml.in/yaml/v2 v2.4.x) parses
//!   with YAML 1.1 scalar rules, then a JSON round-trip makes every number a `float64` and
//!   every map key a string ([`from_yaml`]). [`from_yaml_native`] stops before the JSON step.
//! - [`to_yaml`] is `sigs.k8s.io/yaml.Marshal`: `encoding/json` first, the JSON read back by
//!   go-yaml v2, then go-yaml v2's emitter.
//! - [`to_yaml_pretty`] is go-yaml v3's encoder with indent 2 (Helm's `toYamlPretty`).
//! - Multi-document streams: [`split_documents`] is k8s.io/apimachinery's `YAMLReader` (what
//!   Helm 4's `loader.LoadValues` uses), [`load_values`] is `LoadValues` itself.

mod decode;
mod emitter;
mod encode;
mod parser;
mod resolve;
mod scanner;

pub use decode::Native;

use crate::value::Value;

/// `sigs.k8s.io/yaml.Marshal(v)`, with its trailing newline. Errors carry Go's message.
/// Helm's `toYaml` trims that newline (and turns an error into `""`).
pub fn to_yaml(v: &Value) -> Result<String, String> {
    encode::marshal_v2(v)
}

/// go-yaml v3 encoder, indent 2, with its trailing newline.
/// go-yaml v3 has no JSON step: a `float64` 1e6 prints `1e+06`, strings that v3 would read
/// as another type (or that YAML 1.1 would: `yes`, `on`, base-60 numbers) are double-quoted,
/// and block sequences are indented under their key.
pub fn to_yaml_pretty(v: &Value) -> Result<String, String> {
    encode::marshal_v3(v, 2)
}

/// `sigs.k8s.io/yaml.Unmarshal` of one document (the first) into `interface{}`: `Value::Nil`
/// for an empty document, maps `map[string]interface {}`, lists `[]interface {}`, numbers
/// `float64`. Errors are Go's text, e.g.
/// `error converting YAML to JSON: yaml: line 3: mapping values are not allowed in this context`.
pub fn from_yaml(text: &str) -> Result<Value, String> {
    decode::unmarshal_json_compat(text)
}

/// [`from_yaml`] of a document restricted to some of its top-level keys, built without the
/// rest; `None` when the full [`from_yaml`] is needed to know (see
/// [`decode::top_level_json_compat`]).
pub fn from_yaml_top_level(text: &str, keys: &[&str]) -> Option<Value> {
    decode::top_level_json_compat(text, keys)
}

/// go-yaml v2 `yaml.Unmarshal(text, &iface)` without the JSON step: Go's native types (`int`,
/// `uint64`, `float64`, `map[interface{}]interface{}`). Errors are go-yaml's (`yaml: ...`).
pub fn from_yaml_native(text: &str) -> Result<Native, String> {
    decode::unmarshal_native(text)
}

/// As [`from_yaml_native`], but plain `y`/`yes`/`on`/`off`/... stay strings, as go-yaml v3 (which
/// helmfile v1 reads its state files with) resolves them.
pub fn from_yaml_native_v3_bools(text: &str) -> Result<Native, String> {
    decode::unmarshal_native_with(text, true)
}

/// sigs.k8s.io/yaml's conversion of a scalar decoded for a Go `string` field (for example
/// Chart.yaml's `version: 1.0` read into `Metadata.Version`): ints and uint64s in decimal,
/// floats with `strconv.FormatFloat(f, 'g', -1, 32)`, bools as `true`/`false`. `None` for
/// other values (they are decoded as they are, and `encoding/json` then reports its error).
pub fn scalar_for_string_field(n: &Native) -> Option<String> {
    match n {
        Native::Int(i) => Some(i.to_string()),
        Native::Uint(u) => Some(u.to_string()),
        Native::Float(f) => Some(crate::print::float::format_v(*f, true)),
        Native::Bool(b) => Some(if *b { "true" } else { "false" }.to_string()),
        Native::Str(s) => Some(s.clone()),
        _ => None,
    }
}

/// What go-yaml v2 makes of an untagged plain scalar when decoding into `interface{}`, reduced
/// to what a typed reader (such as the repository index reader) needs to know to decode the
/// text itself or leave the document to [`from_yaml`]: strings (timestamps stay strings),
/// nulls, bools, and everything else (numbers, `.inf`, the merge key `<<`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlainKind {
    Str,
    Null,
    Bool(bool),
    Other,
}

/// [`PlainKind`] of the plain scalar `text` (already folded, as the scanner would give it).
pub fn plain_kind(text: &str) -> PlainKind {
    match resolve::resolve("", text) {
        Ok(resolve::Resolved::Str(_)) | Ok(resolve::Resolved::Timestamp) => PlainKind::Str,
        Ok(resolve::Resolved::Null) => PlainKind::Null,
        Ok(resolve::Resolved::Bool(b)) => PlainKind::Bool(b),
        _ => PlainKind::Other,
    }
}

/// k8s.io/apimachinery `yaml.NewYAMLReader(bufio.NewReader(r))` read to the end: the documents
/// of a stream, split at lines that start with `---` followed only by spaces or a comment.
/// Lines are re-terminated with `\n` (so `\r\n` becomes `\n`); empty documents between
/// separators are skipped. A separator followed by other text is the error
/// `invalid Yaml document separator: TEXT`.
pub fn split_documents(text: &str) -> Result<Vec<String>, String> {
    let mut docs = Vec::new();
    let mut buf = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, next) = match rest.find('\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        rest = next;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(after) = line.strip_prefix("---") {
            let trimmed = after.trim_matches(|c: char| crate::funcs::strings::go_space(c));
            if !trimmed.is_empty() && !trimmed.starts_with('#') {
                return Err(format!("invalid Yaml document separator: {trimmed}"));
            }
            if !buf.is_empty() {
                docs.push(std::mem::take(&mut buf));
            }
            continue;
        }
        buf.push_str(line);
        buf.push('\n');
    }
    if !buf.is_empty() {
        docs.push(buf);
    }
    Ok(docs)
}

/// Each document of a stream ([`split_documents`]) read with [`from_yaml`].
pub fn from_yaml_documents(text: &str) -> Result<Vec<Value>, String> {
    split_documents(text)?.iter().map(|d| from_yaml(d)).collect()
}

/// Helm 4 `loader.LoadValues`: every document of the stream read into a map and deep-merged
/// in order (maps merge, anything else replaces). Errors as Helm words them:
/// `error reading yaml document: ...`, `cannot unmarshal yaml document: ...`.
pub fn load_values(text: &str) -> Result<Value, String> {
    let docs = split_documents(text).map_err(|e| format!("error reading yaml document: {e}"))?;
    let mut values = Value::empty_map();
    for d in docs {
        let v = from_yaml(&d).map_err(|e| format!("cannot unmarshal yaml document: {e}"))?;
        let current = match v {
            Value::Map(_) => v,
            Value::Nil => Value::empty_map(),
            other => {
                return Err(format!(
                    "cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&other)
                ))
            }
        };
        values = merge_maps(&values, &current);
    }
    Ok(values)
}

/// The JSON kind name `encoding/json` uses in "cannot unmarshal KIND into Go value of type T".
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Map(_) => "object",
        Value::List(_) => "array",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Nil | Value::Missing => "null",
        _ => "number",
    }
}

/// Helm's `loader.MergeMaps(a, b)`: a new map; `b` wins, maps merge recursively.
pub fn merge_maps(a: &Value, b: &Value) -> Value {
    let (Value::Map(am), Value::Map(bm)) = (a, b) else { return b.clone() };
    let mut out = am.read().clone();
    for (k, v) in bm.read().iter() {
        if let Value::Map(_) = v {
            if let Some(existing @ Value::Map(_)) = out.get(k) {
                let merged = merge_maps(existing, v);
                out.insert(k.clone(), merged);
                continue;
            }
        }
        out.insert(k.clone(), v.clone());
    }
    Value::map(out)
}

#[cfg(test)]
mod tests;
