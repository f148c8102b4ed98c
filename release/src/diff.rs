//! The building blocks of `rudder diff upgrade|rollback|install`: what the helm-diff plugin
//! prints, built in.
//!
//! The caller supplies two sets of objects as the API server shows them: the live objects, and
//! the desired ones (normally the answers of a server-side dry-run apply of the new manifest,
//! so that defaults and webhooks are already applied and only real changes remain;
//! [`server_side_preview`] fetches both for a list of resolved objects). Each
//! object is normalized ([`normalize`]: no managedFields, resourceVersion, uid,
//! creationTimestamp, generation, selfLink or status), rendered to YAML the way
//! `kubectl get -o yaml` prints it (sigs.k8s.io/yaml through `rudder_engine::yaml`: sorted keys,
//! two-space indent), and the two renderings are compared line by line (Myers' algorithm,
//! [`diff_lines`]).
//!
//! Output follows helm-diff v3's default `diff` format:
//!
//! ```text
//! ns, web, Deployment (apps) has changed:
//!   apiVersion: apps/v1
//! ...
//! -   replicas: 1
//! +   replicas: 2
//! ```
//!
//! - The key is helm-diff's: `namespace, name, Kind (apiVersion without its version)`;
//!   cluster-scoped objects get the release namespace, as helm-diff gives them.
//! - Entries come in helm-diff's order: changed objects, then removed, then added, each sorted
//!   by key. Removed objects annotated `helm.sh/resource-policy: keep` are not listed (the
//!   upgrade keeps them).
//! - Context: all lines by default (helm-diff's `--context -1`), else N lines around each
//!   change with `...` for what is left out.
//! - An added or removed object is diffed against an empty document, which gives the lone
//!   `- ` / `+ ` line helm-diff shows above (below) the object.
//! - Colour (ANSI, as mgutz/ansi writes it) only when asked.
//!
//! Secrets (when both sides are Secrets): `stringData` is folded into `data` as the API
//! server would, then every value is replaced by a marker carrying its decoded length:
//! `REDACTED # (N bytes)` when both sides hold the same value, otherwise
//! `-------- # (N bytes)` on the live side and `++++++++ # (N bytes)` on the desired side
//! (helm-diff's default; `SecretMode::Show` leaves the base64 values, `SecretMode::Decoded`
//! shows them decoded as helm-diff's `--show-secrets-decoded`). Unlike helm-diff, whose
//! re-serialisation moves `data` after `metadata`, the masked `data` stays where
//! `kubectl get -o yaml` puts it (sorted keys).
//!
//! [`OutputFormat::Unified`] prints classic unified hunks (`--- `/`+++ `/`@@`) instead, for
//! tools that read patches; [`OutputFormat::Simple`] prints helm-diff's one-line summaries and
//! its `Plan:` line.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// How Secret values appear in the diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretMode {
    /// helm-diff's default: values replaced by `REDACTED`/`--------`/`++++++++` markers.
    #[default]
    Redact,
    /// `--show-secrets`: the base64 values as stored.
    Show,
    /// `--show-secrets-decoded`: the values decoded (lossy UTF-8).
    Decoded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// helm-diff's `diff` output.
    #[default]
    HelmDiff,
    /// Classic unified diff hunks per object.
    Unified,
    /// helm-diff's `simple` output: one line per object and a plan summary.
    Simple,
}

#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Lines of context around changes; `None` shows every line (helm-diff `--context -1`).
    pub context: Option<usize>,
    /// ANSI colours.
    pub color: bool,
    pub secrets: SecretMode,
    /// Kinds whose changes are not shown (`--suppress`), only announced.
    pub suppressed_kinds: Vec<String>,
    /// The namespace given to objects without one (the release namespace).
    pub default_namespace: String,
    pub format: OutputFormat,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            context: None,
            color: false,
            secrets: SecretMode::Redact,
            suppressed_kinds: Vec::new(),
            default_namespace: "default".into(),
            format: OutputFormat::HelmDiff,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Removed,
    Modified,
}

/// One line of a line diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Common(String),
    Removed(String),
    Added(String),
}

