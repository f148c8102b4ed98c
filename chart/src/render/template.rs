//! `helm template` after loading: Helm's `Install.RunWithContext` in client-only dry-run mode,
//! `renderResources` and the printing of pkg/cmd/template.go.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rudder_engine::Value;

use super::engine::{go_path_clean, go_path_join, to_render_values, Engine, ReleaseOptions};
use super::objects::{Capabilities, KubeVersion};
use crate::manifest::sort::INSTALL_ORDER;
use crate::manifest::sorter::{sort_manifests, Hook};
use crate::manifest::split::{go_is_space, split_manifests};
use crate::model::Chart;
use crate::values::schema::{schema_error_text, SchemaCheck};

/// Options of `helm template` that act after values are merged.
#[derive(Clone, Debug, Default)]
pub struct TemplateOptions {
    pub release: ReleaseOptions,
    /// `--kube-version`, parsed.
    pub kube_version: Option<KubeVersion>,
    /// `--api-versions`, appended to the default set.
    pub api_versions: Vec<String>,
    pub include_crds: bool,
    pub skip_tests: bool,
    /// `--no-hooks`.
    pub disable_hooks: bool,
    pub show_only: Vec<String>,
    pub output_dir: Option<PathBuf>,
    /// `--release-name`: put files under `<output-dir>/<release name>/`.
    pub use_release_name: bool,
    pub enable_dns: bool,
    /// `--render-subchart-notes`.
    pub sub_notes: bool,
    /// `--post-renderer`: an executable (and its `--post-renderer-args`) fed the manifests on
    /// stdin; its stdout replaces them.
    pub post_renderer: Option<(String, Vec<String>)>,
    /// The process exits once the output is written (see [`Engine::exits_after`]).
    pub exits_after: bool,
}

/// The error of a failed `helm template`, with whether Helm adds its
/// `Use --debug flag to render out invalid YAML` hint (it does once the release object exists,
/// i.e. for errors from rendering on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub after_release: bool,
    /// What was already printed to stdout before the failure (`wrote FILE` lines).
    pub stdout: String,
}

impl TemplateError {
    pub fn early(message: impl Into<String>) -> Self {
        TemplateError { message: message.into(), after_release: false, stdout: String::new() }
    }

    fn late(message: impl Into<String>) -> Self {
        TemplateError { message: message.into(), after_release: true, stdout: String::new() }
    }

    /// The text Helm prints after `Error: `.
    pub fn display(&self) -> String {
        if self.after_release {
            format!("{}\n\nUse --debug flag to render out invalid YAML", self.message)
        } else {
            self.message.clone()
        }
    }
}

/// What `helm template` writes: text for stdout (including the `wrote FILE` lines printed when
/// writing to `--output-dir`, in order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateOutput {
    pub stdout: String,
    pub notes: String,
}

/// A CRD file of the chart tree (Helm: `Chart.CRDObjects`): `crds/` files with a `.yaml`, `.yml`
/// or `.json` extension (any case), root chart first, then each subchart recursively.
pub fn crd_objects(chart: &Chart) -> Vec<(String, std::sync::Arc<[u8]>)> {
    fn rec(c: &Chart, full: &str, out: &mut Vec<(String, std::sync::Arc<[u8]>)>) {
        for f in &c.files {
            if f.name.starts_with("crds/") && has_manifest_extension(&f.name) {
                out.push((go_path_join(full, &f.name), f.data.clone()));
            }
        }
        for d in &c.dependencies {
            rec(d, &format!("{full}/charts/{}", d.name()), out);
        }
    }
    let mut out = Vec::new();
    rec(chart, chart.name(), &mut out);
    out
}

fn has_manifest_extension(name: &str) -> bool {
    let base = super::objects::go_path_base(name);
    let ext = match base.rfind('.') {
        Some(i) => &base[i..],
        None => "",
    };
    ext.eq_ignore_ascii_case(".yaml") || ext.eq_ignore_ascii_case(".yml") || ext.eq_ignore_ascii_case(".json")
}

