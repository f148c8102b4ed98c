//! A release's values as helmfile v1.8.0 hands them to `helm` (pkg/state/state.go
//! `namespaceAndValuesFlags`): the `values:` entries in order (plain files read as they are,
//! `.gotmpl` files rendered with the release's template data, inline maps encoded as YAML), then
//! `set:` and `setString:` as `--set`/`--set-string` assignments.
//!
//! helmfile writes each document to a temporary file and passes `--values FILE`; here the
//! documents stay in memory and go to the chart crate's values merging directly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rudder_engine::Value;

use super::{get, list_items, map_entries, mk_map, rel_to, render, str_of, State};

/// One values document: where it came from (the path as helmfile shows it, or `None` for an
/// inline map) and its YAML text.
#[derive(Clone, Debug)]
pub struct ValuesDoc {
    pub source: Option<String>,
    pub text: String,
}

/// What helmfile would pass to `helm` for a release's values.
#[derive(Clone, Debug, Default)]
pub struct ReleaseValues {
    pub docs: Vec<ValuesDoc>,
    /// `--set` assignments (already escaped as helmfile escapes them).
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    /// `--set-file` assignments.
    pub set_file: Vec<String>,
    /// Lines helmfile logs while resolving (missing files under `Warn`/`Info`).
    pub log: Vec<String>,
}

/// helmfile's `escape`: `{`, `}` and `,` are backslash-escaped in `--set` names and values.
pub fn escape(v: &str) -> String {
    v.replace('{', "\\{")
        .replace('}', "\\}")
        .replace(',', "\\,")
}

/// Go's filepath.Join(base, p) for a relative `p` (helmfile's `normalizePath`).
fn normalize(base_rel: &Path, p: &str) -> String {
    if Path::new(p).is_absolute() || p.contains("://") {
        return p.to_string();
    }
    rudder_engine::funcs::helmfile::clean(&base_rel.join(p))
        .to_string_lossy()
        .into_owned()
}

impl State {
    /// The release maps of this state (templates, inheritance and selectors applied).
    pub fn releases(&self) -> Vec<BTreeMap<String, Value>> {
        list_items(&get(&self.spec, "releases"))
            .iter()
            .map(|r| map_entries(r).into_iter().collect())
            .collect()
    }

    /// helmfile's releaseTemplateData for values files of `rel`.
    fn release_template_data(&self, rel: &BTreeMap<String, Value>) -> Value {
        let vals = self.rendered_values.clone();
        let labels = match get(rel, "labels") {
            l @ Value::Map(_) => l,
            _ => Value::empty_map(),
        };
        let release = mk_map(vec![
            ("Name".into(), Value::string(str_of(&get(rel, "name")))),
            (
                "Namespace".into(),
                Value::string(str_of(&get(rel, "namespace"))),
            ),
            ("Labels".into(), labels),
            ("Chart".into(), Value::string(str_of(&get(rel, "chart")))),
            (
                "ChartVersion".into(),
                Value::string(str_of(&get(rel, "version"))),
            ),
            (
                "KubeContext".into(),
                Value::string(str_of(&get(rel, "kubeContext"))),
            ),
        ]);
        let env = mk_map(vec![
            ("Name".into(), Value::string(self.env_name.as_str())),
            ("KubeContext".into(), Value::string("")),
            ("Values".into(), vals.clone()),
        ]);
        mk_map(vec![
            ("Environment".into(), env),
            ("Release".into(), release),
            ("Values".into(), vals.clone()),
            ("StateValues".into(), vals),
            (
                "KubeContext".into(),
                Value::string(str_of(&get(&self.spec, "kubeContext"))),
            ),
            (
                "Namespace".into(),
                Value::string(str_of(&get(&self.spec, "namespace"))),
            ),
            (
                "Chart".into(),
                Value::string(str_of(&get(&self.spec, "chart"))),
            ),
        ])
    }

    /// The release's missingFileHandler: its own, the state's, or `Error`.
    fn missing_file_handler(&self, rel: &BTreeMap<String, Value>) -> String {
        let own = str_of(&get(rel, "missingFileHandler"));
        if !own.is_empty() {
            return own;
        }
        let st = str_of(&get(&self.spec, "missingFileHandler"));
        if !st.is_empty() {
            return st;
        }
        "Error".into()
    }

