//! Rudder's template engine: Go's `text/template` language with sprig v3, Helm's and helmfile's
//! functions, and Go-compatible printing, YAML, JSON and TOML.
//!
//! It knows nothing about charts: a template set, data values and a pluggable function table.

pub mod exec;
pub mod funcs;
pub mod json;
pub mod lex;
pub mod par;
pub mod parse;
pub mod print;
pub mod semver;
pub mod speculate;
pub mod template;
pub mod toml;
pub mod value;
pub mod yaml;

pub use funcs::{CallContext, Func, FuncError, FuncMap, FuncResult, Signature};
pub use template::{Error, MissingKey, TemplateSet};
pub use value::{FloatKind, GoType, IntKind, List, Map, Member, NamedMapType, Object, Str, UintKind, Value};
