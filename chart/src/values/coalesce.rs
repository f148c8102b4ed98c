//! Coalescing user values with chart defaults (Helm v4.3.1: pkg/chart/common/util/coalesce.go).
//!
//! Works on the engine's shared-map [`Value`] trees, copying exactly where Go copies
//! (`copystructure.Copy` = deep, `copyMap` = shallow) so that Go's aliasing is reproduced: a
//! parent's nested global tables are shared with the subcharts' copies, as in Helm.
//!
//! No map lock is ever held across a call: every loop iterates a snapshot of the entries, as Go's
//! loops see the map they range over (Go allows deletes and writes during a range; the loops here
//! never depend on seeing their own writes).

use std::collections::BTreeMap;
use std::sync::Arc;

use rudder_engine::{GoType, List, Map, Value};

use super::ValuesError;
use crate::model::Chart;

/// Where coalescing warnings go (Helm prints them with `log.Printf`). Each entry is the message
/// text without a timestamp.
pub type Warnings = Vec<String>;

/// Helm's `common.GlobalKey`.
pub const GLOBAL_KEY: &str = "global";

/// Go's `copystructure.Copy` of a values tree: maps and lists copied deeply, scalars shared.
pub fn deep_copy(v: &Value) -> Value {
    match v {
        Value::Map(m) => {
            let entries: BTreeMap<_, _> = m.read().iter().map(|(k, v)| (k.clone(), deep_copy(v))).collect();
            Value::Map(Arc::new(Map::new(m.elem.clone(), entries)))
        }
        Value::List(l) => Value::List(Arc::new(List {
            elem: l.elem.clone(),
            items: l.items.iter().map(deep_copy).collect(),
        })),
        other => other.clone(),
    }
}

/// Go's `v.(map[string]interface{})`.
pub(crate) fn table(v: &Value) -> Option<&Arc<Map>> {
    match v {
        Value::Map(m) if m.elem == GoType::Interface => Some(m),
        _ => None,
    }
}

pub(crate) fn is_table(v: &Value) -> bool {
    table(v).is_some()
}

fn is_nil(v: &Value) -> bool {
    matches!(v, Value::Nil)
}

fn new_map() -> Arc<Map> {
    Arc::new(Map::new(GoType::Interface, BTreeMap::new()))
}

