//! sprig's list functions (sprig v3.3.0: list.go, functions.go `genericMap`).
//!
//! sprig works on any Go slice through reflection (`[]interface {}`, the `[]string` of
//! `splitList`, `[]byte`) and returns `[]interface {}`. A value that is not a slice is an error
//! naming its reflect kind ("Cannot push on type string"); a nil value makes Go's
//! `reflect.TypeOf(nil).Kind()` panic with a nil dereference, which text/template reports as the
//! function's error. The non-`must` variants panic with the same text, so both spellings give the
//! same template error.

use std::sync::Arc;

use super::util::*;
use super::{FuncError, FuncMap};
use crate::value::{GoType, List, Value};

/// Go's runtime panic for `reflect.TypeOf(nil).Kind()`.
pub const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

/// `reflect.TypeOf(v).Kind()`, with Go's panic text for a nil interface.
pub fn reflect_kind(v: &Value) -> Result<&'static str, FuncError> {
    match v {
        Value::Missing | Value::Nil => Err(FuncError::new(NIL_DEREF)),
        v => Ok(kind_name(v)),
    }
}

/// The items of a slice value, or `Err(kind)` when it is not a slice.
fn items_or_kind(v: &Value) -> Result<Result<Vec<Value>, &'static str>, FuncError> {
    let kind = reflect_kind(v)?;
    Ok(slice_items(v).ok_or(kind))
}

/// Applies `f` to the items of a slice, or fails with `"{prefix} {kind}"`.
fn with_items(v: &Value, prefix: &str, f: impl FnOnce(Vec<Value>) -> Value) -> Result<Value, FuncError> {
    match items_or_kind(v)? {
        Ok(items) => Ok(f(items)),
        Err(kind) => Err(FuncError::new(format!("{prefix} {kind}"))),
    }
}

fn any_list(items: Vec<Value>) -> Value {
    Value::list(items)
}

/// Go's `int(f)` for a float64 on amd64: NaN and out-of-range values become the minimum int.
fn go_float_to_int(f: f64) -> i64 {
    if f.is_nan() || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
        i64::MIN
    } else {
        f as i64
    }
}

const MAKESLICE: &str = "runtime error: makeslice: len out of range";

fn chunk(size: i64, v: &Value) -> Result<Value, FuncError> {
    let items = match items_or_kind(v)? {
        Ok(items) => items,
        Err(kind) => return Err(FuncError::new(format!("Cannot chunk type {kind}"))),
    };
    let l = items.len() as i64;
    let cs = go_float_to_int(((l - 1) as f64 / size as f64).floor() + 1.0);
    if cs < 0 {
        return Err(FuncError::new(MAKESLICE));
    }
    let mut out = Vec::new();
    for i in 0..cs {
        let mut clen = size;
        if i == cs - 1 {
            clen = go_float_to_int((l as f64 % size as f64).floor());
            if clen == 0 {
                clen = size;
            }
        }
        if clen < 0 {
            return Err(FuncError::new(MAKESLICE));
        }
        let mut part = Vec::with_capacity(clen as usize);
        for j in 0..clen {
            let ix = i.wrapping_mul(size).wrapping_add(j);
            if ix < 0 || ix >= l {
                return Err(FuncError::new("reflect: slice index out of range"));
            }
            part.push(items[ix as usize].clone());
        }
        out.push(any_list(part));
    }
    Ok(Value::List(Arc::new(List { elem: GoType::any_slice(), items: out })))
}

fn slice(v: &Value, indices: &[Value]) -> Result<Value, FuncError> {
    let kind = reflect_kind(v)?;
    let len = match v {
        Value::List(l) => l.items.len(),
        Value::Bytes(b) => b.len(),
        _ => return Err(FuncError::new(format!("list should be type of slice or array but {kind}"))),
    } as i64;
    if len == 0 {
        return Ok(Value::Nil);
    }
    let start = indices.first().map(to_int64).unwrap_or(0);
    let end = if indices.len() < 2 { len } else { to_int64(&indices[1]) };
    if start < 0 || end < start || end > len {
        return Err(FuncError::new("reflect.Value.Slice: slice index out of bounds"));
    }
    let (a, b) = (start as usize, end as usize);
    Ok(match v {
        Value::List(l) => Value::List(Arc::new(List { elem: l.elem.clone(), items: l.items[a..b].to_vec() })),
        Value::Bytes(bs) => Value::Bytes(Arc::from(&bs[a..b])),
        _ => unreachable!(),
    })
}

fn concat(lists: &[Value]) -> Result<Value, FuncError> {
    let mut res = Vec::new();
    for l in lists {
        match items_or_kind(l)? {
            Ok(items) => res.extend(items),
            Err(kind) => return Err(FuncError::new(format!("Cannot concat type {kind} as list"))),
        }
    }
    Ok(any_list(res))
}

/// Registers a function and its `must` twin (which returns `(T, error)`; same behaviour here,
/// since the plain one panics with the same text).
fn add_pair(m: &mut FuncMap, name: &str, must: &str, params: Vec<GoType>, result: GoType, variadic: bool, f: impl Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + Clone + 'static) {
    if variadic {
        add_variadic(m, name, params.clone(), result.clone(), f.clone());
    } else {
        add(m, name, params.clone(), result.clone(), f.clone());
    }
    add_err(m, must, params, result, variadic, f);
}

