//! values.schema.json validation (Helm: pkg/chart/common/util/jsonschema.go, santhosh-tekuri
//! jsonschema v6; here its Rust sibling `boon`, with the messages rewritten into the Go library's
//! wording: `- at '/replicaCount': got string, want integer`).
//!
//! Remote `$ref`s (http/https) are not fetched yet: such a schema fails to compile with a clear
//! error.

use std::fmt::Write;

use boon::{Compiler, ErrorKind, Schemas, ValidationError};
use rudder_engine::Value;

use crate::model::Chart;
use crate::values::coalesce::table;

const SCHEMA_URL: &str = "file:///values.schema.json";

/// Helm's `ValidateAgainstSchema(chart, values)`: the chart's schema validates `values`, each
/// subchart's schema its sub-map, recursively. The error is the text Helm puts after
/// `values don't meet the specifications of the schema(s) in the following chart(s):\n`.
pub fn validate_against_schema(chart: &Chart, values: &Value) -> Result<(), String> {
    SchemaCheck::new(chart, values).run()
}

/// [`validate_against_schema`] split in two: `new` takes a snapshot of the values (as the JSON
/// the validator sees), `run` compiles the schemas and validates, touching neither the chart's
/// values nor anything shared, so it may run on another thread while the chart renders
/// (templates may change `.Values` in place; the snapshot does not see that). A large schema
/// (cilium's) takes a good part of a render to compile.
pub struct SchemaCheck<'a> {
    steps: Vec<Step<'a>>,
}

enum Step<'a> {
    /// Validate `instance` against `schema`; a failure reads `{chart}:\n{error}`.
    Validate { chart: String, schema: &'a [u8], instance: serde_json::Value },
    /// Text reported as is (a subchart whose values are not a map).
    Failed(String),
}

impl<'a> SchemaCheck<'a> {
    pub fn new(chart: &'a Chart, values: &Value) -> SchemaCheck<'a> {
        let mut steps = Vec::new();
        collect(chart, values, &mut steps);
        SchemaCheck { steps }
    }

    /// Whether there is a schema to compile at all (otherwise `run` costs nothing).
    pub fn has_schemas(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Step::Validate { .. }))
    }

    pub fn run(&self) -> Result<(), String> {
        let mut sb = String::new();
        for step in &self.steps {
            match step {
                Step::Validate { chart, schema, instance } => {
                    if let Err(e) = validate_instance(instance, schema) {
                        let _ = write!(sb, "{chart}:\n{e}");
                    }
                }
                Step::Failed(text) => sb.push_str(text),
            }
        }
        if sb.is_empty() {
            Ok(())
        } else {
            Err(sb)
        }
    }
}

/// The steps of Helm's recursion, in its order.
fn collect<'a>(chart: &'a Chart, values: &Value, steps: &mut Vec<Step<'a>>) {
    if let Some(schema) = &chart.schema {
        steps.push(Step::Validate { chart: chart.name().to_string(), schema, instance: instance_of(values) });
    }
    for sub in &chart.dependencies {
        let raw = match table(values) {
            Some(m) => m.get(sub.name()),
            None => None,
        };
        let Some(raw) = raw else { continue };
        if matches!(raw, Value::Nil) {
            continue;
        }
        if table(&raw).is_none() {
            steps.push(Step::Failed(format!(
                "{}:\ninvalid type for values: expected object (map), got {}\n",
                sub.name(),
                raw.go_type()
            )));
            continue;
        }
        collect(sub, &raw, steps);
    }
}

/// The full error Helm reports for a schema failure of [`validate_against_schema`].
pub fn schema_error_text(detail: &str) -> String {
    format!("values don't meet the specifications of the schema(s) in the following chart(s):\n{detail}")
}

/// Go values as the JSON the validator sees.
pub fn to_json_value(v: &Value) -> serde_json::Value {
    match v {
        Value::Nil | Value::Missing => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i, _) => serde_json::Value::from(*i),
        Value::Uint(u, _) => serde_json::Value::from(*u),
        Value::Float(f, _) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::Bytes(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
        Value::List(l) => serde_json::Value::Array(l.items.iter().map(to_json_value).collect()),
        Value::Map(m) => serde_json::Value::Object(m.read().iter().map(|(k, v)| (k.to_string(), to_json_value(v))).collect()),
        Value::Object(o) => serde_json::Value::String(o.format_v()),
    }
}

/// Helm's `ValidateAgainstSingleSchema`; the error text ends with a newline.
pub fn validate_single(values: &Value, schema_json: &[u8]) -> Result<(), String> {
    validate_instance(&instance_of(values), schema_json)
}

/// What the validator sees of `values`: the map as JSON, anything else as an empty object.
fn instance_of(values: &Value) -> serde_json::Value {
    match values {
        Value::Map(_) => to_json_value(values),
        _ => serde_json::Value::Object(Default::default()),
    }
}