/// The diff of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectDiff {
    /// helm-diff's key: `namespace, name, Kind (group-or-v1)`.
    pub key: String,
    pub kind: String,
    pub change: ChangeType,
    pub lines: Vec<Line>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{key}: cannot render as YAML: {message}")]
    Render { key: String, message: String },
    #[error("object without kind or metadata.name: {0}")]
    NoIdentity(String),
    #[error("duplicate object {0}")]
    Duplicate(String),
    /// Reading a live object or the dry-run apply failed (the message names the object).
    #[error("{0}")]
    Kube(String),
}

/// One object of the new manifest, resolved to its API resource by the caller.
#[derive(Debug, Clone)]
pub struct DesiredObject {
    pub api: kube::discovery::ApiResource,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub object: Value,
}

/// An object of the old release that the new manifest no longer has.
#[derive(Debug, Clone)]
pub struct RemovedObject {
    pub api: kube::discovery::ApiResource,
    pub namespace: Option<String>,
    pub name: String,
}

/// Both sides of a diff as the API server sees them: the live objects (those of `desired`
/// that exist, and those of `removed`), and what a server-side apply of each `desired` object
/// by `field_manager` would make of it (a dry run: nothing is changed). Reads and dry runs go
/// out concurrently. Removed objects that are already gone are left out.
pub async fn server_side_preview(
    client: &kube::Client,
    desired: &[DesiredObject],
    removed: &[RemovedObject],
    field_manager: &str,
    force_conflicts: bool,
) -> Result<(Vec<Value>, Vec<Value>), DiffError> {
    use kube::api::{Api, DynamicObject, Patch, PatchParams};
    use kube::discovery::ApiResource;
    fn api_for(client: &kube::Client, ar: &ApiResource, ns: &Option<String>) -> Api<DynamicObject> {
        match ns {
            Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
            None => Api::all_with(client.clone(), ar),
        }
    }
    fn typed(ar: &ApiResource, o: DynamicObject) -> Value {
        let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
        if let Some(m) = v.as_object_mut() {
            m.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
            m.insert("kind".into(), Value::String(ar.kind.clone()));
        }
        v
    }
    fn who(ar: &ApiResource, ns: &Option<String>, name: &str) -> String {
        match ns {
            Some(ns) => format!("{} {ns}/{name}", ar.kind),
            None => format!("{} {name}", ar.kind),
        }
    }
    let mut pp = PatchParams::apply(field_manager);
    pp.dry_run = true;
    pp.force = force_conflicts;

    type Answer = Result<(Option<Value>, Option<Value>), DiffError>;
    let mut set: tokio::task::JoinSet<(usize, Answer)> = tokio::task::JoinSet::new();
    for (i, d) in desired.iter().enumerate() {
        let api = api_for(client, &d.api, &d.namespace);
        let (ar, ns, obj, pp) = (d.api.clone(), d.namespace.clone(), d.object.clone(), pp.clone());
        let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
        set.spawn(async move {
            let id = who(&ar, &ns, &name);
            let run = async {
                let live = api.get_opt(&name).await.map_err(|e| DiffError::Kube(format!("reading {id}: {e}")))?;
                let planned = api
                    .patch(&name, &pp, &Patch::Apply(obj))
                    .await
                    .map_err(|e| DiffError::Kube(format!("dry-run apply of {id}: {e}")))?;
                Ok((live.map(|o| typed(&ar, o)), Some(typed(&ar, planned))))
            };
            (i, run.await)
        });
    }
    let base = desired.len();
    for (j, r) in removed.iter().enumerate() {
        let api = api_for(client, &r.api, &r.namespace);
        let (ar, ns, name) = (r.api.clone(), r.namespace.clone(), r.name.clone());
        set.spawn(async move {
            let live = api
                .get_opt(&name)
                .await
                .map(|o| (o.map(|o| typed(&ar, o)), None))
                .map_err(|e| DiffError::Kube(format!("reading {}: {e}", who(&ar, &ns, &name))));
            (base + j, live)
        });
    }
    let mut answers: Vec<(usize, Answer)> = Vec::with_capacity(desired.len() + removed.len());
    while let Some(r) = set.join_next().await {
        answers.push(r.map_err(|e| DiffError::Kube(format!("preview task failed: {e}")))?);
    }
    answers.sort_by_key(|(i, _)| *i);
    let mut live = Vec::new();
    let mut planned = Vec::new();
    for (_, a) in answers {
        let (l, p) = a?;
        live.extend(l);
        planned.extend(p);
    }
    Ok((live, planned))
}