/// Adds this family's functions to `map`.
pub fn register(m: &mut FuncMap) {
    add_variadic(m, "list", vec![any()], list_t(), |a| ok(any_list(a.to_vec())));
    add_variadic(m, "tuple", vec![any()], list_t(), |a| ok(any_list(a.to_vec())));

    let push = |a: &[Value]| {
        let v = a[1].clone();
        with_items(&a[0], "Cannot push on type", move |mut items| {
            items.push(v);
            any_list(items)
        })
    };
    add(m, "push", vec![any(), any()], list_t(), push);
    add(m, "append", vec![any(), any()], list_t(), push);
    add_err(m, "mustPush", vec![any(), any()], list_t(), false, push);
    add_err(m, "mustAppend", vec![any(), any()], list_t(), false, push);

    add_pair(m, "prepend", "mustPrepend", vec![any(), any()], list_t(), false, |a| {
        let v = a[1].clone();
        with_items(&a[0], "Cannot prepend on type", move |mut items| {
            items.insert(0, v);
            any_list(items)
        })
    });
    add_pair(m, "chunk", "mustChunk", vec![int_t(), any()], GoType::slice_of(list_t()), false, |a| chunk(arg_int(&a[0]), &a[1]));
    add_pair(m, "last", "mustLast", vec![any()], any(), false, |a| {
        with_items(&a[0], "Cannot find last on type", |items| items.last().cloned().unwrap_or(Value::Nil))
    });
    add_pair(m, "first", "mustFirst", vec![any()], any(), false, |a| {
        with_items(&a[0], "Cannot find first on type", |items| items.first().cloned().unwrap_or(Value::Nil))
    });
    add_pair(m, "rest", "mustRest", vec![any()], list_t(), false, |a| {
        with_items(&a[0], "Cannot find rest on type", |items| any_list(items.into_iter().skip(1).collect()))
    });
    add_pair(m, "initial", "mustInitial", vec![any()], list_t(), false, |a| {
        with_items(&a[0], "Cannot find initial on type", |mut items| {
            items.pop();
            any_list(items)
        })
    });
    add_pair(m, "reverse", "mustReverse", vec![any()], list_t(), false, |a| {
        with_items(&a[0], "Cannot find reverse on type", |mut items| {
            items.reverse();
            any_list(items)
        })
    });
    add_pair(m, "compact", "mustCompact", vec![any()], list_t(), false, |a| {
        with_items(&a[0], "Cannot compact on type", |items| any_list(items.into_iter().filter(|x| !empty(x)).collect()))
    });
    add_pair(m, "uniq", "mustUniq", vec![any()], list_t(), false, |a| {
        with_items(&a[0], "Cannot find uniq on type", |items| {
            let mut dest: Vec<Value> = Vec::new();
            for it in items {
                if !dest.iter().any(|d| deep_equal(&it, d)) {
                    dest.push(it);
                }
            }
            any_list(dest)
        })
    });
    add_pair(m, "without", "mustWithout", vec![any(), any()], list_t(), true, |a| {
        let omit = a[1..].to_vec();
        with_items(&a[0], "Cannot find without on type", move |items| {
            any_list(items.into_iter().filter(|it| !omit.iter().any(|o| deep_equal(it, o))).collect())
        })
    });
    add_pair(m, "has", "mustHas", vec![any(), any()], bool_t(), false, |a| {
        if matches!(a[1], Value::Nil | Value::Missing) {
            return ok(Value::Bool(false));
        }
        let needle = a[0].clone();
        with_items(&a[1], "Cannot find has on type", move |items| Value::Bool(items.iter().any(|it| deep_equal(&needle, it))))
    });
    add_pair(m, "slice", "mustSlice", vec![any(), any()], any(), true, |a| slice(&a[0], &a[1..]));
    add_variadic(m, "concat", vec![any()], any(), concat);
}

/// Go's `reflect.DeepEqual` on two interface values: same dynamic types and deeply equal contents
/// (a map or list is equal to itself; NaN is unequal to everything; a cycle already being compared
/// counts as equal, as in Go). Objects (structs and pointers to them) are compared by type and
/// printed form, which reflects their fields.
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    deep_equal_in(a, b, &mut Vec::new())
}

fn deep_equal_in(a: &Value, b: &Value, visiting: &mut Vec<(usize, usize)>) -> bool {
    match (a, b) {
        (Value::Nil | Value::Missing, Value::Nil | Value::Missing) => true,
        (Value::Nil | Value::Missing, _) | (_, Value::Nil | Value::Missing) => false,
        (Value::List(x), Value::List(y)) => {
            if Arc::ptr_eq(x, y) {
                return true;
            }
            if x.elem != y.elem || x.items.len() != y.items.len() {
                return false;
            }
            let key = (Arc::as_ptr(x) as usize, Arc::as_ptr(y) as usize);
            if visiting.contains(&key) {
                return true;
            }
            visiting.push(key);
            let eq = x.items.iter().zip(&y.items).all(|(p, q)| deep_equal_in(p, q, visiting));
            visiting.pop();
            eq
        }
        (Value::Map(x), Value::Map(y)) => {
            if Arc::ptr_eq(x, y) {
                return true;
            }
            if x.elem != y.elem {
                return false;
            }
            let key = (Arc::as_ptr(x) as usize, Arc::as_ptr(y) as usize);
            if visiting.contains(&key) {
                return true;
            }
            let (xe, ye) = (x.read().clone(), y.read().clone());
            if xe.len() != ye.len() {
                return false;
            }
            visiting.push(key);
            let eq = xe.iter().all(|(k, v)| ye.get(k).is_some_and(|w| deep_equal_in(v, w, visiting)));
            visiting.pop();
            eq
        }
        (Value::Object(x), Value::Object(y)) => {
            Arc::ptr_eq(x, y) || (x.go_type() == y.go_type() && x.is_nil() == y.is_nil() && x.format_v() == y.format_v())
        }
        _ => a == b,
    }
}