fn validate_instance(instance: &serde_json::Value, schema_json: &[u8]) -> Result<(), String> {
    let parse = || serde_json::from_slice::<serde_json::Value>(schema_json).map_err(|e| e.to_string());
    let mut schema = parse()?;
    // A big schema is first tried split into resources; only a clean pass counts. Anything
    // else (a compile error, a failed validation) is redone on the schema as written (parsed
    // again: the split takes it apart), so every message is exactly the one-piece one.
    if schema_json.len() >= SPLIT_MIN && !has_references(schema_json, &schema) {
        if split_passes(schema, instance) {
            return Ok(());
        }
        schema = parse()?;
    }
    let mut c = compiler();
    c.add_resource(SCHEMA_URL, schema).map_err(|e| e.to_string())?;
    let mut schemas = Schemas::new();
    let idx = c.compile(SCHEMA_URL, &mut schemas).map_err(|e| e.to_string())?;
    match schemas.validate(instance, idx) {
        Ok(()) => Ok(()),
        Err(e) => {
            let mut out = String::new();
            display(&e, 0, &mut out);
            // Helm trims the root line ("jsonschema validation failed with '...#'\n").
            let text = match out.split_once('\n') {
                Some((first, rest)) if first.starts_with("jsonschema validation failed with") => rest.to_string(),
                _ => out,
            };
            Err(text + "\n")
        }
    }
}

fn compiler() -> Compiler {
    let mut compiler = Compiler::new();
    compiler.set_default_draft(boon::Draft::V2020_12);
    compiler
}

/// Schemas at least this large are tried split (see [`split_passes`]).
const SPLIT_MIN: usize = 16 * 1024;
/// A `properties` subschema with at least this many objects in it becomes its own resource.
const SPLIT_NODES: usize = 8;

/// Whether the schema text may use references, identifiers or anchors (conservatively: any
/// of their key names anywhere), which tie its parts to their place in the document. `id`
/// is an identifier only in draft 4 (and below); later drafts have `$id`.
fn has_references(schema_json: &[u8], schema: &serde_json::Value) -> bool {
    const KEYS: [&[u8]; 7] =
        [b"\"$ref\"", b"\"$id\"", b"\"$anchor\"", b"\"$dynamic", b"\"$recursive", b"\"$vocabulary\"", b"\"$defs\""];
    let contains = |k: &[u8]| schema_json.windows(k.len()).any(|w| w == k);
    let old_draft = schema.get("$schema").and_then(|d| d.as_str()).is_some_and(|d| d.contains("draft-04") || d.contains("draft-03"));
    KEYS.iter().any(|k| contains(k)) || (old_draft && contains(b"\"id\""))
}

/// Validates `instance` against `schema` with its big `properties` subschemas moved into
/// resources of their own, each compiled before the schemas that refer to it.
///
/// boon's compile queue finds each new location by a linear scan, so one compile of a schema
/// with thousands of subschemas is quadratic: for cilium's 160 KB schema, most of the time of
/// `rudder template`. Compiled piece by piece, every queue stays short and the pieces already
/// compiled are found by hash. Without references, identifiers or anchors in the document
/// (see [`has_references`]) a subschema means the same wherever it sits, and a `$ref` to it
/// (its only key, so no draft ignores a sibling) validates exactly what it would in place.
fn split_passes(mut root: serde_json::Value, instance: &serde_json::Value) -> bool {
    fn objects(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(m) => 1 + m.values().map(objects).sum::<usize>(),
            serde_json::Value::Array(a) => a.iter().map(objects).sum(),
            _ => 0,
        }
    }
    fn split(node: &mut serde_json::Value, dialect: Option<&serde_json::Value>, out: &mut Vec<(String, serde_json::Value)>) {
        let Some(props) = node.get_mut("properties").and_then(|p| p.as_object_mut()) else { return };
        for sub in props.values_mut() {
            if !sub.is_object() {
                continue;
            }
            split(sub, dialect, out);
            if objects(sub) < SPLIT_NODES {
                continue;
            }
            let url = format!("{SCHEMA_URL}.d/{}.json", out.len());
            let mut piece = std::mem::replace(sub, serde_json::json!({ "$ref": url }));
            if let (Some(d), Some(m)) = (dialect, piece.as_object_mut()) {
                m.insert("$schema".into(), d.clone());
            }
            out.push((url, piece));
        }
    }
    let dialect = root.get("$schema").cloned();
    let mut pieces = Vec::new();
    split(&mut root, dialect.as_ref(), &mut pieces);
    let mut c = compiler();
    let mut schemas = Schemas::new();
    let mut urls = Vec::with_capacity(pieces.len());
    for (url, piece) in pieces {
        if c.add_resource(&url, piece).is_err() {
            return false;
        }
        urls.push(url);
    }
    if c.add_resource(SCHEMA_URL, root).is_err() || urls.iter().any(|url| c.compile(url, &mut schemas).is_err()) {
        return false;
    }
    match c.compile(SCHEMA_URL, &mut schemas) {
        Ok(idx) => schemas.validate(instance, idx).is_ok(),
        Err(_) => false,
    }
}

