//! TOML as Helm's `toToml`/`fromToml` see it (BurntSushi/toml). Placeholder until written.

use crate::value::Value;

/// BurntSushi `toml.NewEncoder(w).Encode(v)`.
pub fn to_toml(v: &Value) -> Result<String, String> {
    let _ = v;
    Err("toToml: not implemented yet".into())
}

/// BurntSushi `toml.Unmarshal` into `map[string]interface{}`.
pub fn from_toml(text: &str) -> Result<Value, String> {
    let _ = text;
    Err("fromToml: not implemented yet".into())
}