    /// The values documents and `--set*` assignments of `rel`, in helmfile's order.
    pub fn release_values(&self, rel: &BTreeMap<String, Value>) -> Result<ReleaseValues, String> {
        let mut out = ReleaseValues::default();
        let base_rel = rel_to(&self.cwd, &self.base_dir);
        let prefix = str_of(&get(rel, "valuesPathPrefix"));
        let handler = self.missing_file_handler(rel);
        for v in list_items(&get(rel, "values")) {
            match &v {
                Value::String(p) => {
                    let shown = normalize(&base_rel, &format!("{prefix}{p}"));
                    let files = super::glob_files(&self.cwd, &shown);
                    if files.is_empty() {
                        match handler.as_str() {
                            "Error" => {
                                return Err(format!(
                                    "values file matching \"{shown}\" does not exist in \"{}\"",
                                    base_rel.display()
                                ))
                            }
                            "Warn" | "Info" => {
                                out.log.push(format!("skipping missing values file matching \"{shown}\""));
                                continue;
                            }
                            "Debug" => continue,
                            other => {
                                return Err(format!(
                                    "invalid missing file handler \"{other}\" while processing \"{shown}\" in \"{}\": it must be one of [Error Warn Info Debug]",
                                    self.file_path
                                ))
                            }
                        }
                    }
                    if files.len() > 1 {
                        return Err("glob patterns in release values and secrets is not supported yet. please submit a feature request if necessary".into());
                    }
                    let file = &files[0];
                    let fshown = rel_to(&self.cwd, file).to_string_lossy().into_owned();
                    let text = self
                        .render_values_file(rel, file, &fshown)
                        .map_err(|e| format!("failed to render values files \"{shown}\": {e}"))?;
                    out.docs.push(ValuesDoc {
                        source: Some(fshown),
                        text,
                    });
                }
                Value::Map(_) => {
                    let text =
                        rudder_engine::yaml::to_yaml_pretty(&v).map_err(|e| e.to_string())?;
                    out.docs.push(ValuesDoc { source: None, text });
                }
                Value::Nil | Value::Missing => {
                    out.docs.push(ValuesDoc {
                        source: None,
                        text: "{}\n".into(),
                    });
                }
                other => {
                    return Err(format!(
                        "unexpected type of value: value={}, type={}",
                        str_of(other),
                        go_type(other)
                    ));
                }
            }
        }
        // `secrets:` are SOPS-encrypted values files, decrypted natively (no helm-secrets) and
        // given to helm after the plain values files, as helmfile orders them.
        for v in list_items(&get(rel, "secrets")) {
            let Value::String(p) = &v else {
                return Err(format!("unexpected type of secret: value={}, type={}", str_of(&v), go_type(&v)));
            };
            let shown = normalize(&base_rel, &format!("{prefix}{p}"));
            let files = super::glob_files(&self.cwd, &shown);
            if files.is_empty() {
                match handler.as_str() {
                    "Warn" | "Info" => {
                        out.log.push(format!("skipping missing secrets file matching \"{shown}\""));
                        continue;
                    }
                    "Debug" => continue,
                    _ => {
                        return Err(format!(
                            "secrets file matching \"{shown}\" does not exist in \"{}\"",
                            base_rel.display()
                        ))
                    }
                }
            }
            for file in &files {
                let fshown = rel_to(&self.cwd, file).to_string_lossy().into_owned();
                let text = crate::secrets::decrypt_file(file).map_err(|e| e.to_string())?;
                out.docs.push(ValuesDoc { source: Some(fshown), text });
            }
        }
        for s in list_items(&get(rel, "set")) {
            let m: BTreeMap<String, Value> = map_entries(&s).into_iter().collect();
            let name = escape(&str_of(&get(&m, "name")));
            let value = str_of(&get(&m, "value"));
            let file = str_of(&get(&m, "file"));
            let values = list_items(&get(&m, "values"));
            if !value.is_empty() {
                out.set.push(format!("{name}={}", escape(&value)));
            } else if !file.is_empty() {
                out.set_file
                    .push(format!("{name}={}", normalize(&base_rel, &file)));
            } else if !values.is_empty() {
                let items: Vec<String> = values.iter().map(|v| escape(&str_of(v))).collect();
                out.set.push(format!("{name}={{{}}}", items.join(",")));
            }
        }
        for s in list_items(&get(rel, "setString")) {
            let m: BTreeMap<String, Value> = map_entries(&s).into_iter().collect();
            let name = escape(&str_of(&get(&m, "name")));
            let value = str_of(&get(&m, "value"));
            let values = list_items(&get(&m, "values"));
            if !value.is_empty() {
                out.set_string.push(format!("{name}={}", escape(&value)));
            } else if !values.is_empty() {
                let items: Vec<String> = values.iter().map(|v| escape(&str_of(v))).collect();
                out.set_string
                    .push(format!("{name}={{{}}}", items.join(",")));
            }
        }
        Ok(out)
    }

    /// tmpl.FileRenderer.RenderToBytes: `.gotmpl` files rendered, others read as they are.
    fn render_values_file(
        &self,
        rel: &BTreeMap<String, Value>,
        file: &PathBuf,
        shown: &str,
    ) -> Result<String, String> {
        let path = if file.is_absolute() {
            file.clone()
        } else {
            self.cwd.join(file)
        };
        if shown.rsplit('.').next() == Some("gotmpl") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("failed to render [{shown}], because of {e}"))?;
            let data = self.release_template_data(rel);
            let dir = path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| self.cwd.clone());
            render(&self.cwd, &dir, "", &text, &data, false)
                .map_err(|e| format!("failed to render [{shown}], because of {e}"))
        } else {
            std::fs::read(&path)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| format!("failed to load [{shown}]: {e}"))
        }
    }
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Int(..) => "int",
        Value::Float(..) => "float64",
        Value::List(_) => "[]interface {}",
        _ => "string",
    }
}
