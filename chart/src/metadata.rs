//! Chart.yaml, requirements.yaml and Chart.lock decoding and validation (Helm:
//! pkg/chart/v2/{metadata,dependency}.go via sigs.k8s.io/yaml into Go structs).
//!
//! sigs.k8s.io/yaml converts YAML to JSON with the target struct in mind (a number or a bool bound
//! for a `string` field becomes its text), then encoding/json decodes the JSON: keys matched
//! exactly, else case-insensitively; unknown keys ignored; `null` leaves a scalar alone and
//! clears a slice, map or pointer; the first type mismatch (in sorted key order, as the JSON was
//! written from a Go map) is the error: `json: cannot unmarshal number into Go struct field
//! Metadata.keywords of type []string`.

use rudder_engine::Value;

use crate::model::{Dependency, Lock, Maintainer, Metadata};
use crate::values::files::json_kind;

/// The prefix sigs.k8s.io/yaml puts before encoding/json's error.
const JSON_ERR: &str = "error unmarshaling JSON: while decoding JSON: ";

/// Null entries seen while decoding (`maintainers: [null]`), which `Validate` rejects later.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NullEntries {
    pub maintainers: bool,
    /// Index of the first null `dependencies` entry.
    pub dependency: Option<usize>,
}

struct Ctx<'a> {
    /// The innermost Go struct type name (`Metadata`, `Maintainer`, `Dependency`, `Lock`).
    strukt: &'a str,
    /// Field names from the root.
    stack: Vec<String>,
}

impl Ctx<'_> {
    fn err(&self, v: &Value, go_type: &str) -> String {
        format!(
            "{JSON_ERR}json: cannot unmarshal {} into Go struct field {}.{} of type {go_type}",
            json_kind(v),
            self.strukt,
            self.stack.join(".")
        )
    }
}

fn entries(v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Map(m) => m.read().iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        _ => Vec::new(),
    }
}

/// encoding/json's field lookup: exact name first, then case-insensitive.
fn field<'f>(names: &[&'f str], key: &str) -> Option<&'f str> {
    names
        .iter()
        .find(|n| **n == key)
        .or_else(|| names.iter().find(|n| n.to_lowercase() == key.to_lowercase()))
        .copied()
}

/// A YAML scalar bound for a Go `string`: sigs.k8s.io/yaml turns numbers and bools into text.
fn string_field(ctx: &Ctx, v: &Value, out: &mut String) -> Result<(), String> {
    match v {
        Value::Nil | Value::Missing => Ok(()),
        Value::String(s) => {
            *out = s.to_string();
            Ok(())
        }
        Value::Bool(b) => {
            *out = b.to_string();
            Ok(())
        }
        Value::Int(i, _) => {
            *out = i.to_string();
            Ok(())
        }
        Value::Uint(u, _) => {
            *out = u.to_string();
            Ok(())
        }
        Value::Float(f, _) => {
            *out = yaml_number_text(*f);
            Ok(())
        }
        other => Err(ctx.err(other, "string")),
    }
}

/// How sigs.k8s.io/yaml writes a YAML number as a string: go-yaml's ints in decimal, floats with
/// `FormatFloat(f, 'g', -1, 32)`. (The engine's reader gives float64 for both; integral values
/// are taken as YAML ints.)
fn yaml_number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        format!("{}", f as i64)
    } else {
        rudder_engine::print::float::format_v(f, true)
    }
}

fn bool_field(ctx: &Ctx, v: &Value, out: &mut bool) -> Result<(), String> {
    match v {
        Value::Nil | Value::Missing => Ok(()),
        Value::Bool(b) => {
            *out = *b;
            Ok(())
        }
        other => Err(ctx.err(other, "bool")),
    }
}

