//! The YAML reader never panics, hangs or blows the stack (deep nesting, alias bombs): it returns
//! values or go-yaml's error text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(v) = rudder_engine::yaml::from_yaml(text) {
            // Whatever was read can be written back.
            let _ = rudder_engine::yaml::to_yaml(&v);
        }
    }
});