/// Release-name validation (Helm: `chartutil.ValidateReleaseName`), as `availableName` words it.
pub fn validate_release_name(name: &str) -> Result<(), String> {
    const RE: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    let inner = if name.is_empty() {
        Some("no name provided".to_string())
    } else if name.len() > 53 || !valid_name(name) {
        Some(format!("invalid release name, must match regex {RE} and the length must not be longer than 53"))
    } else {
        None
    };
    match inner {
        None => Ok(()),
        Some(e) => Err(format!("release name check failed: release name {}: {e}", rudder_engine::print::quote(name))),
    }
}

fn valid_name(name: &str) -> bool {
    name.split('.').all(|label| {
        let b = label.as_bytes();
        !b.is_empty()
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    })
}

/// Helm's `checkIfInstallable`.
pub fn check_if_installable(chart: &Chart) -> Result<(), String> {
    match chart.metadata.chart_type.as_str() {
        "" | "application" => Ok(()),
        t => Err(format!("{t} charts are not installable")),
    }
}

/// Whether `version` satisfies the semver `constraint` (Helm: `chartutil.IsCompatibleRange`), via
/// the engine's `semverCompare`.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    struct NoCtx;
    impl rudder_engine::CallContext for NoCtx {
        fn execute_template(&mut self, _: &str, _: &Value) -> Result<String, rudder_engine::FuncError> {
            Err(rudder_engine::FuncError::new("no templates"))
        }
        fn execute_text(&mut self, _: &str, _: &Value) -> Result<String, rudder_engine::FuncError> {
            Err(rudder_engine::FuncError::new("no templates"))
        }
        fn template_name(&self) -> &str {
            ""
        }
        fn include_count(&mut self, _: &str) -> &mut usize {
            unreachable!("semverCompare includes nothing")
        }
    }
    let funcs = rudder_engine::funcs::sprig();
    let Some(f) = funcs.get("semverCompare") else { return false };
    matches!((f.imp)(&mut NoCtx, &[Value::string(constraint), Value::string(version)]), Ok(Value::Bool(true)))
}

fn write_to_file(out_dir: &Path, name: &str, data: &str, append: bool, stdout: &mut String) -> Result<(), String> {
    let file = format!("{}/{}", out_dir.display(), name);
    let path = PathBuf::from(&file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("mkdir {}: {}", parent.display(), e))?;
    }
    let mut f = if append {
        std::fs::OpenOptions::new().append(true).open(&path)
    } else {
        std::fs::File::create(&path)
    }
    .map_err(|e| format!("open {file}: {e}"))?;
    write!(f, "---\n# Source: {name}\n{data}\n").map_err(|e| format!("write {file}: {e}"))?;
    stdout.push_str(&format!("wrote {file}\n"));
    Ok(())
}

/// Runs the post-renderer on `input`.
fn run_post_renderer(cmd: &str, args: &[String], input: &str) -> Result<String, String> {
    use std::process::{Command, Stdio};
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("error while running post render on files: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("error while running post render on files: no stdin")?;
    let data = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(data.as_bytes());
    });
    let out = child.wait_with_output().map_err(|e| format!("error while running post render on files: {e}"))?;
    let _ = writer.join();
    if !out.status.success() {
        return Err(format!(
            "error while running post render on files: error while running command {cmd}. error output:\n{}: {}",
            String::from_utf8_lossy(&out.stderr),
            out.status
        ));
    }
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    if s.trim_matches(go_is_space).is_empty() {
        return Err(format!("error while running post render on files: post-renderer {cmd:?} produced empty output"));
    }
    Ok(s)
}

