//! The lexer and parser never panic or hang, whatever the template text: they return a tree or
//! Go's parse error. Run: `cargo +nightly fuzz run parse` in engine/.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rudder_engine::{funcs, TemplateSet};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut set = TemplateSet::new(funcs::helm());
        let _ = set.parse("fuzz", text);
    }
});
