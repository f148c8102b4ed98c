//! Rendering for install and upgrade as Helm's `renderResources` does it against a cluster:
//! capabilities discovered from the server (`getCapabilities`), values coalesced and checked
//! against the schema, hooks taken out, the release manifest assembled exactly as Helm stores
//! it (`---\n# Source: NAME\nCONTENT\n` per document, InstallOrder), NOTES.txt kept apart, and
//! the chart converted to the record's JSON form.

use rudder_chart::manifest::sort::INSTALL_ORDER;
use rudder_chart::manifest::sorter::sort_manifests;
use rudder_chart::model::Chart;
use rudder_chart::render::template::is_compatible_range;
use rudder_chart::render::{to_render_values, Capabilities, KubeVersion, ReleaseOptions, VersionSet};
use rudder_engine::Value;
use rudder_state::release as rec;

use crate::kube::{Kube, KubeError};

/// Render switches beyond values and capabilities.
#[derive(Debug, Clone, Default)]
pub struct RenderFlags {
    /// `--render-subchart-notes`.
    pub sub_notes: bool,
    /// `--hide-secret` (dry runs): v1 Secrets replaced by a notice in the manifest.
    pub hide_secret: bool,
    /// `--enable-dns`: `getHostByName` resolves.
    pub enable_dns: bool,
}

/// What rendering gives a release record.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub hooks: Vec<rec::Hook>,
    pub manifest: String,
    pub notes: String,
}

/// Helm's `getCapabilities`: the server's version (as `/version` has it, not normalised) and
/// every group/version and group/version/Kind discovery lists; Helm's own build info.
pub async fn capabilities(kube: &Kube) -> Result<Capabilities, KubeError> {
    // Both at once; the version's error is the one reported first, as when asked in turn.
    let (v, api) = tokio::join!(kube.mapper.server_version(), kube.mapper.api_versions());
    let (v, api) = (v?, api?);
    let mut caps = Capabilities::helm_default();
    caps.kube_version = KubeVersion {
        version: v.git_version,
        normalized: String::new(),
        major: v.major,
        minor: v.minor,
    };
    caps.api_versions = VersionSet(api);
    Ok(caps)
}

/// Coalesces user values with the chart's and validates them (Helm's
/// `ToRenderValuesWithSchemaValidation` before the render map is built).
pub fn coalesce(chart: &Chart, user: &Value, skip_schema: bool) -> Result<Value, String> {
    let mut warnings = Vec::new();
    let vals = rudder_chart::coalesce_values(chart, user, &mut warnings).map_err(|e| e.to_string())?;
    for w in &warnings {
        eprintln!("{w}");
    }
    if !skip_schema {
        rudder_chart::validate_against_schema(chart, &vals).map_err(|e| {
            format!("values don't meet the specifications of the schema(s) in the following chart(s):\n{e}")
        })?;
    }
    Ok(vals)
}

/// Renders `chart` (dependencies processed) with coalesced `values`; `sub_notes` is
/// `--render-subchart-notes`; `lookups` answers template `lookup` calls from the cluster.
pub fn render(
    chart: &Chart,
    values: Value,
    release: &ReleaseOptions,
    caps: &Capabilities,
    flags: &RenderFlags,
    lookups: Option<std::sync::Arc<crate::lookup::LookupWorker>>,
) -> Result<Rendered, String> {
    let sub_notes = flags.sub_notes;
    if !chart.metadata.kube_version.is_empty()
        && !is_compatible_range(&chart.metadata.kube_version, caps.kube_version.string())
    {
        return Err(format!(
            "chart requires kubeVersion: {} which is incompatible with Kubernetes {}",
            chart.metadata.kube_version, caps.kube_version.version
        ));
    }
    let top = to_render_values(chart, values, release, caps);
    let mut files = crate::lookup::render(chart, &top, lookups, flags.enable_dns)?;
    let root_notes = format!("{}/templates/NOTES.txt", chart.name());
    let mut notes = String::new();
    let keys: Vec<String> = files.keys().filter(|k| k.ends_with("NOTES.txt")).cloned().collect();
    for k in keys {
        let v = files.remove(&k).unwrap_or_default();
        if sub_notes || k == root_notes {
            if !notes.is_empty() {
                notes.push('\n');
            }
            notes.push_str(&v);
        }
    }
    let (hooks, manifests) = sort_manifests(&files, INSTALL_ORDER)?;
    let mut manifest = String::new();
    for m in &manifests {
        if flags.hide_secret && m.head.kind == "Secret" && m.head.version == "v1" {
            manifest.push_str(&format!(
                "---\n# Source: {}\n# HIDDEN: The Secret output has been suppressed\n",
                m.name
            ));
        } else {
            manifest.push_str(&format!("---\n# Source: {}\n{}\n", m.name, m.content));
        }
    }
    let hooks = hooks
        .into_iter()
        .map(|h| rec::Hook {
            name: h.name,
            kind: h.kind,
            path: h.path,
            manifest: h.manifest,
            events: h.events,
            weight: h.weight,
            delete_policies: h.delete_policies,
            output_log_policies: h.output_log_policies,
            ..Default::default()
        })
        .collect();
    Ok(Rendered { hooks, manifest, notes })
}

/// An engine value as the JSON the record holds (Go's encoding/json forms).
pub fn to_json(v: &Value) -> serde_json::Value {
    crate::kube::resource::value_to_json(v).unwrap_or(serde_json::Value::Null)
}

