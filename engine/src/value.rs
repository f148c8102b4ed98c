//! The dynamic value model: Go's values as Helm's templates see them.
//!
//! Go's `text/template` works on `reflect.Value`s, and Helm's data is `map[string]interface{}` whose
//! numbers are all `float64` after the JSON round-trip. Printing (`%v`, `%T`), comparison (`eq`,
//! `lt`), truthiness and function argument conversion all depend on the exact Go type, so every
//! value carries it: `Int(3, IntKind::Int64)` is Go's `int64(3)` and prints `3` with `%T` `int64`.
//!
//! Values are cheap to clone: strings, lists, maps and objects sit behind `Arc` so that a chart's
//! values can be shared by templates rendered on several threads.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A Go string (immutable, shared).
pub type Str = Arc<str>;

/// Go's signed integer types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntKind {
    Int,
    Int8,
    Int16,
    Int32,
    Int64,
}

/// Go's unsigned integer types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UintKind {
    Uint,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Uintptr,
}

/// Go's floating-point types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatKind {
    Float32,
    Float64,
}

/// A Go type, as far as templates can observe it: `%T`, sprig's `typeOf`/`kindOf`, the element type
/// of a slice or map, and the declared parameter types of functions (which drive Go's argument
/// conversion rules and its "wrong type for value" errors).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GoType {
    /// `interface {}` (also spelled `any`).
    Interface,
    Bool,
    Int(IntKind),
    Uint(UintKind),
    Float(FloatKind),
    String,
    /// `[]T`; `[]uint8` is Go's `[]byte`.
    Slice(Box<GoType>),
    /// `map[K]V`.
    Map(Box<GoType>, Box<GoType>),
    /// `error` (the interface type).
    Error,
    /// Any other named type, spelled as `%T` prints it: `*semver.Version`, `time.Time`,
    /// `chartutil.Capabilities`, `sprig.certificate`.
    Named(Str),
}

impl GoType {
    pub const INT: GoType = GoType::Int(IntKind::Int);
    pub const INT64: GoType = GoType::Int(IntKind::Int64);
    pub const FLOAT64: GoType = GoType::Float(FloatKind::Float64);

    pub fn slice_of(elem: GoType) -> GoType {
        GoType::Slice(Box::new(elem))
    }

    pub fn map_of(key: GoType, elem: GoType) -> GoType {
        GoType::Map(Box::new(key), Box::new(elem))
    }

    /// `[]interface {}`
    pub fn any_slice() -> GoType {
        GoType::slice_of(GoType::Interface)
    }

    /// `map[string]interface {}`
    pub fn any_map() -> GoType {
        GoType::map_of(GoType::String, GoType::Interface)
    }
}

impl fmt::Display for GoType {
    /// Go's `reflect.Type.String()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoType::Interface => f.write_str("interface {}"),
            GoType::Bool => f.write_str("bool"),
            GoType::Int(k) => f.write_str(match k {
                IntKind::Int => "int",
                IntKind::Int8 => "int8",
                IntKind::Int16 => "int16",
                IntKind::Int32 => "int32",
                IntKind::Int64 => "int64",
            }),
            GoType::Uint(k) => f.write_str(match k {
                UintKind::Uint => "uint",
                UintKind::Uint8 => "uint8",
                UintKind::Uint16 => "uint16",
                UintKind::Uint32 => "uint32",
                UintKind::Uint64 => "uint64",
                UintKind::Uintptr => "uintptr",
            }),
            GoType::Float(FloatKind::Float32) => f.write_str("float32"),
            GoType::Float(FloatKind::Float64) => f.write_str("float64"),
            GoType::String => f.write_str("string"),
            GoType::Slice(e) => write!(f, "[]{e}"),
            GoType::Map(k, v) => write!(f, "map[{k}]{v}"),
            GoType::Error => f.write_str("error"),
            GoType::Named(n) => f.write_str(n),
        }
    }
}

/// A Go slice: its element type and its items. Items of a `[]string` are all `Value::String`, and
/// so on; items of a `[]interface {}` can be anything, including `Value::Nil`.
#[derive(Clone, Debug, PartialEq)]
pub struct List {
    pub elem: GoType,
    pub items: Vec<Value>,
}

