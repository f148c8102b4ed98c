//! `helm get values|manifest|notes|hooks|metadata|all` (pkg/cmd/get_*.go, pkg/action/get*.go).
//! All read one revision: the last one, or `--revision N` when N > 0.

use std::collections::BTreeMap;

use serde::Serialize;

use super::encode::{encode_json, encode_yaml, json_value, value_json, value_yaml};
use super::status::{print_status, StatusView};
use super::{last_deployed, valid_release_name, Colors, Format, InspectError, Target};
use rudder_engine::value::{Str, Value};
use rudder_state::Release;

/// `releaseContent`: the named release at `revision` (last when `revision <= 0`).
pub async fn release_content(target: &Target, name: &str, revision: i64) -> Result<Release, InspectError> {
    if !valid_release_name(name) {
        return Err(InspectError::new(format!("releaseContent: Release name is invalid: {name}")));
    }
    let st = target.storage(&target.namespace).await?;
    if revision <= 0 {
        Ok(st.last(name).await?)
    } else {
        Ok(st.get(name, revision).await?)
    }
}

/// The user-supplied values as Go holds them after decoding the record (`nil` when absent).
pub fn config_value(r: &Release) -> Value {
    json_value(&r.config)
}

/// `util.CoalesceValues(chart, config)` over the stored (root-only) chart.
pub fn computed_values(r: &Release) -> Result<Value, InspectError> {
    let mut chart = rudder_chart::model::Chart::default();
    if let Some(c) = &r.chart {
        if let Some(m) = &c.metadata {
            chart.metadata.name = m.name.clone();
        }
        chart.values = match json_value(&c.values) {
            Value::Nil => Value::empty_map(),
            v => v,
        };
    }
    let mut warnings = Vec::new();
    let v = rudder_chart::values::coalesce::coalesce_values(&chart, &config_value(r), &mut warnings)
        .map_err(|e| InspectError::new(e.to_string()))?;
    for w in warnings {
        eprintln!("{w}");
    }
    Ok(v)
}

/// `helm get values`.
pub async fn values(target: &Target, name: &str, revision: i64, all: bool, output: Format) -> Result<String, InspectError> {
    let r = release_content(target, name, revision).await?;
    let vals = if all { computed_values(&r)? } else { config_value(&r) };
    match output {
        Format::Json => value_json(&vals),
        Format::Yaml => value_yaml(&vals),
        Format::Table => {
            let head = if all { "COMPUTED VALUES:\n" } else { "USER-SUPPLIED VALUES:\n" };
            Ok(format!("{head}{}", value_yaml(&vals)?))
        }
    }
}

/// `helm get manifest`: the manifest and a newline.
pub async fn manifest(target: &Target, name: &str, revision: i64) -> Result<String, InspectError> {
    let r = release_content(target, name, revision).await?;
    Ok(format!("{}\n", r.manifest))
}

/// `helm get notes`: `NOTES:` and the notes, nothing when there are none.
pub async fn notes(target: &Target, name: &str, revision: i64) -> Result<String, InspectError> {
    let r = release_content(target, name, revision).await?;
    let notes = r.info.as_ref().map(|i| i.notes.as_str()).unwrap_or("");
    Ok(if notes.is_empty() { String::new() } else { format!("NOTES:\n{notes}\n") })
}

/// `helm get hooks`: each hook as `---\n# Source: PATH\nMANIFEST\n`.
pub async fn hooks(target: &Target, name: &str, revision: i64) -> Result<String, InspectError> {
    let r = release_content(target, name, revision).await?;
    Ok(r.hooks.iter().map(|h| format!("---\n# Source: {}\n{}\n", h.path, h.manifest)).collect())
}

