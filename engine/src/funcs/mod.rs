//! Function tables: Go's built-ins, sprig v3.3.0, Helm's and helmfile's functions.
//!
//! Every function declares its Go signature, because Go's `text/template` converts and checks
//! arguments by the declared parameter types (an untyped constant `3` becomes `int` for an `int`
//! parameter and `float64` for a `float64` one; a `float64` value passed to an `int` parameter is
//! the error "wrong type for value; expected int; got float64"). The executor does that
//! conversion; a function body receives values already of the declared types.

pub mod builtins;
pub mod strings;
pub mod regex;
pub mod encoding;
pub mod paths;
pub mod url;
pub mod util;
pub mod reflect;
pub mod defaults;
pub mod lists;
pub mod dicts;
pub mod duration;
pub mod numeric;
pub mod semver;
pub mod date;
pub mod crypto;
pub mod random;
pub mod network;
pub mod helm;
pub mod helm_yaml;
pub mod sprig_json;
pub mod helmfile;

/// Function names are looked up on every call: a fast non-cryptographic hash.
type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;
use std::fmt;
use std::sync::Arc;

use crate::value::{GoType, Value};

/// An error returned by a function. The executor wraps it as Go does:
/// `error calling NAME: MESSAGE`. Go recovers panics inside functions the same way, so a sprig
/// function that would panic in Go returns the panic's text here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncError(pub String);

impl FuncError {
    pub fn new(msg: impl Into<String>) -> Self {
        FuncError(msg.into())
    }
}

impl fmt::Display for FuncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FuncError {}

pub type FuncResult = Result<Value, FuncError>;

/// What a function may ask of the running template: functions such as Helm's `include` and
/// `tpl` need the template set and the current template's name. The executor implements it.
pub trait CallContext {
    /// Executes the named template of the current set on `data` and returns its output
    /// (Helm's `include`). Errors come back as Go would print them.
    fn execute_template(&mut self, name: &str, data: &Value) -> Result<String, FuncError>;

    /// [`CallContext::execute_template`] as a string value (the executor renders into a reused
    /// buffer and copies the text once).
    fn execute_template_value(&mut self, name: &str, data: &Value) -> Result<Value, FuncError> {
        self.execute_template(name, data).map(Value::string)
    }

    /// Parses `text` under the current template's name in a copy of the current set and executes
    /// it on `data` (Helm's `tpl`).
    fn execute_text(&mut self, text: &str, data: &Value) -> Result<String, FuncError>;

    /// The name of the template set (Go: the `*Template` the functions were bound to).
    fn template_name(&self) -> &str;

    /// Helm's per-name `include` nesting counter for the current top-level execution.
    fn include_count(&mut self, name: &str) -> &mut usize;
}

/// The declared Go signature of a function: `func(params...) T` or `func(params...) (T, error)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    /// Parameter types. If `variadic`, the last one is the slice's element type (`...T`).
    pub params: Vec<GoType>,
    pub variadic: bool,
    /// The result type (`Interface` for `interface{}` results). Go allows functions returning only
    /// a value or a value and an error; `returns_error` says which.
    pub result: GoType,
    pub returns_error: bool,
}

impl Signature {
    pub fn new(params: Vec<GoType>, result: GoType) -> Self {
        Signature { params, variadic: false, result, returns_error: false }
    }

    pub fn variadic(mut self) -> Self {
        self.variadic = true;
        self
    }

    pub fn with_error(mut self) -> Self {
        self.returns_error = true;
        self
    }
}

pub type FuncImpl = dyn Fn(&mut dyn CallContext, &[Value]) -> FuncResult + Send + Sync;

/// A callable function with its Go signature.
#[derive(Clone)]
pub struct Func {
    pub sig: Arc<Signature>,
    pub imp: Arc<FuncImpl>,
}

impl Func {
    pub fn new(
        sig: Signature,
        imp: impl Fn(&mut dyn CallContext, &[Value]) -> FuncResult + Send + Sync + 'static,
    ) -> Self {
        Func { sig: Arc::new(sig), imp: Arc::new(imp) }
    }

    /// A function that does not need the call context.
    pub fn pure(
        sig: Signature,
        imp: impl Fn(&[Value]) -> FuncResult + Send + Sync + 'static,
    ) -> Self {
        Func::new(sig, move |_, args| imp(args))
    }
}

impl fmt::Debug for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Func{:?}", self.sig)
    }
}

/// Go's `template.FuncMap`: names to functions. Later insertions shadow earlier ones, so a
/// table is built as sprig, then Helm's overrides, then user functions.
#[derive(Clone, Debug, Default)]
pub struct FuncMap {
    funcs: HashMap<String, Func>,
}

impl FuncMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, f: Func) {
        self.funcs.insert(name.into(), f);
    }

    pub fn get(&self, name: &str) -> Option<&Func> {
        self.funcs.get(name)
    }

    pub fn remove(&mut self, name: &str) -> Option<Func> {
        self.funcs.remove(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    pub fn extend(&mut self, other: FuncMap) {
        self.funcs.extend(other.funcs);
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.funcs.keys().map(String::as_str)
    }
}

/// Go's own built-in functions (`and`, `or`, `not`, `len`, `index`, `slice`, `print`, `printf`,
/// `println`, `html`, `js`, `urlquery`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `call`). The executor
/// implements `and`/`or` itself to short-circuit; they are still listed so that names resolve.
pub fn builtins() -> FuncMap {
    let mut m = FuncMap::new();
    builtins::register(&mut m);
    m
}

/// All of sprig v3.3.0's `TxtFuncMap` (including `env` and `expandenv`).
pub fn sprig() -> FuncMap {
    let mut m = FuncMap::new();
    strings::register(&mut m);
    regex::register(&mut m);
    encoding::register(&mut m);
    paths::register(&mut m);
    url::register(&mut m);
    reflect::register(&mut m);
    defaults::register(&mut m);
    lists::register(&mut m);
    dicts::register(&mut m);
    numeric::register(&mut m);
    semver::register(&mut m);
    date::register(&mut m);
    crypto::register(&mut m);
    random::register(&mut m);
    network::register(&mut m);
    sprig_json::register(&mut m);
    m
}

/// The table Helm gives chart templates: sprig without `env`/`expandenv`, plus Helm's own
/// functions (`include`, `tpl`, `required`, `fail`, `toYaml`, ...). Chart-bound ones (`lookup`,
/// `.Files`) come from the chart layer.
pub fn helm() -> FuncMap {
    let mut m = sprig();
    m.remove("env");
    m.remove("expandenv");
    helm_yaml::register(&mut m);
    helm::register(&mut m);
    duration::register(&mut m);
    network::register_helm(&mut m);
    m
}

/// helmfile's table for `.gotmpl` files: sprig plus helmfile's functions.
pub fn helmfile() -> FuncMap {
    let mut m = sprig();
    helmfile::register(&mut m);
    m
}