/// helm-diff's key of an object.
pub fn object_key(obj: &Value, default_namespace: &str) -> Result<String, DiffError> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    if kind.is_empty() || name.is_empty() {
        let mut text = obj.to_string();
        text.truncate(200);
        return Err(DiffError::NoIdentity(text));
    }
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(default_namespace);
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let api_base = match api_version.rsplit_once('/') {
        Some((base, _)) => base,
        None => api_version,
    };
    Ok(format!("{ns}, {name}, {kind} ({api_base})"))
}

/// The object without what the server keeps for itself: `status`, and in `metadata` the
/// managedFields, resourceVersion, uid, creationTimestamp, generation and selfLink. These
/// change on every write and say nothing about what the chart asks for.
pub fn normalize(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"] {
                meta.remove(k);
            }
        }
    }
    v
}

/// The YAML `kubectl get -o yaml` would print for `obj` (sigs.k8s.io/yaml.Marshal).
pub fn to_yaml(obj: &Value) -> Result<String, String> {
    rudder_engine::yaml::to_yaml(&rudder_engine::value::Value::from_json(obj))
}

/// The live and desired sides of all objects, diffed object by object, in helm-diff's order.
pub fn diff_objects(live: &[Value], desired: &[Value], opts: &DiffOptions) -> Result<Vec<ObjectDiff>, DiffError> {
    let index = |objs: &[Value]| -> Result<BTreeMap<String, Value>, DiffError> {
        let mut map = BTreeMap::new();
        for o in objs {
            let key = object_key(o, &opts.default_namespace)?;
            if map.insert(key.clone(), normalize(o)).is_some() {
                return Err(DiffError::Duplicate(key));
            }
        }
        Ok(map)
    };
    let old = index(live)?;
    let new = index(desired)?;
    let mut out = Vec::new();
    for (key, o) in &old {
        if let Some(n) = new.get(key) {
            if let Some(d) = diff_pair(key, Some(o), Some(n), opts)? {
                out.push(d);
            }
        }
    }
    for (key, o) in &old {
        let keep = o.pointer("/metadata/annotations/helm.sh~1resource-policy").and_then(Value::as_str) == Some("keep");
        if !new.contains_key(key) && !keep {
            out.extend(diff_pair(key, Some(o), None, opts)?);
        }
    }
    for (key, n) in &new {
        if !old.contains_key(key) {
            out.extend(diff_pair(key, None, Some(n), opts)?);
        }
    }
    Ok(out)
}

fn diff_pair(key: &str, old: Option<&Value>, new: Option<&Value>, opts: &DiffOptions) -> Result<Option<ObjectDiff>, DiffError> {
    let kind = old.or(new).and_then(|o| o.get("kind")).and_then(Value::as_str).unwrap_or("").to_string();
    let (mut old, mut new) = (old.cloned(), new.cloned());
    let both_secrets = [&old, &new].iter().all(|o| o.as_ref().is_none_or(|o| o.get("kind").and_then(Value::as_str) == Some("Secret")));
    if both_secrets && kind == "Secret" {
        mask_secrets(old.as_mut(), new.as_mut(), opts.secrets);
    }
    let render = |o: &Option<Value>| -> Result<String, DiffError> {
        match o {
            None => Ok(String::new()),
            Some(o) => to_yaml(o)
                .map(|s| s.trim_end_matches('\n').to_string())
                .map_err(|message| DiffError::Render { key: key.to_string(), message }),
        }
    };
    let (a, b) = (render(&old)?, render(&new)?);
    let change = match (&old, &new) {
        (None, _) => ChangeType::Added,
        (_, None) => ChangeType::Removed,
        _ => ChangeType::Modified,
    };
    if change == ChangeType::Modified && a == b {
        return Ok(None);
    }
    let a_lines: Vec<&str> = a.split('\n').collect();
    let b_lines: Vec<&str> = b.split('\n').collect();
    let lines = diff_lines(&a_lines, &b_lines);
    Ok(Some(ObjectDiff { key: key.to_string(), kind, change, lines }))
}

