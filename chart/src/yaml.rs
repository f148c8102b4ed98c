//! The YAML reader the chart layer uses (sigs.k8s.io/yaml semantics, from the engine).

use rudder_engine::Value;

/// One YAML document into a Go value (numbers float64, keys strings).
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    match rudder_engine::yaml::from_yaml(text) {
        Err(e) if e.contains("not implemented yet") => {
            // Until the engine's YAML reader lands: JSON is YAML.
            rudder_engine::json::from_json(text).map_err(|e| format!("error converting YAML to JSON: {e}"))
        }
        r => r,
    }
}