/// A Go map with string keys (the only key type Helm's data and sprig's functions produce).
///
/// Go maps are reference values: sprig's `set`, `unset`, `merge` mutate the map they are given and a
/// later `.Values.x` sees the change (charts rely on `{{ $_ := set .Values "x" 1 }}`). So the
/// entries sit behind a lock and every clone of the `Arc<Map>` shares them, as Go shares a map.
/// Entries are a `BTreeMap` because Go prints maps, ranges over them and encodes them to JSON and
/// YAML in sorted key order. Templates run single-threaded per render; the lock is uncontended.
#[derive(Debug)]
pub struct Map {
    pub elem: GoType,
    entries: RwLock<BTreeMap<Str, Value>>,
    /// A named map type with methods (Helm 4's `.Values` is `common.Values`, a
    /// `map[string]interface{}` with `AsMap`, `YAML`, `Table`): its `%T` name and its methods.
    /// Everything else (indexing, ranging, functions) sees an ordinary map, as Go's assignability
    /// rules let a named map pass wherever its underlying type is expected.
    pub named: Option<Arc<NamedMapType>>,
    /// The [`crate::speculate`] epoch the map was made in: a speculative execution may write
    /// only to maps made in its own round.
    born: u32,
}

/// The type of a named map: its name as `%T` prints it, and its methods, looked up before keys.
pub struct NamedMapType {
    pub name: Str,
    /// Method `name` of map `this`, if the type has one.
    pub method: fn(this: &Arc<Map>, name: &str) -> Option<Member>,
}

impl fmt::Debug for NamedMapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NamedMapType({})", self.name)
    }
}

impl Map {
    pub fn new(elem: GoType, entries: BTreeMap<Str, Value>) -> Self {
        Map { elem, entries: RwLock::new(entries), named: None, born: crate::speculate::epoch() }
    }

    /// A map of a named map type (see [`Map::named`]).
    pub fn new_named(ty: Arc<NamedMapType>, elem: GoType, entries: BTreeMap<Str, Value>) -> Self {
        Map { elem, entries: RwLock::new(entries), named: Some(ty), born: crate::speculate::epoch() }
    }

    /// Read access to the entries. (A poisoned lock cannot happen: nothing panics while holding it;
    /// if it ever did, the data is still used as Go would.)
    pub fn read(&self) -> RwLockReadGuard<'_, BTreeMap<Str, Value>> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access to the entries: Go's in-place map assignment and delete.
    /// Inside a speculative execution, a write to a map made before its round ends that
    /// execution instead (see [`crate::speculate`]).
    pub fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<Str, Value>> {
        crate::speculate::check_write(self.born);
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The value at `key`, cloned (cheap: values share their contents).
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// A new map with the same element type and a shallow copy of the entries (Go: copying a
    /// map into a fresh one).
    pub fn shallow_copy(&self) -> Map {
        Map::new(self.elem.clone(), self.read().clone())
    }

    /// A copy with the same entries and type (named maps keep their methods).
    pub fn copy_keeping_type(&self) -> Map {
        Map { named: self.named.clone(), ..self.shallow_copy() }
    }

    /// This map, treated as shared by every speculative execution whatever round made it: a
    /// per-execution copy of a map that executions run one after another would share.
    pub fn into_shared(mut self) -> Map {
        self.born = 0;
        self
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        if std::ptr::eq(self, other) {
            return true;
        }
        self.elem == other.elem && *self.read() == *other.read()
    }
}

/// A struct or pointer value with fields and methods: `.Capabilities`, `.Files`, `.Release`,
/// sprig's `*semver.Version`, `time.Time`, certificates. Go's `evalField` looks up a method first,
/// then a field; `member` answers both.
pub trait Object: Send + Sync + fmt::Debug {
    /// The type as `%T` prints it.
    fn go_type(&self) -> GoType;

    /// Method or field `name` (Go: exec.go `evalField`). `None` if there is neither.
    fn member(&self, name: &str) -> Option<Member>;

    /// `%v` formatting (Go's fmt of the underlying struct or its `String()` method).
    fn format_v(&self) -> String;

    /// Whether Go's `reflect.Value` is a nil pointer (templates treat it as false and error on
    /// field access through it).
    fn is_nil(&self) -> bool {
        false
    }

    /// For functions that need the concrete Rust type back (e.g. semver methods, `date` on a
    /// `time.Time`).
    fn as_any(&self) -> &dyn Any;

