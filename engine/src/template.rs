//! The public face of the template language: a set of named templates sharing one `define`
//! namespace and one function table (Go's `*template.Template` with its associated templates).
//! Placeholder until the lexer, parser and executor land; the signatures are the seam.

use std::fmt;

use crate::funcs::FuncMap;
use crate::value::Value;

/// Go's `missingkey` option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingKey {
    /// `missingkey=default` / `invalid`: a missing key yields `<no value>`.
    #[default]
    Default,
    /// `missingkey=zero`: the zero value of the map's element type.
    Zero,
    /// `missingkey=error`: execution stops with `map has no entry for key "x"`.
    Error,
}

/// A parse or execution error. `Display` is Go's exact text, e.g.
/// `template: t:1:3: executing "t" at <.x.y>: nil pointer evaluating interface {}.y`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// A set of templates (Go: `template.New(name).Funcs(...).Parse(...)` and friends).
#[derive(Clone, Debug)]
pub struct TemplateSet {
    funcs: FuncMap,
    missing_key: MissingKey,
}

impl TemplateSet {
    /// A new set with the given function table (Go's built-ins are always present underneath).
    pub fn new(funcs: FuncMap) -> Self {
        TemplateSet { funcs, missing_key: MissingKey::Default }
    }

    pub fn set_missing_key(&mut self, mk: MissingKey) {
        self.missing_key = mk;
    }

    /// Parses `text` as template `name` (Go: `t.New(name).Parse(text)`); its `define`s join the set.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let _ = (name, text, &self.funcs);
        Err(Error { message: "template engine not implemented yet".into() })
    }

    /// Executes template `name` on `data`, appending to `out`. As in Go, output written before an
    /// execution error stays in `out`.
    pub fn execute_to(&self, name: &str, data: &Value, out: &mut String) -> Result<(), Error> {
        let _ = (name, data, out, self.missing_key);
        Err(Error { message: "template engine not implemented yet".into() })
    }

    /// Executes template `name` on `data` and returns the output.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, Error> {
        let mut out = String::new();
        self.execute_to(name, data, &mut out)?;
        Ok(out)
    }
}
