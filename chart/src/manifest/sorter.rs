//! Helm's `SortManifests` (pkg/release/v1/util/manifest_sorter.go): rendered files are split into
//! documents, each document's head (`apiVersion`, `kind`, `metadata.name`,
//! `metadata.annotations`) is read, hooks are taken out, and both lists are sorted by kind.

use std::collections::BTreeMap;

use rudder_engine::Value;

use super::sort::sort_by_kind;
use super::split::{go_is_space, split_manifests};

/// Helm's `SimpleHead`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimpleHead {
    pub version: String,
    pub kind: String,
    /// `None` when the document has no (or a null) `metadata`.
    pub metadata: Option<HeadMetadata>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeadMetadata {
    pub name: String,
    /// `None` for a missing or null `annotations`.
    pub annotations: Option<BTreeMap<String, String>>,
}

/// A non-hook document of a rendered file.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// The template name (`<chart>/templates/x.yaml`).
    pub name: String,
    pub content: String,
    pub head: SimpleHead,
}

/// A hook (Helm: `release.Hook`, the fields known before it runs).
#[derive(Clone, Debug, PartialEq)]
pub struct Hook {
    pub name: String,
    pub kind: String,
    pub path: String,
    pub manifest: String,
    /// Lower-cased event names (`test-success` already mapped to `test`).
    pub events: Vec<String>,
    pub weight: i64,
    pub delete_policies: Vec<String>,
    pub output_log_policies: Vec<String>,
}

pub const HOOK_ANNOTATION: &str = "helm.sh/hook";
pub const HOOK_WEIGHT_ANNOTATION: &str = "helm.sh/hook-weight";
pub const HOOK_DELETE_ANNOTATION: &str = "helm.sh/hook-delete-policy";
pub const HOOK_OUTPUT_LOG_ANNOTATION: &str = "helm.sh/hook-output-log-policy";

fn hook_event(name: &str) -> Option<&'static str> {
    Some(match name {
        "pre-install" => "pre-install",
        "post-install" => "post-install",
        "pre-delete" => "pre-delete",
        "post-delete" => "post-delete",
        "pre-upgrade" => "pre-upgrade",
        "post-upgrade" => "post-upgrade",
        "pre-rollback" => "pre-rollback",
        "post-rollback" => "post-rollback",
        "test" | "test-success" => "test",
        _ => return None,
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Int(..) | Value::Uint(..) | Value::Float(..) => "number",
        Value::String(_) => "string",
        Value::List(_) | Value::Bytes(_) => "array",
        Value::Map(_) => "object",
        _ => "null",
    }
}

/// sigs.k8s.io/yaml's conversion of a YAML scalar into a string destination; `None` for a
/// value of the wrong kind (the JSON type error), `Some("")` for null.
fn as_string_target(v: &Value) -> Option<String> {
    match v {
        Value::Nil | Value::Missing => Some(String::new()),
        Value::String(s) => Some(s.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i, _) => Some(i.to_string()),
        Value::Uint(u, _) => Some(u.to_string()),
        Value::Float(f, _) => Some(if f.fract() == 0.0 && f.abs() < 1e15 {
            format!("{}", *f as i64)
        } else {
            rudder_engine::print::format_v(v)
        }),
        _ => None,
    }
}

const PREFIX: &str = "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal";

fn field_err(v: &Value, field: &str, ty: &str) -> String {
    format!("{PREFIX} {} into Go struct field SimpleHead.{field} of type {ty}", json_kind(v))
}

/// `yaml.Unmarshal(doc, &SimpleHead{})`, with its errors.
pub fn parse_head(doc: &str) -> Result<SimpleHead, String> {
    // Only these keys are read; the rest of the document needs checking, not building.
    let v = match rudder_engine::yaml::from_yaml_top_level(doc, &["apiVersion", "kind", "metadata"]) {
        Some(v) => v,
        None => rudder_engine::yaml::from_yaml(doc).map_err(|e| {
            if e.starts_with("error converting YAML to JSON") || e.starts_with("error unmarshaling JSON") {
                e
            } else {
                format!("error converting YAML to JSON: {e}")
            }
        })?,
    };
    let mut head = SimpleHead::default();
    let m = match &v {
        Value::Map(m) => m.clone(),
        Value::Nil | Value::Missing => return Ok(head),
        other => return Err(format!("{PREFIX} {} into Go value of type util.SimpleHead", json_kind(other))),
    };
    let m = m.read();
    if let Some(x) = m.get("apiVersion") {
        head.version = as_string_target(x).ok_or_else(|| field_err(x, "apiVersion", "string"))?;
    }
    if let Some(x) = m.get("kind") {
        head.kind = as_string_target(x).ok_or_else(|| field_err(x, "kind", "string"))?;
    }
    match m.get("metadata") {
        None | Some(Value::Nil) => {}
        Some(Value::Map(md)) => {
            let md = md.read();
            let mut hm = HeadMetadata::default();
            match md.get("annotations") {
                None | Some(Value::Nil) => {}
                Some(Value::Map(an)) => {
                    let mut out = BTreeMap::new();
                    for (k, x) in an.read().iter() {
                        let s = as_string_target(x).ok_or_else(|| field_err(x, "metadata.annotations", "string"))?;
                        out.insert(k.to_string(), s);
                    }
                    hm.annotations = Some(out);
                }
                Some(x) => return Err(field_err(x, "metadata.annotations", "map[string]string")),
            }
            if let Some(x) = md.get("name") {
                hm.name = as_string_target(x).ok_or_else(|| field_err(x, "metadata.name", "string"))?;
            }
            head.metadata = Some(hm);
        }
        Some(x) => {
            return Err(field_err(
                x,
                "metadata",
                "struct { Name string \"json:\\\"name\\\"\"; Annotations map[string]string \"json:\\\"annotations\\\"\" }",
            ))
        }
    }
    Ok(head)
}

