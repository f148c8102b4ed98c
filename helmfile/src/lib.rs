//! helmfile v1 desired-state files: reading `helmfile.yaml` / `helmfile.yaml.gotmpl` as helmfile
//! v1.8.0 does, up to the resolved state that `helmfile build` prints.
//!
//! - [`load`] reads a state file: its `---`-separated parts are rendered (for `.gotmpl` files)
//!   one after the other, each with the environment values known so far, parsed, and merged.
//! - [`State::build_yaml`] prints the state as `helmfile build` does.
//! - [`State::list_table`] prints the `helmfile list` table.
//!
//! Errors are helmfile's texts without the `in ./FILE: ` prefix its CLI adds (except the
//! "no releases found" error, which helmfile prints bare).
//!
//! Environment `secrets:` are decrypted in-process ([`secrets`]: SOPS with age keys).
//!
//! HCL environment values files are read by [`hcl`].
//!
//! Not covered yet: remote (go-getter) state
//! and values files, kustomize/chartify preparation, go-yaml v3 parse-error line numbers (the
//! engine's YAML reader is go-yaml v2's; v3-only scalar readings are emulated for the YAML 1.1
//! booleans `y/yes/on/off/...`), `--embed-values`.

pub mod charts;
pub mod bundle;
pub mod cli;
pub mod commands;
pub mod dag;
pub mod deploy;
pub mod hcl;
pub mod hooks;
pub mod lint;
pub mod lockfile;
pub mod render;
pub mod report;
pub mod run;
pub mod schema;
pub mod state_files;
pub mod secrets;
pub mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rudder_engine::funcs::helmfile::{native_to_value, Context};
use rudder_engine::{MissingKey, Str, TemplateSet, Value};
use schema::{Field, Kind};

/// Command-line options that shape loading (`-e`, `--state-values-set`, `-l`, `-n`).
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub environment: Option<String>,
    pub state_values_set: Vec<String>,
    /// `--state-values-set-string`: as `--state-values-set`, every value a string (applied
    /// first, so `--state-values-set` wins on the same key, as helmfile merges them).
    pub state_values_set_string: Vec<String>,
    /// `--state-values-file`: YAML (or `.gotmpl`) files relative to the state file's directory,
    /// merged over the environment's values and under the `--state-values-set*` values.
    pub state_values_files: Vec<String>,
    pub selectors: Vec<String>,
    pub namespace: Option<String>,
}

/// A loaded state: the merged `ReleaseSetSpec` as Go values keyed by YAML names.
#[derive(Clone, Debug)]
pub struct State {
    /// The path as given (helmfile's `FilePath`).
    pub file_path: String,
    /// The absolute path (`#  Source:`).
    pub full_path: PathBuf,
    pub base_dir: PathBuf,
    /// helmfile's working directory for this state (absolute).
    pub cwd: PathBuf,
    pub env_name: String,
    pub spec: BTreeMap<String, Value>,
    pub rendered_values: Value,
    /// Nested states from `helmfiles:`, loaded after this one.
    pub subs: Vec<State>,
}

/// helmfile's ConditionEnabled: `condition: foo.enabled` looked up in the state values.
pub fn condition_enabled(condition: &str, values: &Value) -> R<bool> {
    if condition.is_empty() {
        return Ok(true);
    }
    match condition.to_lowercase().as_str() {
        "true" => return Ok(true),
        "false" => return Ok(false),
        _ => {}
    }
    let keys: Vec<&str> = condition.split('.').collect();
    if keys[keys.len() - 1] != "enabled" {
        return Err("Condition value must be in the form 'foo.enabled' where 'foo' can be modified as necessary".into());
    }
    let mut cur = values.clone();
    let mut current_key = String::new();
    for k in &keys[..keys.len() - 1] {
        current_key = format!("{current_key}.{k}");
        let v = match &cur {
            Value::Map(m) => m.get(k),
            _ => None,
        };
        let Some(v) = v else { return Err(format!("environment values field '{current_key}' not found")) };
        if !matches!(v, Value::Map(_)) {
            return Err(format!("environment values field '{current_key}' is not a map"));
        }
        cur = v;
    }
    Ok(match &cur {
        Value::Map(m) => matches!(m.get("enabled"), Some(Value::Bool(true))),
        _ => false,
    })
}

type R<T> = Result<T, String>;

/// The helmfile release Rudder follows (written into `helmfile.lock`).
pub const HELMFILE_VERSION: &str = "v1.8.0";

fn get(m: &BTreeMap<String, Value>, k: &str) -> Value {
    m.get(k).cloned().unwrap_or(Value::Missing)
}

fn map_entries(v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Map(m) => m.read().iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        _ => vec![],
    }
}

fn list_items(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) => l.items.clone(),
        _ => vec![],
    }
}

fn mk_map(entries: Vec<(String, Value)>) -> Value {
    Value::map(entries.into_iter().map(|(k, v)| (Str::from(k.as_str()), v)).collect())
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Missing | Value::Nil => String::new(),
        other => rudder_engine::print::format_v(other),
    }
}

/// helmfile's maputil.MergeMaps: maps merge recursively, anything else from `b` replaces.
pub fn merge_maps(a: &Value, b: &Value) -> Value {
    let mut out: BTreeMap<String, Value> = map_entries(a).into_iter().collect();
    for (k, v) in map_entries(b) {
        let merged = match (out.get(&k), &v) {
            (Some(old @ Value::Map(_)), Value::Map(_)) => merge_maps(old, &v),
            _ => v.clone(),
        };
        out.insert(k, merged);
    }
    mk_map(out.into_iter().collect())
}

fn deep_copy(v: &Value) -> Value {
    match v {
        Value::Map(_) => mk_map(map_entries(v).into_iter().map(|(k, v)| (k, deep_copy(&v))).collect()),
        Value::List(l) => Value::list(l.items.iter().map(deep_copy).collect()),
        other => other.clone(),
    }
}

/// `p` relative to `cwd` as helmfile would spell it ("." for `cwd` itself).
fn rel_to(cwd: &Path, p: &Path) -> PathBuf {
    match p.strip_prefix(cwd) {
        Ok(r) if r.as_os_str().is_empty() => PathBuf::from("."),
        Ok(r) => r.to_path_buf(),
        Err(_) => p.to_path_buf(),
    }
}

fn render(cwd: &Path, base: &Path, name: &str, text: &str, data: &Value, pre: bool) -> R<String> {
    let mut funcs = rudder_engine::funcs::sprig();
    let ctx = Context { base_path: rel_to(cwd, base), pre_render: pre, cwd: Some(cwd.to_path_buf()) };
    rudder_engine::funcs::helmfile::register_with(&mut funcs, &ctx);
    let mut t = TemplateSet::new(funcs).with_name("stringTemplate");
    t.set_missing_key(if pre { MissingKey::Zero } else { MissingKey::Error });
    // Helper templates: _*.tpl in the base directory.
    if let Ok(rd) = std::fs::read_dir(base) {
        let mut helpers: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                n.starts_with('_') && n.ends_with(".tpl")
            })
            .collect();
        helpers.sort();
        for h in helpers {
            let content = std::fs::read_to_string(&h).map_err(|e| e.to_string())?;
            t.parse("stringTemplate", &content)
                .map_err(|e| format!("failed to parse helper template {}: {e}", h.display()))?;
        }
    }
    t.parse("stringTemplate", text).map_err(|e| e.to_string())?;
    let _ = name;
    t.execute("stringTemplate", data).map_err(|e| e.to_string())
}