/// The rendered files of `chart` (NOTES included), before anything is printed.
fn render_files(chart: &Chart, values: Value, opts: &TemplateOptions) -> Result<BTreeMap<String, String>, TemplateError> {
    // Client-only capabilities.
    let mut caps = Capabilities::helm_default();
    if let Some(kv) = &opts.kube_version {
        caps.kube_version = kv.clone();
    }
    caps.api_versions.0.extend(opts.api_versions.iter().cloned());
    let top = to_render_values(chart, values, &opts.release, &caps);

    if !chart.metadata.kube_version.is_empty()
        && !is_compatible_range(&chart.metadata.kube_version, caps.kube_version.string())
    {
        return Err(TemplateError::late(format!(
            "chart requires kubeVersion: {} which is incompatible with Kubernetes {}",
            chart.metadata.kube_version, caps.kube_version.version
        )));
    }
    let engine = Engine { enable_dns: opts.enable_dns, exits_after: opts.exits_after, ..Engine::default() };
    engine.render(chart, &top).map_err(|e| TemplateError::late(e.0))
}

/// Renders `chart` (dependencies already processed) with the coalesced `values` and prints
/// what `helm template` prints.
pub fn template(chart: &Chart, values: Value, opts: &TemplateOptions) -> Result<TemplateOutput, TemplateError> {
    template_checked(chart, values, opts, None)
}