/// A record's JSON value back as an engine value (maps, lists, float64 numbers as Helm has
/// after decoding JSON).
pub fn from_json(v: &serde_json::Value) -> Value {
    match rudder_engine::json::from_json(&v.to_string()) {
        Ok(x) => x,
        Err(_) => Value::Nil,
    }
}

fn file_record(name: &str, data: &[u8], modtime: &str) -> rec::File {
    let mut f = rec::File::new(name, data);
    f.extra
        .insert("modtime".into(), serde_json::Value::String(modtime.to_string()));
    f
}

/// The chart as Helm stores it in a release: the root chart only (subcharts are not
/// serialised), its metadata, lock, templates, values, schema and other files.
pub fn stored_chart(chart: &Chart) -> rec::Chart {
    let now = rec::now_rfc3339();
    let m = &chart.metadata;
    let meta = rec::Metadata {
        name: m.name.clone(),
        home: m.home.clone(),
        sources: m.sources.clone(),
        version: m.version.clone(),
        description: m.description.clone(),
        keywords: m.keywords.clone(),
        maintainers: m
            .maintainers
            .iter()
            .map(|x| rec::Maintainer {
                name: x.name.clone(),
                email: x.email.clone(),
                url: x.url.clone(),
                extra: Default::default(),
            })
            .collect(),
        icon: m.icon.clone(),
        api_version: m.api_version.clone(),
        condition: m.condition.clone(),
        tags: m.tags.clone(),
        app_version: m.app_version.clone(),
        deprecated: m.deprecated,
        annotations: m.annotations.clone(),
        kube_version: m.kube_version.clone(),
        dependencies: m.dependencies.iter().map(dependency_json).collect(),
        chart_type: m.chart_type.clone(),
        extra: Default::default(),
    };
    let mut c = rec::Chart::new(meta);
    c.lock = match &chart.lock {
        None => serde_json::Value::Null,
        Some(l) => serde_json::json!({
            "generated": l.generated,
            "digest": l.digest,
            "dependencies": l.dependencies.iter().map(dependency_json).collect::<Vec<_>>(),
        }),
    };
    c.templates = chart
        .templates
        .iter()
        .map(|f| file_record(&f.name, &f.data, &now))
        .collect();
    c.values = to_json(&chart.values);
    c.schema = chart
        .schema
        .as_ref()
        .map(|s| rudder_chart::render::objects::base64_std(s));
    if c.schema.is_some() {
        // Helm 4 stamps the schema's load time; zero when there is none.
        c.schemamodtime = Some(now.clone());
    }
    c.files = chart
        .files
        .iter()
        .map(|f| file_record(&f.name, &f.data, &now))
        .collect();
    c.extra.insert("modtime".into(), serde_json::Value::String(now));
    c
}

/// A Chart.yaml dependency as Go's JSON tags write it.
fn dependency_json(d: &rudder_chart::model::Dependency) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    o.insert("name".into(), d.name.clone().into());
    if !d.version.is_empty() {
        o.insert("version".into(), d.version.clone().into());
    }
    o.insert("repository".into(), d.repository.clone().into());
    if !d.condition.is_empty() {
        o.insert("condition".into(), d.condition.clone().into());
    }
    if !d.tags.is_empty() {
        o.insert("tags".into(), d.tags.clone().into());
    }
    if d.enabled {
        o.insert("enabled".into(), true.into());
    }
    if !d.import_values.is_empty() {
        o.insert(
            "import-values".into(),
            d.import_values.iter().map(to_json).collect::<Vec<_>>().into(),
        );
    }
    if !d.alias.is_empty() {
        o.insert("alias".into(), d.alias.clone().into());
    }
    serde_json::Value::Object(o)
}

/// A stored chart loaded back into the model (rollback and `--reuse-values` render or coalesce
/// with the chart of an earlier revision).
pub fn chart_from_record(c: &rec::Chart) -> Result<Chart, String> {
    let mut files = Vec::new();
    let meta = c.metadata.clone().unwrap_or_default();
    // Chart.yaml from the stored metadata: the JSON form is valid YAML.
    let meta_json = serde_json::to_string(&meta).map_err(|e| e.to_string())?;
    files.push(rudder_chart::model::File {
        name: "Chart.yaml".into(),
        data: meta_json.into_bytes().into(),
    });
    if !c.values.is_null() {
        files.push(rudder_chart::model::File {
            name: "values.yaml".into(),
            data: c.values.to_string().into_bytes().into(),
        });
    }
    if let Some(s) = &c.schema {
        let b = rec::File {
            name: String::new(),
            data: s.clone(),
            extra: Default::default(),
        }
        .bytes()
        .map_err(|e| e.to_string())?;
        files.push(rudder_chart::model::File {
            name: "values.schema.json".into(),
            data: b.into(),
        });
    }
    for f in c.templates.iter().chain(c.files.iter()) {
        files.push(rudder_chart::model::File {
            name: f.name.clone(),
            data: f.bytes().map_err(|e| e.to_string())?.into(),
        });
    }
    rudder_chart::load::load_files(files).map_err(|e| e.to_string())
}

/// A lookup worker for the connection (none for a client built without its settings).
pub fn lookups(kube: &Kube) -> Option<std::sync::Arc<crate::lookup::LookupWorker>> {
    kube.config
        .clone()
        .map(|c| std::sync::Arc::new(crate::lookup::LookupWorker::start(c)))
}
