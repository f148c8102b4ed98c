//! Go's comparison built-ins `eq ne lt le gt ge` (Go: text/template/funcs.go), with Go's
//! basic-kind rules: integers of either sign compare with each other, other kinds must match.

use crate::value::Value;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    String,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Missing | Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(..) => Kind::Int,
        Value::Uint(..) => Kind::Uint,
        Value::Float(..) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Other,
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
                    if !matches!(a, Value::Missing) && !matches!(b, Value::Missing) && k1 != Kind::Invalid && k2 != Kind::Invalid {
                        return Err(format!("incompatible types for comparison: {} and {}", type_name(a), type_name(b)));
                    }
                    if (k1 == Kind::Invalid) != (k2 == Kind::Invalid) && !matches!(a, Value::Missing) && !matches!(b, Value::Missing) {
                        return Err(format!("incompatible types for comparison: {} and {}", type_name(a), type_name(b)));
                    }
                    false
                }
            }
        } else {
            match k1 {
                Kind::Bool | Kind::Int | Kind::Uint | Kind::String => scalar_eq(a, b),
                Kind::Float => matches!((a, b), (Value::Float(x, _), Value::Float(y, _)) if x == y),
                Kind::Invalid => true,
                Kind::Other => {
                    if matches!(a, Value::List(_) | Value::Map(_)) || matches!(b, Value::List(_) | Value::Map(_)) {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            crate::print::format_v(a),
                            type_name(a),
                            type_name(b),
                            crate::print::format_v(b)
                        ));
                    }
                    a == b
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
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
    if matches!(k1, Kind::Invalid | Kind::Other) {
        return Err("invalid type for comparison".into());
    }
    let k2 = kind(b);
    if matches!(k2, Kind::Invalid | Kind::Other) {
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
