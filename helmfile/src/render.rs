//! One release rendered in-process as helmfile v1.8.0 has `helm template` render it
//! (pkg/state/state.go `flagsForTemplate`, pkg/helmexec/exec.go `TemplateRelease`): the chart
//! loaded through the chart crate, the release's values documents and `--set*` assignments merged
//! as helm merges `--values`/`--set`, and a helm failure reported in helmfile's ExitError text
//! (the helm command line it would have run, helm's stderr, the exit status).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rudder_chart::model::Chart;
use rudder_chart::render::template::check_if_installable;
use rudder_chart::render::{template, KubeVersion, ReleaseOptions, TemplateOptions};
use rudder_chart::values::ValueOptions;

use crate::values::ReleaseValues;

/// Everything `helm template` is given for one release.
#[derive(Clone, Debug, Default)]
pub struct HelmTemplate {
    pub name: String,
    /// The chart as helmfile passes it (for the command line and messages).
    pub chart_shown: String,
    /// The chart directory or archive to load.
    pub chart_path: PathBuf,
    pub namespace: String,
    pub version: String,
    pub values: ReleaseValues,
    /// Extra `--values` files from the command line (absolute paths).
    pub extra_value_files: Vec<String>,
    pub extra_set: Vec<String>,
    pub api_versions: Vec<String>,
    pub kube_version: String,
    pub output_dir: Option<PathBuf>,
    pub include_crds: bool,
    pub skip_tests: bool,
    pub no_hooks: bool,
    pub skip_schema_validation: bool,
    pub show_only: Vec<String>,
    /// `--args`/helm.extra: appended to the command line.
    pub extra_args: Vec<String>,
    /// Directory helmfile's temporary values files would be written to.
    pub temp_dir: String,
    pub helm_binary: String,
    pub kube_context: String,
    /// A chart from a repository (`repo/name`, `oci://...`): fetched into helm's content cache
    /// before loading, as `helm template --version V` would.
    pub remote: bool,
    /// Resolve a remote chart from the local caches only (`--offline`).
    pub offline: bool,
    /// `--oci-plain-http`: an `oci://` chart is fetched over plain HTTP.
    pub plain_http: bool,
}

/// A failed helm run: helmfile's error text.
#[derive(Clone, Debug)]
pub struct HelmFailure(pub String);

/// Loaded charts by path, shared by releases that use the same chart.
#[derive(Default)]
pub struct ChartCache(Mutex<HashMap<PathBuf, Arc<Chart>>>);

impl ChartCache {
    fn get(&self, path: &Path) -> Result<Arc<Chart>, String> {
        if let Some(c) = self.0.lock().map_err(|e| e.to_string())?.get(path) {
            return Ok(c.clone());
        }
        let c = Arc::new(rudder_chart::load(path).map_err(|e| e.to_string())?);
        self.0
            .lock()
            .map_err(|e| e.to_string())?
            .insert(path.to_path_buf(), c.clone());
        Ok(c)
    }
}

/// FNV-1a (32 bit): names the temporary values files the way helmfile's ids look.
fn fnv32a(s: &str) -> String {
    let mut h: u32 = 0x811c9dc5;
    for b in s.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x01000193);
    }
    format!("{h:x}")
}

impl HelmTemplate {
    /// The temporary values file names helmfile would pass (`[ns-]name-values-HASH`).
    pub(crate) fn value_file_names(&self) -> Vec<String> {
        let mut id = String::new();
        if !self.namespace.is_empty() {
            id.push_str(&self.namespace);
            id.push('-');
        }
        id.push_str(&self.name);
        self.values
            .docs
            .iter()
            .map(|d| {
                format!(
                    "{}/{id}-values-{}",
                    self.temp_dir,
                    fnv32a(&format!("{}{}", self.name, d.text))
                )
            })
            .collect()
    }

