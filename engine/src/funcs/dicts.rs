//! sprig's dict functions (sprig v3.3.0: dict.go, functions.go `genericMap`).
//!
//! Go maps are references: `set`, `unset` and `merge*` change the map they are given, and every
//! template holding it sees the change (`Value::Map` shares its entries the same way). `merge`
//! and `mergeOverwrite` follow dario.cat/mergo v1.0.1 on `map[string]interface {}`:
//!
//! - a nil source value is skipped by `merge` and stored by `mergeOverwrite`;
//! - a map source value is merged key by key into a map destination value (in place); when the
//!   destination is missing, empty or not a map, it is handled like any other value;
//! - any other value (lists included) is stored by `merge` when the destination key is missing
//!   or empty (even if the source value is empty too), and always by `mergeOverwrite`.
//!
//! A stored map or list is the source's own value, not a copy, as in Go.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::util::*;
use super::{FuncError, FuncMap};
use crate::value::{GoType, Map, Str, Value};

fn new_map(entries: BTreeMap<Str, Value>) -> Value {
    Value::map(entries)
}

/// The entries of a `map[string]interface {}` argument (a nil map has none).
fn entries(v: &Value) -> BTreeMap<Str, Value> {
    match v {
        Value::Map(m) => m.read().clone(),
        _ => BTreeMap::new(),
    }
}

/// The Go type a map's elements are stored as, for reflect's assignability check.
fn assignable(src_static: &GoType, dst_elem: &GoType) -> bool {
    *dst_elem == GoType::Interface || src_static == dst_elem
}

/// How deep `merge` and `deepCopy` follow nested maps. Go has no limit and dies of a stack
/// overflow on a map that contains itself; Rudder reports that as an error instead.
const MAX_DEPTH: usize = 2000;

fn stack_overflow() -> FuncError {
    FuncError::new("runtime: goroutine stack exceeds 1000000000-byte limit")
}

/// mergo's `deepMerge` of one map into another (both maps).
fn merge_maps(dst: &Arc<Map>, src: &Arc<Map>, overwrite: bool, depth: usize) -> Result<(), FuncError> {
    if depth > MAX_DEPTH {
        return Err(stack_overflow());
    }
    let src_entries = src.read().clone();
    let src_static = src.elem.clone();
    for (key, sv) in src_entries {
        let dv = dst.get(&key);
        if matches!(sv, Value::Nil | Value::Missing) {
            if overwrite {
                store(dst, key, sv, &src_static)?;
            }
            continue;
        }
        if let Value::List(sl) = &sv {
            // Into a typed map, mergo's slice handling trips over reflect: it asks whether the
            // present destination value is nil (a panic for a string), or stores the slice first
            // (an assignability panic).
            if dst.elem != GoType::Interface {
                if let Some(d) = &dv {
                    if !matches!(dst.elem, GoType::Slice(_) | GoType::Map(_, _)) {
                        return Err(FuncError::new(format!("reflect: call of reflect.Value.IsNil on {} Value", kind_name(d))));
                    }
                }
                let slice_t = GoType::slice_of(sl.elem.clone());
                if dst.elem != slice_t && (overwrite || dv.is_none() || dst.is_empty()) {
                    return Err(FuncError::new(format!(
                        "reflect.Value.SetMapIndex: value of type {slice_t} is not assignable to type {}",
                        dst.elem
                    )));
                }
            }
        }
        if let Value::Map(sm) = &sv {
            if let Some(Value::Map(dm)) = &dv {
                merge_maps(dm, sm, overwrite, depth + 1)?;
                if !dm.is_empty() {
                    continue;
                }
            }
        }
        let set = overwrite
            || match &dv {
                None => true,
                Some(d) => empty(d),
            };
        if set {
            store(dst, key, sv, &src_static)?;
        }
    }
    Ok(())
}

