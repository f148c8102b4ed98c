//! Parsing and executing arbitrary templates on fixed data never panics: every failure is Go's
//! error text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rudder_engine::{funcs, TemplateSet, Value};

const DATA: &str =
    r#"{"a": 1, "s": "text", "l": [1, "x", null, {"k": true}], "m": {"b": 2.5, "n": null}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Functions that reach outside the process are not fuzzed.
    if ["env", "exec", "readFile", "getHostByName", "now"].iter().any(|f| text.contains(f)) {
        return;
    }
    static SET: std::sync::OnceLock<TemplateSet> = std::sync::OnceLock::new();
    let mut set = SET.get_or_init(|| TemplateSet::new(funcs::helm())).clone();
    if set.parse("fuzz", text).is_err() {
        return;
    }
    let json: serde_json::Value = serde_json::from_str(DATA).unwrap_or(serde_json::Value::Null);
    let mut out = String::new();
    let _ = set.execute_to("fuzz", &Value::from_json(&json), &mut out);
});