fn snapshot(m: &Map) -> Vec<(rudder_engine::value::Str, Value)> {
    m.read().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

fn go_v(v: &Value) -> String {
    rudder_engine::print::format_v(v)
}

/// Helm's `CoalesceValues(chart, vals)`: user values over the chart's defaults (and its
/// subcharts', scoped under their names), `null` deleting, globals copied down. `vals` is not
/// modified; the result is a new tree (always a map).
pub fn coalesce_values(chart: &Chart, vals: &Value, warnings: &mut Warnings) -> Result<Value, ValuesError> {
    let dest = copy_values(vals);
    coalesce(warnings, chart, &dest, "", false).map(Value::Map)
}

/// Helm's `MergeValues(chart, vals)`: as [`coalesce_values`] but nils are kept (merge mode).
pub fn merge_values(chart: &Chart, vals: &Value, warnings: &mut Warnings) -> Result<Value, ValuesError> {
    let dest = copy_values(vals);
    coalesce(warnings, chart, &dest, "", true).map(Value::Map)
}

fn copy_values(vals: &Value) -> Arc<Map> {
    match deep_copy(vals) {
        Value::Map(m) => m,
        _ => new_map(),
    }
}

fn coalesce(w: &mut Warnings, ch: &Chart, dest: &Arc<Map>, prefix: &str, merge: bool) -> Result<Arc<Map>, ValuesError> {
    coalesce_chart_values(w, ch, dest, prefix, merge);
    coalesce_deps(w, ch, dest, prefix, merge)
}

fn coalesce_deps(w: &mut Warnings, ch: &Chart, dest: &Arc<Map>, prefix: &str, merge: bool) -> Result<Arc<Map>, ValuesError> {
    for sub in &ch.dependencies {
        let name = sub.name();
        let dvmap = match dest.get(name) {
            None => {
                let m = new_map();
                dest.write().insert(name.into(), Value::Map(m.clone()));
                m
            }
            Some(c) => match table(&c) {
                Some(m) => m.clone(),
                None => {
                    let text = rudder_engine::print::sprintf("type mismatch on %s: %t", &[Value::string(name), c]);
                    return Err(ValuesError(text));
                }
            },
        };
        let sub_prefix = concat_prefix(prefix, ch.name());
        coalesce_globals(w, &dvmap, dest, &sub_prefix);
        let out = coalesce(w, sub, &dvmap, &sub_prefix, merge)?;
        dest.write().insert(name.into(), Value::Map(out));
    }
    Ok(dest.clone())
}

/// Copies the parent's `global` (in `src`) into the subchart's values `dest`.
fn coalesce_globals(w: &mut Warnings, dest: &Arc<Map>, src: &Arc<Map>, prefix: &str) {
    let dg = match dest.get(GLOBAL_KEY) {
        None => new_map(),
        Some(v) => match table(&v) {
            Some(m) => m.clone(),
            None => {
                w.push(format!("warning: skipping globals because destination {GLOBAL_KEY} is not a table."));
                return;
            }
        },
    };
    let sg = match src.get(GLOBAL_KEY) {
        None => new_map(),
        Some(v) => match table(&v) {
            Some(m) => m.clone(),
            None => {
                w.push(format!("warning: skipping globals because source {GLOBAL_KEY} is not a table."));
                return;
            }
        },
    };
    for (key, val) in snapshot(&sg) {
        if let Some(vm) = table(&val) {
            // Go's copyMap: a shallow copy; nested tables stay shared with the parent's.
            let vv = Arc::new(vm.shallow_copy());
            match dg.get(&key) {
                None => {
                    dg.write().insert(key, Value::Map(vv));
                }
                Some(destv) => match table(&destv) {
                    None => w.push(format!(
                        "Conflict: cannot merge map onto non-map for {}. Skipping.",
                        rudder_engine::print::quote(&key)
                    )),
                    Some(destvmap) => {
                        let sub_prefix = concat_prefix(prefix, &key);
                        tables_full_key(w, &vv, destvmap, &sub_prefix, true);
                        dg.write().insert(key, Value::Map(vv));
                    }
                },
            }
        } else if dg.get(&key).is_some_and(|dv| is_table(&dv)) {
            w.push(format!("key {key} is table. Skipping"));
        } else {
            dg.write().insert(key, val);
        }
    }
    dest.write().insert(GLOBAL_KEY.into(), Value::Map(dg));
}

fn coalesce_chart_values(w: &mut Warnings, ch: &Chart, v: &Arc<Map>, prefix: &str, merge: bool) {
    let sub_prefix = concat_prefix(prefix, ch.name());
    let vc = match deep_copy(&ch.values) {
        Value::Map(m) => m,
        _ => new_map(),
    };
    for (key, val) in snapshot(&vc) {
        match v.get(&key) {
            Some(value) => {
                if is_nil(&value) && !merge {
                    v.write().remove(&key);
                } else if let Some(dest) = table(&value) {
                    match table(&val) {
                        None => {
                            if !is_nil(&val) {
                                w.push(format!("warning: skipped value for {sub_prefix}.{key}: Not a table."));
                            }
                        }
                        Some(src) => {
                            let merge = child_chart_merge_true(ch, &key, merge);
                            if !merge {
                                clean_nil_values(src);
                            }
                            tables_full_key(w, dest, src, &concat_prefix(&sub_prefix, &key), merge);
                        }
                    }
                }
            }
            None => {
                if !merge {
                    if is_nil(&val) {
                        continue;
                    }
                    if let Some(sub) = table(&val) {
                        clean_nil_values(sub);
                    }
                }
                v.write().insert(key, val);
            }
        }
    }
}

/// A key naming a subchart is merged in merge mode so that the parent's nils reach the subchart.
fn child_chart_merge_true(ch: &Chart, key: &str, merge: bool) -> bool {
    ch.dependencies.iter().any(|d| d.name() == key) || merge
}

/// Helm's `CoalesceTables(dst, src)`: merges `src` into the map `dst` (dst wins), in place;
/// returns `dst` (or `src` when `dst` is not a map). `src` may be modified (nils of `dst` are
/// written into it), as in Go.
pub fn coalesce_tables(dst: &Value, src: &Value, warnings: &mut Warnings) -> Value {
    tables_value(warnings, dst, src, false)
}

/// Helm's `MergeTables(dst, src)`: as [`coalesce_tables`], nils kept.
pub fn merge_tables(dst: &Value, src: &Value, warnings: &mut Warnings) -> Value {
    tables_value(warnings, dst, src, true)
}

fn tables_value(w: &mut Warnings, dst: &Value, src: &Value, merge: bool) -> Value {
    let Some(s) = table(src) else { return dst.clone() };
    let Some(d) = table(dst) else { return src.clone() };
    tables_full_key(w, d, s, "", merge);
    dst.clone()
}

/// Helm's `coalesceTablesFullKey`.
fn tables_full_key(w: &mut Warnings, dst: &Arc<Map>, src: &Arc<Map>, prefix: &str, merge: bool) {
    let src_original_non_nil: std::collections::HashSet<_> =
        src.read().iter().filter(|(_, v)| !is_nil(v)).map(|(k, _)| k.clone()).collect();
    for (key, val) in snapshot(dst) {
        if is_nil(&val) && !Arc::ptr_eq(dst, src) {
            src.write().insert(key, Value::Nil);
        }
    }
    for (key, val) in snapshot(src) {
        let fullkey = concat_prefix(prefix, &key);
        let dv = dst.get(&key);
        match dv {
            Some(Value::Nil) if !merge && src_original_non_nil.contains(&key) => {
                dst.write().remove(&key);
            }
            None => {
                dst.write().insert(key, val);
            }
            Some(dv) => {
                if let Some(vm) = table(&val) {
                    match table(&dv) {
                        Some(dm) => {
                            if !Arc::ptr_eq(dm, vm) {
                                tables_full_key(w, dm, vm, &fullkey, merge);
                            }
                        }
                        None => w.push(format!(
                            "warning: cannot overwrite table with non table for {fullkey} ({})",
                            go_v(&val)
                        )),
                    }
                } else if is_table(&dv) && !is_nil(&val) {
                    w.push(format!(
                        "warning: destination for {fullkey} is a table. Ignoring non-table value ({})",
                        go_v(&val)
                    ));
                }
            }
        }
    }
}

fn clean_nil_values(m: &Arc<Map>) {
    for (key, val) in snapshot(m) {
        if is_nil(&val) {
            m.write().remove(&key);
        } else if let Some(sub) = table(&val) {
            clean_nil_values(sub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(entries: Vec<(&str, Value)>) -> Value {
        Value::map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    #[test]
    fn null_deletes_and_maps_merge() {
        let chart = Chart {
            values: m(vec![("a", Value::float(1.0)), ("b", m(vec![("c", Value::float(2.0)), ("d", Value::float(3.0))]))]),
            ..Default::default()
        };
        let user = m(vec![("a", Value::Nil), ("b", m(vec![("c", Value::Nil)])), ("z", Value::Nil)]);
        let mut w = Vec::new();
        let out = coalesce_values(&chart, &user, &mut w).unwrap();
        assert_eq!(out, m(vec![("b", m(vec![("d", Value::float(3.0))])), ("z", Value::Nil)]));
    }
}