fn store(dst: &Arc<Map>, key: Str, v: Value, src_static: &GoType) -> Result<(), FuncError> {
    if !assignable(src_static, &dst.elem) {
        return Err(FuncError::new(format!(
            "reflect.Value.SetMapIndex: value of type {src_static} is not assignable to type {}",
            dst.elem
        )));
    }
    dst.write().insert(key, v);
    Ok(())
}

fn merge(a: &[Value], overwrite: bool) -> Result<Value, FuncError> {
    let dst = match &a[0] {
        Value::Map(m) => m.clone(),
        _ => Arc::new(Map::new(GoType::Interface, BTreeMap::new())),
    };
    for src in &a[1..] {
        if let Value::Map(s) = src {
            merge_maps(&dst, s, overwrite, 0)?;
        }
    }
    Ok(Value::Map(dst))
}

/// copystructure's deep copy: maps and lists are rebuilt, everything else is kept.
fn deep_copy(v: &Value, depth: usize) -> Result<Value, FuncError> {
    if depth > MAX_DEPTH {
        return Err(stack_overflow());
    }
    Ok(match v {
        Value::Map(m) => {
            let entries = m.read().clone();
            let mut copied = BTreeMap::new();
            for (k, v) in entries {
                copied.insert(k, deep_copy(&v, depth + 1)?);
            }
            Value::Map(Arc::new(Map::new(m.elem.clone(), copied)))
        }
        Value::List(l) => {
            let items = l.items.iter().map(|x| deep_copy(x, depth + 1)).collect::<Result<Vec<_>, _>>()?;
            Value::List(Arc::new(crate::value::List { elem: l.elem.clone(), items }))
        }
        v => v.clone(),
    })
}

/// Go's panic text for a failed `x.(T)` on an `interface {}`.
fn conversion_panic(v: &Value, want: &str) -> FuncError {
    let got = match v {
        Value::Nil | Value::Missing => "nil".to_string(),
        v => type_name(v),
    };
    FuncError::new(format!("interface conversion: interface {{}} is {got}, not {want}"))
}

fn dig(a: &[Value]) -> Result<Value, FuncError> {
    if a.len() < 3 {
        return Err(FuncError::new("dig needs at least three arguments"));
    }
    let last = &a[a.len() - 1];
    let mut dict = match last {
        Value::Map(m) if m.elem == GoType::Interface => m.clone(),
        v => return Err(conversion_panic(v, "map[string]interface {}")),
    };
    let def = &a[a.len() - 2];
    let mut ks = Vec::new();
    for k in &a[..a.len() - 2] {
        match k {
            Value::String(s) => ks.push(s.clone()),
            v => return Err(conversion_panic(v, "string")),
        }
    }
    let mut i = 0;
    loop {
        let Some(step) = dict.get(&ks[i]) else {
            return Ok(def.clone());
        };
        if i == ks.len() - 1 {
            return Ok(step);
        }
        dict = match &step {
            Value::Map(m) if m.elem == GoType::Interface => m.clone(),
            v => return Err(conversion_panic(v, "map[string]interface {}")),
        };
        i += 1;
    }
}

