//! sprig's `semver` and `semverCompare` (sprig: semver.go), on `crate::semver` (Masterminds/semver
//! v3). `semver` returns a `*semver.Version` object whose methods templates can call
//! (`.Major`, `.Prerelease`, `.LessThan (semver "2.0.0")`, `.IncMinor`, ...).

use std::any::Any;
use std::sync::Arc;

use super::util::*;
use super::{Func, FuncError, FuncMap, Signature};
use crate::semver::{Constraints, Version};
use crate::value::{GoType, Member, Object, UintKind, Value};

/// A `*semver.Version` (`ptr`) or a `semver.Version` value (what `IncMajor` and friends return;
/// Go's method set of a non-addressable value lacks the pointer-receiver methods).
#[derive(Debug)]
pub struct SemverObj {
    pub version: Arc<Version>,
    pub ptr: bool,
}

pub const PTR_TYPE: &str = "*semver.Version";
pub const VALUE_TYPE: &str = "semver.Version";

impl SemverObj {
    pub fn pointer(v: Version) -> Value {
        Value::Object(Arc::new(SemverObj { version: Arc::new(v), ptr: true }))
    }

    pub fn value(v: Version) -> Value {
        Value::Object(Arc::new(SemverObj { version: Arc::new(v), ptr: false }))
    }
}

/// The version inside a `*semver.Version` or `semver.Version` value.
pub fn version_of(v: &Value) -> Option<Arc<Version>> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<SemverObj>().map(|s| s.version.clone()),
        _ => None,
    }
}

fn ptr_t() -> GoType {
    GoType::Named(PTR_TYPE.into())
}

fn value_t() -> GoType {
    GoType::Named(VALUE_TYPE.into())
}

fn method0(result: GoType, f: impl Fn() -> Result<Value, FuncError> + Send + Sync + 'static) -> Member {
    Member::Method(Func::pure(Signature::new(vec![], result), move |_| f()))
}

fn method0_err(result: GoType, f: impl Fn() -> Result<Value, FuncError> + Send + Sync + 'static) -> Member {
    Member::Method(Func::pure(Signature::new(vec![], result).with_error(), move |_| f()))
}

const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

fn cmp_method(v: Arc<Version>, result: GoType, f: fn(&Version, &Version) -> Value) -> Member {
    Member::Method(Func::pure(Signature::new(vec![ptr_t()], result), move |args| match version_of(&args[0]) {
        Some(o) => Ok(f(&v, &o)),
        None => Err(FuncError::new(NIL_DEREF)),
    }))
}

impl Object for SemverObj {
    fn go_type(&self) -> GoType {
        if self.ptr {
            ptr_t()
        } else {
            value_t()
        }
    }

    fn member(&self, name: &str) -> Option<Member> {
        let v = self.version.clone();
        let u64_t = GoType::Uint(UintKind::Uint64);
        let m = match name {
            "String" => method0(str_t(), move || Ok(Value::string(v.to_string()))),
            "Major" => method0(u64_t, move || Ok(Value::Uint(v.major(), UintKind::Uint64))),
            "Minor" => method0(u64_t, move || Ok(Value::Uint(v.minor(), UintKind::Uint64))),
            "Patch" => method0(u64_t, move || Ok(Value::Uint(v.patch(), UintKind::Uint64))),
            "Prerelease" => method0(str_t(), move || Ok(Value::string(v.prerelease()))),
            "Metadata" => method0(str_t(), move || Ok(Value::string(v.metadata()))),
            "IncPatch" => method0(value_t(), move || {
                v.inc_patch().map(SemverObj::value).map_err(|e| FuncError::new(e.to_string()))
            }),
            "IncMinor" => method0(value_t(), move || {
                v.inc_minor().map(SemverObj::value).map_err(|e| FuncError::new(e.to_string()))
            }),
            "IncMajor" => method0(value_t(), move || {
                v.inc_major().map(SemverObj::value).map_err(|e| FuncError::new(e.to_string()))
            }),
            "SetPrerelease" | "SetMetadata" => {
                let pre = name == "SetPrerelease";
                Member::Method(Func::pure(Signature::new(vec![str_t()], value_t()).with_error(), move |args| {
                    let s = arg_str(&args[0]);
                    let r = if pre { v.set_prerelease(s) } else { v.set_metadata(s) };
                    r.map(SemverObj::value).map_err(|e| FuncError::new(e.to_string()))
                }))
            }
            "MarshalJSON" => method0_err(GoType::slice_of(GoType::Uint(UintKind::Uint8)), move || {
                Ok(Value::Bytes(Arc::from(crate::print::quote(&v.to_string()).into_bytes())))
            }),
            "MarshalText" => method0_err(GoType::slice_of(GoType::Uint(UintKind::Uint8)), move || {
                Ok(Value::Bytes(Arc::from(v.to_string().into_bytes())))
            }),
            "Value" => method0_err(GoType::Named("driver.Value".into()), move || Ok(Value::string(v.to_string()))),
            _ if !self.ptr => return None,
            "Original" => method0(str_t(), move || Ok(Value::string(v.original()))),
            "Compare" => cmp_method(v, GoType::INT, |a, b| Value::int(a.compare(b) as i64)),
            "LessThan" => cmp_method(v, GoType::Bool, |a, b| Value::Bool(a.less_than(b))),
            "LessThanEqual" => cmp_method(v, GoType::Bool, |a, b| Value::Bool(!a.greater_than(b))),
            "GreaterThan" => cmp_method(v, GoType::Bool, |a, b| Value::Bool(a.greater_than(b))),
            "GreaterThanEqual" => cmp_method(v, GoType::Bool, |a, b| Value::Bool(!a.less_than(b))),
            "Equal" => Member::Method(Func::pure(Signature::new(vec![ptr_t()], GoType::Bool), move |args| {
                Ok(Value::Bool(version_of(&args[0]).is_some_and(|o| v.equal(&o))))
            })),
            _ => return None,
        };
        Some(m)
    }

    fn format_v(&self) -> String {
        self.version.to_string()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Adds this family's functions to `map`.
pub fn register(m: &mut FuncMap) {
    add_err(m, "semver", vec![str_t()], ptr_t(), false, |a| {
        Version::parse(arg_str(&a[0])).map(SemverObj::pointer).map_err(|e| FuncError::new(e.to_string()))
    });
    add_err(m, "semverCompare", vec![str_t(), str_t()], bool_t(), false, |a| {
        let c = Constraints::parse(arg_str(&a[0])).map_err(|e| FuncError::new(e.to_string()))?;
        let v = Version::parse(arg_str(&a[1])).map_err(|e| FuncError::new(e.to_string()))?;
        Ok(Value::Bool(c.check(&v)))
    });
}
