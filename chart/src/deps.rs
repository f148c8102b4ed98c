//! Dependency processing (Helm v4.3.1: pkg/chart/v2/util/dependencies.go `ProcessDependencies`,
//! pkg/action/install.go `CheckDependencies`).
//!
//! Version constraints are checked with [`crate::semver::is_compatible_range`] (the engine's
//! Masterminds/semver v3.5.0 port).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use rudder_engine::{GoType, Map, Value};

use crate::model::{Chart, Dependency};
use crate::semver::is_compatible_range;
use crate::values::coalesce::{deep_copy, merge_tables, table};
use crate::values::{coalesce_values, merge_values, ValuesError, Warnings};

/// Helm's `ProcessDependencies(chart, userValues)`: matches `charts/` to declared dependencies
/// (name + version constraint), applies aliases, tags then conditions, removes disabled charts
/// recursively, then processes import-values bottom-up (merge mode), replacing each chart's
/// `values` with the merged result.
pub fn process_dependencies(chart: &mut Chart, vals: &Value, warnings: &mut Warnings) -> Result<(), ValuesError> {
    process_enabled(chart, vals, "", warnings)?;
    process_import_values_deep(chart, warnings)
}

fn get_alias_dependency(charts: &[Chart], dep: &Dependency) -> Option<Chart> {
    let c = charts
        .iter()
        .find(|c| c.name() == dep.name && is_compatible_range(&dep.version, &c.metadata.version))?;
    let mut out = c.clone();
    if !dep.alias.is_empty() {
        out.metadata.name = dep.alias.clone();
    }
    Some(out)
}

