//! `helm show chart|values|readme|crds|all` (Helm v4.3.1: pkg/action/show.go `Show.Run`).
//!
//! Chart.yaml is not printed as written: Helm re-marshals the loaded (validated, sanitised)
//! `Metadata` struct with sigs.k8s.io/yaml, so empty fields vanish and keys come out sorted.
//! The same bytes are what `helm package` stores as Chart.yaml, hence [`metadata_yaml`] is
//! shared with `package`.

use std::collections::BTreeMap;

use rudder_engine::{Str, Value};

use crate::model::{Chart, Dependency, Lock, Metadata};

/// Which part `show` prints (Helm: `ShowOutputFormat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowFormat {
    All,
    Chart,
    Values,
    Readme,
    Crds,
}

fn strs(v: &[String]) -> Value {
    Value::list(v.iter().map(|s| Value::string(s.as_str())).collect())
}

/// Inserts a string field unless empty (`omitempty`).
fn put(m: &mut BTreeMap<Str, Value>, key: &str, v: &str) {
    if !v.is_empty() {
        m.insert(Str::from(key), Value::string(v));
    }
}

fn dependency_value(d: &Dependency) -> Value {
    let mut m = BTreeMap::new();
    // `name` and `repository` have no omitempty.
    m.insert(Str::from("name"), Value::string(d.name.as_str()));
    m.insert(Str::from("repository"), Value::string(d.repository.as_str()));
    put(&mut m, "version", &d.version);
    put(&mut m, "condition", &d.condition);
    if !d.tags.is_empty() {
        m.insert(Str::from("tags"), strs(&d.tags));
    }
    if d.enabled {
        m.insert(Str::from("enabled"), Value::Bool(true));
    }
    if !d.import_values.is_empty() {
        m.insert(Str::from("import-values"), Value::list(d.import_values.clone()));
    }
    put(&mut m, "alias", &d.alias);
    Value::map(m)
}

/// `Metadata` as encoding/json sees it (field names from the json tags, `omitempty`).
pub fn metadata_value(md: &Metadata, with_dependencies: bool) -> Value {
    let mut m = BTreeMap::new();
    put(&mut m, "name", &md.name);
    put(&mut m, "home", &md.home);
    if !md.sources.is_empty() {
        m.insert(Str::from("sources"), strs(&md.sources));
    }
    put(&mut m, "version", &md.version);
    put(&mut m, "description", &md.description);
    if !md.keywords.is_empty() {
        m.insert(Str::from("keywords"), strs(&md.keywords));
    }
    if !md.maintainers.is_empty() {
        let items = md
            .maintainers
            .iter()
            .map(|mt| {
                let mut e = BTreeMap::new();
                put(&mut e, "name", &mt.name);
                put(&mut e, "email", &mt.email);
                put(&mut e, "url", &mt.url);
                Value::map(e)
            })
            .collect();
        m.insert(Str::from("maintainers"), Value::list(items));
    }
    put(&mut m, "icon", &md.icon);
    put(&mut m, "apiVersion", &md.api_version);
    put(&mut m, "condition", &md.condition);
    put(&mut m, "tags", &md.tags);
    put(&mut m, "appVersion", &md.app_version);
    if md.deprecated {
        m.insert(Str::from("deprecated"), Value::Bool(true));
    }
    if !md.annotations.is_empty() {
        let a = md.annotations.iter().map(|(k, v)| (Str::from(k.as_str()), Value::string(v.as_str()))).collect();
        m.insert(Str::from("annotations"), Value::map(a));
    }
    put(&mut m, "kubeVersion", &md.kube_version);
    if with_dependencies && !md.dependencies.is_empty() {
        m.insert(Str::from("dependencies"), Value::list(md.dependencies.iter().map(dependency_value).collect()));
    }
    put(&mut m, "type", &md.chart_type);
    Value::map(m)
}

/// `yaml.Marshal(chart.Metadata)` (sigs.k8s.io/yaml), with its trailing newline.
pub fn metadata_yaml(md: &Metadata) -> Result<String, String> {
    rudder_engine::yaml::to_yaml(&metadata_value(md, true))
}

/// `yaml.Marshal(chart.Lock)`: `generated` as Go's `time.Time` JSON (RFC 3339 with nanoseconds,
/// trailing zeros dropped), `digest`, `dependencies` (`null` when empty).
pub fn lock_yaml(lock: &Lock) -> Result<String, String> {
    let mut m = BTreeMap::new();
    let generated = crate::package::parse_rfc3339(&lock.generated)
        .map(|t| t.format_rfc3339_nano())
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string());
    m.insert(Str::from("generated"), Value::string(generated));
    m.insert(Str::from("digest"), Value::string(lock.digest.as_str()));
    let deps = if lock.dependencies.is_empty() {
        Value::Nil
    } else {
        Value::list(lock.dependencies.iter().map(dependency_value).collect())
    };
    m.insert(Str::from("dependencies"), deps);
    rudder_engine::yaml::to_yaml(&Value::map(m))
}

/// Helm's `findReadme`: the first of the chart's files (load order) whose whole name is
/// `readme.md`, `readme.txt` or `readme` in any case.
fn find_readme(chart: &Chart) -> Option<&crate::model::File> {
    chart
        .files
        .iter()
        .find(|f| ["readme.md", "readme.txt", "readme"].iter().any(|n| f.name.eq_ignore_ascii_case(n)))
}

/// `Show.Run` on a loaded chart: the text `helm show <format>` prints.
pub fn show(chart: &Chart, format: ShowFormat, jsonpath: Option<&str>) -> Result<Vec<u8>, String> {
    // Bytes, not text: Helm prints file contents as they are, valid UTF-8 or not.
    let mut out: Vec<u8> = Vec::new();
    let all = format == ShowFormat::All;
    if format == ShowFormat::Chart || all {
        out.extend_from_slice(metadata_yaml(&chart.metadata)?.as_bytes());
        out.push(b'\n');
    }
    // Helm 4 leaves `Values` nil when the chart has no values.yaml.
    if (format == ShowFormat::Values || all) && chart.values_raw.is_some() {
        if all {
            out.extend_from_slice(b"---\n");
        }
        match jsonpath.filter(|j| !j.is_empty()) {
            Some(expr) => {
                let tpl = crate::jsonpath::JsonPath::parse(expr)
                    .map_err(|e| format!("error parsing jsonpath {expr}: {e}"))?;
                // The printer's execution error is ignored by Helm; whatever was written stays.
                let mut text = String::new();
                let _ = tpl.execute(&chart.values, &mut text);
                out.extend_from_slice(text.as_bytes());
            }
            None => {
                for f in chart.raw.iter().filter(|f| f.name == "values.yaml") {
                    out.extend_from_slice(&f.data);
                    out.push(b'\n');
                }
            }
        }
    }
    if format == ShowFormat::Readme || all {
        if let Some(r) = find_readme(chart) {
            if all {
                out.extend_from_slice(b"---\n");
            }
            out.extend_from_slice(&r.data);
            out.push(b'\n');
        }
    }
    if format == ShowFormat::Crds || all {
        for (_, data) in crate::render::template::crd_objects(chart) {
            if !data.starts_with(b"---") {
                out.extend_from_slice(b"---\n");
            }
            out.extend_from_slice(&data);
            out.push(b'\n');
        }
    }
    Ok(out)
}