/// Folds `stringData` into `data` (as the API server does) and applies `mode` to the values.
fn mask_secrets(old: Option<&mut Value>, new: Option<&mut Value>, mode: SecretMode) {
    fn fold(s: &mut Value) -> BTreeMap<String, Vec<u8>> {
        let mut data = BTreeMap::new();
        if let Some(d) = s.get("data").and_then(Value::as_object) {
            for (k, v) in d {
                let text = v.as_str().unwrap_or("");
                data.insert(k.clone(), base64_decode(text).unwrap_or_else(|| text.as_bytes().to_vec()));
            }
        }
        if let Some(d) = s.get("stringData").and_then(Value::as_object) {
            for (k, v) in d {
                data.insert(k.clone(), v.as_str().unwrap_or("").as_bytes().to_vec());
            }
        }
        if let Some(m) = s.as_object_mut() {
            m.remove("stringData");
        }
        data
    }
    let mut old = old;
    let mut new = new;
    let old_data = old.as_deref_mut().map(fold);
    let new_data = new.as_deref_mut().map(fold);
    let write = |obj: Option<&mut Value>, mine: &Option<BTreeMap<String, Vec<u8>>>, theirs: &Option<BTreeMap<String, Vec<u8>>>, marker: &str| {
        let (Some(obj), Some(mine)) = (obj, mine) else { return };
        let mut out = Map::new();
        for (k, v) in mine {
            let shown = match mode {
                SecretMode::Show => base64_encode(v),
                SecretMode::Decoded => String::from_utf8_lossy(v).into_owned(),
                SecretMode::Redact => {
                    let same = theirs.as_ref().and_then(|t| t.get(k)) == Some(v);
                    format!("{} # ({} bytes)", if same { "REDACTED" } else { marker }, v.len())
                }
            };
            out.insert(k.clone(), Value::String(shown));
        }
        if let Some(m) = obj.as_object_mut() {
            if out.is_empty() {
                m.remove("data");
            } else {
                m.insert("data".into(), Value::Object(out));
            }
        }
    };
    write(old, &old_data, &new_data, "--------");
    write(new, &new_data, &old_data, "++++++++");
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    let trimmed = s.trim_end_matches('=');
    if s.len() - trimmed.len() > 2 {
        return None;
    }
    for c in trimmed.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn base64_encode(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &x)| acc | (x as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The shortest edit script between two line lists (Myers 1986, greedy forward search with the
/// furthest-reaching paths kept per step, then a backtrack). Deletions come before insertions
/// within a change.
pub fn diff_lines(a: &[&str], b: &[&str]) -> Vec<Line> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = (n + m) as usize;
    let off = max as isize + 1;
    let at = |k: isize| (off + k) as usize;
    let mut v = vec![0isize; 2 * max + 3];
    // trace[d] is V as it stood before step d.
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let mut found = 0isize;
    'outer: for d in 0..=max as isize {
        trace.push(v.clone());
        let mut k = -d;
        while k <= d {
            let down = k == -d || (k != d && v[at(k - 1)] < v[at(k + 1)]);
            let mut x = if down { v[at(k + 1)] } else { v[at(k - 1)] + 1 };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[at(k)] = x;
            if x >= n && y >= m {
                found = d;
                break 'outer;
            }
            k += 2;
        }
    }
    let mut out = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (1..=found).rev() {
        let v = &trace[d as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && v[at(k - 1)] < v[at(k + 1)]) { k + 1 } else { k - 1 };
        let prev_x = v[at(prev_k)];
        let prev_y = prev_x - prev_k;
        // The snake after the edit, walked back.
        let (mid_x, mid_y) = if prev_k == k + 1 { (prev_x, prev_y + 1) } else { (prev_x + 1, prev_y) };
        while x > mid_x && y > mid_y {
            x -= 1;
            y -= 1;
            out.push(Line::Common(a[x as usize].to_string()));
        }
        if prev_k == k + 1 {
            out.push(Line::Added(b[prev_y as usize].to_string()));
        } else {
            out.push(Line::Removed(a[prev_x as usize].to_string()));
        }
        x = prev_x;
        y = prev_y;
    }
    while x > 0 && y > 0 {
        x -= 1;
        y -= 1;
        out.push(Line::Common(a[x as usize].to_string()));
    }
    out.reverse();
    normalize_order(out)
}

/// Within each run of changes, removed lines first, then added ones (as helm-diff shows them).
fn normalize_order(lines: Vec<Line>) -> Vec<Line> {
    let mut out = Vec::with_capacity(lines.len());
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for l in lines {
        match l {
            Line::Common(_) => {
                out.append(&mut removed);
                out.append(&mut added);
                out.push(l);
            }
            Line::Removed(_) => removed.push(l),
            Line::Added(_) => added.push(l),
        }
    }
    out.append(&mut removed);
    out.append(&mut added);
    out
}

// ---------------------------------------------------------------------------------------------
// Printing

const RESET: &str = "\x1b[0m";

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}{RESET}")
    } else {
        text.to_string()
    }
}