fn process_enabled(c: &mut Chart, v: &Value, path: &str, w: &mut Warnings) -> Result<(), ValuesError> {
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let mut chart_deps: Vec<Chart> = c
        .dependencies
        .iter()
        .filter(|existing| {
            !c.metadata
                .dependencies
                .iter()
                .any(|req| existing.name() == req.name && is_compatible_range(&req.version, &existing.metadata.version))
        })
        .cloned()
        .collect();
    for req in &mut c.metadata.dependencies {
        if let Some(cd) = get_alias_dependency(&c.dependencies, req) {
            chart_deps.push(cd);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    c.dependencies = chart_deps;
    for req in &mut c.metadata.dependencies {
        req.enabled = true;
    }
    let cvals = coalesce_values(c, v, w)?;
    process_tags(&mut c.metadata.dependencies, &cvals, w);
    process_conditions(&mut c.metadata.dependencies, &cvals, path, w);
    let rm: HashSet<String> = c.metadata.dependencies.iter().filter(|r| !r.enabled).map(|r| r.name.clone()).collect();
    let mut cd: Vec<Chart> = std::mem::take(&mut c.dependencies)
        .into_iter()
        .filter(|n| !rm.contains(n.name()))
        .collect();
    let cd_meta: Vec<Dependency> = c.metadata.dependencies.iter().filter(|n| !rm.contains(&n.name)).cloned().collect();
    for t in &mut cd {
        let subpath = format!("{path}{}.", t.name());
        process_enabled(t, &cvals, &subpath, w)?;
    }
    c.metadata.dependencies = cd_meta;
    c.dependencies = cd;
    Ok(())
}

fn process_tags(reqs: &mut [Dependency], cvals: &Value, w: &mut Warnings) {
    let Some(vt) = table_at(cvals, "tags") else { return };
    for r in reqs.iter_mut() {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            if let Some(b) = vt.get(k) {
                match b {
                    Value::Bool(true) => has_true = true,
                    Value::Bool(false) => has_false = true,
                    _ => w.push(format!("returned non-bool value tag={k} chart={}", r.name)),
                }
            }
        }
        if !has_true && has_false {
            r.enabled = false;
        } else {
            r.enabled = true;
        }
    }
}

fn process_conditions(reqs: &mut [Dependency], cvals: &Value, cpath: &str, w: &mut Warnings) {
    for r in reqs.iter_mut() {
        for c in r.condition.trim().split(',') {
            if c.is_empty() {
                continue;
            }
            if let Some(vv) = path_value(cvals, &format!("{cpath}{c}")) {
                if let Value::Bool(b) = vv {
                    r.enabled = b;
                    break;
                }
                w.push(format!("returned non-bool value path={c} chart={}", r.name));
            }
        }
    }
}

/// Helm's `Values.Table(name)`: the table at a dotted path (shared, not copied).
pub(crate) fn table_at(v: &Value, name: &str) -> Option<Arc<Map>> {
    let mut cur = table(v)?.clone();
    for n in name.split('.') {
        let next = cur.get(n)?;
        cur = table(&next)?.clone();
    }
    Some(cur)
}

/// Helm's `Values.PathValue(path)`: a non-table value at a dotted path.
fn path_value(v: &Value, path: &str) -> Option<Value> {
    let parts: Vec<&str> = path.split('.').collect();
    let (key, parent) = parts.split_last()?;
    let t = if parent.is_empty() { table(v)?.clone() } else { table_at(v, &parent.join("."))? };
    let val = t.get(key)?;
    if table(&val).is_some() {
        return None;
    }
    Some(val)
}

fn path_to_map(path: &str, data: Arc<Map>) -> Value {
    if path == "." {
        return Value::Map(data);
    }
    let mut cur = Value::Map(data);
    for p in path.split('.').rev() {
        let mut m = BTreeMap::new();
        m.insert(p.into(), cur);
        cur = Value::map(m);
    }
    cur
}

fn process_import_values_deep(c: &mut Chart, w: &mut Warnings) -> Result<(), ValuesError> {
    for d in &mut c.dependencies {
        process_import_values_deep(d, w)?;
    }
    process_import_values(c, w)
}

fn string_map(child: &str, parent: &str) -> Value {
    let mut m = BTreeMap::new();
    m.insert("child".into(), Value::string(child));
    m.insert("parent".into(), Value::string(parent));
    Value::Map(Arc::new(Map::new(GoType::String, m)))
}

/// Helm's `processImportValues(c, merge=true)`.
fn process_import_values(c: &mut Chart, w: &mut Warnings) -> Result<(), ValuesError> {
    if c.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = merge_values(c, &Value::Nil, w)?;
    let mut b = Value::empty_map();
    for r in &mut c.metadata.dependencies {
        let mut outiv = Vec::new();
        for riv in &r.import_values {
            match riv {
                Value::Map(iv) if iv.elem == GoType::Interface => {
                    let fmt_v = |k: &str| rudder_engine::print::format_v(&iv.get(k).unwrap_or(Value::Nil));
                    let (child, parent) = (fmt_v("child"), fmt_v("parent"));
                    outiv.push(string_map(&child, &parent));
                    let Some(vv) = table_at(&cvals, &format!("{}.{child}", r.name)) else {
                        w.push(format!("ImportValues missing table from chart chart={} child={child}", r.name));
                        continue;
                    };
                    b = merge_tables(&b, &path_to_map(&parent, vv), w);
                }
                Value::String(iv) => {
                    let child = format!("exports.{iv}");
                    outiv.push(string_map(&child, "."));
                    let Some(vm) = table_at(&cvals, &format!("{}.{child}", r.name)) else {
                        w.push(format!("ImportValues missing table chart={} child={child}", r.name));
                        continue;
                    };
                    b = merge_tables(&b, &Value::Map(vm), w);
                }
                _ => {}
            }
        }
        r.import_values = outiv;
    }
    let cvals = deep_copy(&cvals);
    c.values = merge_tables(&cvals, &b, w);
    Ok(())
}

/// Helm's `CheckDependencies`: every declared dependency has a chart of that name in `charts/`;
/// otherwise `found in Chart.yaml, but missing in charts/ directory: a, b`.
pub fn check_dependencies(chart: &Chart) -> Result<(), String> {
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !chart.dependencies.iter().any(|d| d.name() == r.name))
        .map(|r| r.name.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("found in Chart.yaml, but missing in charts/ directory: {}", missing.join(", ")))
    }
}