    /// The helm command line helmfile runs (without the binary).
    pub fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        if !self.kube_context.is_empty() {
            a.push("--kube-context".into());
            a.push(self.kube_context.clone());
        }
        a.extend([
            "template".to_string(),
            self.name.clone(),
            self.chart_shown.clone(),
        ]);
        let version = self.version.split('@').next().unwrap_or("");
        if !version.is_empty() {
            a.push("--version".into());
            a.push(version.into());
        }
        for v in &self.api_versions {
            a.push("--api-versions".into());
            a.push(v.clone());
        }
        if !self.kube_version.is_empty() {
            a.push("--kube-version".into());
            a.push(self.kube_version.clone());
        }
        for s in &self.show_only {
            a.push("--show-only".into());
            a.push(s.clone());
        }
        if self.skip_schema_validation {
            a.push("--skip-schema-validation".into());
        }
        if !self.namespace.is_empty() {
            a.push("--namespace".into());
            a.push(self.namespace.clone());
        }
        for f in self.value_file_names() {
            a.push("--values".into());
            a.push(f);
        }
        for s in &self.values.set {
            a.push("--set".into());
            a.push(s.clone());
        }
        for s in &self.values.set_file {
            a.push("--set-file".into());
            a.push(s.clone());
        }
        for s in &self.values.set_string {
            a.push("--set-string".into());
            a.push(s.clone());
        }
        for f in &self.extra_value_files {
            a.push("--values".into());
            a.push(f.clone());
        }
        for s in &self.extra_set {
            a.push("--set".into());
            a.push(s.clone());
        }
        if let Some(d) = &self.output_dir {
            a.push("--output-dir".into());
            a.push(d.to_string_lossy().into_owned());
        }
        if self.include_crds {
            a.push("--include-crds".into());
        }
        if self.no_hooks {
            a.push("--no-hooks".into());
        }
        if self.skip_tests {
            a.push("--skip-tests".into());
        }
        a.extend(self.extra_args.iter().cloned());
        a
    }

    /// helm's stdout, or helmfile's error for a failed helm run.
    pub fn run(&self, cache: &ChartCache) -> Result<String, HelmFailure> {
        self.render(cache)
            .map_err(|(stdout, stderr)| HelmFailure(self.exit_error(&stdout, &stderr)))
    }

    /// helm template in-process: Ok(stdout) or Err((stdout so far, stderr)).
    fn render(&self, cache: &ChartCache) -> Result<String, (String, String)> {
        let fail = |m: String| (String::new(), format!("Error: {m}\n"));
        let mut extra = ExtraArgs::default();
        extra.parse(&self.extra_args);
        let kube_version = match (extra.kube_version.as_deref(), self.kube_version.as_str()) {
            (Some(kv), _) | (None, kv) if !kv.is_empty() => Some(
                KubeVersion::parse(kv)
                    .map_err(|e| fail(format!("invalid kube version '{kv}': {e}")))?,
            ),
            _ => None,
        };
        let chart_ref = self.chart_shown.trim();
        let mut chart_path = self.chart_path.clone();
        if self.remote {
            let paths = rudder_repo::paths::HelmPaths::from_env();
            let opts = rudder_repo::ops::PullOptions {
                version: self.version.split('@').next().unwrap_or("").to_string(),
                offline: self.offline,
                plain_http: self.plain_http,
                ..Default::default()
            };
            let pulled = rudder_repo::ops::download_to_cache(&paths, chart_ref, &opts)
                .map_err(|e| fail(e.to_string()))?;
            chart_path = pulled.path;
        } else if !chart_path.exists() {
            if Path::new(chart_ref).is_absolute() || chart_ref.starts_with('.') {
                return Err(fail(format!("path {chart_ref:?} not found")));
            }
            if chart_ref.starts_with("oci://") {
                return Err(fail(format!("rudder: OCI chart {chart_ref} is not supported by rudder's helmfile template yet")));
            }
            return Err(fail(format!(
                "repo {} not found",
                chart_ref.split('/').next().unwrap_or(chart_ref)
            )));
        }
        let docs: HashMap<String, Vec<u8>> = self
            .value_file_names()
            .into_iter()
            .zip(self.values.docs.iter().map(|d| d.text.clone().into_bytes()))
            .collect();
        let mut value_files = self.value_file_names();
        value_files.extend(self.extra_value_files.iter().cloned());
        value_files.extend(extra.values.iter().cloned());
        let mut set = self.values.set.clone();
        set.extend(self.extra_set.iter().cloned());
        set.extend(extra.set.iter().cloned());
        let mut set_string = self.values.set_string.clone();
        set_string.extend(extra.set_string.iter().cloned());
        let vo = ValueOptions {
            value_files,
            string_values: set_string,
            values: set,
            file_values: self.values.set_file.clone(),
            json_values: vec![],
            literal_values: vec![],
        };
        let reader = |p: &str| -> Result<Vec<u8>, String> {
            match docs.get(p) {
                Some(b) => Ok(b.clone()),
                None => rudder_chart::values::options::read_file_go(p),
            }
        };
        let user_vals = vo
            .merge_values_with(&reader)
            .map_err(|e| fail(e.to_string()))?;
        let mut chart: Chart = (*cache.get(&chart_path).map_err(fail)?).clone();
        check_if_installable(&chart).map_err(fail)?;
        if !chart.metadata.dependencies.is_empty() {
            rudder_chart::check_dependencies(&chart).map_err(|e| {
                fail(format!(
                    "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: {e}"
                ))
            })?;
        }
        let namespace = if !self.namespace.is_empty() {
            self.namespace.clone()
        } else {
            std::env::var("HELM_NAMESPACE")
                .ok()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "default".into())
        };
        rudder_chart::render::template::validate_release_name(&self.name).map_err(fail)?;
        let mut warnings = Vec::new();
        rudder_chart::process_dependencies(&mut chart, &user_vals, &mut warnings)
            .map_err(|e| fail(format!("chart dependencies processing failed: {e}")))?;
        let vals = rudder_chart::coalesce_values(&chart, &user_vals, &mut warnings)
            .map_err(|e| fail(e.to_string()))?;
        if !self.skip_schema_validation && !extra.skip_schema_validation {
            rudder_chart::validate_against_schema(&chart, &vals).map_err(|e| {
                fail(format!("values don't meet the specifications of the schema(s) in the following chart(s):\n{e}"))
            })?;
        }
        let mut api_versions = self.api_versions.clone();
        api_versions.extend(extra.api_versions.iter().cloned());
        let opts = TemplateOptions {
            release: ReleaseOptions {
                name: self.name.clone(),
                namespace,
                revision: 1,
                is_upgrade: false,
                is_install: true,
            },
            kube_version,
            api_versions,
            include_crds: self.include_crds || extra.include_crds,
            skip_tests: self.skip_tests || extra.skip_tests,
            disable_hooks: self.no_hooks || extra.no_hooks,
            show_only: self
                .show_only
                .iter()
                .chain(extra.show_only.iter())
                .cloned()
                .collect(),
            output_dir: self.output_dir.clone(),
            use_release_name: false,
            enable_dns: false,
            sub_notes: false,
            post_renderer: None,
            exits_after: false,
        };
        template(&chart, vals, &opts)
            .map(|o| o.stdout)
            .map_err(|e| (e.stdout.clone(), format!("Error: {}\n", e.display())))
    }

    /// helmfile's ExitError text for a helm run that exited 1 (`--set*` values stripped, as
    /// `--strip-args-values-on-exit-error` does by default).
    fn exit_error(&self, stdout: &str, stderr: &str) -> String {
        exit_error_for(&self.helm_binary, &self.args(), stdout, stderr)
    }
}

