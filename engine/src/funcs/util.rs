//! Small helpers shared by the function families: building signatures, reading arguments that
//! the executor has already converted to the declared Go types, and sprig's own conversions
//! (`strval`, `strslice`, spf13/cast's `ToInt64`/`ToFloat64`, `empty`).

use std::sync::Arc;

use super::{Func, FuncError, FuncMap, FuncResult, Signature};
use crate::value::{GoType, List, Value};


pub fn any() -> GoType {
    GoType::Interface
}
pub fn str_t() -> GoType {
    GoType::String
}
pub fn int_t() -> GoType {
    GoType::INT
}
pub fn i64_t() -> GoType {
    GoType::INT64
}
pub fn f64_t() -> GoType {
    GoType::FLOAT64
}
pub fn bool_t() -> GoType {
    GoType::Bool
}
pub fn list_t() -> GoType {
    GoType::any_slice()
}
pub fn strs_t() -> GoType {
    GoType::slice_of(GoType::String)
}
pub fn map_t() -> GoType {
    GoType::any_map()
}

/// Registers a function that does not need the call context.
pub fn add(m: &mut FuncMap, name: &str, params: Vec<GoType>, result: GoType, f: impl Fn(&[Value]) -> FuncResult + Send + Sync + 'static) {
    m.insert(name, Func::pure(Signature::new(params, result), f));
}

/// Registers a variadic function (the last parameter type is the element type of `...T`).
pub fn add_variadic(m: &mut FuncMap, name: &str, params: Vec<GoType>, result: GoType, f: impl Fn(&[Value]) -> FuncResult + Send + Sync + 'static) {
    m.insert(name, Func::pure(Signature::new(params, result).variadic(), f));
}

/// Registers a function returning `(T, error)`.
pub fn add_err(m: &mut FuncMap, name: &str, params: Vec<GoType>, result: GoType, variadic: bool, f: impl Fn(&[Value]) -> FuncResult + Send + Sync + 'static) {
    let mut sig = Signature::new(params, result).with_error();
    sig.variadic = variadic;
    m.insert(name, Func::pure(sig, f));
}

pub fn arg_str(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

pub fn arg_int(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        Value::Uint(u, _) => *u as i64,
        Value::Float(f, _) => *f as i64,
        _ => 0,
    }
}

pub fn arg_bool(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

pub fn ok(v: Value) -> FuncResult {
    Ok(v)
}

pub fn err(msg: impl Into<String>) -> FuncResult {
    Err(FuncError::new(msg))
}

/// sprig `strval`: strings as is, `[]byte` as text, everything else `%v`.
pub fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Missing | Value::Nil => "<nil>".into(),
        v => crate::print::format_v(v),
    }
}

/// sprig `strslice`: a list as strings (nil elements dropped), a scalar as a one-element list.
pub fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l
            .items
            .iter()
            .filter(|x| !matches!(x, Value::Nil | Value::Missing))
            .map(strval)
            .collect(),
        Value::Bytes(b) => b.iter().map(|x| x.to_string()).collect(),
        Value::Nil | Value::Missing => Vec::new(),
        v => vec![strval(v)],
    }
}

pub fn string_list(items: Vec<String>) -> Value {
    Value::List(Arc::new(List { elem: GoType::String, items: items.into_iter().map(Value::string).collect() }))
}

/// Go's `strconv.ParseInt(s, 0, 64)` (base prefixes, `_` separators after a prefix).
pub fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(h) = lower.strip_prefix("0x") {
        (16, h.to_string())
    } else if let Some(o) = lower.strip_prefix("0o") {
        (8, o.to_string())
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        if lower.contains('_') {
            return None;
        }
        (10, lower.clone())
    };
    let digits = if radix != 10 {
        if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
            if !(digits.starts_with('_') && radix != 10 && !digits.ends_with('_') && !digits.contains("__")) {
                return None;
            }
        }
        digits.replace('_', "")
    } else {
        digits
    };
    if digits.is_empty() {
        return None;
    }
    let u = u64::from_str_radix(&digits, radix).ok()?;
    if neg {
        if u > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((u as i64).wrapping_neg())
    } else {
        if u > i64::MAX as u64 {
            return None;
        }
        Some(u as i64)
    }
}