/// A value as slog's text handler writes it: quoted (Go's `strconv.Quote`) when empty or holding
/// a space, `=`, `"` or an unprintable character.
pub fn slog_value(s: &str) -> String {
    let needs = s.is_empty() || s.chars().any(|c| c == ' ' || c == '=' || c == '"' || !rudder_engine::print::is_print(c));
    if needs {
        rudder_engine::print::quote(s)
    } else {
        s.to_string()
    }
}

/// Go's `strconv.Atoi`, 0 on error.
fn atoi(s: &str) -> i64 {
    let t = s.strip_prefix('+').unwrap_or(s);
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) if !s.starts_with('+') => (true, d),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    match digits.parse::<i64>() {
        Ok(n) => {
            if neg {
                -n
            } else {
                n
            }
        }
        Err(_) => 0,
    }
}

/// Below this much rendered text the document heads are read on the calling thread.
const PARALLEL_HEADS_MIN: usize = 256 * 1024;

/// Helm's `SortManifests(files, nil, InstallOrder)` (or another kind order).
pub fn sort_manifests(files: &BTreeMap<String, String>, order: &[&str]) -> Result<(Vec<Hook>, Vec<Manifest>), String> {
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    let mut docs: Vec<(&String, &str)> = Vec::new();
    for (path, content) in files {
        if crate::render::objects::go_path_base(path).starts_with('_') {
            continue;
        }
        if content.trim_matches(go_is_space).is_empty() {
            continue;
        }
        docs.extend(split_manifests(content).into_iter().map(|m| (path, m)));
    }
    // Reading a head decodes the whole document (as sigs.k8s.io/yaml does, so that any YAML
    // error surfaces); the documents are independent, so big renders read them on two threads.
    let total: usize = docs.iter().map(|(_, m)| m.len()).sum();
    let threads = if total < PARALLEL_HEADS_MIN { 1 } else { rudder_engine::par::threads(2) };
    let heads = rudder_engine::par::map_indexed(docs.len(), threads, &|i| parse_head(docs[i].1));
    for ((path, m), head) in docs.into_iter().zip(heads) {
        let head = head.map_err(|e| format!("YAML parse error on {path}: {e}"))?;
        let annotations = head.metadata.as_ref().and_then(|md| md.annotations.as_ref()).filter(|a| !a.is_empty());
        let Some(hook_types) = annotations.and_then(|a| a.get(HOOK_ANNOTATION)) else {
            generic.push(Manifest { name: path.clone(), content: m.to_string(), head });
            continue;
        };
        let ann = annotations.cloned().unwrap_or_default();
        let mut events = Vec::new();
        let mut unknown = false;
        for t in hook_types.split(',') {
            let t = t.trim_matches(go_is_space).to_lowercase();
            match hook_event(&t) {
                Some(e) => events.push(e.to_string()),
                None => {
                    unknown = true;
                    break;
                }
            }
        }
        if unknown {
            // Helm logs this through slog's text handler on stderr.
            eprintln!("level=INFO msg=\"skipping unknown hooks\" hookTypes={}", slog_value(hook_types));
            continue;
        }
        let list = |key: &str| -> Vec<String> {
            ann.get(key)
                .map(|v| v.split(',').map(|p| p.trim_matches(go_is_space).to_lowercase()).collect())
                .unwrap_or_default()
        };
        let md = head.metadata.clone().unwrap_or_default();
        hooks.push(Hook {
            name: md.name,
            kind: head.kind.clone(),
            path: path.clone(),
            manifest: m.to_string(),
            events,
            weight: ann.get(HOOK_WEIGHT_ANNOTATION).map(|w| atoi(w)).unwrap_or(0),
            delete_policies: list(HOOK_DELETE_ANNOTATION),
            output_log_policies: list(HOOK_OUTPUT_LOG_ANNOTATION),
        });
    }
    sort_by_kind(&mut hooks, order, |h| h.kind.as_str());
    sort_by_kind(&mut generic, order, |m| m.head.kind.as_str());
    Ok((hooks, generic))
}