/// helmfile's ExitError text for `helm ARGS` exiting 1 with this output.
pub fn exit_error_for(
    helm_binary: &str,
    helm_args: &[String],
    stdout: &str,
    stderr: &str,
) -> String {
    exit_error_with(helm_binary, helm_args, stderr, &format!("{stdout}{stderr}"))
}

/// [`exit_error_for`] with the combined output as the process interleaved it.
pub fn exit_error_with(helm_binary: &str, helm_args: &[String], stderr: &str, combined: &str) -> String {
    {
        let path = lookup_path(helm_binary);
        let mut args = vec![helm_binary.to_string()];
        args.extend(helm_args.iter().cloned());
        let mut out = format!("PATH:\n{}", go_indent(&path, "  "));
        out.push_str("\n\nARGS:");
        for (i, a) in args.iter().enumerate() {
            let shown = if i > 0 && args[i - 1].starts_with("--set") {
                "*** STRIP ***"
            } else {
                a.as_str()
            };
            out.push_str(&format!(
                "\n{}",
                go_indent(&format!("{i}: {shown} ({} bytes)", shown.len()), "  ")
            ));
        }
        out.push_str(&format!("\n\nERROR:\n{}", go_indent("exit status 1", "  ")));
        out.push_str(&format!("\n\nEXIT STATUS\n{}", go_indent("1", "  ")));
        if !stderr.is_empty() {
            out.push_str(&format!("\n\nSTDERR:\n{}", go_indent(stderr, "  ")));
        }
        if !combined.is_empty() {
            out.push_str(&format!(
                "\n\nCOMBINED OUTPUT:\n{}",
                go_indent(&combined, "  ")
            ));
        }
        format!("command {path:?} exited with non-zero status:\n\n{out}")
    }
}

/// helmexec.Indent (the engine's, which `exec` errors use too).
pub use rudder_engine::funcs::helmfile::indent_block as go_indent;

/// exec.LookPath for the helm binary (helmfile's ExitError shows the resolved path).
fn lookup_path(bin: &str) -> String {
    if bin.contains('/') {
        return bin.to_string();
    }
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(if dir.is_empty() { "." } else { dir }).join(bin);
        if p.is_file() {
            return p.to_string_lossy().into_owned();
        }
    }
    bin.to_string()
}

/// The helm flags of `--args` / `helmDefaults.args` that change what `helm template` prints.
#[derive(Default, Debug)]
struct ExtraArgs {
    values: Vec<String>,
    set: Vec<String>,
    set_string: Vec<String>,
    api_versions: Vec<String>,
    kube_version: Option<String>,
    show_only: Vec<String>,
    include_crds: bool,
    skip_tests: bool,
    no_hooks: bool,
    skip_schema_validation: bool,
}

impl ExtraArgs {
    fn parse(&mut self, args: &[String]) {
        let mut it = args.iter().peekable();
        while let Some(a) = it.next() {
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (a.clone(), None),
            };
            let mut val = || {
                inline
                    .clone()
                    .or_else(|| it.next().cloned())
                    .unwrap_or_default()
            };
            match flag.as_str() {
                "-f" | "--values" => self.values.push(val()),
                "--set" => self.set.push(val()),
                "--set-string" => self.set_string.push(val()),
                "-a" | "--api-versions" => self.api_versions.push(val()),
                "--kube-version" => self.kube_version = Some(val()),
                "-s" | "--show-only" => self.show_only.push(val()),
                "--include-crds" => self.include_crds = true,
                "--skip-tests" => self.skip_tests = true,
                "--no-hooks" => self.no_hooks = true,
                "--skip-schema-validation" => self.skip_schema_validation = true,
                _ => {}
            }
        }
    }
}