/// `chart.Dependency` in Go's field order and omitempty rules.
#[derive(Serialize)]
struct Dependency {
    name: serde_json::Value,
    #[serde(skip_serializing_if = "is_empty")]
    version: serde_json::Value,
    repository: serde_json::Value,
    #[serde(skip_serializing_if = "is_empty")]
    condition: serde_json::Value,
    #[serde(skip_serializing_if = "is_empty")]
    tags: serde_json::Value,
    #[serde(skip_serializing_if = "is_empty")]
    enabled: serde_json::Value,
    #[serde(rename = "import-values", skip_serializing_if = "is_empty")]
    import_values: serde_json::Value,
    #[serde(skip_serializing_if = "is_empty")]
    alias: serde_json::Value,
}

fn is_empty(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Bool(b) => !b,
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

impl Dependency {
    fn from_json(v: &serde_json::Value) -> Self {
        let f = |k: &str| v.get(k).cloned().unwrap_or(serde_json::Value::Null);
        let s = |k: &str| match v.get(k) {
            Some(x) if !x.is_null() => x.clone(),
            _ => serde_json::Value::String(String::new()),
        };
        Dependency {
            name: s("name"),
            version: f("version"),
            repository: s("repository"),
            condition: f("condition"),
            tags: f("tags"),
            enabled: f("enabled"),
            import_values: f("import-values"),
            alias: f("alias"),
        }
    }
}

/// `action.Metadata`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    name: String,
    chart: String,
    version: String,
    app_version: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dependencies: Vec<Dependency>,
    namespace: String,
    revision: i64,
    status: String,
    deployed_at: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    apply_method: String,
}

