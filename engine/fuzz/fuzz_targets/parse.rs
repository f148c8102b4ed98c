//! The lexer and parser never panic or hang, whatever the template text: they return a tree or
//! Go's parse error. Run: `cargo +nightly fuzz run parse` in engine/.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rudder_engine::{funcs, TemplateSet};

/// The function table is built once; each input parses into a cheap clone of an empty set.
fn empty_set() -> TemplateSet {
    static SET: OnceLock<TemplateSet> = OnceLock::new();
    SET.get_or_init(|| TemplateSet::new(funcs::helm())).clone()
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut set = empty_set();
        let _ = set.parse("fuzz", text);
    }
});
