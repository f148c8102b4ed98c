//! YAML as Helm reads and writes it. Placeholder bodies until the YAML work lands; the
//! signatures are the seam.
//!
//! - Reading follows `sigs.k8s.io/yaml` (go-yaml v2 parsing, YAML 1.1 scalars, then a JSON
//!   round-trip: every number `float64`, every key a string).
//! - `to_yaml` is `sigs.k8s.io/yaml.Marshal` (JSON first, then go-yaml v2's emitter).
//! - `to_yaml_pretty` is go-yaml v3's encoder with indent 2 (Helm's `toYamlPretty`).

use crate::value::Value;

/// `sigs.k8s.io/yaml.Marshal(v)`, with its trailing newline. Errors carry Go's message.
pub fn to_yaml(v: &Value) -> Result<String, String> {
    let _ = v;
    Err("toYaml: not implemented yet".into())
}

/// go-yaml v3 encoder, indent 2, with its trailing newline.
pub fn to_yaml_pretty(v: &Value) -> Result<String, String> {
    let _ = v;
    Err("toYamlPretty: not implemented yet".into())
}

/// `sigs.k8s.io/yaml.Unmarshal` of one document into `interface{}`.
pub fn from_yaml(text: &str) -> Result<Value, String> {
    let _ = text;
    Err("fromYaml: not implemented yet".into())
}