/// Adds this family's functions to `map`.
pub fn register(m: &mut FuncMap) {
    add_variadic(m, "dict", vec![any()], map_t(), |a| {
        let mut d = BTreeMap::new();
        for pair in a.chunks(2) {
            let key = Str::from(strval(&pair[0]).as_str());
            d.insert(key, pair.get(1).cloned().unwrap_or_else(|| Value::string("")));
        }
        ok(new_map(d))
    });
    add(m, "get", vec![map_t(), str_t()], any(), |a| {
        let v = match &a[0] {
            Value::Map(m) => m.get(arg_str(&a[1])),
            _ => None,
        };
        ok(v.unwrap_or_else(|| Value::string("")))
    });
    add(m, "set", vec![map_t(), str_t(), any()], map_t(), |a| match &a[0] {
        Value::Map(m) => {
            m.write().insert(Str::from(arg_str(&a[1])), a[2].clone());
            ok(a[0].clone())
        }
        _ => err("assignment to entry in nil map"),
    });
    add(m, "unset", vec![map_t(), str_t()], map_t(), |a| match &a[0] {
        Value::Map(m) => {
            m.write().remove(arg_str(&a[1]));
            ok(a[0].clone())
        }
        _ => ok(Value::empty_map()),
    });
    add(m, "hasKey", vec![map_t(), str_t()], bool_t(), |a| {
        ok(Value::Bool(matches!(&a[0], Value::Map(m) if m.read().contains_key(arg_str(&a[1])))))
    });
    add_variadic(m, "pluck", vec![str_t(), map_t()], list_t(), |a| {
        let key = arg_str(&a[0]);
        ok(Value::list(
            a[1..]
                .iter()
                .filter_map(|d| match d {
                    Value::Map(m) => m.get(key),
                    _ => None,
                })
                .collect(),
        ))
    });
    add_variadic(m, "keys", vec![map_t()], strs_t(), |a| {
        let mut k: Vec<String> = Vec::new();
        for d in a {
            k.extend(entries(d).into_keys().map(|s| s.to_string()));
        }
        ok(string_list(k))
    });
    add_variadic(m, "pick", vec![map_t(), str_t()], map_t(), |a| {
        let src = entries(&a[0]);
        let mut res = BTreeMap::new();
        for k in &a[1..] {
            if let Some((key, v)) = src.get_key_value(arg_str(k)) {
                res.insert(key.clone(), v.clone());
            }
        }
        ok(new_map(res))
    });
    add_variadic(m, "omit", vec![map_t(), str_t()], map_t(), |a| {
        let mut res = entries(&a[0]);
        for k in &a[1..] {
            res.remove(arg_str(k));
        }
        ok(new_map(res))
    });
    add_variadic(m, "merge", vec![map_t(), map_t()], any(), |a| merge(a, false));
    add_variadic(m, "mergeOverwrite", vec![map_t(), map_t()], any(), |a| merge(a, true));
    add_err(m, "mustMerge", vec![map_t(), map_t()], any(), true, |a| merge(a, false));
    add_err(m, "mustMergeOverwrite", vec![map_t(), map_t()], any(), true, |a| merge(a, true));
    add(m, "values", vec![map_t()], list_t(), |a| ok(Value::list(entries(&a[0]).into_values().collect())));
    let copy = |a: &[Value]| match &a[0] {
        Value::Nil | Value::Missing => err("reflect: call of reflect.Value.Type on zero Value"),
        v => deep_copy(v, 0),
    };
    add(m, "deepCopy", vec![any()], any(), copy);
    add_err(m, "mustDeepCopy", vec![any()], any(), false, copy);
    add_err(m, "dig", vec![any()], any(), true, dig);
}

#[cfg(test)]
mod tests {
    use crate::{funcs, TemplateSet, Value};

    fn render(text: &str) -> Result<String, String> {
        let mut set = TemplateSet::new(funcs::helm());
        set.parse("t", text).map_err(|e| e.message)?;
        set.execute("t", &Value::empty_map()).map_err(|e| e.message)
    }

    // Go dies of a stack overflow on these (its oracle cannot run them); Rudder must return an
    // error instead of overflowing its own stack.
    #[test]
    fn self_containing_maps_error_instead_of_overflowing() {
        let cyc = r#"{{ $a := dict }}{{ $_ := set $a "s" $a }}{{ $b := dict }}{{ $_ := set $b "s" $b }}"#;
        for call in ["{{ $_ := merge $a $b }}", "{{ $_ := mergeOverwrite $a $b }}", "{{ $_ := deepCopy $a }}"] {
            let text = format!("{cyc}{call}");
            let handle = std::thread::Builder::new().stack_size(8 << 20).spawn(move || render(&text)).unwrap();
            let res = handle.join().expect("no stack overflow");
            let e = res.expect_err("error expected");
            assert!(e.contains("goroutine stack exceeds"), "{e}");
        }
        assert_eq!(render(&format!("{cyc}{{{{ deepEqual $a $b }}}}")).unwrap(), "true");
    }
}