/// Renders `text` as helmfile's text renderer does for this state (its base path, helper
/// templates, `missingkey=error`): hooks' commands and arguments.
pub(crate) fn render_in(st: &State, text: &str, data: &Value) -> R<String> {
    render(&st.cwd, &st.base_dir, "", text, data, false)
}

fn template_data(env_name: &str, kube_context: &str, values: &Value, namespace: &str) -> Value {
    let env = mk_map(vec![
        ("Name".into(), Value::string(env_name)),
        ("KubeContext".into(), Value::string(kube_context)),
        ("Values".into(), values.clone()),
    ]);
    mk_map(vec![
        ("Environment".into(), env),
        ("Namespace".into(), Value::string(namespace)),
        ("Values".into(), values.clone()),
        ("StateValues".into(), values.clone()),
    ])
}

fn parse_yaml(text: &str) -> R<Value> {
    let n = rudder_engine::yaml::from_yaml_native_v3_bools(text)?;
    Ok(native_to_value(&n))
}

/// Why a values file could not be read: a template or YAML error naming the file (which
/// helmfile names the state file around), or any other (given as it is).
enum ValuesFileError {
    Render(String),
    Other(String),
}

struct Loader<'a> {
    opts: &'a LoadOptions,
    /// helmfile's working directory (absolute).
    cwd: PathBuf,
}

impl<'a> Loader<'a> {
    fn env_name(&self) -> String {
        self.opts.environment.clone().unwrap_or_else(|| "default".into())
    }

    /// Values of environment `env` declared in `envs` (a part's `environments`), merged over `inherited`.
    fn env_values(&self, base: &Path, envs: &Value, inherited: &Value, shown: &str) -> R<Value> {
        let name = self.env_name();
        let mut vals = inherited.clone();
        let ctx_vals = inherited.clone();
        let spec = match envs {
            Value::Map(m) => m.get(&name),
            _ => None,
        };
        let Some(spec) = spec else { return Ok(vals) };
        let missing = match &spec {
            Value::Map(m) => m.get("missingFileHandler").map(|v| str_of(&v)).unwrap_or_else(|| "Error".into()),
            _ => "Error".into(),
        };
        // --- environment secrets (secrets/): decrypted natively, merged over the values below.
        let secret_vals = self.env_secrets(base, &spec, &missing, shown)?;
        // --- end environment secrets
        let items = match &spec {
            Value::Map(m) => m.get("values").map(|v| list_items(&v)).unwrap_or_default(),
            _ => vec![],
        };
        let mut hcl_files = Vec::new();
        for item in items {
            match &item {
                Value::String(p) => {
                    let files = glob_files(base, p);
                    if files.is_empty() {
                        if missing == "Error" {
                            return Err(format!(
                                "failed to read {shown}: environment values file matching \"{p}\" does not exist in \"{}\"",
                                rel_to(&self.cwd, base).display()
                            ));
                        }
                        continue;
                    }
                    for f in files {
                        match self.values_file(f, base, &name, &ctx_vals, &mut hcl_files) {
                            Ok(Some(v)) => vals = merge_maps(&vals, &v),
                            Ok(None) => {}
                            Err(ValuesFileError::Render(e)) => return Err(format!("failed to read {shown}: {e}")),
                            Err(ValuesFileError::Other(e)) => return Err(e),
                        }
                    }
                }
                Value::Map(_) => vals = merge_maps(&vals, &item),
                _ => {}
            }
        }
        if !hcl_files.is_empty() {
            let v = hcl::render(&hcl_files).map_err(|e| format!("failed to read {shown}: {e}"))?;
            vals = merge_maps(&vals, &v);
        }
        // Secrets take precedence over the environment's values (helmfile's loadEnvValues).
        Ok(merge_maps(&vals, &secret_vals))
    }

    /// One environment values file as helmfile's loader reads it: YAML, `.gotmpl` rendered with
    /// `ctx_vals` first, `.hcl` set aside in `hcl_files` (HCL files are rendered together after
    /// the others, hcl/) and None returned for it.
    fn values_file(&self, f: PathBuf, base: &Path, env: &str, ctx_vals: &Value, hcl_files: &mut Vec<(PathBuf, String)>) -> Result<Option<Value>, ValuesFileError> {
        let fshown = rel_to(&self.cwd, &f).to_string_lossy().into_owned();
        if f.extension().is_some_and(|e| e == "hcl") {
            hcl_files.push((f, fshown));
            return Ok(None);
        }
        let text = std::fs::read_to_string(&f).map_err(|e| ValuesFileError::Other(e.to_string()))?;
        let text = if f.extension().is_some_and(|e| e == "gotmpl") {
            let data = template_data(env, "", ctx_vals, "");
            render(&self.cwd, f.parent().unwrap_or(base), "values", &text, &data, false).map_err(|e| {
                ValuesFileError::Render(format!("failed to load environment values file \"{fshown}\": failed to render [{fshown}], because of {e}"))
            })?
        } else {
            text
        };
        parse_yaml(&text).map(Some).map_err(|e| {
            ValuesFileError::Render(format!("failed to load environment values file \"{fshown}\": {e}\n\nOffending YAML:\n{text}"))
        })
    }

    /// The `--state-values-file` files, read as helmfile's environment values loader reads them
    /// (globs; `.gotmpl` rendered with the environment's name and no values), merged in order;
    /// None without the flag.
    fn state_values_files(&self, base: &Path) -> R<Option<Value>> {
        if self.opts.state_values_files.is_empty() {
            return Ok(None);
        }
        let name = self.env_name();
        let mut vals = Value::empty_map();
        let mut hcl_files = Vec::new();
        for p in &self.opts.state_values_files {
            let files = glob_files(base, p);
            if files.is_empty() {
                return Err(format!("environment values file matching \"{p}\" does not exist in \"{}\"", rel_to(&self.cwd, base).display()));
            }
            for f in files {
                // As environment values files, rendered with the environment's name only.
                match self.values_file(f, base, &name, &Value::empty_map(), &mut hcl_files) {
                    Ok(Some(v)) => vals = merge_maps(&vals, &v),
                    Ok(None) => {}
                    Err(ValuesFileError::Render(e) | ValuesFileError::Other(e)) => return Err(e),
                }
            }
        }
        if !hcl_files.is_empty() {
            vals = merge_maps(&vals, &hcl::render(&hcl_files)?);
        }
        Ok(Some(vals))
    }

