//! The `needs` graph as helmfile v1.8.0 plans it (pkg/state/state_run.go
//! `GroupReleasesByDependency` over github.com/variantdev/dag): releases grouped by depth, each
//! group in definition order, and helmfile's errors for cycles and undefined needs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rudder_engine::Value;

use super::{get, list_items, str_of};

/// helmfile's ReleaseToID: `[kubeContext/][namespace/]name`, with `ctx//name` when only the
/// context is set.
pub fn release_id(rel: &BTreeMap<String, Value>) -> String {
    let kc = str_of(&get(rel, "kubeContext"));
    let ns = str_of(&get(rel, "namespace"));
    let mut id = String::new();
    if !kc.is_empty() {
        id.push_str(&kc);
        id.push('/');
    }
    if !ns.is_empty() {
        id.push_str(&ns);
        id.push('/');
    }
    if !kc.is_empty() && ns.is_empty() {
        id.push('/');
    }
    id.push_str(&str_of(&get(rel, "name")));
    id
}

/// The release's `needs` (already rewritten to ids by the loader).
pub fn needs(rel: &BTreeMap<String, Value>) -> Vec<String> {
    list_items(&get(rel, "needs")).iter().map(str_of).collect()
}

/// Plans `releases` into groups of indices (every group's needs are in earlier groups).
pub fn plan(releases: &[BTreeMap<String, Value>]) -> Result<Vec<Vec<usize>>, String> {
    let ids: Vec<String> = releases.iter().map(release_id).collect();
    // Last definition of an id wins the index (helmfile's idToIndex), all definitions are kept.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut nodes: Vec<&str> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if !index.contains_key(id.as_str()) {
            nodes.push(id);
        }
        index.insert(id, i);
    }
    let mut outputs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut inputs: HashMap<String, usize> = HashMap::new();
    for (i, rel) in releases.iter().enumerate() {
        for n in needs(rel) {
            if outputs.entry(n.clone()).or_default().insert(ids[i].clone()) {
                *inputs.entry(ids[i].clone()).or_default() += 1;
            }
        }
    }
    for (dep, dependents) in &outputs {
        if !index.contains_key(dep.as_str()) {
            let quoted: Vec<String> = dependents.iter().map(|d| format!("{d:?}")).collect();
            let name = dep.rsplit('/').next().unwrap_or(dep);
            return Err(format!(
                "release(s) {} depend(s) on an undefined release {dep:?}. Perhaps you made a typo in \"needs\" or forgot defining a release named {name:?} with appropriate \"namespace\" and \"kubeContext\"?",
                quoted.join(", ")
            ));
        }
    }
    let mut remaining = outputs.clone();
    let mut left = inputs.clone();
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut current: Vec<String> = nodes
        .iter()
        .filter(|n| left.get(**n).copied().unwrap_or(0) == 0)
        .map(|n| n.to_string())
        .collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for n in &current {
            for m in remaining.remove(n).unwrap_or_default() {
                let c = left.entry(m.clone()).or_default();
                *c -= 1;
                if *c == 0 {
                    next.push(m);
                }
            }
        }
        groups.push(std::mem::take(&mut current));
        current = next;
    }
    let mut stuck: Vec<&String> = left
        .iter()
        .filter(|(_, c)| **c > 0)
        .map(|(id, _)| id)
        .collect();
    if !stuck.is_empty() {
        stuck.sort();
        let start = stuck
            .iter()
            .find(|id| remaining.get(id.as_str()).is_some_and(|s| !s.is_empty()));
        let mut cur = start.map(|s| s.to_string()).unwrap_or_default();
        let mut seen = BTreeSet::new();
        let mut path = Vec::new();
        while seen.insert(cur.clone()) {
            path.push(cur.clone());
            match remaining.get(&cur).and_then(|s| s.iter().next()) {
                Some(n) => cur = n.clone(),
                None => break,
            }
        }
        path.push(cur);
        return Err(format!("cycle detected: {}", path.join(" -> ")));
    }
    Ok(groups
        .into_iter()
        .map(|g| {
            let mut idx: Vec<usize> = g.iter().map(|id| index[id.as_str()]).collect();
            idx.sort();
            // Every definition of each id, in definition order.
            let mut all = Vec::new();
            for i in idx {
                for (j, id) in ids.iter().enumerate() {
                    if *id == ids[i] {
                        all.push(j);
                    }
                }
            }
            all
        })
        .collect())
}

/// `helmfile show-dag`'s table for one state (tabwriter, minwidth 0, padding 1, trailing
/// whitespace trimmed).
pub fn show_dag(releases: &[BTreeMap<String, Value>]) -> Result<String, String> {
    let groups = plan(releases)?;
    let mut rows = vec![vec![
        "GROUP".to_string(),
        "RELEASE".into(),
        "DEPENDENCIES".into(),
    ]];
    for (g, idx) in groups.iter().enumerate() {
        for &i in idx {
            rows.push(vec![
                (g + 1).to_string(),
                release_id(&releases[i]),
                needs(&releases[i]).join(", "),
            ]);
        }
    }
    let widths: Vec<usize> = (0..2)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0) + 1)
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if c < 2 {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count()));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}