/// `labels.Set(m).String()`: sorted `k=v` joined by commas.
fn label_set(m: &BTreeMap<String, String>) -> String {
    m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// `helm get metadata`.
pub async fn metadata(target: &Target, name: &str, revision: i64, output: Format) -> Result<String, InspectError> {
    let r = release_content(target, name, revision).await?;
    let Some(meta) = r.chart.as_ref().and_then(|c| c.metadata.clone()) else {
        return Err(InspectError::new("invalid chart apiVersion"));
    };
    let md = Metadata {
        name: r.name.clone(),
        chart: meta.name.clone(),
        version: meta.version.clone(),
        app_version: meta.app_version.clone(),
        annotations: meta.annotations.clone(),
        labels: r.labels.clone(),
        dependencies: meta.dependencies.iter().map(Dependency::from_json).collect(),
        namespace: r.namespace.clone(),
        revision: r.version,
        status: r.status().to_string(),
        deployed_at: last_deployed(&r).rfc3339(),
        apply_method: r.apply_method.clone(),
    };
    match output {
        Format::Json => encode_json(&md),
        Format::Yaml => encode_yaml(&md),
        Format::Table => {
            let apply = match md.apply_method.as_str() {
                "" => "client-side apply (defaulted)".to_string(),
                "csa" => "client-side apply".to_string(),
                "ssa" => "server-side apply".to_string(),
                other => format!("unknown ({other:?})"),
            };
            let mut deps: Vec<String> = md
                .dependencies
                .iter()
                .map(|d| d.name.as_str().unwrap_or_default().to_string())
                .collect();
            deps.sort();
            Ok(format!(
                "NAME: {}\nCHART: {}\nVERSION: {}\nAPP_VERSION: {}\nANNOTATIONS: {}\nLABELS: {}\nDEPENDENCIES: {}\nNAMESPACE: {}\nREVISION: {}\nSTATUS: {}\nDEPLOYED_AT: {}\nAPPLY_METHOD: {}\n",
                md.name,
                md.chart,
                md.version,
                md.app_version,
                label_set(&md.annotations),
                label_set(&md.labels),
                deps.join(","),
                md.namespace,
                md.revision,
                md.status,
                md.deployed_at,
                apply
            ))
        }
    }
}

/// `helm get all`: the status with metadata, values, computed values, hooks, manifest and
/// notes; or `--template` executed over `{Release: ...}` (the record under Go's field names).
pub async fn all(target: &Target, name: &str, revision: i64, template: &str, colors: Colors) -> Result<String, InspectError> {
    let r = release_content(target, name, revision).await?;
    if !template.is_empty() {
        let mut ts = rudder_engine::TemplateSet::new(rudder_engine::FuncMap::new()).with_name("_");
        ts.parse("_", template).map_err(|e| InspectError::new(e.to_string()))?;
        let data = Value::map(BTreeMap::from([(Str::from("Release"), go_release(&r))]));
        let mut out = String::new();
        let res = ts.execute_to("_", &data, &mut out);
        return match res {
            Ok(()) => Ok(out),
            Err(e) => Err(InspectError::new(e.to_string())),
        };
    }
    let view = StatusView { release: &r, resources: None, debug: true, show_metadata: true, colors };
    print_status(&view)
}

/// The record as a Go template sees `*release.Release`: exported field names; times print as
/// `time.Time.String()`, the status as its string.
fn go_release(r: &Release) -> Value {
    let m = |pairs: Vec<(&str, Value)>| Value::map(pairs.into_iter().map(|(k, v)| (Str::from(k), v)).collect());
    let s = |x: &str| Value::string(x);
    let info = r.info.clone().unwrap_or_default();
    let t = |x: &Option<String>| s(&super::gotime::GoTime::from_field(x.as_deref()).string());
    let info_v = m(vec![
        ("FirstDeployed", t(&info.first_deployed)),
        ("LastDeployed", t(&info.last_deployed)),
        ("Deleted", t(&info.deleted)),
        ("Description", s(&info.description)),
        ("Status", s(info.status.as_str())),
        ("RollbackRevision", Value::int(info.rollback_revision)),
        ("Notes", s(&info.notes)),
        ("Resources", json_value(&info.resources)),
    ]);
    let chart_v = match &r.chart {
        None => Value::Nil,
        Some(c) => {
            let md = c.metadata.clone().unwrap_or_default();
            m(vec![
                (
                    "Metadata",
                    m(vec![
                        ("Name", s(&md.name)),
                        ("Home", s(&md.home)),
                        ("Version", s(&md.version)),
                        ("Description", s(&md.description)),
                        ("Icon", s(&md.icon)),
                        ("APIVersion", s(&md.api_version)),
                        ("Condition", s(&md.condition)),
                        ("Tags", s(&md.tags)),
                        ("AppVersion", s(&md.app_version)),
                        ("Deprecated", Value::Bool(md.deprecated)),
                        ("KubeVersion", s(&md.kube_version)),
                        ("Type", s(&md.chart_type)),
                        ("Annotations", Value::map(md.annotations.iter().map(|(k, v)| (Str::from(k.as_str()), s(v))).collect())),
                    ]),
                ),
                ("Values", json_value(&c.values)),
            ])
        }
    };
    let hooks = r
        .hooks
        .iter()
        .map(|h| {
            m(vec![
                ("Name", s(&h.name)),
                ("Kind", s(&h.kind)),
                ("Path", s(&h.path)),
                ("Manifest", s(&h.manifest)),
                ("Events", Value::string_list(h.events.iter().map(String::as_str))),
                ("Weight", Value::int(h.weight)),
                ("DeletePolicies", Value::string_list(h.delete_policies.iter().map(String::as_str))),
            ])
        })
        .collect();
    m(vec![
        ("Name", s(&r.name)),
        ("Info", info_v),
        ("Chart", chart_v),
        ("Config", config_value(r)),
        ("Manifest", s(&r.manifest)),
        ("Hooks", Value::list(hooks)),
        ("Version", Value::int(r.version)),
        ("Namespace", s(&r.namespace)),
        ("Labels", Value::map(r.labels.iter().map(|(k, v)| (Str::from(k.as_str()), s(v))).collect())),
        ("ApplyMethod", s(&r.apply_method)),
    ])
}