    /// `environments.<env>.secrets`: each file (globs as for values, `missingFileHandler`
    /// applied) decrypted as `helm secrets decrypt` / `sops -d` would, read as YAML and merged
    /// in order. helmfile needs the helm-secrets plugin and the sops binary for this; Rudder
    /// decrypts in-process (secrets/).
    fn env_secrets(&self, base: &Path, spec: &Value, missing: &str, shown: &str) -> R<Value> {
        let items = match spec {
            Value::Map(m) => m.get("secrets").map(|v| list_items(&v)).unwrap_or_default(),
            _ => vec![],
        };
        let mut out = Value::empty_map();
        let mut errs = Vec::new();
        for item in items {
            let p = str_of(&item);
            let files = glob_files(base, &p);
            if files.is_empty() {
                if missing == "Error" {
                    return Err(format!(
                        "failed to read {shown}: environment values file matching \"{p}\" does not exist in \"{}\"",
                        rel_to(&self.cwd, base).display()
                    ));
                }
                continue;
            }
            for f in files {
                let fshown = rel_to(&self.cwd, &f).to_string_lossy().into_owned();
                match secrets::decrypt_file(&f) {
                    Ok(text) => match parse_yaml(&text) {
                        Ok(v) => out = merge_maps(&out, &v),
                        Err(e) => errs.push(format!("failed to load environment secrets file \"{fshown}\": {e}")),
                    },
                    Err(e) => errs.push(format!("failed to load environment secrets file \"{fshown}\": {}", e.message)),
                }
            }
        }
        if !errs.is_empty() {
            return Err(format!(
                "failed to read {shown}: failed loading environment secrets with {} errors:\n{}",
                errs.len(),
                errs.join("\n")
            ));
        }
        Ok(out)
    }

