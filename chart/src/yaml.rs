//! The YAML reader the chart layer uses (sigs.k8s.io/yaml semantics, from the engine).

use rudder_engine::Value;

/// One YAML document into a Go value (numbers float64, keys strings).
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    rudder_engine::yaml::from_yaml(text)
}