fn skip(e: &ValidationError) -> bool {
    e.causes.len() == 1 && matches!(e.kind, ErrorKind::Reference { .. })
}

/// The Go library's `display` (non-verbose).
fn display(e: &ValidationError, mut indent: usize, sb: &mut String) {
    if !skip(e) {
        if indent > 0 {
            sb.push('\n');
            for _ in 0..indent - 1 {
                sb.push_str("  ");
            }
            sb.push_str("- ");
        }
        indent += 1;
        if let ErrorKind::Schema { url } = &e.kind {
            let _ = write!(sb, "jsonschema validation failed with {}", quote(url));
        } else {
            let _ = write!(sb, "at {}: {}", quote(&e.instance_location.to_string()), go_message(&e.kind));
        }
    }
    for c in &e.causes {
        display(c, indent, sb);
    }
}

fn quote(s: &str) -> String {
    // The Go library's quote: single quotes around strconv.Quote's inside.
    let q = rudder_engine::print::quote(s);
    format!("'{}'", q[1..q.len() - 1].replace("\\\"", "\"").replace('\'', "\\'"))
}

fn join_quoted(items: &[&str], sep: &str) -> String {
    items.iter().map(|s| quote(s)).collect::<Vec<_>>().join(sep)
}

/// A JSON number as the Go library prints its `*big.Rat`-backed numbers: integers plainly.
fn num(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e21 && n.as_i64().is_none() && n.as_u64().is_none() => format!("{}", f as i128),
        Some(f) if n.as_i64().is_none() && n.as_u64().is_none() => rudder_engine::print::float::format_v(f, false),
        _ => n.to_string(),
    }
}

/// The Go library's wording for the kinds whose text differs from boon's.
fn go_message(k: &ErrorKind) -> String {
    match k {
        ErrorKind::Type { got, want } => {
            let want: Vec<String> = want.iter().map(|t| t.to_string()).collect();
            format!("got {got}, want {}", want.join(" or "))
        }
        ErrorKind::Required { want } => {
            if want.len() == 1 {
                format!("missing property {}", quote(want[0]))
            } else {
                format!("missing properties {}", join_quoted(want, ", "))
            }
        }
        ErrorKind::AdditionalProperties { got } => {
            let props: Vec<&str> = got.iter().map(|s| s.as_ref()).collect();
            format!("additional properties {} not allowed", join_quoted(&props, ", "))
        }
        ErrorKind::MinItems { got, want } => format!("minItems: got {got}, want {want}"),
        ErrorKind::MaxItems { got, want } => format!("maxItems: got {got}, want {want}"),
        ErrorKind::MinLength { got, want } => format!("minLength: got {got}, want {want}"),
        ErrorKind::MaxLength { got, want } => format!("maxLength: got {got}, want {want}"),
        ErrorKind::MinProperties { got, want } => format!("minProperties: got {got}, want {want}"),
        ErrorKind::MaxProperties { got, want } => format!("maxProperties: got {got}, want {want}"),
        ErrorKind::Minimum { got, want } => format!("minimum: got {}, want {}", num(got), num(want)),
        ErrorKind::Maximum { got, want } => format!("maximum: got {}, want {}", num(got), num(want)),
        ErrorKind::ExclusiveMinimum { got, want } => format!("exclusiveMinimum: got {}, want {}", num(got), num(want)),
        ErrorKind::ExclusiveMaximum { got, want } => format!("exclusiveMaximum: got {}, want {}", num(got), num(want)),
        ErrorKind::MultipleOf { got, want } => format!("multipleOf: got {}, want {}", num(got), num(want)),
        ErrorKind::Not => "'not' failed".into(),
        ErrorKind::AllOf => "'allOf' failed".into(),
        ErrorKind::AnyOf => "'anyOf' failed".into(),
        ErrorKind::OneOf(None) => "'oneOf' failed, none matched".into(),
        ErrorKind::OneOf(Some((i, j))) => format!("'oneOf' failed, subschemas {i}, {j} matched"),
        ErrorKind::Enum { .. } | ErrorKind::Const { .. } => {
            let s = k.to_string();
            match s.as_str() {
                "enum failed" => "'enum' failed".into(),
                "const failed" => "'const' failed".into(),
                _ => s,
            }
        }
        ErrorKind::AdditionalItems { got } => format!("last {got} additionalItem(s) not allowed"),
        other => other.to_string(),
    }
}