/// [`template`] preceded by the values' schema check, as Helm does it, except that a check
/// with schemas to compile runs on another thread while the templates render. Its verdict is
/// awaited before anything of the render is reported, written or run (errors, post-renderer,
/// output files, hook messages), so the outcome is as if it had run first.
pub fn template_checked(
    chart: &Chart,
    values: Value,
    opts: &TemplateOptions,
    check: Option<&SchemaCheck<'_>>,
) -> Result<TemplateOutput, TemplateError> {
    let schema_failed = |e: String| TemplateError::early(schema_error_text(&e));
    let rendered = match check {
        Some(check) if check.has_schemas() => std::thread::scope(|s| {
            let pending = s.spawn(|| check.run());
            let rendered = render_files(chart, values, opts);
            match pending.join() {
                Ok(verdict) => verdict.map_err(schema_failed).map(|()| rendered),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })?,
        Some(check) => {
            check.run().map_err(schema_failed)?;
            render_files(chart, values, opts)
        }
        None => render_files(chart, values, opts),
    };
    let mut files = rendered?;

    // NOTES.txt files leave the manifest set.
    let root_notes = format!("{}/templates/NOTES.txt", chart.name());
    let mut notes = String::new();
    let note_keys: Vec<String> = files.keys().filter(|k| k.ends_with("NOTES.txt")).cloned().collect();
    for k in note_keys {
        let v = files.remove(&k).unwrap_or_default();
        if opts.sub_notes || k == root_notes {
            if !notes.is_empty() {
                notes.push('\n');
            }
            notes.push_str(&v);
        }
    }

    if let Some((cmd, args)) = &opts.post_renderer {
        let mut merged = String::new();
        for (name, content) in &files {
            if super::objects::go_path_base(name).starts_with('_') || content.trim_matches(go_is_space).is_empty() {
                continue;
            }
            merged.push_str(&format!("---\n# Source: {name}\n{content}\n"));
        }
        let out = run_post_renderer(cmd, args, &merged).map_err(TemplateError::late)?;
        files = BTreeMap::new();
        files.insert(String::new(), out);
    }

    let (hooks, manifests) = sort_manifests(&files, INSTALL_ORDER).map_err(TemplateError::late)?;

    let mut stdout = String::new();
    // The whole output is built in one buffer sized for it up front: a big chart's output runs
    // to megabytes, and each doubling or copy of it is fresh memory the kernel must fault in.
    let size: usize = manifests.iter().map(|m| m.name.len() + m.content.len() + 16).sum::<usize>()
        + hooks.iter().map(|h| h.path.len() + h.manifest.len() + 16).sum::<usize>();
    let mut b = String::with_capacity(size + 1);
    let mut written: BTreeMap<String, bool> = BTreeMap::new();
    let base_dir = opts.output_dir.as_ref().map(|d| {
        if opts.use_release_name {
            d.join(&opts.release.name)
        } else {
            d.clone()
        }
    });
    if opts.include_crds {
        for (filename, data) in crd_objects(chart) {
            let data = String::from_utf8_lossy(&data).into_owned();
            match &opts.output_dir {
                None => b.push_str(&format!("---\n# Source: {filename}\n{data}\n")),
                Some(d) => {
                    let append = written.get(&filename).copied().unwrap_or(false);
                    write_to_file(d, &filename, &data, append, &mut stdout).map_err(TemplateError::late)?;
                    written.insert(filename, true);
                }
            }
        }
    }
    for m in &manifests {
        match &base_dir {
            None => push_source(&mut b, &m.name, &m.content),
            Some(d) => {
                let append = written.get(&m.name).copied().unwrap_or(false);
                write_to_file(d, &m.name, &m.content, append, &mut stdout).map_err(TemplateError::late)?;
                written.insert(m.name.clone(), true);
            }
        }
    }

    // pkg/cmd/template.go
    let end = b.trim_end_matches(go_is_space).len();
    b.truncate(end);
    let start = b.len() - b.trim_start_matches(go_is_space).len();
    b.drain(..start);
    let mut out = b;
    out.push('\n');
    if !opts.disable_hooks {
        let mut hook_written: BTreeMap<String, bool> = BTreeMap::new();
        for h in &hooks {
            if opts.skip_tests && is_test_hook(h) {
                continue;
            }
            match &base_dir {
                None => push_source(&mut out, &h.path, &h.manifest),
                Some(d) => {
                    if Path::new(&format!("{}/{}", d.display(), h.path)).exists() {
                        hook_written.insert(h.path.clone(), true);
                    }
                    let append = hook_written.get(&h.path).copied().unwrap_or(false);
                    write_to_file(d, &h.path, &h.manifest, append, &mut stdout).map_err(TemplateError::early)?;
                }
            }
        }
    }

    if !opts.show_only.is_empty() {
        let docs = split_manifests(&out);
        let mut to_render: Vec<&str> = Vec::new();
        for f in &opts.show_only {
            let f = f.replace('\\', "/");
            let mut missing = true;
            for doc in &docs {
                let Some(name) = source_name(doc) else { continue };
                if !crate::pathmatch::matches(&f, name).unwrap_or(false) {
                    continue;
                }
                to_render.push(doc);
                missing = false;
            }
            if missing {
                let mut e = TemplateError::early(format!("could not find template {f} in chart"));
                e.stdout = stdout;
                return Err(e);
            }
        }
        for m in to_render {
            stdout.push_str(&format!("---\n{m}\n"));
        }
    } else if stdout.is_empty() {
        stdout = out;
    } else {
        stdout.push_str(&out);
    }
    Ok(TemplateOutput { stdout, notes })
}

/// Appends `---\n# Source: <name>\n<content>\n`.
fn push_source(out: &mut String, name: &str, content: &str) {
    out.push_str("---\n# Source: ");
    out.push_str(name);
    out.push('\n');
    out.push_str(content);
    out.push('\n');
}

fn is_test_hook(h: &Hook) -> bool {
    h.events.iter().any(|e| e == "test")
}

/// The path after the chart name in the first `# Source: <chart>/<path>` of a document (Go:
/// regexp `# Source: [^/]+/(.+)`).
fn source_name(doc: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(i) = doc[from..].find("# Source: ") {
        let start = from + i + "# Source: ".len();
        let rest = &doc[start..];
        // [^/]+ then '/' then .+ (no newline)
        let line_end = rest.find('\n').unwrap_or(rest.len());
        let line = &rest[..line_end];
        if let Some(slash) = line.find('/') {
            if slash > 0 && slash + 1 < line.len() {
                return Some(&line[slash + 1..]);
            }
        }
        from = start;
    }
    None
}

/// Cleans an output path as Helm's `filepath.Join` would (kept for callers that need it).
pub fn clean(p: &str) -> String {
    go_path_clean(p)
}