    /// For a named map or slice type with methods (Helm's `.Files` is `engine.files`, a
    /// `map[string][]byte`; `.Capabilities.APIVersions` is `common.VersionSet`, a `[]string`):
    /// the underlying map or slice, which `range`, `index`, `len`, printing and functions taking
    /// `interface{}` see. Field lookups that find no method fall back to its keys, as Go does.
    fn underlying(&self) -> Option<Value> {
        None
    }

    /// How Go's `encoding/json` marshals this value (its `MarshalJSON`, or its exported fields).
    /// `None`: a struct without exported fields, `{}`.
    fn json_form(&self) -> Option<crate::json::JsonForm> {
        None
    }
}

/// What an object's member resolves to.
#[derive(Clone)]
pub enum Member {
    /// A struct field, or a method that takes no arguments and has already been called.
    Field(Value),
    /// A method that takes arguments; the executor converts and checks them by its signature.
    Method(crate::funcs::Func),
}

/// A Go value.
#[derive(Clone, Debug)]
pub enum Value {
    /// Go's invalid `reflect.Value`: what a missing map key yields. Prints `<no value>`.
    Missing,
    /// A nil `interface {}`. Prints `<nil>`.
    Nil,
    Bool(bool),
    Int(i64, IntKind),
    Uint(u64, UintKind),
    Float(f64, FloatKind),
    String(Str),
    /// `[]byte`.
    Bytes(Arc<[u8]>),
    List(Arc<List>),
    Map(Arc<Map>),
    Object(Arc<dyn Object>),
}

impl Value {
    /// Go `int`.
    pub fn int(i: i64) -> Value {
        Value::Int(i, IntKind::Int)
    }

    /// Go `int64`.
    pub fn int64(i: i64) -> Value {
        Value::Int(i, IntKind::Int64)
    }

    /// Go `float64`.
    pub fn float(f: f64) -> Value {
        Value::Float(f, FloatKind::Float64)
    }

    pub fn string(s: impl Into<Str>) -> Value {
        Value::String(s.into())
    }

    /// A `[]interface {}`.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(List { elem: GoType::Interface, items }))
    }

    /// A `[]string`.
    pub fn string_list(items: impl IntoIterator<Item = impl Into<Str>>) -> Value {
        Value::List(Arc::new(List {
            elem: GoType::String,
            items: items.into_iter().map(|s| Value::String(s.into())).collect(),
        }))
    }

    /// A `map[string]interface {}`.
    pub fn map(entries: BTreeMap<Str, Value>) -> Value {
        Value::Map(Arc::new(Map::new(GoType::Interface, entries)))
    }

    /// An empty `map[string]interface {}`.
    pub fn empty_map() -> Value {
        Value::map(BTreeMap::new())
    }

    /// The Go type of this value. `Missing` and `Nil` have none; they report `interface {}`.
    pub fn go_type(&self) -> GoType {
        match self {
            Value::Missing | Value::Nil => GoType::Interface,
            Value::Bool(_) => GoType::Bool,
            Value::Int(_, k) => GoType::Int(*k),
            Value::Uint(_, k) => GoType::Uint(*k),
            Value::Float(_, k) => GoType::Float(*k),
            Value::String(_) => GoType::String,
            Value::Bytes(_) => GoType::slice_of(GoType::Uint(UintKind::Uint8)),
            Value::List(l) => GoType::slice_of(l.elem.clone()),
            Value::Map(m) => match &m.named {
                Some(t) => GoType::Named(t.name.clone()),
                None => GoType::map_of(GoType::String, m.elem.clone()),
            },
            Value::Object(o) => o.go_type(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Converts JSON into Go values as `encoding/json` does into `interface{}`: every number is a
    /// `float64`, objects are `map[string]interface {}`, arrays `[]interface {}`.
    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::float(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::string(s.as_str()),
            serde_json::Value::Array(a) => Value::list(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::map(
                o.iter()
                    .map(|(k, v)| (Str::from(k.as_str()), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

impl PartialEq for Value {
    /// Structural equality (Go's `reflect.DeepEqual` on the dynamic values, types included).
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Missing, Value::Missing) | (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a, ka), Value::Int(b, kb)) => a == b && ka == kb,
            (Value::Uint(a, ka), Value::Uint(b, kb)) => a == b && ka == kb,
            (Value::Float(a, ka), Value::Float(b, kb)) => a == b && ka == kb,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::string(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::string(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl Default for Value {
    /// A nil `interface {}` (Go's zero value of `interface{}`).
    fn default() -> Value {
        Value::Nil
    }
}