fn string_list(ctx: &Ctx, v: &Value, out: &mut Vec<String>) -> Result<(), String> {
    match v {
        Value::Nil | Value::Missing => {
            out.clear();
            Ok(())
        }
        Value::List(l) => {
            let mut items = Vec::with_capacity(l.items.len());
            for item in &l.items {
                let mut s = String::new();
                string_field(ctx, item, &mut s)?;
                items.push(s);
            }
            *out = items;
            Ok(())
        }
        other => Err(ctx.err(other, "[]string")),
    }
}

/// Decodes a parsed Chart.yaml (or requirements.yaml) document into `md` as encoding/json does
/// into the Go struct: case-insensitive keys, numbers/bools coerced into string fields, Go's
/// `json: cannot unmarshal ...` text on a type mismatch. Fields absent from `doc` are left alone.
pub fn decode_metadata(doc: &Value, md: &mut Metadata) -> Result<(), String> {
    decode_metadata_nulls(doc, md, &mut NullEntries::default())
}

/// [`decode_metadata`], recording null `maintainers`/`dependencies` entries for [`validate`].
pub fn decode_metadata_nulls(doc: &Value, md: &mut Metadata, nulls: &mut NullEntries) -> Result<(), String> {
    match doc {
        Value::Nil | Value::Missing => return Ok(()),
        Value::Map(_) => {}
        other => {
            return Err(format!(
                "{JSON_ERR}json: cannot unmarshal {} into Go value of type v2.Metadata",
                json_kind(other)
            ))
        }
    }
    const NAMES: &[&str] = &[
        "name", "home", "sources", "version", "description", "keywords", "maintainers", "icon", "apiVersion",
        "condition", "tags", "appVersion", "deprecated", "annotations", "kubeVersion", "dependencies", "type",
    ];
    for (key, v) in entries(doc) {
        let Some(f) = field(NAMES, &key) else { continue };
        let ctx = Ctx {
            strukt: "Metadata",
            stack: vec![f.to_string()],
        };
        match f {
            "name" => string_field(&ctx, &v, &mut md.name)?,
            "home" => string_field(&ctx, &v, &mut md.home)?,
            "sources" => string_list(&ctx, &v, &mut md.sources)?,
            "version" => string_field(&ctx, &v, &mut md.version)?,
            "description" => string_field(&ctx, &v, &mut md.description)?,
            "keywords" => string_list(&ctx, &v, &mut md.keywords)?,
            "icon" => string_field(&ctx, &v, &mut md.icon)?,
            "apiVersion" => string_field(&ctx, &v, &mut md.api_version)?,
            "condition" => string_field(&ctx, &v, &mut md.condition)?,
            "tags" => string_field(&ctx, &v, &mut md.tags)?,
            "appVersion" => string_field(&ctx, &v, &mut md.app_version)?,
            "deprecated" => bool_field(&ctx, &v, &mut md.deprecated)?,
            "kubeVersion" => string_field(&ctx, &v, &mut md.kube_version)?,
            "type" => string_field(&ctx, &v, &mut md.chart_type)?,
            "annotations" => match &v {
                Value::Nil => md.annotations.clear(),
                Value::Map(_) => {
                    for (k, item) in entries(&v) {
                        let mut s = String::new();
                        string_field(&ctx, &item, &mut s)?;
                        md.annotations.insert(k, s);
                    }
                }
                other => return Err(ctx.err(other, "map[string]string")),
            },
            "maintainers" => match &v {
                Value::Nil => {
                    md.maintainers.clear();
                    nulls.maintainers = false;
                }
                Value::List(l) => {
                    let mut out = Vec::new();
                    nulls.maintainers = false;
                    for item in &l.items {
                        let mut m = Maintainer::default();
                        match item {
                            Value::Nil => nulls.maintainers = true,
                            Value::Map(_) => decode_maintainer(item, &mut m)?,
                            other => return Err(ctx.err(other, "v2.Maintainer")),
                        }
                        out.push(m);
                    }
                    md.maintainers = out;
                }
                other => return Err(ctx.err(other, "[]*v2.Maintainer")),
            },
            "dependencies" => {
                md.dependencies = decode_dependencies(&ctx, &v, "[]*v2.Dependency", &mut nulls.dependency)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn decode_maintainer(v: &Value, m: &mut Maintainer) -> Result<(), String> {
    const NAMES: &[&str] = &["name", "email", "url"];
    for (key, item) in entries(v) {
        let Some(f) = field(NAMES, &key) else { continue };
        let ctx = Ctx {
            strukt: "Maintainer",
            stack: vec!["maintainers".into(), f.to_string()],
        };
        match f {
            "name" => string_field(&ctx, &item, &mut m.name)?,
            "email" => string_field(&ctx, &item, &mut m.email)?,
            _ => string_field(&ctx, &item, &mut m.url)?,
        }
    }
    Ok(())
}

fn decode_dependencies(
    ctx: &Ctx,
    v: &Value,
    list_type: &str,
    first_null: &mut Option<usize>,
) -> Result<Vec<Dependency>, String> {
    *first_null = None;
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::List(l) => {
            let mut out = Vec::new();
            for (i, item) in l.items.iter().enumerate() {
                let mut d = Dependency::default();
                match item {
                    Value::Nil => {
                        if first_null.is_none() {
                            *first_null = Some(i);
                        }
                    }
                    Value::Map(_) => decode_dependency(&ctx.stack[0], item, &mut d)?,
                    other => return Err(ctx.err(other, "v2.Dependency")),
                }
                out.push(d);
            }
            Ok(out)
        }
        other => Err(ctx.err(other, list_type)),
    }
}

fn decode_dependency(parent_field: &str, v: &Value, d: &mut Dependency) -> Result<(), String> {
    const NAMES: &[&str] = &["name", "version", "repository", "condition", "tags", "enabled", "import-values", "alias"];
    for (key, item) in entries(v) {
        let Some(f) = field(NAMES, &key) else { continue };
        let ctx = Ctx {
            strukt: "Dependency",
            stack: vec![parent_field.to_string(), f.to_string()],
        };
        match f {
            "name" => string_field(&ctx, &item, &mut d.name)?,
            "version" => string_field(&ctx, &item, &mut d.version)?,
            "repository" => string_field(&ctx, &item, &mut d.repository)?,
            "condition" => string_field(&ctx, &item, &mut d.condition)?,
            "tags" => string_list(&ctx, &item, &mut d.tags)?,
            "enabled" => bool_field(&ctx, &item, &mut d.enabled)?,
            "alias" => string_field(&ctx, &item, &mut d.alias)?,
            _ => match &item {
                Value::Nil => d.import_values.clear(),
                Value::List(l) => d.import_values = l.items.clone(),
                other => return Err(ctx.err(other, "[]interface {}")),
            },
        }
    }
    Ok(())
}

/// Decodes a parsed Chart.lock / requirements.lock.
pub fn decode_lock(doc: &Value) -> Result<Lock, String> {
    let mut lock = Lock::default();
    match doc {
        Value::Nil | Value::Missing => return Ok(lock),
        Value::Map(_) => {}
        other => {
            return Err(format!(
                "{JSON_ERR}json: cannot unmarshal {} into Go value of type v2.Lock",
                json_kind(other)
            ))
        }
    }
    const NAMES: &[&str] = &["generated", "digest", "dependencies"];
    for (key, v) in entries(doc) {
        let Some(f) = field(NAMES, &key) else { continue };
        let ctx = Ctx {
            strukt: "Lock",
            stack: vec![f.to_string()],
        };
        match f {
            "generated" => match &v {
                Value::String(s) => lock.generated = s.to_string(),
                Value::Nil => {}
                other => return Err(ctx.err(other, "time.Time")),
            },
            "digest" => string_field(&ctx, &v, &mut lock.digest)?,
            _ => lock.dependencies = decode_dependencies(&ctx, &v, "[]*v2.Dependency", &mut None)?,
        }
    }
    Ok(lock)
}

/// Go's `unicode.IsSpace`.
fn is_go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}') || (c as u32 > 0xff && c.is_whitespace())
}

/// Helm's `sanitizeString`: whitespace becomes a space, non-printable runes are dropped.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if is_go_space(c) {
                Some(' ')
            } else if rudder_engine::print::is_print(c) {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}