    fn load(&self, file: &str, base_dir: &Path, inherited: Option<&Value>, keep_base: bool) -> R<State> {
        let path = if Path::new(file).is_absolute() { PathBuf::from(file) } else { base_dir.join(file) };
        let path = rudder_engine::funcs::helmfile::clean(&path);
        let content = std::fs::read_to_string(&path).map_err(|e| format!("open {}: {}", path.display(), rudder_engine::funcs::helmfile::errno_text(&e)))?;
        let base = if keep_base { base_dir.to_path_buf() } else { path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")) };
        let content = content.replace("\r\n", "\n");
        let gotmpl = path.extension().is_some_and(|e| e == "gotmpl");
        let mut spec: BTreeMap<String, Value> = BTreeMap::new();
        let sets = &self.opts.state_values_set;
        let set_strings = &self.opts.state_values_set_string;
        // `--state-values-file` is read from helmfile's working directory: the state's own
        // (it changes into it), or the process's for states loaded with a base directory.
        let svf_base = if self.cwd.as_os_str().is_empty() { Path::new(".") } else { base.as_path() };
        let overrides = self.state_values_files(svf_base)?;
        let mut defaults = Value::empty_map();
        let mut env_vals = inherited.cloned().unwrap_or_else(Value::empty_map);
        let merged = |d: &Value, e: &Value| {
            let mut v = merge_maps(d, e);
            if let Some(o) = &overrides {
                v = merge_maps(&v, o);
            }
            apply_sets(&apply_set_strings(&v, set_strings), sets)
        };
        // helmfile's `f`: the file joined to the base directory as given.
        let shown = rel_to(&self.cwd, &path).to_string_lossy().into_owned();
        for (i, part) in content.split("\n---\n").enumerate() {
            let text = if gotmpl {
                let vals = merged(&defaults, &env_vals);
                let data = template_data(&self.env_name(), "", &vals, self.opts.namespace.as_deref().unwrap_or(""));
                render(&self.cwd, &base, "", part, &data, false)
                    .map_err(|e| format!("error during {shown}.part.{i} parsing: {e}"))?
            } else {
                part.to_string()
            };
            let read_err = |e: String| {
                if gotmpl {
                    format!("failed to read {shown}: reading document at index 1: {e}")
                } else {
                    format!("failed to read {shown}: reading document at index 1. Started seeing this since Helmfile v1? Add the .gotmpl file extension: {e}")
                }
            };
            let parsed = parse_yaml(&text).map_err(|e| read_err(e.replace("map[interface {}]interface {}", "map[string]interface {}")))?;
            let unknown = unknown_fields(&parsed, &text);
            if !unknown.is_empty() {
                return Err(read_err(format!("yaml: unmarshal errors:\n{}", unknown.join("\n"))));
            }
            let part_spec: BTreeMap<String, Value> = map_entries(&parsed).into_iter().collect();
            // bases are loaded first and merged under this part.
            if let Value::List(bases) = get(&part_spec, "bases") {
                for b in &bases.items {
                    let bs = self.load(&str_of(b), &base, Some(&merged(&defaults, &env_vals)), true)?;
                    for (k, v) in bs.spec {
                        if k == "helmBinary" || k == "kustomizeBinary" || k == "bases" {
                            continue;
                        }
                        merge_field(&mut spec, k, v);
                    }
                    env_vals = merge_maps(&env_vals, &bs.rendered_values);
                }
            }
            if let Value::List(items) = get(&part_spec, "values") {
                // The state's own `values:` go through helmfile's environment values loader
                // too: HCL files among them are rendered together after the others.
                let mut hcl_files = Vec::new();
                for item in &items.items {
                    match item {
                        Value::Map(_) => defaults = merge_maps(&defaults, item),
                        Value::String(p) => {
                            for f in glob_files(&base, p) {
                                if f.extension().is_some_and(|e| e == "hcl") {
                                    let fshown = rel_to(&self.cwd, &f).to_string_lossy().into_owned();
                                    hcl_files.push((f, fshown));
                                    continue;
                                }
                                let text = std::fs::read_to_string(&f).map_err(|e| e.to_string())?;
                                let text = if f.extension().is_some_and(|e| e == "gotmpl") {
                                    let vals = merged(&defaults, &env_vals);
                                    let data = template_data(&self.env_name(), "", &vals, "");
                                    render(&self.cwd, f.parent().unwrap_or(&base), "", &text, &data, false)?
                                } else {
                                    text
                                };
                                defaults = merge_maps(&defaults, &parse_yaml(&text)?);
                            }
                        }
                        _ => {}
                    }
                }
                if !hcl_files.is_empty() {
                    let v = hcl::render(&hcl_files).map_err(|e| format!("failed to read {shown}: {e}"))?;
                    defaults = merge_maps(&defaults, &v);
                }
            }
            if let Some(envs) = part_spec.get("environments").cloned() {
                env_vals = self.env_values(&base, &envs, &merged(&defaults, &env_vals), &shown)?;
            }
            for (k, v) in part_spec {
                merge_field(&mut spec, k, v);
            }
        }
        let env_vals = merged(&defaults, &env_vals);
        let env_name = self.env_name();
        if env_name != "default" {
            let defined = matches!(spec.get("environments"), Some(Value::Map(m)) if m.get(&env_name).is_some());
            if !defined {
                return Err(format!("{UNDEFINED_ENV}{env_name}"));
            }
        }
        let full_path = absolute(&path);
        Ok(State {
            file_path: file.to_string(),
            full_path,
            base_dir: base,
            cwd: self.cwd.clone(),
            env_name,
            spec,
            rendered_values: env_vals,
            subs: vec![],
        })
    }
}

fn values_equal(a: &Value, b: &Value) -> bool {
    rudder_engine::yaml::to_yaml_pretty(a).ok() == rudder_engine::yaml::to_yaml_pretty(b).ok()
}

/// mergo.Merge(dst, src, WithAppendSlice): empty fields of dst are filled from src, lists are
/// appended, maps gain the keys they lack.
fn mergo_append(dst: &mut BTreeMap<String, Value>, src: &BTreeMap<String, Value>) {
    for (k, v) in src {
        match (dst.get(k).cloned(), v) {
            (None, _) => {
                dst.insert(k.clone(), deep_copy(v));
            }
            (Some(d), _) if is_zero(&d, false) => {
                dst.insert(k.clone(), deep_copy(v));
            }
            (Some(Value::List(d)), Value::List(sv)) => {
                let mut items = d.items.clone();
                items.extend(sv.items.iter().map(deep_copy));
                dst.insert(k.clone(), Value::list(items));
            }
            (Some(d @ Value::Map(_)), Value::Map(_)) => {
                let mut m: BTreeMap<String, Value> = map_entries(&d).into_iter().collect();
                for (kk, vv) in map_entries(v) {
                    m.entry(kk).or_insert(vv);
                }
                dst.insert(k.clone(), mk_map(m.into_iter().collect()));
            }
            _ => {}
        }
    }
}

/// releaseWithInheritedTemplate: templates named in `inherit` (recursively) merged under the release.
fn inherit_release(r: BTreeMap<String, Value>, templates: &Value, rname: &str, path: &mut Vec<String>) -> R<BTreeMap<String, Value>> {
    let mut merged: BTreeMap<String, Value> = BTreeMap::new();
    for inh in list_items(&get(&r, "inherit")) {
        let im: BTreeMap<String, Value> = map_entries(&inh).into_iter().collect();
        let tname = str_of(&get(&im, "template"));
        if path.contains(&tname) {
            let mut p = path.clone();
            p.push(tname.clone());
            return Err(format!("unable to load release {rname:?} with template: cyclic inheritance detected: {}", p.join("->")));
        }
        let t = match templates {
            Value::Map(m) => m.get(&tname),
            _ => None,
        };
        let Some(t) = t else {
            return Err(format!("release {rname:?} tried to inherit inexistent release template {tname:?}"));
        };
        path.push(tname.clone());
        let tm: BTreeMap<String, Value> = map_entries(&t).into_iter().collect();
        let mut src = inherit_release(tm, templates, rname, path)?;
        path.pop();
        for e in list_items(&get(&im, "except")) {
            let e = str_of(&e);
            match e.as_str() {
                "labels" => {
                    src.insert("labels".into(), Value::empty_map());
                }
                "values" | "valuesTemplate" | "setTemplate" | "set" | "setString" | "secrets" => {
                    src.remove(&e);
                }
                _ => return Err(format!("{e:?} is not allowed under `inherit`. Allowed values are \"set\", \"setTemplate\", \"values\", \"valuesTemplate\", \"secrets\", and \"labels\"")),
            }
        }
        mergo_append(&mut merged, &src);
    }
    mergo_append(&mut merged, &r);
    merged.remove("inherit");
    Ok(merged)
}

/// go-yaml v3 strict decoding's "field X not found in type T" errors, in line order.
fn unknown_fields(parsed: &Value, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let line_of = |key: &str, from: usize| -> usize {
        for (n, l) in lines.iter().enumerate().skip(from) {
            let t = l.trim_start().trim_start_matches("- ").trim_start();
            if t.starts_with(&format!("{key}:")) {
                return n + 1;
            }
        }
        0
    };
    let mut errs: Vec<(usize, String)> = Vec::new();
    let mut from = 0;
    for (k, v) in map_entries(parsed) {
        if !schema::known_top_level(&k) {
            errs.push((line_of(&k, 0), format!("field {k} not found in type state.helmStateAlias")));
        }
        if k == "releases" {
            from = line_of("releases", 0);
            for r in list_items(&v) {
                for (rk, _) in map_entries(&r) {
                    if !schema::known_release(&rk) {
                        errs.push((line_of(&rk, from), format!("field {rk} not found in type state.ReleaseSpec")));
                    }
                }
            }
        }
    }
    let _ = from;
    errs.sort();
    errs.into_iter().map(|(l, m)| format!("  line {l}: {m}")).collect()
}

/// `--state-values-set` assignments applied to a copy of `v`: `a.b=c`, `a.list[0]=x`.
fn apply_sets(v: &Value, sets: &[String]) -> Value {
    let mut out = deep_copy(v);
    for s in sets {
        for pair in s.split(',') {
            let Some((k, val)) = pair.split_once('=') else { continue };
            let path = set_key_path(k);
            let leaf = parse_set_scalar(val);
            out = set_path(&out, &path, leaf);
        }
    }
    out
}

/// `--state-values-set-string`: helmfile's `(?:,|^)([^\s=]+)=(['"][^'"]*['"]|[^,]+)` pairs,
/// each value kept as a string (quotes included, as helmfile keeps them).
fn apply_set_strings(v: &Value, sets: &[String]) -> Value {
    if sets.is_empty() {
        return v.clone();
    }
    let re = regex::Regex::new(r#"(?:,|^)([^\s=]+)=(['"][^'"]*['"]|[^,]+)"#).expect("a valid pattern");
    let mut out = deep_copy(v);
    for s in sets {
        for c in re.captures_iter(s) {
            out = set_path(&out, &set_key_path(&c[1]), Value::String(Str::from(c[2].to_string())));
        }
    }
    out
}

/// A `--set`-style key (`a.b[0].c`) as path segments.
fn set_key_path(k: &str) -> Vec<PathSeg> {
    let mut path: Vec<PathSeg> = Vec::new();
    for seg in k.split('.') {
        let (name, rest) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        path.push(PathSeg::Key(name.to_string()));
        for idx in rest.split('[').filter(|x| !x.is_empty()) {
            if let Ok(n) = idx.trim_end_matches(']').parse::<usize>() {
                path.push(PathSeg::Index(n));
            }
        }
    }
    path
}

enum PathSeg {
    Key(String),
    Index(usize),
}

fn parse_set_scalar(v: &str) -> Value {
    match v.parse::<i64>() {
        Ok(i) => Value::int64(i),
        Err(_) => match v {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Nil,
            _ => Value::string(v),
        },
    }
}

fn set_path(cur: &Value, path: &[PathSeg], leaf: Value) -> Value {
    let Some((first, rest)) = path.split_first() else { return leaf };
    match first {
        PathSeg::Key(k) => {
            let mut m: BTreeMap<String, Value> = map_entries(cur).into_iter().collect();
            let child = m.get(k).cloned().unwrap_or(Value::Missing);
            m.insert(k.clone(), set_path(&child, rest, leaf));
            mk_map(m.into_iter().collect())
        }
        PathSeg::Index(i) => {
            let mut items = list_items(cur);
            while items.len() <= *i {
                items.push(Value::Nil);
            }
            items[*i] = set_path(&items[*i], rest, leaf);
            Value::list(items)
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    let p = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(p) };
    rudder_engine::funcs::helmfile::clean(&p)
}

fn glob_files(base: &Path, pattern: &str) -> Vec<PathBuf> {
    let full = if Path::new(pattern).is_absolute() { PathBuf::from(pattern) } else { base.join(pattern) };
    let s = full.to_string_lossy().into_owned();
    if !s.contains(['*', '?', '[']) {
        return if full.is_file() { vec![full] } else { vec![] };
    }
    // One-level glob in the last path component.
    let (dir, pat) = match s.rsplit_once('/') {
        Some((d, p)) => (PathBuf::from(d), p.to_string()),
        None => (PathBuf::from("."), s.clone()),
    };
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| wildcard(&pat, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn wildcard(p: &str, s: &str) -> bool {
    let p: Vec<char> = p.chars().collect();
    let s: Vec<char> = s.chars().collect();
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some('?') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(&p, &s)
}

/// mergo.Merge(dst, src, WithOverride) for one top-level field.
fn merge_field(spec: &mut BTreeMap<String, Value>, k: String, v: Value) {
    if is_zero(&v, false) {
        spec.entry(k).or_insert(v);
        return;
    }
    let merged = match (spec.get(&k), &v) {
        (Some(old @ Value::Map(_)), Value::Map(_)) => {
            let mut m: BTreeMap<String, Value> = map_entries(old).into_iter().collect();
            for (kk, vv) in map_entries(&v) {
                m.insert(kk, vv);
            }
            mk_map(m.into_iter().collect())
        }
        _ => v,
    };
    spec.insert(k, merged);
}

fn is_zero(v: &Value, plain_bool: bool) -> bool {
    match v {
        Value::Missing | Value::Nil => true,
        Value::String(s) => s.is_empty(),
        Value::List(l) => l.items.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Bool(b) => plain_bool && !b,
        _ => false,
    }
}


const UNDEFINED_ENV: &str = "\u{0}undefined environment: ";

pub(crate) fn no_match(opts: &LoadOptions, env: &str) -> String {
    format!(
        "err: no releases found that matches specified selector({}) and environment({env}), in any helmfile",
        opts.selectors.join(", ")
    )
}

fn selector_terms(sel: &str) -> Vec<(String, bool, String)> {
    sel.split(',')
        .filter_map(|t| {
            if let Some((k, v)) = t.split_once("!=") {
                Some((k.to_string(), false, v.to_string()))
            } else {
                t.split_once('=').map(|(k, v)| (k.to_string(), true, v.to_string()))
            }
        })
        .collect()
}

/// Whether some release could match both a CLI selector and a sub-helmfile selector.
fn selectors_compatible(cli: &[String], sub: &[String]) -> bool {
    cli.iter().any(|c| {
        sub.iter().any(|s| {
            let (ct, st) = (selector_terms(c), selector_terms(s));
            !ct.iter().any(|(k1, p1, v1)| {
                st.iter().any(|(k2, p2, v2)| k1 == k2 && ((*p1 && *p2 && v1 != v2) || (p1 != p2 && v1 == v2)))
            })
        })
    })
}

pub(crate) fn count_releases(st: &State) -> usize {
    list_items(&get(&st.spec, "releases")).len() + st.subs.iter().map(count_releases).sum::<usize>()
}

/// Loads a state file (and its nested `helmfiles:`) as helmfile v1.8.0 does. With no release
/// selected anywhere, the error is helmfile's "no releases found" text.
pub fn load(file: &str, cwd: &Path, opts: &LoadOptions) -> R<State> {
    let env = opts.environment.clone().unwrap_or_else(|| "default".into());
    let st = match load_tree(file, cwd, opts) {
        Ok(st) => st,
        Err(e) if e.starts_with(UNDEFINED_ENV) => return Err(no_match(opts, &env)),
        Err(e) => return Err(e),
    };
    if count_releases(&st) == 0 {
        return Err(no_match(opts, &env));
    }
    Ok(st)
}

/// One state file (and its nested `helmfiles:`) of a `helmfile.d` holding several, as helmfile's
/// sequential visitStatesWithContext loads each: with its directory as base directory instead
/// of changing into it, so relative paths resolve against the process's working directory and
/// are shown joined to the (absolute) base directory. `None` when the file lacks the selected
/// environment (skipped, not an error); a state even when no release in it is selected (the
/// caller decides whether any file matched).
pub fn load_with_base_dir(file: &Path, opts: &LoadOptions) -> R<Option<State>> {
    match load_tree(&absolute(file).to_string_lossy(), Path::new(""), opts) {
        Ok(st) => Ok(Some(st)),
        Err(e) if e.starts_with(UNDEFINED_ENV) => Ok(None),
        Err(e) => Err(e),
    }
}

fn load_tree(file: &str, cwd: &Path, opts: &LoadOptions) -> R<State> {
    // An empty `cwd` (load_with_base_dir): `file` is absolute, `cwd.join(p)` is `p` (the
    // process's working directory) and `rel_to` leaves paths absolute.
    let cwd = if cwd.as_os_str().is_empty() { PathBuf::new() } else { absolute(cwd) };
    let loader = Loader { opts, cwd: cwd.clone() };
    let mut st = loader.load(file, &cwd, None, false)?;
    st.finish(opts)?;
    // Nested helmfiles: each entry (glob-expanded) is loaded from its own directory.
    let mut expanded = Vec::new();
    for h in list_items(&get(&st.spec, "helmfiles")) {
        let mut entry: BTreeMap<String, Value> = match &h {
            Value::String(p) => [("path".to_string(), Value::String(p.clone()))].into_iter().collect(),
            Value::Map(_) => map_entries(&h).into_iter().collect(),
            _ => continue,
        };
        let path = str_of(&get(&entry, "path"));
        let values = get(&entry, "values");
        let mut inherited = Value::empty_map();
        for item in list_items(&values) {
            match &item {
                Value::Map(_) => inherited = merge_maps(&inherited, &item),
                Value::String(p) => {
                    for f in glob_files(&st.base_dir, p) {
                        if let Ok(t) = std::fs::read_to_string(&f) {
                            if let Ok(v) = parse_yaml(&t) {
                                inherited = merge_maps(&inherited, &v);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let mut sub_opts = opts.clone();
        let inherited_sel = matches!(get(&entry, "selectorsInherited"), Value::Bool(true));
        let sub_sels: Option<Vec<String>> = match get(&entry, "selectors") {
            Value::List(sels) => Some(sels.items.iter().map(str_of).collect()),
            _ => None,
        };
        if let Some(sels) = &sub_sels {
            if !inherited_sel {
                if !opts.selectors.is_empty() && !sels.is_empty() && !selectors_compatible(&opts.selectors, sels) {
                    expanded.push(mk_map(entry.clone().into_iter().collect()));
                    continue;
                }
                sub_opts.selectors = sels.clone();
            }
        }
        let sub_loader_opts = &sub_opts;
        let files = if path.contains(['*', '?', '[']) { glob_files(&st.base_dir, &path) } else { vec![st.base_dir.join(&path)] };
        for f in files {
            let rel = if cwd.as_os_str().is_empty() {
                // Loaded with a base directory: helmfile joins the entry to it.
                rudder_engine::funcs::helmfile::clean(&f).to_string_lossy().into_owned()
            } else {
                f.strip_prefix(&st.base_dir).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
            };
            entry.insert("path".into(), Value::string(rel.as_str()));
            expanded.push(mk_map(entry.clone().into_iter().collect()));
            // helmfile wraps a nested state's errors as `in .helmfiles[I]: in PATH: `.
            let at = format!("in .helmfiles[{}]: in {rel}", expanded.len() - 1);
            // helmfile changes into the nested state's (clean) directory.
            let clean_f = rudder_engine::funcs::helmfile::clean(&f);
            let dir = clean_f.parent().map(Path::to_path_buf).unwrap_or_default();
            let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let sub_loader = Loader { opts: sub_loader_opts, cwd: dir.clone() };
            let mut sub = match sub_loader.load(&name, &dir, Some(&inherited), false) {
                Ok(sub) => sub,
                Err(e) if e.starts_with(UNDEFINED_ENV) => continue,
                Err(e) => return Err(format!("{at}: {e}")),
            };
            sub.finish(&sub_opts).map_err(|e| format!("{at}: {e}"))?;
            st.subs.push(sub);
        }
    }
    if !expanded.is_empty() {
        st.spec.insert("helmfiles".into(), Value::list(expanded));
    }
    Ok(st)
}

impl State {
    /// Defaults, labels, `needs` rewriting, templates/inherit, selectors.
    fn finish(&mut self, opts: &LoadOptions) -> R<()> {
        if is_zero(&get(&self.spec, "helmBinary"), false) {
            self.spec.insert("helmBinary".into(), Value::string("helm"));
        }
        if is_zero(&get(&self.spec, "kustomizeBinary"), false) {
            self.spec.insert("kustomizeBinary".into(), Value::string("kustomize"));
        }
        if let Some(ns) = &opts.namespace {
            self.spec.insert("namespace".into(), Value::string(ns.as_str()));
        }
        let templates = get(&self.spec, "templates");
        let common = get(&self.spec, "commonLabels");
        let override_ns = str_of(&get(&self.spec, "namespace"));
        let override_ctx = str_of(&get(&self.spec, "kubeContext"));
        let mut releases = Vec::new();
        for r in list_items(&get(&self.spec, "releases")) {
            let mut rm: BTreeMap<String, Value> = map_entries(&r).into_iter().collect();
            let name0 = str_of(&get(&rm, "name"));
            // defaultInherit: templates every release inherits first (unless named explicitly).
            let defaults: Vec<String> = list_items(&get(&self.spec, "defaultInherit")).iter().map(|v| str_of(v).trim().to_string()).filter(|s| !s.is_empty()).collect();
            if !defaults.is_empty() {
                let own = list_items(&get(&rm, "inherit"));
                let own: Vec<Value> = own.into_iter().filter(|i| !str_of(&get(&map_entries(i).into_iter().collect(), "template")).trim().is_empty()).collect();
                let named: Vec<String> = own.iter().map(|i| str_of(&get(&map_entries(i).into_iter().collect(), "template")).trim().to_string()).collect();
                let mut all: Vec<Value> = defaults
                    .iter()
                    .filter(|d| !named.contains(d))
                    .map(|d| mk_map(vec![("template".into(), Value::string(d.as_str()))]))
                    .collect();
                all.extend(own);
                rm.insert("inherit".into(), Value::list(all));
            }
            rm = inherit_release(rm, &templates, &name0, &mut Vec::new())?;
            if is_zero(&get(&rm, "apiVersions"), false) && !is_zero(&get(&self.spec, "apiVersions"), false) {
                rm.insert("apiVersions".into(), get(&self.spec, "apiVersions"));
            }
            if is_zero(&get(&rm, "kubeVersion"), false) && !is_zero(&get(&self.spec, "kubeVersion"), false) {
                rm.insert("kubeVersion".into(), get(&self.spec, "kubeVersion"));
            }
            if is_zero(&get(&rm, "kubeContext"), false) {
                let dctx = match get(&self.spec, "helmDefaults") {
                    Value::Map(m) => m.get("kubeContext").map(|v| str_of(&v)).unwrap_or_default(),
                    _ => String::new(),
                };
                if !dctx.is_empty() {
                    rm.insert("kubeContext".into(), Value::string(dctx));
                }
            }
            let mut labels: BTreeMap<String, Value> = map_entries(&get(&rm, "labels")).into_iter().collect();
            for (k, v) in map_entries(&common) {
                labels.insert(k, v);
            }
            if !labels.is_empty() {
                rm.insert("labels".into(), mk_map(labels.into_iter().collect()));
            }
            rm = self.execute_release_templates(rm).map_err(|e| {
                format!("failed executing templates in release \"{}\".\"{}\": {e}", self.file_path, name0)
            })?;
            if !override_ns.is_empty() {
                rm.insert("namespace".into(), Value::string(override_ns.as_str()));
            }
            if !override_ctx.is_empty() {
                rm.insert("kubeContext".into(), Value::string(override_ctx.as_str()));
            }
            releases.push(rm);
        }
        // needs: [kubecontext/][namespace/]name
        let rewritten: Vec<Vec<String>> = releases
            .iter()
            .map(|rm| {
                list_items(&get(rm, "needs"))
                    .iter()
                    .map(|n| {
                        let n = str_of(n);
                        let comps: Vec<&str> = n.split('/').collect();
                        let name = comps[comps.len() - 1];
                        let ns = if comps.len() > 1 { comps[comps.len() - 2].to_string() } else { str_of(&get(rm, "namespace")) };
                        let ctx = if comps.len() > 2 { comps[..comps.len() - 2].join("/") } else { str_of(&get(rm, "kubeContext")) };
                        let mut out = Vec::new();
                        if !ctx.is_empty() {
                            out.push(ctx.clone());
                        }
                        if !ctx.is_empty() || !ns.is_empty() {
                            out.push(ns);
                        }
                        out.push(name.to_string());
                        out.join("/")
                    })
                    .collect()
            })
            .collect();
        let mut out = Vec::new();
        for (mut rm, needs) in releases.into_iter().zip(rewritten) {
            if !needs.is_empty() {
                rm.insert("needs".into(), Value::string_list(needs));
            }
            let mut labels: BTreeMap<String, Value> = map_entries(&common).into_iter().collect();
            for (k, v) in map_entries(&get(&rm, "labels")) {
                labels.insert(k, Value::string(str_of(&v)));
            }
            labels.insert("name".into(), Value::string(str_of(&get(&rm, "name"))));
            labels.insert("namespace".into(), Value::string(str_of(&get(&rm, "namespace"))));
            let chart = str_of(&get(&rm, "chart"));
            labels.insert("chart".into(), Value::string(chart.rsplit('/').next().unwrap_or("")));
            rm.insert("labels".into(), mk_map(labels.into_iter().collect()));
            // A local chart directory is prepared: chartPath is its path joined to the state's
            // directory (as given on the command line); releases not installed are not prepared.
            if !matches!(get(&rm, "installed"), Value::Bool(false))
                && !chart.is_empty() && !Path::new(&chart).is_absolute() && self.base_dir.join(&chart).is_dir() {
                let rel_base = Path::new(&self.file_path).parent().map(Path::to_path_buf).unwrap_or_default();
                let p = rudder_engine::funcs::helmfile::clean(&rel_base.join(&chart)).to_string_lossy().into_owned();
                if p != chart {
                    rm.insert("chartPath".into(), Value::string(p));
                }
            }
            if !opts.selectors.is_empty() && !opts.selectors.iter().any(|s| selector_matches(s, &get(&rm, "labels"))) {
                continue;
            }
            out.push(mk_map(rm.into_iter().collect()));
        }
        if !out.is_empty() || self.spec.contains_key("releases") {
            self.spec.insert("releases".into(), Value::list(out));
        }
        Ok(())
    }

    /// ReleaseSpec.ExecuteTemplateExpressions repeated until the release stops changing.
    fn execute_release_templates(&self, rm: BTreeMap<String, Value>) -> R<BTreeMap<String, Value>> {
        let mut prev = rm.clone();
        for _ in 0..6 {
            let next = self.execute_once(&rm, &prev)?;
            if values_equal(&mk_map(next.clone().into_iter().collect()), &mk_map(prev.clone().into_iter().collect())) {
                return Ok(next);
            }
            prev = next;
        }
        Err("too many iterations".into())
    }

    fn execute_once(&self, r: &BTreeMap<String, Value>, prev: &BTreeMap<String, Value>) -> R<BTreeMap<String, Value>> {
        let vals = self.rendered_values.clone();
        let release = mk_map(vec![
            ("Name".into(), Value::string(str_of(&get(prev, "name")))),
            ("Chart".into(), Value::string(str_of(&get(prev, "chart")))),
            ("Namespace".into(), Value::string(str_of(&get(prev, "namespace")))),
            ("Labels".into(), {
                let l = get(prev, "labels");
                if matches!(l, Value::Map(_)) { l } else { Value::empty_map() }
            }),
            ("KubeContext".into(), Value::string(str_of(&get(prev, "kubeContext")))),
            ("ChartVersion".into(), Value::string(str_of(&get(prev, "version")))),
        ]);
        let env = mk_map(vec![
            ("Name".into(), Value::string(self.env_name.as_str())),
            ("KubeContext".into(), Value::string("")),
            ("Values".into(), vals.clone()),
        ]);
        let data = mk_map(vec![
            ("Environment".into(), env),
            ("KubeContext".into(), Value::string(str_of(&get(&self.spec, "kubeContext")))),
            ("Namespace".into(), Value::string(str_of(&get(&self.spec, "namespace")))),
            ("Chart".into(), Value::string(str_of(&get(&self.spec, "chart")))),
            ("Values".into(), vals.clone()),
            ("StateValues".into(), vals),
            ("Release".into(), release),
        ]);
        let base = self.base_dir.clone();
        let rd = |t: &str| render(&self.cwd, &base, "", t, &data, false);
        let mut out = r.clone();
        for k in ["name", "chart", "namespace", "version"] {
            if let Value::String(t) = get(r, k) {
                out.insert(k.into(), Value::string(rd(&t)?.trim()));
            }
        }
        for k in ["waitTemplate", "installedTemplate", "conditionTemplate", "verifyTemplate"] {
            if let Value::String(t) = get(r, k) {
                out.insert(k.into(), Value::string(rd(&t)?));
            }
        }
        if let Value::Map(_) = get(r, "labels") {
            let mut l = Vec::new();
            for (k, v) in map_entries(&get(r, "labels")) {
                l.push((k, Value::string(rd(&str_of(&v))?)));
            }
            out.insert("labels".into(), mk_map(l));
        }
        let mut values = list_items(&get(r, "values"));
        let vt = list_items(&get(r, "valuesTemplate"));
        if !vt.is_empty() {
            let mut rendered = Vec::new();
            for t in vt {
                if matches!(t, Value::Map(_)) {
                    let ser = rudder_engine::yaml::to_yaml_pretty(&t).unwrap_or_default();
                    let s = rd(&ser)?;
                    rendered.push(match parse_yaml(&s)? {
                        Value::Nil => Value::empty_map(),
                        v => v,
                    });
                } else {
                    rendered.push(t);
                }
            }
            out.insert("valuesTemplate".into(), Value::list(rendered.clone()));
            rendered.extend(values);
            values = rendered;
        }
        let mut vout = Vec::new();
        for v in values {
            vout.push(match &v {
                Value::String(t) => Value::string(rd(t)?),
                _ => v.clone(),
            });
        }
        if !vout.is_empty() {
            out.insert("values".into(), Value::list(vout));
        }
        let mut sec = Vec::new();
        for v in list_items(&get(r, "secrets")) {
            sec.push(match &v {
                Value::String(t) => Value::string(rd(t)?),
                _ => v.clone(),
            });
        }
        if !sec.is_empty() {
            out.insert("secrets".into(), Value::list(sec));
        }
        let mut needs = Vec::new();
        for n in list_items(&get(r, "needs")) {
            needs.push(Value::string(rd(&str_of(&n))?));
        }
        if !needs.is_empty() {
            out.insert("needs".into(), Value::list(needs));
        }
        Ok(out)
    }

    /// Errors from `condition:` lookups, per release (helmfile checks them when it selects releases).
    fn check_conditions(&self) -> Result<(), (String, String)> {
        for r in list_items(&get(&self.spec, "releases")) {
            let rm: BTreeMap<String, Value> = map_entries(&r).into_iter().collect();
            if let Err(e) = condition_enabled(&str_of(&get(&rm, "condition")), &self.rendered_values) {
                return Err((str_of(&get(&rm, "name")), e));
            }
        }
        Ok(())
    }

    /// `helmfile build`'s output for this state and its nested states.
    pub fn build_yaml(&self) -> R<String> {
        let mut s = String::new();
        for sub in &self.subs {
            s.push_str(&sub.build_yaml()?);
        }
        if let Err((name, e)) = self.check_conditions() {
            return Err(format!("[failed to parse condition in release {name}: {e}]"));
        }
        s.push_str(&format!("---\n#  Source: {}\n\n", self.full_path.display()));
        s.push_str(&scalar_field("filepath", &Value::string(self.file_path.as_str())));
        let spec: Vec<(String, Value)> = self.spec.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        s.push_str(&render_struct(schema::RELEASE_SET, &mk_map(spec)));
        s.push_str(&scalar_field("renderedvalues", &self.rendered_values));
        Ok(s)
    }

    /// `helmfile list`'s table (releases of this state and its nested states).
    pub fn list_table(&self) -> R<String> {
        let mut rows = vec![vec![
            "NAME".to_string(), "NAMESPACE".into(), "ENABLED".into(), "INSTALLED".into(), "LABELS".into(), "CHART".into(), "VERSION".into(),
        ]];
        self.list_rows(&mut rows)?;
        let ncol = rows[0].len();
        let widths: Vec<usize> = (0..ncol).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
        let mut out = String::new();
        for r in &rows {
            let mut line = String::new();
            for (c, cell) in r.iter().enumerate() {
                line.push_str(cell);
                if c + 1 < ncol {
                    line.push_str(&" ".repeat(widths[c] - cell.chars().count()));
                    line.push('\t');
                }
            }
            out.push_str(line.trim_end_matches(['\t', ' ']));
            out.push('\n');
        }
        Ok(out)
    }

    fn list_rows(&self, rows: &mut Vec<Vec<String>>) -> R<()> {
        let mut mine = Vec::new();
        for r in list_items(&get(&self.spec, "releases")) {
            let rm: BTreeMap<String, Value> = map_entries(&r).into_iter().collect();
            let labels: Vec<String> = map_entries(&get(&rm, "labels")).into_iter().map(|(k, v)| format!("{k}:{}", str_of(&v))).collect();
            let installed = !matches!(get(&rm, "installed"), Value::Bool(false));
            let enabled = condition_enabled(&str_of(&get(&rm, "condition")), &self.rendered_values)?;
            mine.push(vec![
                str_of(&get(&rm, "name")),
                str_of(&get(&rm, "namespace")),
                enabled.to_string(),
                installed.to_string(),
                labels.join(","),
                str_of(&get(&rm, "chart")),
                str_of(&get(&rm, "version")),
            ]);
        }
        for s in &self.subs {
            s.list_rows(&mut mine)?;
        }
        mine.sort_by(|a, b| (&a[1], &a[0]).cmp(&(&b[1], &b[0])));
        rows.extend(mine);
        Ok(())
    }
}

/// `-l` selector: `k=v` / `k!=v` terms joined by commas, all of which must hold.
pub fn selector_matches(sel: &str, labels: &Value) -> bool {
    let labels: BTreeMap<String, String> = map_entries(labels).into_iter().map(|(k, v)| (k, str_of(&v))).collect();
    sel.split(',').all(|term| {
        if let Some((k, v)) = term.split_once("!=") {
            labels.get(k).map(String::as_str) != Some(v)
        } else if let Some((k, v)) = term.split_once('=') {
            labels.get(k).map(String::as_str) == Some(v)
        } else {
            false
        }
    })
}

fn indent(text: &str, prefix: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        if line == "\n" {
            out.push('\n');
        } else {
            out.push_str(prefix);
            out.push_str(line);
        }
    }
    out
}

/// `key: value` as go-yaml v3 prints it.
fn scalar_field(key: &str, v: &Value) -> String {
    let v = match v {
        Value::Missing => Value::Nil,
        o => o.clone(),
    };
    rudder_engine::yaml::to_yaml_pretty(&mk_map(vec![(key.to_string(), v)])).unwrap_or_default()
}

fn key_line(key: &str) -> String {
    let k = rudder_engine::yaml::to_yaml_pretty(&Value::string(key)).unwrap_or_default();
    format!("{}:\n", k.trim_end_matches('\n'))
}

fn struct_is_zero(fields: &[Field], v: &Value) -> bool {
    let m: BTreeMap<String, Value> = map_entries(v).into_iter().collect();
    fields.iter().all(|f| is_zero(&get(&m, f.key), matches!(f.kind, Kind::Bool | Kind::OBool)) && !matches!((f.kind, get(&m, f.key)), (Kind::Int, Value::Int(i, _)) if i != 0))
}

fn render_struct(fields: &[Field], v: &Value) -> String {
    let m: BTreeMap<String, Value> = map_entries(v).into_iter().collect();
    let mut out = String::new();
    for f in fields {
        let val = get(&m, f.key);
        match f.kind {
            Kind::Any => {
                if f.omit && is_zero(&val, false) {
                    continue;
                }
                out.push_str(&scalar_field(f.key, &val));
            }
            Kind::OBool => {
                if is_zero(&val, true) {
                    continue;
                }
                out.push_str(&scalar_field(f.key, &val));
            }
            Kind::Bool => out.push_str(&scalar_field(f.key, &Value::Bool(matches!(val, Value::Bool(true))))),
            Kind::Int => {
                let i = match val {
                    Value::Int(i, _) => i,
                    _ => 0,
                };
                out.push_str(&scalar_field(f.key, &Value::int(i)));
            }
            Kind::Str => out.push_str(&scalar_field(f.key, &Value::string(str_of(&val)))),
            Kind::Struct(sub) => {
                if f.omit && struct_is_zero(sub, &val) {
                    continue;
                }
                out.push_str(&key_line(f.key));
                out.push_str(&indent(&render_struct(sub, &val), "  "));
            }
            Kind::List(sub) => {
                let items = list_items(&val);
                if items.is_empty() {
                    if f.omit {
                        continue;
                    }
                    out.push_str(&format!("{}: []\n", f.key));
                    continue;
                }
                out.push_str(&key_line(f.key));
                for it in items {
                    let body = if matches!(it, Value::Map(_)) { render_struct(sub, &it) } else { scalar_field("_", &it) };
                    if body.is_empty() {
                        out.push_str("  - {}\n");
                        continue;
                    }
                    for (n, line) in body.split_inclusive('\n').enumerate() {
                        out.push_str(if n == 0 { "  - " } else { "    " });
                        out.push_str(line);
                    }
                }
            }
            Kind::Map(sub) => {
                let entries = map_entries(&val);
                if entries.is_empty() {
                    if f.omit {
                        continue;
                    }
                    out.push_str(&format!("{}: {{}}\n", f.key));
                    continue;
                }
                out.push_str(&key_line(f.key));
                for (k, it) in entries {
                    let body = render_struct(sub, &it);
                    if body.is_empty() {
                        out.push_str(&indent(&format!("{}: {{}}\n", key_line(&k).trim_end_matches(":\n")), "  "));
                    } else {
                        out.push_str(&indent(&key_line(&k), "  "));
                        out.push_str(&indent(&body, "    "));
                    }
                }
            }
        }
    }
    out
}