fn style(change: ChangeType, format: OutputFormat) -> (&'static str, &'static str) {
    match (change, format) {
        (ChangeType::Added, OutputFormat::Simple) => ("32", "to be added."),
        (ChangeType::Removed, OutputFormat::Simple) => ("31", "to be removed."),
        (ChangeType::Modified, OutputFormat::Simple) => ("33", "to be changed."),
        (ChangeType::Added, _) => ("32", "has been added:"),
        (ChangeType::Removed, _) => ("31", "has been removed:"),
        (ChangeType::Modified, _) => ("33", "has changed:"),
    }
}

/// The report as `rudder diff` prints it.
pub fn render_report(diffs: &[ObjectDiff], opts: &DiffOptions) -> String {
    let mut out = String::new();
    match opts.format {
        OutputFormat::Simple => {
            let (mut add, mut change, mut remove) = (0, 0, 0);
            for d in diffs {
                let (code, msg) = style(d.change, opts.format);
                out.push_str(&paint(&format!("{} {msg}", d.key), code, opts.color));
                out.push('\n');
                match d.change {
                    ChangeType::Added => add += 1,
                    ChangeType::Removed => remove += 1,
                    ChangeType::Modified => change += 1,
                }
            }
            out.push_str(&format!("Plan: {add} to add, {change} to change, {remove} to destroy, 0 to change ownership.\n"));
        }
        OutputFormat::HelmDiff => {
            for d in diffs {
                let (code, msg) = style(d.change, opts.format);
                out.push_str(&paint(&format!("{} {msg}", d.key), code, opts.color));
                out.push('\n');
                if opts.suppressed_kinds.iter().any(|k| *k == d.kind) {
                    let text = format!("+ Changes suppressed on sensitive content of type {}\n", d.kind);
                    out.push_str(&paint(&text, "33", opts.color));
                    continue;
                }
                out.push_str(&helm_diff_lines(&d.lines, opts.context, opts.color));
            }
        }
        OutputFormat::Unified => {
            for d in diffs {
                let (code, msg) = style(d.change, opts.format);
                out.push_str(&paint(&format!("{} {msg}", d.key), code, opts.color));
                out.push('\n');
                if opts.suppressed_kinds.iter().any(|k| *k == d.kind) {
                    continue;
                }
                out.push_str(&unified(d, opts.context.unwrap_or(3), opts.color));
            }
        }
    }
    out
}

/// helm-diff's line printing: `+ `/`- `/`  ` prefixes, an empty common line as a bare newline,
/// and with a context, `...` in place of each run of lines further than `context` from a change.
pub fn helm_diff_lines(lines: &[Line], context: Option<usize>, color: bool) -> String {
    let mut out = String::new();
    let dist = distances(lines);
    let mut omitting = false;
    for (i, l) in lines.iter().enumerate() {
        if let Some(c) = context {
            if dist[i] > c {
                if !omitting {
                    out.push_str("...\n");
                    omitting = true;
                }
                continue;
            }
            omitting = false;
        }
        match l {
            Line::Added(t) => out.push_str(&paint(&format!("+ {t}"), "32", color)),
            Line::Removed(t) => out.push_str(&paint(&format!("- {t}"), "31", color)),
            Line::Common(t) if t.is_empty() => {}
            Line::Common(t) => {
                out.push_str("  ");
                out.push_str(t);
            }
        }
        out.push('\n');
    }
    out
}

/// Distance of every line to the nearest change.
fn distances(lines: &[Line]) -> Vec<usize> {
    let mut d = vec![usize::MAX; lines.len()];
    let mut last: Option<usize> = None;
    for (i, l) in lines.iter().enumerate() {
        if !matches!(l, Line::Common(_)) {
            last = Some(i);
        }
        if let Some(c) = last {
            d[i] = i - c;
        }
    }
    last = None;
    for i in (0..lines.len()).rev() {
        if !matches!(lines[i], Line::Common(_)) {
            last = Some(i);
        }
        if let Some(c) = last {
            d[i] = d[i].min(c - i);
        }
    }
    d
}

