//! Go's comparison built-ins `eq ne lt le gt ge` (Go: text/template/funcs.go), with Go's
//! basic-kind rules: integers of either sign compare with each other, other kinds must match.

use crate::value::Value;

/// Go's `basicKind`: everything that is not a basic kind (nil, slices, maps, structs, pointers)
/// is `Invalid` and compares only by Go's nil/identity rules.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    String,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(..) => Kind::Int,
        Value::Uint(..) => Kind::Uint,
        Value::Float(..) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Invalid,
    }
}

/// `reflect.Value.Kind()` for the non-basic values (`None` = invalid, i.e. nil or no value).
fn reflect_kind(v: &Value) -> Option<&'static str> {
    match v {
        Value::Missing | Value::Nil => None,
        Value::List(_) | Value::Bytes(_) => Some("slice"),
        Value::Map(_) => Some("map"),
        Value::Object(o) => Some(if o.go_type().to_string().starts_with('*') { "ptr" } else { "struct" }),
        _ => Some("basic"),
    }
}

/// Go's `isNil` on an indirected value.
fn is_nil(v: &Value) -> bool {
    match v {
        Value::Missing | Value::Nil => true,
        Value::Object(o) => o.is_nil(),
        _ => false,
    }
}

fn type_name(v: &Value) -> String {
    match v {
        Value::Missing | Value::Nil => "<nil>".into(),
        v => v.go_type().to_string(),
    }
}

fn as_i(v: &Value) -> i64 {
    if let Value::Int(i, _) = v {
        *i
    } else {
        0
    }
}

fn as_u(v: &Value) -> u64 {
    if let Value::Uint(u, _) = v {
        *u
    } else {
        0
    }
}

/// Go: `eq(arg1, arg2...)`.
pub fn eq(a: &Value, rest: &[Value]) -> Result<bool, String> {
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = kind(a);
    for b in rest {
        let k2 = kind(b);
        let truth = if k1 != k2 {
            match (k1, k2) {
                (Kind::Int, Kind::Uint) => as_i(a) >= 0 && as_i(a) as u64 == as_u(b),
                (Kind::Uint, Kind::Int) => as_i(b) >= 0 && as_u(a) == as_i(b) as u64,
                _ => {
                    if !is_invalid(a) && !is_invalid(b) {
                        return Err(format!("incompatible types for comparison: {} and {}", type_name(a), type_name(b)));
                    }
                    false
                }
            }
        } else {
            match k1 {
                Kind::Bool | Kind::Int | Kind::Uint | Kind::String => scalar_eq(a, b),
                Kind::Float => matches!((a, b), (Value::Float(x, _), Value::Float(y, _)) if x == y),
                Kind::Invalid => {
                    let (ra, rb) = (reflect_kind(a), reflect_kind(b));
                    if ra != rb && ra.is_some() && rb.is_some() {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            crate::print::sprintf("%s", std::slice::from_ref(a)),
                            type_name(a),
                            type_name(b),
                            crate::print::format_v(b)
                        ));
                    }
                    if is_nil(a) || is_nil(b) {
                        is_nil(a) == is_nil(b)
                    } else if matches!(b, Value::List(_) | Value::Bytes(_) | Value::Map(_)) {
                        return Err(format!(
                            "non-comparable type {}: {}",
                            crate::print::sprintf("%s", std::slice::from_ref(b)),
                            type_name(b)
                        ));
                    } else {
                        a == b
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn is_invalid(v: &Value) -> bool {
    matches!(v, Value::Missing | Value::Nil)
}

fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x, _), Value::Int(y, _)) => x == y,
        (Value::Uint(x, _), Value::Uint(y, _)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        _ => false,
    }
}

/// Go: `lt(arg1, arg2)`.
pub fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let k1 = kind(a);
    if matches!(k1, Kind::Invalid) {
        return Err("invalid type for comparison".into());
    }
    let k2 = kind(b);
    if matches!(k2, Kind::Invalid) {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return match (k1, k2) {
            (Kind::Int, Kind::Uint) => Ok(as_i(a) < 0 || (as_i(a) as u64) < as_u(b)),
            (Kind::Uint, Kind::Int) => Ok(as_i(b) >= 0 && as_u(a) < as_i(b) as u64),
            _ => Err(format!("incompatible types for comparison: {} and {}", type_name(a), type_name(b))),
        };
    }
    Ok(match (a, b) {
        (Value::Float(x, _), Value::Float(y, _)) => x < y,
        (Value::Int(x, _), Value::Int(y, _)) => x < y,
        (Value::Uint(x, _), Value::Uint(y, _)) => x < y,
        (Value::String(x), Value::String(y)) => x.as_bytes() < y.as_bytes(),
        _ => return Err("invalid type for comparison".into()),
    })
}

/// Go: `le = lt || eq`.
pub fn le(a: &Value, b: &Value) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}