fn sanitize_in_place(s: &mut String) {
    if s.chars().any(|c| is_go_space(c) && c != ' ' || !rudder_engine::print::is_print(c) && !is_go_space(c)) {
        *s = sanitize(s);
    }
}

/// Helm's `aliasNameFormat`: `^[a-zA-Z0-9_-]+$`.
fn valid_alias(a: &str) -> bool {
    !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Go's `filepath.Base` on Unix.
fn go_base(p: &str) -> &str {
    if p.is_empty() {
        return ".";
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/";
    }
    match t.rfind('/') {
        Some(i) => &t[i + 1..],
        None => t,
    }
}

/// Helm's `Metadata.Validate`: sanitises strings in place and checks the rules; the error is the
/// text after `validation: `.
pub fn validate(md: &mut Metadata) -> Result<(), String> {
    validate_nulls(md, &NullEntries::default())
}

/// [`validate`] knowing which entries were null in the document.
pub fn validate_nulls(md: &mut Metadata, nulls: &NullEntries) -> Result<(), String> {
    for s in [
        &mut md.name,
        &mut md.description,
        &mut md.home,
        &mut md.icon,
        &mut md.condition,
        &mut md.tags,
        &mut md.app_version,
        &mut md.kube_version,
    ] {
        sanitize_in_place(s);
    }
    md.sources.iter_mut().for_each(sanitize_in_place);
    md.keywords.iter_mut().for_each(sanitize_in_place);

    if md.api_version.is_empty() {
        return Err("chart.metadata.apiVersion is required".into());
    }
    if md.name.is_empty() {
        return Err("chart.metadata.name is required".into());
    }
    if md.name == "." || md.name == ".." {
        return Err(format!("chart.metadata.name {} is not allowed", rudder_engine::print::quote(&md.name)));
    }
    if md.name != go_base(&md.name) {
        return Err(format!("chart.metadata.name {} is invalid", rudder_engine::print::quote(&md.name)));
    }
    if md.version.is_empty() {
        return Err("chart.metadata.version is required".into());
    }
    if !crate::semver::is_valid_version(&md.version) {
        return Err(format!("chart.metadata.version {} is invalid", rudder_engine::print::quote(&md.version)));
    }
    if !matches!(md.chart_type.as_str(), "" | "application" | "library") {
        return Err("chart.metadata.type must be application or library".into());
    }
    if nulls.maintainers {
        return Err("maintainers must not contain empty or null nodes".into());
    }
    for m in &mut md.maintainers {
        sanitize_in_place(&mut m.name);
        sanitize_in_place(&mut m.email);
        sanitize_in_place(&mut m.url);
    }
    let mut seen = std::collections::HashSet::new();
    for (i, d) in md.dependencies.iter_mut().enumerate() {
        if nulls.dependency == Some(i) {
            return Err("dependencies must not contain empty or null nodes".into());
        }
        sanitize_in_place(&mut d.name);
        sanitize_in_place(&mut d.version);
        sanitize_in_place(&mut d.repository);
        sanitize_in_place(&mut d.condition);
        d.tags.iter_mut().for_each(sanitize_in_place);
        if !d.alias.is_empty() && !valid_alias(&d.alias) {
            return Err(format!("dependency {} has disallowed characters in the alias", rudder_engine::print::quote(&d.name)));
        }
        let key = if d.alias.is_empty() { d.name.clone() } else { d.alias.clone() };
        if !seen.insert(key.clone()) {
            return Err(format!("more than one dependency with name or alias {}", rudder_engine::print::quote(&key)));
        }
    }
    Ok(())
}
