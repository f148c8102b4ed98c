//! Template rules (Helm: pkg/chart/v2/lint/rules/template.go and deprecations.go): the chart
//! renders in lint mode, and each rendered YAML template of the top chart is checked document by
//! document (indentation, YAML syntax, object names, deprecated APIs, selectors, `List`
//! annotations).

use rudder_engine::Value;

use super::{LintOptions, Linter, Severity};
use crate::render::{to_render_values, Capabilities, Engine, KubeVersion, ReleaseOptions};

/// `k8sYamlStruct`: what the rules read from a manifest.
#[derive(Clone, Debug, Default)]
pub struct K8sObject {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// encoding/json's case-insensitive field lookup on a decoded map.
fn field(m: &Value, name: &str) -> Option<Value> {
    let Value::Map(m) = m else { return None };
    if let Some(v) = m.get(name) {
        return Some(v);
    }
    let r = m.read();
    r.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
}

fn string_field(m: &Value, name: &str, path: &str) -> Result<String, String> {
    match field(m, name) {
        None | Some(Value::Nil) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(other) => Err(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field k8sYamlStruct.{path} of type string",
            rudder_engine::yaml::json_kind(&other)
        )),
    }
}

/// Decodes one document as the k8s YAML decoder does into `*k8sYamlStruct` (`None`: empty).
pub fn decode_object(doc: &str) -> Result<Option<K8sObject>, String> {
    let v = rudder_engine::yaml::from_yaml(doc)?;
    match &v {
        Value::Nil => Ok(None),
        Value::Map(_) => {
            let api_version = string_field(&v, "apiVersion", "apiVersion")?;
            let kind = string_field(&v, "Kind", "Kind")?;
            let name = match field(&v, "Metadata") {
                None | Some(Value::Nil) => String::new(),
                Some(md @ Value::Map(_)) => string_field(&md, "Name", "Metadata.Name")?,
                Some(other) => {
                    return Err(format!(
                        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field k8sYamlStruct.Metadata of type rules.k8sYamlMetadata",
                        rudder_engine::yaml::json_kind(&other)
                    ))
                }
            };
            Ok(Some(K8sObject { api_version, kind, name }))
        }
        other => Err(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type rules.k8sYamlStruct",
            rudder_engine::yaml::json_kind(other)
        )),
    }
}

/// The documents of a manifest stream as the k8s YAML reader splits them.
pub fn documents(text: &str) -> Result<Vec<String>, String> {
    rudder_engine::yaml::split_documents(text)
}

fn validate_top_indent(content: &str) -> Result<(), String> {
    for line in content.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            return Err(format!(
                "document starts with an illegal indent: {}, which may cause parsing problems",
                rudder_engine::print::quote(line)
            ));
        }
        return Ok(());
    }
    Ok(())
}

/// Go's `filepath.Ext`.
fn ext(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    match base.rfind('.') {
        Some(i) => &base[i..],
        None => "",
    }
}

fn validate_allowed_extension(name: &str) -> Result<(), String> {
    let e = ext(name);
    if [".yaml", ".yml", ".tpl", ".txt"].contains(&e) {
        Ok(())
    } else {
        Err(format!("file extension '{e}' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt"))
    }
}

/// `validateNoDeprecations`: the apiserver's deprecation warning for a deprecated built-in API.
pub fn validate_no_deprecations(obj: &K8sObject, kube: &KubeVersion) -> Result<(), String> {
    if obj.api_version.is_empty() || obj.kind.is_empty() {
        return Ok(());
    }
    let Some(&(gv, kind, dmaj, dmin, rmaj, rmin, repl)) = super::deprecated_apis::DEPRECATED_APIS
        .iter()
        .find(|(gv, k, ..)| *gv == obj.api_version && *k == obj.kind)
    else {
        return Ok(());
    };
    let major: u32 = kube.major.parse().map_err(|_| format!("strconv.Atoi: parsing {}: invalid syntax", rudder_engine::print::quote(&kube.major)))?;
    let minor: u32 = kube.minor.parse().map_err(|_| format!("strconv.Atoi: parsing {}: invalid syntax", rudder_engine::print::quote(&kube.minor)))?;
    let deprecated = (major == 0 && minor == 0) || !(dmaj > major || (dmaj == major && dmin > minor));
    if !deprecated {
        return Ok(());
    }
    let mut msg = format!("{gv} {kind} is deprecated in v{dmaj}.{dmin}+");
    if rmaj != 0 || rmin != 0 {
        msg.push_str(&format!(", unavailable in v{rmaj}.{rmin}+"));
    }
    if !repl.is_empty() {
        msg.push_str(&format!("; use {repl}"));
    }
    Err(msg)
}

