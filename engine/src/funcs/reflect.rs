//! sprig's reflection functions (sprig v3.3.0: reflect.go): `typeOf` (`%T`), `typeIs`,
//! `typeIsLike` (also matches `*T`), `kindOf` (reflect kind, `invalid` for nil), `kindIs`, and
//! `deepEqual` (Go's `reflect.DeepEqual`).

use super::lists::deep_equal;
use super::util::*;
use super::FuncMap;
use crate::value::Value;

/// Adds this family's functions to `map`.
pub fn register(m: &mut FuncMap) {
    add(m, "typeOf", vec![any()], str_t(), |a| ok(Value::string(type_name(&a[0]))));
    add(m, "typeIs", vec![str_t(), any()], bool_t(), |a| ok(Value::Bool(arg_str(&a[0]) == type_name(&a[1]))));
    add(m, "typeIsLike", vec![str_t(), any()], bool_t(), |a| {
        let t = type_name(&a[1]);
        let target = arg_str(&a[0]);
        ok(Value::Bool(t == target || t.strip_prefix('*') == Some(target)))
    });
    add(m, "kindOf", vec![any()], str_t(), |a| ok(Value::string(kind_name(&a[0]))));
    add(m, "kindIs", vec![str_t(), any()], bool_t(), |a| ok(Value::Bool(arg_str(&a[0]) == kind_name(&a[1]))));
    add(m, "deepEqual", vec![any(), any()], bool_t(), |a| ok(Value::Bool(deep_equal(&a[0], &a[1]))));
}
