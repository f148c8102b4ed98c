//! sprig's defaults and logic functions (sprig v3.3.0: defaults.go): `default`, `empty`,
//! `coalesce`, `all`, `any`, `ternary`. Emptiness is sprig's `empty` (zero numbers, `false`,
//! empty strings/slices/maps, nil; structs never empty).

use super::util::*;
use super::FuncMap;
use crate::value::Value;

/// Adds this family's functions to `map`.
pub fn register(m: &mut FuncMap) {
    add_variadic(m, "default", vec![any(), any()], any(), |a| {
        // dfault(d, given...): the default when no value is given or the first one is empty.
        match a.get(1) {
            Some(g) if !empty(g) => ok(g.clone()),
            _ => ok(a[0].clone()),
        }
    });
    add(m, "empty", vec![any()], bool_t(), |a| ok(Value::Bool(empty(&a[0]))));
    add_variadic(m, "coalesce", vec![any()], any(), |a| {
        ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil))
    });
    add_variadic(m, "all", vec![any()], bool_t(), |a| ok(Value::Bool(a.iter().all(|v| !empty(v)))));
    add_variadic(m, "any", vec![any()], bool_t(), |a| ok(Value::Bool(a.iter().any(|v| !empty(v)))));
    add(m, "ternary", vec![any(), any(), bool_t()], any(), |a| {
        ok(if arg_bool(&a[2]) { a[0].clone() } else { a[1].clone() })
    });
}