/// Unified hunks (`@@ -a,b +c,d @@`) of one object, `context` lines around each change.
pub fn unified(d: &ObjectDiff, context: usize, color: bool) -> String {
    let (from, to) = match d.change {
        ChangeType::Added => ("/dev/null".to_string(), format!("b/{}", d.key)),
        ChangeType::Removed => (format!("a/{}", d.key), "/dev/null".to_string()),
        ChangeType::Modified => (format!("a/{}", d.key), format!("b/{}", d.key)),
    };
    // An added/removed object is compared with an empty document: drop that phantom line.
    let lines: Vec<&Line> = d
        .lines
        .iter()
        .filter(|l| !matches!((d.change, l), (ChangeType::Added, Line::Removed(t)) | (ChangeType::Removed, Line::Added(t)) if t.is_empty()))
        .collect();
    let mut out = format!("--- {from}\n+++ {to}\n");
    // Positions (old line, new line) before each entry.
    let mut pos = Vec::with_capacity(lines.len());
    let (mut a, mut b) = (0usize, 0usize);
    for l in &lines {
        pos.push((a, b));
        match l {
            Line::Common(_) => {
                a += 1;
                b += 1;
            }
            Line::Removed(_) => a += 1,
            Line::Added(_) => b += 1,
        }
    }
    let changes: Vec<usize> = (0..lines.len()).filter(|&i| !matches!(lines[i], Line::Common(_))).collect();
    let mut i = 0;
    while i < changes.len() {
        let start = changes[i].saturating_sub(context);
        let mut end = changes[i];
        while i + 1 < changes.len() && changes[i + 1] <= end + 2 * context + 1 {
            i += 1;
            end = changes[i];
        }
        let end = (end + context + 1).min(lines.len());
        let (a0, b0) = pos[start];
        let (mut na, mut nb) = (0, 0);
        for l in &lines[start..end] {
            match l {
                Line::Common(_) => {
                    na += 1;
                    nb += 1;
                }
                Line::Removed(_) => na += 1,
                Line::Added(_) => nb += 1,
            }
        }
        let range = |s: usize, n: usize| if n == 0 { format!("{s},0") } else if n == 1 { format!("{}", s + 1) } else { format!("{},{n}", s + 1) };
        out.push_str(&paint(&format!("@@ -{} +{} @@", range(a0, na), range(b0, nb)), "36", color));
        out.push('\n');
        for l in &lines[start..end] {
            match l {
                Line::Common(t) => out.push_str(&format!(" {t}")),
                Line::Removed(t) => out.push_str(&paint(&format!("-{t}"), "31", color)),
                Line::Added(t) => out.push_str(&paint(&format!("+{t}"), "32", color)),
            }
            out.push('\n');
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(a: &str, b: &str) -> String {
        let a: Vec<&str> = a.split('\n').collect();
        let b: Vec<&str> = b.split('\n').collect();
        diff_lines(&a, &b)
            .iter()
            .map(|l| match l {
                Line::Common(t) => format!(" {t}"),
                Line::Removed(t) => format!("-{t}"),
                Line::Added(t) => format!("+{t}"),
            })
            .collect::<Vec<_>>()
            .join("|")
    }

    #[test]
    fn myers_edit_scripts() {
        assert_eq!(script("a\nb\nc", "a\nb\nc"), " a| b| c");
        assert_eq!(script("a\nb\nc", "a\nx\nc"), " a|-b|+x| c");
        assert_eq!(script("", "a\nb"), "-|+a|+b");
        assert_eq!(script("a\nb", ""), "-a|-b|+");
        assert_eq!(script("a\nb\nc\nd", "b\nc\nd\ne"), "-a| b| c| d|+e");
        // Every line of both inputs is accounted for, in order.
        let a = "x\ny\nz\nx\ny\nz\nq";
        let b = "y\nz\nx\nq\nx\ny\nw";
        let s = script(a, b);
        let old: Vec<&str> = s.split('|').filter(|l| !l.starts_with('+')).map(|l| &l[1..]).collect();
        let new: Vec<&str> = s.split('|').filter(|l| !l.starts_with('-')).map(|l| &l[1..]).collect();
        assert_eq!(old.join("\n"), a);
        assert_eq!(new.join("\n"), b);
    }

    #[test]
    fn base64_round_trip() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let e = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&e).unwrap(), s.as_bytes(), "{e}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert!(base64_decode("not base64!").is_none());
    }
}
