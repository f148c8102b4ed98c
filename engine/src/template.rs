//! The public face of the template language: a set of named templates sharing one `define`
//! namespace and one function table (Go's `*template.Template` with its associated templates).

type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;
use std::fmt;
use std::sync::Arc;

use crate::exec::{self, Builtin, BuiltinRef, ExecShared};
use crate::funcs::FuncMap;
use crate::parse::node::Callee;
use crate::parse::{self, Tree};
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

/// A set of templates (Go: `template.New(name).Funcs(...).Parse(...)` and friends). Cloning is
/// cheap: trees and the function table are shared.
#[derive(Clone, Debug)]
pub struct TemplateSet {
    name: String,
    funcs: Arc<FuncMap>,
    trees: HashMap<String, Arc<Tree>>,
    missing_key: MissingKey,
    left_delim: String,
    right_delim: String,
}

impl TemplateSet {
    /// A new set with the given function table (Go's built-ins are always present underneath).
    /// Its name (Go: the name given to `template.New`) is that of the first template parsed,
    /// unless set with [`TemplateSet::with_name`].
    pub fn new(funcs: FuncMap) -> Self {
        TemplateSet {
            name: String::new(),
            funcs: Arc::new(funcs),
            trees: HashMap::default(),
            missing_key: MissingKey::Default,
            left_delim: String::new(),
            right_delim: String::new(),
        }
    }

    /// Names the set (Helm names its set `gotpl`; `tpl` parses under this name).
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn set_missing_key(&mut self, mk: MissingKey) {
        self.missing_key = mk;
    }

    pub fn missing_key(&self) -> MissingKey {
        self.missing_key
    }

    /// Go's `Delims`: empty strings mean the defaults `{{` and `}}`.
    pub fn set_delims(&mut self, left: &str, right: &str) {
        self.left_delim = left.to_string();
        self.right_delim = right.to_string();
    }

    pub fn funcs(&self) -> &FuncMap {
        &self.funcs
    }

    /// Parses `text` as template `name` (Go: `t.New(name).Parse(text)`); its `define`s join the
    /// set. Function names are checked now, as Go does.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), Error> {
        self.parse_own(name, text).map(|_| ())
    }

    /// Like [`TemplateSet::parse`], returning the tree parsed for `name` itself (Go: the new
    /// `*Template`'s own tree, which an empty text does not install in the set).
    pub(crate) fn parse_own(&mut self, name: &str, text: &str) -> Result<Arc<Tree>, Error> {
        self.name_if_unnamed(name);
        let resolve = self.resolver();
        parse::parse(name, text, &self.left_delim, &self.right_delim, &resolve, &mut self.trees).map_err(|e| Error { message: e.0 })
    }

    /// Go names a set after the first template parsed into it.
    fn name_if_unnamed(&mut self, name: &str) {
        if self.name.is_empty() {
            self.name = name.to_string();
        }
    }

    /// How the parser resolves function names: against a snapshot of the set's table, so the
    /// parser may run while the set is borrowed mutably (or on other threads).
    fn resolver(&self) -> impl Fn(&str) -> Option<Callee> + Sync {
        let funcs = self.funcs.clone();
        move |f: &str| resolve_func(&funcs, f)
    }

    /// Parses many texts as if by [`TemplateSet::parse`] on each in order, stopping at the first
    /// failure (returned with its index). Parsing needs nothing from the set, so a large batch
    /// (a chart tree's templates) is parsed on a few threads and the trees are then installed
    /// in the given order: the set ends up exactly as sequential parsing would leave it, and the
    /// error reported is that of the first failing text in order.
    pub fn parse_all(&mut self, texts: &[(&str, &str)]) -> Result<(), (usize, Error)> {
        if let Some((name, _)) = texts.first() {
            self.name_if_unnamed(name);
        }
        let resolve = self.resolver();
        let (left, right) = (self.left_delim.as_str(), self.right_delim.as_str());
        let parse_one = |i: usize| {
            let (name, text) = texts[i];
            parse::parse_alone(name, text, left, right, &resolve).map_err(|e| Error { message: e.0 })
        };
        let total: usize = texts.iter().map(|(_, t)| t.len()).sum();
        let threads = crate::par::threads(PARSE_THREADS);
        let threads = if total < PARALLEL_PARSE_MIN { 1 } else { threads };
        let results: Vec<Result<parse::Parsed, Error>> = crate::par::map_indexed(texts.len(), threads, &parse_one);
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(parsed) => {
                    parsed.install(&mut self.trees);
                }
                Err(e) => return Err((i, e)),
            }
        }
        Ok(())
    }

    /// The names of all templates in the set (in no particular order).
    pub fn template_names(&self) -> impl Iterator<Item = &str> {
        self.trees.keys().map(String::as_str)
    }

    pub(crate) fn tree(&self, name: &str) -> Option<&Tree> {
        self.trees.get(name).map(|t| t.as_ref())
    }

    /// Executes template `name` on `data`, appending to `out`. As in Go, output written before an
    /// execution error stays in `out`.
    pub fn execute_to(&self, name: &str, data: &Value, out: &mut String) -> Result<(), Error> {
        let Some(tree) = self.tree(name) else {
            return Err(Error {
                message: format!(
                    "template: no template {} associated with template {}",
                    crate::print::quote(name),
                    crate::print::quote(&self.name)
                ),
            });
        };
        let mut shared = ExecShared::default();
        exec::execute(self, tree, data, out, &mut shared)
    }

    /// Executes template `name` on `data` and returns the output.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, Error> {
        let mut out = String::new();
        self.execute_to(name, data, &mut out)?;
        Ok(out)
    }
}

/// What function name `f` denotes in a set with table `funcs`: the table shadows Go's built-ins.
fn resolve_func(funcs: &FuncMap, f: &str) -> Option<Callee> {
    match funcs.get(f) {
        Some(func) => Some(Callee::Func(func.clone())),
        None => Builtin::lookup(f).map(|b| Callee::Builtin(BuiltinRef(b))),
    }
}

/// At most this many threads parse one batch (the work is a few tens of milliseconds; more
/// threads cost more to start than they save).
const PARSE_THREADS: usize = 4;
/// Below this much template text a batch is parsed on the calling thread.
const PARALLEL_PARSE_MIN: usize = 64 * 1024;