/// spf13/cast v1.7 `trimZeroDecimal`: `"3.00"` → `"3"`.
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    let mut i = b.len();
    while i > 0 {
        match b[i - 1] {
            b'.' => {
                if found_zero {
                    return &s[..i - 1];
                }
            }
            b'0' => found_zero = true,
            _ => return s,
        }
        i -= 1;
    }
    s
}

/// spf13/cast `ToInt64` (errors become 0).
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        Value::Uint(u, _) => *u as i64,
        Value::Float(f, _) => {
            if f.is_nan() {
                i64::MIN
            } else {
                *f as i64
            }
        }
        Value::String(s) => parse_int_base0(trim_zero_decimal(s)).unwrap_or(0),
        Value::Bool(b) => *b as i64,
        _ => 0,
    }
}

/// spf13/cast `ToFloat64` (errors become 0).
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i, _) => *i as f64,
        Value::Uint(u, _) => *u as f64,
        Value::Float(f, _) => *f,
        Value::String(s) => go_parse_float(s).unwrap_or(0.0),
        Value::Bool(b) => *b as i64 as f64,
        _ => 0.0,
    }
}

/// Go's `strconv.ParseFloat(s, 64)` acceptance (decimal, `inf`, `nan`, hex floats aside).
pub fn go_parse_float(s: &str) -> Option<f64> {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = t.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return s.to_ascii_lowercase().replace("infinity", "inf").parse::<f64>().ok();
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-' | b'_')) {
        return None;
    }
    s.replace('_', "").parse::<f64>().ok()
}

/// sprig `empty`.
pub fn empty(v: &Value) -> bool {
    match v {
        Value::Missing | Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i, _) => *i == 0,
        Value::Uint(u, _) => *u == 0,
        Value::Float(f, _) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(l) => l.items.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Object(o) => o.is_nil(),
    }
}

/// The items of any Go slice value, or `None` if `v` is not a slice.
pub fn slice_items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(l) => Some(l.items.clone()),
        Value::Bytes(b) => Some(b.iter().map(|x| Value::Uint(*x as u64, crate::value::UintKind::Uint8)).collect()),
        _ => None,
    }
}

/// `%T`-style type name for messages (`<nil>` for nil).
pub fn type_name(v: &Value) -> String {
    match v {
        Value::Missing | Value::Nil => "<nil>".into(),
        v => v.go_type().to_string(),
    }
}

/// Go's `reflect.Kind` name.
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Missing | Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_, k) => match k {
            crate::value::IntKind::Int => "int",
            crate::value::IntKind::Int8 => "int8",
            crate::value::IntKind::Int16 => "int16",
            crate::value::IntKind::Int32 => "int32",
            crate::value::IntKind::Int64 => "int64",
        },
        Value::Uint(_, k) => match k {
            crate::value::UintKind::Uint => "uint",
            crate::value::UintKind::Uint8 => "uint8",
            crate::value::UintKind::Uint16 => "uint16",
            crate::value::UintKind::Uint32 => "uint32",
            crate::value::UintKind::Uint64 => "uint64",
            crate::value::UintKind::Uintptr => "uintptr",
        },
        Value::Float(_, crate::value::FloatKind::Float32) => "float32",
        Value::Float(_, crate::value::FloatKind::Float64) => "float64",
        Value::String(_) => "string",
        Value::Bytes(_) | Value::List(_) => "slice",
        Value::Map(_) => "map",
        Value::Object(o) => {
            if o.go_type().to_string().starts_with('*') {
                "ptr"
            } else {
                "struct"
            }
        }
    }
}