fn validate_match_selector(obj: &K8sObject, manifest: &str) -> Result<(), String> {
    if matches!(obj.kind.as_str(), "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet")
        && !manifest.contains("matchLabels")
        && !manifest.contains("matchExpressions")
    {
        return Err(format!(
            "a {} must contain matchLabels or matchExpressions, and {} does not",
            obj.kind,
            rudder_engine::print::quote(&obj.name)
        ));
    }
    Ok(())
}

fn validate_list_annotations(obj: &K8sObject, manifest: &str) -> Result<(), String> {
    if obj.kind != "List" {
        return Ok(());
    }
    let v = rudder_engine::yaml::from_yaml(manifest).map_err(|e| format!("unable to parse YAML: {e}"))?;
    if let Some(Value::List(items)) = field(&v, "Items") {
        for item in &items.items {
            let ann = field(item, "Metadata").and_then(|m| field(&m, "Annotations"));
            if let Some(Value::Map(a)) = ann {
                if a.get("helm.sh/resource-policy").is_some() {
                    return Err("annotation 'helm.sh/resource-policy' within List objects are ignored".into());
                }
            }
        }
    }
    Ok(())
}

/// `rules.Templates`.
pub fn templates(linter: &mut Linter, opts: &LintOptions) {
    let dir = "templates/";
    let path = linter.chart_dir.join("templates");
    let meta = std::fs::metadata(&path);
    if let Err(e) = &meta {
        if e.kind() == std::io::ErrorKind::NotFound {
            linter.rule(Severity::Warning, dir, Err("directory does not exist".into()));
            return;
        }
    }
    match &meta {
        Err(e) => {
            linter.rule(
                Severity::Error,
                dir,
                Err(format!("stat {}: {}", path.display(), crate::values::options::go_errno_text(e))),
            );
            return;
        }
        Ok(m) if !m.is_dir() => {
            linter.rule(Severity::Error, dir, Err("not a directory".into()));
            return;
        }
        _ => {}
    }
    let mut chart = match crate::load::load(&linter.chart_dir) {
        Ok(c) => c,
        Err(e) => {
            linter.rule(Severity::Error, dir, Err(e.to_string()));
            return;
        }
    };
    let mut caps = Capabilities::helm_default();
    if let Some(kv) = &opts.kube_version {
        caps.kube_version = kv.clone();
    }
    let mut warnings = Vec::new();
    if crate::process_dependencies(&mut chart, &opts.values, &mut warnings).is_err() {
        return;
    }
    let Ok(cvals) = crate::coalesce_values(&chart, &opts.values, &mut warnings) else { return };
    if !opts.skip_schema_validation {
        if let Err(e) = crate::validate_against_schema(&chart, &cvals) {
            linter.rule(Severity::Error, dir, Err(crate::values::schema::schema_error_text(&e)));
            return;
        }
    }
    let release = ReleaseOptions {
        name: "test-release".into(),
        namespace: opts.namespace.clone(),
        revision: 0,
        is_upgrade: false,
        is_install: false,
    };
    let top = to_render_values(&chart, cvals, &release, &caps);
    let engine = Engine { lint_mode: true, ..Default::default() };
    let rendered = match engine.render(&chart, &top) {
        Ok(r) => r,
        Err(e) => {
            linter.rule(Severity::Error, dir, Err(e.0));
            return;
        }
    };
    for t in &chart.templates {
        let name = t.name.as_str();
        linter.rule(Severity::Error, name, validate_allowed_extension(name));
        let lower = ext(name).to_ascii_lowercase();
        if lower != ".yaml" && lower != ".yml" {
            continue;
        }
        let key = crate::render::engine::go_path_join(chart.name(), name);
        let content = rendered.get(&key).cloned().unwrap_or_default();
        if content.trim().is_empty() {
            continue;
        }
        linter.rule(Severity::Warning, name, validate_top_indent(&content));
        let docs = match documents(&content) {
            Ok(d) => d,
            Err(e) => {
                linter.rule(Severity::Error, name, Err(format!("unable to parse YAML: {e}")));
                return;
            }
        };
        for doc in docs {
            let obj = match decode_object(&doc) {
                Ok(o) => o,
                Err(e) => {
                    linter.rule(Severity::Error, name, Err(format!("unable to parse YAML: {e}")));
                    return;
                }
            };
            if let Some(obj) = obj {
                linter.rule(Severity::Warning, name, super::names::validate_metadata_name(&obj.kind, &obj.name));
                linter.rule(Severity::Warning, name, validate_no_deprecations(&obj, &caps.kube_version));
                linter.rule(Severity::Error, name, validate_match_selector(&obj, &content));
                linter.rule(Severity::Error, name, validate_list_annotations(&obj, &content));
            }
        }
    }
}
