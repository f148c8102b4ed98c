//! helmfile v1.8.0's rendering commands over a loaded state tree (pkg/app/app.go): `template`,
//! `write-values`, `show-dag`. Each returns what helmfile would print on stdout and stderr and its
//! exit code; nested states (`helmfiles:`) run before their parent, as helmfile visits them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rudder_engine::Value;

use crate::dag;
use crate::render::{ChartCache, HelmTemplate};
use crate::{condition_enabled, get, list_items, str_of, State};

/// What a command printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Options of `helmfile template` (and the globals it uses).
#[derive(Clone, Debug, Default)]
pub struct TemplateOpts {
    pub skip_deps: bool,
    pub include_crds: bool,
    pub skip_tests: bool,
    pub no_hooks: bool,
    pub skip_schema_validation: bool,
    pub output_dir: Option<String>,
    pub output_dir_template: Option<String>,
    /// `--set` (helmfile's own, passed to every release).
    pub set: Vec<String>,
    /// `--values` files passed to every release.
    pub values: Vec<String>,
    /// `--args` (split on whitespace).
    pub args: Vec<String>,
    pub kube_version: Option<String>,
    pub show_only: Vec<String>,
    /// `--concurrency`: render workers (0 = one per release, capped by the machine).
    pub concurrency: usize,
    /// Global `--kube-context`.
    pub kube_context: Option<String>,
    /// `write-values --output-file-template`.
    pub output_file_template: Option<String>,
    /// The state file as given on the command line, for error messages (`./FILE` when empty).
    pub label: String,
    /// `--oci-plain-http`: talk plain HTTP to OCI registries.
    pub oci_plain_http: bool,
    /// `--include-needs` / `--include-transitive-needs`: with selectors, also render what the
    /// selected releases need.
    pub include_needs: bool,
    /// `--skip-needs` (template's default true): with selectors, ignore needed releases that are
    /// not selected; false makes them an error.
    pub skip_needs: bool,
    /// `--offline` / `RUDDER_OFFLINE=1` (Rudder's): charts come from the local caches only
    /// (seeded by `rudder bundle import`); repositories are not contacted.
    pub offline: bool,
    /// `deps --skip-repos`: do not add the state's repositories first.
    pub skip_repos: bool,
}

struct Run<'a> {
    out: &'a mut Outcome,
    cache: &'a ChartCache,
    /// Repositories already added in this run.
    synced: Vec<String>,
}

fn str_or(v: &Value, d: &str) -> String {
    match str_of(v) {
        s if s.is_empty() => d.to_string(),
        s => s,
    }
}

fn rels_of(st: &State) -> Vec<BTreeMap<String, Value>> {
    st.releases()
}

fn desired(rel: &BTreeMap<String, Value>) -> bool {
    !matches!(get(rel, "installed"), Value::Bool(false))
}

/// Releases selected by `condition:` (selectors are applied when the state is loaded).
fn selected(st: &State) -> Result<Vec<BTreeMap<String, Value>>, String> {
    let mut out = Vec::new();
    for r in rels_of(st) {
        let on = condition_enabled(&str_of(&get(&r, "condition")), &st.rendered_values).map_err(
            |e| {
                format!(
                    "failed to parse condition in release {}: {e}",
                    str_of(&get(&r, "name"))
                )
            },
        )?;
        if on {
            out.push(r);
        }
    }
    Ok(out)
}

fn is_local_chart(st: &State, chart: &str) -> bool {
    !chart.is_empty() && st.base_dir.join(chart).is_dir()
}

/// The chart as helmfile passes it to helm: a local path joined to the base path, else as written.
fn chart_shown(st: &State, rel: &BTreeMap<String, Value>) -> String {
    let chart = str_of(&get(rel, "chart"));
    let cp = str_of(&get(rel, "chartPath"));
    if !cp.is_empty() {
        return cp;
    }
    if is_local_chart(st, &chart) && !Path::new(&chart).is_absolute() {
        return rudder_engine::funcs::helmfile::clean(Path::new(&chart))
            .to_string_lossy()
            .into_owned();
    }
    chart
}

fn temp_dir() -> String {
    match std::env::var("HELMFILE_TEMPDIR") {
        Ok(d) if !d.is_empty() => d,
        _ => std::env::temp_dir()
            .join("helmfile")
            .to_string_lossy()
            .into_owned(),
    }
}

fn sha1_8(s: &str) -> String {
    let mut t = rudder_engine::TemplateSet::new(rudder_engine::funcs::sprig());
    let _ = t.parse("h", "{{ sha1sum . }}");
    t.execute("h", &Value::string(s))
        .unwrap_or_default()
        .chars()
        .take(8)
        .collect()
}

/// `{{ .State.BaseName }}` / `{{ .State.AbsPathSHA1 }}` of a state.
fn state_names(st: &State) -> (String, String, String) {
    let fp = &st.file_path;
    let ext = Path::new(fp)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let base = fp[..fp.len() - ext.len()].to_string();
    let abs = crate::absolute(&st.cwd.join(fp))
        .to_string_lossy()
        .into_owned();
    (base, abs.clone(), sha1_8(&abs))
}

fn output_path_template(
    st: &State,
    rel: &BTreeMap<String, Value>,
    tmpl: &str,
    output_dir: &str,
) -> Result<String, String> {
    let (base, abs, sha) = state_names(st);
    let data = crate::mk_map(vec![
        ("OutputDir".into(), Value::string(output_dir)),
        (
            "State".into(),
            crate::mk_map(vec![
                ("BaseName".into(), Value::string(base.as_str())),
                ("Path".into(), Value::string(st.file_path.as_str())),
                ("AbsPath".into(), Value::string(abs.as_str())),
                ("AbsPathSHA1".into(), Value::string(sha.as_str())),
            ]),
        ),
        ("Release".into(), release_struct(rel)),
        (
            "Environment".into(),
            crate::mk_map(vec![
                ("Name".into(), Value::string(st.env_name.as_str())),
                ("KubeContext".into(), Value::string("")),
                ("Values".into(), st.rendered_values.clone()),
            ]),
        ),
    ]);
    let mut t =
        rudder_engine::TemplateSet::new(rudder_engine::funcs::sprig()).with_name("output-file");
    t.parse("output-file", tmpl)
        .map_err(|e| format!("parsing output-file template {tmpl:?}: {e}"))?;
    t.execute("output-file", &data).map_err(|e| e.to_string())
}

/// helmfile's generateChartPath: `fetch --output-dir-template` rendered with `.ChartName`,
/// `.OutputDir`, `.Release` and `.Environment`.
pub(crate) fn chart_path_template(
    st: &State,
    rel: &BTreeMap<String, Value>,
    tmpl: &str,
    chart_name: &str,
    output_dir: &str,
) -> Result<String, String> {
    let data = crate::mk_map(vec![
        ("ChartName".into(), Value::string(chart_name)),
        ("OutputDir".into(), Value::string(output_dir)),
        ("Release".into(), release_struct(rel)),
        (
            "Environment".into(),
            crate::mk_map(vec![
                ("Name".into(), Value::string(st.env_name.as_str())),
                ("KubeContext".into(), Value::string("")),
                ("Values".into(), st.rendered_values.clone()),
            ]),
        ),
    ]);
    let mut t = rudder_engine::TemplateSet::new(rudder_engine::funcs::sprig())
        .with_name("output-dir-template");
    t.parse("output-dir-template", tmpl)
        .map_err(|e| format!("parsing output-dir-template template {tmpl:?}: {e}"))?;
    t.execute("output-dir-template", &data)
        .map_err(|e| format!("executing output-dir-template template: {e}"))
}

/// `.Release` in output templates: the ReleaseSpec's Go field names.
fn release_struct(rel: &BTreeMap<String, Value>) -> Value {
    let f = |k: &str| Value::string(str_of(&get(rel, k)));
    crate::mk_map(vec![
        ("Name".into(), f("name")),
        ("Namespace".into(), f("namespace")),
        ("Chart".into(), f("chart")),
        ("Version".into(), f("version")),
        ("KubeContext".into(), f("kubeContext")),
        ("Labels".into(), get(rel, "labels")),
    ])
}

/// Every state of the tree, nested ones first, each with helmfile's error context: `in FILE: `
/// for the state given on the command line, then `in .helmfiles[I]: in PATH: ` per nesting level.
fn visit<'s>(st: &'s State, prefix: String, out: &mut Vec<(&'s State, String)>) {
    let paths: Vec<String> = list_items(&get(&st.spec, "helmfiles"))
        .iter()
        .map(|h| str_of(&get(&crate::map_entries(h).into_iter().collect(), "path")))
        .collect();
    for (i, s) in st.subs.iter().enumerate() {
        let p = paths.get(i).cloned().unwrap_or_else(|| s.file_path.clone());
        visit(s, format!("{prefix}in .helmfiles[{i}]: in {p}: "), out);
    }
    out.push((st, prefix));
}

/// The states of the tree rooted at `root` (`label`: the state file as given, `./FILE` when
/// it has no directory).
fn states<'s>(root: &'s State, label: &str) -> Vec<(&'s State, String)> {
    let label = if label.is_empty() {
        format!("./{}", root.file_path)
    } else {
        label.to_string()
    };
    let mut out = Vec::new();
    visit(root, format!("in {label}: "), &mut out);
    out
}

fn error_text(errs: &[String]) -> String {
    if errs.len() == 1 {
        return errs[0].clone();
    }
    let msgs: Vec<String> = errs
        .iter()
        .enumerate()
        .map(|(i, e)| format!("err {i}: {e}"))
        .collect();
    format!("{} errors:\n{}", errs.len(), msgs.join("\n"))
}

fn fail(out: &mut Outcome, prefix: &str, errs: &[String]) {
    out.stderr
        .push_str(&format!("{prefix}{}\n", error_text(errs)));
    out.code = 1;
}

/// Logs helmfile's error for a state (`prefix` + the errors as helmfile joins them), exit 1.
pub(crate) fn fail_with(out: &mut Outcome, prefix: &str, errs: &[String]) {
    fail(out, prefix, errs)
}

/// Fires a hook event, logging what it prints; the hook's error, if any.
pub(crate) fn fire(
    out: &mut Outcome,
    st: &State,
    rel: Option<&BTreeMap<String, Value>>,
    event: &str,
    event_error: Option<&str>,
    command: &str,
) -> Option<String> {
    let f = crate::hooks::trigger(st, rel, event, event_error, command);
    out.stderr.push_str(&f.log);
    f.error
}

/// A release's `cleanup` event, whose failure helmfile only warns about.
pub(crate) fn cleanup_warn(
    out: &mut Outcome,
    st: &State,
    rel: &BTreeMap<String, Value>,
    command: &str,
) {
    if let Some(e) = fire(out, st, Some(rel), "cleanup", None, command) {
        out.stderr.push_str(&format!("warn: {e}\n\n"));
    }
}

/// The start of helmfile's WithPreparedCharts for one state: the state's `prepare` hooks, then
/// (`releases`) each desired release's, as PrepareCharts fires them. False after an error
/// (logged with the state's prefix).
pub(crate) fn prepare_hooks(
    out: &mut Outcome,
    st: &State,
    releases: Option<&[BTreeMap<String, Value>]>,
    command: &str,
    prefix: &str,
) -> bool {
    if let Some(e) = fire(out, st, None, "prepare", None, command) {
        fail(out, prefix, &[e]);
        return false;
    }
    for r in releases.unwrap_or_default().iter().filter(|r| desired(r)) {
        if let Some(e) = fire(out, st, Some(r), "prepare", None, command) {
            fail(out, prefix, &[format!("[{e}]")]);
            return false;
        }
    }
    true
}

/// The end of WithPreparedCharts: the state's `cleanup` hooks with the command's first error
/// as `.Event.Error`. False when a hook failed (logged with the state's prefix).
pub(crate) fn global_cleanup(
    out: &mut Outcome,
    st: &State,
    command: &str,
    first_error: Option<&str>,
    prefix: &str,
) -> bool {
    match fire(out, st, None, "cleanup", first_error, command) {
        Some(e) => {
            fail(out, prefix, &[e]);
            false
        }
        None => true,
    }
}

/// `helmfile build` / `list` around their printing: each state's hooks (build fires the
/// releases' `prepare` too, list only the state's).
pub fn hooks_around(
    root: &State,
    label: &str,
    command: &str,
    print: impl FnOnce() -> Outcome,
) -> Outcome {
    let mut out = Outcome::default();
    for (st, prefix) in states(root, label) {
        let rels = selected(st).unwrap_or_default();
        let rels = if command == "build" {
            Some(rels.as_slice())
        } else {
            None
        };
        if !prepare_hooks(&mut out, st, rels, command, &prefix)
            || !global_cleanup(&mut out, st, command, None, &prefix)
        {
            return out;
        }
    }
    let printed = print();
    out.stdout.push_str(&printed.stdout);
    out.stderr.push_str(&printed.stderr);
    out.code = printed.code;
    out
}

/// PrepareCharts' runHelmDepBuilds: `helm dependency build` (in-process) of each desired
/// release's local chart, in release order, logging what helm prints (`--offline`: from the
/// caches). The error is helmfile's, for the first chart that fails.
pub(crate) fn build_deps(
    st: &State,
    rels: &[BTreeMap<String, Value>],
    o: &TemplateOpts,
    out: &mut Outcome,
) -> Result<(), String> {
    if o.skip_deps || matches!(get_helm_default(st, "skipDeps"), Value::Bool(true)) {
        return Ok(());
    }
    let paths = rudder_repo::paths::HelmPaths::from_env();
    for r in rels.iter().filter(|r| desired(r)) {
        let chart = str_of(&get(r, "chart"));
        if !is_local_chart(st, &chart) || matches!(get(r, "skipDeps"), Value::Bool(true)) {
            continue;
        }
        let name = str_of(&get(r, "name"));
        let shown = chart_shown(st, r);
        out.stderr
            .push_str(&format!("Building dependency release={name}, chart={shown}\n"));
        let skip_refresh = match get(r, "skipRefresh") {
            Value::Bool(b) => b,
            _ => matches!(get_helm_default(st, "skipRefresh"), Value::Bool(true)),
        };
        let opts = rudder_repo::deps::DepOptions {
            skip_refresh,
            offline: o.offline,
            plain_http: o.oci_plain_http,
            ..Default::default()
        };
        let mut log = String::new();
        let res = rudder_repo::deps::build(&paths, &st.base_dir.join(&chart), &opts, &mut log);
        out.stderr.push_str(&log);
        if let Err(e) = res {
            let mut args = vec!["dependency".to_string(), "build".into(), shown.clone()];
            if skip_refresh {
                args.push("--skip-refresh".into());
            }
            if o.oci_plain_http {
                args.push("--plain-http".into());
            }
            let helm = str_or(&get(&st.spec, "helmBinary"), "helm");
            let msg = crate::render::exit_error_for(&helm, &args, &log, &format!("Error: {e}\n"));
            return Err(format!(
                "building dependencies of local chart {chart:?} for release {name:?}: {msg}"
            ));
        }
    }
    Ok(())
}

fn get_helm_default(st: &State, k: &str) -> Value {
    match get(&st.spec, "helmDefaults") {
        Value::Map(m) => m.get(k).unwrap_or(Value::Missing),
        _ => Value::Missing,
    }
}

/// helmfile's warnings for `needs` on releases that are not installed (state.go `reformat`,
/// logged whenever a release's overrides are applied: at load time and before each release is
/// processed).
pub fn needs_warnings(st: &State, rel: &BTreeMap<String, Value>) -> String {
    if !desired(rel) {
        return String::new();
    }
    let installed: std::collections::HashSet<String> = rels_of(st)
        .iter()
        .filter(|r| desired(r))
        .map(|r| {
            format!(
                "{}/{}/{}",
                str_of(&get(r, "kubeContext")),
                str_of(&get(r, "namespace")),
                str_of(&get(r, "name"))
            )
        })
        .collect();
    let mut out = String::new();
    let me = str_of(&get(rel, "name"));
    for n in dag::needs(rel) {
        let comps: Vec<&str> = n.split('/').collect();
        let name = comps[comps.len() - 1];
        let ns = if comps.len() > 1 {
            comps[comps.len() - 2].to_string()
        } else {
            str_of(&get(rel, "namespace"))
        };
        let kc = if comps.len() > 2 {
            comps[..comps.len() - 2].join("/")
        } else {
            str_of(&get(rel, "kubeContext"))
        };
        if !installed.contains(&format!("{kc}/{ns}/{name}")) {
            out.push_str(&format!(
                "WARNING: release {me} needs {name}, but {name} is not installed due to installed: false. Either mark {name} as installed or remove {name} from {me}'s needs\n"
            ));
        }
    }
    out
}

/// The load-time `needs` warnings of a state tree (each state, then its nested states).
pub fn load_warnings(st: &State) -> String {
    let mut out = String::new();
    for r in rels_of(st) {
        out.push_str(&needs_warnings(st, &r));
    }
    for s in &st.subs {
        out.push_str(&load_warnings(s));
    }
    out
}

/// The selected releases in `needs` order (helmfile's withNeeds with `--skip-needs`): the plan
/// covers every release of the state (`all`: the state loaded without `--selector`), the
/// result only those selected by labels and `condition:`.
fn ordered(
    st: &State,
    all: &State,
    o: &TemplateOpts,
) -> Result<Vec<BTreeMap<String, Value>>, String> {
    let sel = selected(st)?;
    let every = rels_of(all);
    let groups = dag::plan(&every)?;
    let mut wanted: std::collections::BTreeSet<String> = sel.iter().map(dag::release_id).collect();
    let filtering = !std::ptr::eq(st, all);
    if filtering && (o.include_needs || !o.skip_needs) {
        // The dag's Sort walks the groups from the deepest: a release needed by a wanted one is
        // added (--include-needs) or is helmfile's error (--skip-needs=false).
        for g in groups.iter().rev() {
            let mut ids: Vec<String> = g.iter().map(|&i| dag::release_id(&every[i])).collect();
            ids.sort();
            ids.dedup();
            for id in ids {
                if wanted.contains(&id) {
                    continue;
                }
                let mut dependents: Vec<String> = every
                    .iter()
                    .filter(|r| wanted.contains(&dag::release_id(r)) && dag::needs(r).contains(&id))
                    .map(dag::release_id)
                    .collect();
                dependents.sort();
                dependents.dedup();
                if dependents.is_empty() {
                    continue;
                }
                if !o.include_needs {
                    let ds: Vec<String> = dependents.iter().map(|d| format!("{d:?}")).collect();
                    let human = if ds.len() < 3 {
                        ds.join(" and ")
                    } else {
                        format!(
                            "{}, and {}",
                            ds[..ds.len() - 1].join(", "),
                            ds[ds.len() - 1]
                        )
                    };
                    let verb = if ds.len() == 1 { "depends" } else { "depend" };
                    let name = id.rsplit('/').next().unwrap_or(&id);
                    return Err(format!(
                        "release {human} {verb} on {id:?} which does not match the selectors. Please add a selector like \"--selector name={name}\", or indicate whether to skip (--skip-needs) or include (--include-needs) these dependencies"
                    ));
                }
                wanted.insert(id);
            }
        }
    }
    let mut out: Vec<BTreeMap<String, Value>> = Vec::new();
    for i in groups.into_iter().flatten() {
        let id = dag::release_id(&every[i]);
        if !wanted.contains(&id) || out.iter().any(|o| dag::release_id(o) == id) {
            continue;
        }
        // Selected releases as loaded with the selectors; needs included from the full state.
        let r = sel
            .iter()
            .find(|r| dag::release_id(r) == id)
            .unwrap_or(&every[i]);
        out.push(r.clone());
    }
    Ok(out)
}

/// Pairs each state of `root` with the same state of `all` (the tree loaded without selectors),
/// falling back to the state itself when the trees differ in shape.
fn paired<'s>(
    root: &'s State,
    all: Option<&'s State>,
    label: &str,
) -> Vec<(&'s State, &'s State, String)> {
    let a = states(root, label);
    let b = all.map(|all| states(all, label)).unwrap_or_default();
    if a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x.0.full_path == y.0.full_path)
    {
        a.into_iter()
            .zip(b)
            .map(|((s, p), (e, _))| (s, e, p))
            .collect()
    } else {
        a.into_iter().map(|(s, p)| (s, s, p)).collect()
    }
}

impl<'a> Run<'a> {
    /// helmfile's SyncRepos: `helm repo add NAME URL --force-update` for each HTTP repository
    /// of the state (once per run).
    fn sync_repos(&mut self, st: &State) -> Result<(), String> {
        sync_repos(self.out, &mut self.synced, st)
    }

    fn helm_job(
        &self,
        st: &State,
        rel: &BTreeMap<String, Value>,
        o: &TemplateOpts,
    ) -> Result<HelmTemplate, String> {
        let values = st.release_values(rel)?;
        let chart = str_of(&get(rel, "chart"));
        let chart_path = if Path::new(&chart).is_absolute() {
            PathBuf::from(&chart)
        } else {
            st.base_dir.join(&chart)
        };
        let mut args: Vec<String> = o.args.clone();
        if args.is_empty() {
            args = list_items(&get_helm_default(st, "args"))
                .iter()
                .map(str_of)
                .collect();
        }
        let extra_value_files = o
            .values
            .iter()
            .map(|v| {
                crate::absolute(&st.cwd.join(v))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let helm_binary = match str_of(&get(&st.spec, "helmBinary")) {
            b if b.is_empty() => "helm".to_string(),
            b => b,
        };
        Ok(HelmTemplate {
            name: str_of(&get(rel, "name")),
            chart_shown: chart_shown(st, rel),
            chart_path,
            namespace: str_of(&get(rel, "namespace")),
            version: str_of(&get(rel, "version")),
            values,
            extra_value_files,
            extra_set: o.set.clone(),
            api_versions: list_items(&get(rel, "apiVersions"))
                .iter()
                .map(str_of)
                .collect(),
            kube_version: o
                .kube_version
                .clone()
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| str_of(&get(rel, "kubeVersion"))),
            output_dir: None,
            include_crds: o.include_crds,
            skip_tests: o.skip_tests,
            no_hooks: o.no_hooks,
            skip_schema_validation: o.skip_schema_validation
                || matches!(get(rel, "skipSchemaValidation"), Value::Bool(true)),
            show_only: o.show_only.clone(),
            extra_args: args,
            temp_dir: temp_dir(),
            helm_binary,
            kube_context: o.kube_context.clone().unwrap_or_default(),
            remote: !is_local_chart(st, &chart)
                && !Path::new(&chart).is_absolute()
                && !chart.starts_with('.'),
            offline: o.offline,
            plain_http: o.oci_plain_http,
        })
    }

    /// TemplateReleases for one state.
    fn template_state(&mut self, st: &State, all: &State, prefix: &str, o: &TemplateOpts) -> bool {
        let rels = match ordered(st, all, o) {
            Ok(r) => r,
            Err(e) => {
                fail(self.out, prefix, &[e]);
                return false;
            }
        };
        if !o.skip_deps && !o.offline && !matches!(get_helm_default(st, "skipDeps"), Value::Bool(true)) {
            if let Err(e) = self.sync_repos(st) {
                fail(self.out, prefix, &[e]);
                return false;
            }
        }
        // PrepareCharts' ResolveDeps: `helmfile.lock` pins the repository charts.
        let rels = match crate::lockfile::apply(st, rels) {
            Ok(r) => r,
            Err(e) => {
                fail(self.out, prefix, &[format!("[{e}]")]);
                return false;
            }
        };
        if let Some(e) = fire(self.out, st, None, "prepare", None, "template") {
            fail(self.out, prefix, &[e]);
            return false;
        }
        let mut oci_dirs: BTreeMap<String, PathBuf> = BTreeMap::new();
        for r in rels.iter().filter(|r| desired(r)) {
            if let Some(e) = fire(self.out, st, Some(r), "prepare", None, "template") {
                fail(self.out, prefix, &[format!("[{e}]")]);
                return false;
            }
            let mut log = String::new();
            let res = oci_chart(st, r, o.oci_plain_http, o.offline, &mut log);
            self.out.stderr.push_str(&log);
            match res {
                Ok(Some(d)) => {
                    oci_dirs.insert(dag::release_id(r), d);
                }
                Ok(None) => {}
                Err(e) => {
                    // PrepareCharts returns its errors as a list, printed as Go prints a slice.
                    fail(
                        self.out,
                        prefix,
                        &[format!("[release {:?}: {e}]", str_of(&get(r, "name")))],
                    );
                    return false;
                }
            }
        }
        if let Err(e) = build_deps(st, &rels, o, self.out) {
            fail(self.out, prefix, &[format!("[{e}]")]);
            return false;
        }
        let rels: Vec<_> = rels.into_iter().filter(desired).collect();
        let mut jobs: Vec<Result<HelmTemplate, String>> = Vec::new();
        let mut warns: Vec<String> = Vec::new();
        for r in &rels {
            warns.push(needs_warnings(all, r));
            let mut job = self.helm_job(st, r, o);
            if let (Ok(j), Some(d)) = (&mut job, oci_dirs.get(&dag::release_id(r))) {
                j.chart_shown = d.to_string_lossy().into_owned();
                j.chart_path = d.clone();
                j.remote = false;
            }
            if let (Ok(j), true) = (
                &mut job,
                o.output_dir.is_some() || o.output_dir_template.is_some(),
            ) {
                let tmpl = o.output_dir_template.clone().unwrap_or_else(|| {
                    "{{ .OutputDir }}/{{ .State.BaseName }}-{{ .State.AbsPathSHA1 }}-{{ .Release.Name}}".into()
                });
                // helmfile's TemplateImpl.OutputDir drops trailing separators.
                let dir = o.output_dir.as_deref().unwrap_or("").trim_end_matches('/');
                match output_path_template(st, r, &tmpl, dir) {
                    Ok(p) => {
                        // As rendered, not cleaned: helm prints `wrote DIR/FILE` by joining
                        // strings (`out//abs/path` for a state loaded with a base dir).
                        let p = PathBuf::from(p);
                        let _ = std::fs::create_dir_all(st.cwd.join(&p));
                        j.output_dir = Some(p);
                    }
                    Err(e) => job = Err(e),
                }
            }
            jobs.push(job);
        }
        let results = self.render_all(&jobs, o.concurrency);
        let mut errs: Vec<String> = Vec::new();
        for (((job, res), w), r) in jobs.iter().zip(results).zip(warns).zip(&rels) {
            self.out.stderr.push_str(&w);
            match job {
                Err(e) => errs.push(e.clone()),
                Ok(j) => {
                    self.out
                        .stderr
                        .extend(j.values.log.iter().map(|l| format!("{l}\n")));
                    if !errs.is_empty() {
                        cleanup_warn(self.out, st, r, "template");
                        continue;
                    }
                    self.out.stderr.push_str(&format!(
                        "Templating release={}, chart={}\n",
                        j.name,
                        redacted_url(&j.chart_shown)
                    ));
                    match res {
                        Some(Ok(stdout)) if j.output_dir.is_some() => {
                            let mut seen = std::collections::HashSet::new();
                            let kept: Vec<&str> = stdout
                                .split('\n')
                                .filter(|l| !l.starts_with("wrote ") || seen.insert(l.to_string()))
                                .collect();
                            let t = kept.join("\n");
                            let t = t.trim_end_matches('\n');
                            if !t.is_empty() {
                                self.out.stderr.push_str(&format!("{t}\n"));
                            }
                        }
                        Some(Ok(stdout)) => {
                            if !stdout.is_empty() {
                                self.out.stdout.push_str(&stdout);
                                self.out.stdout.push('\n');
                            }
                        }
                        Some(Err(f)) => errs.push(f.0),
                        None => {}
                    }
                    cleanup_warn(self.out, st, r, "template");
                }
            }
            if job.is_err() {
                cleanup_warn(self.out, st, r, "template");
            }
        }
        let global = fire(
            self.out,
            st,
            None,
            "cleanup",
            errs.first().map(String::as_str),
            "template",
        );
        if !errs.is_empty() {
            fail(self.out, prefix, &errs);
            return false;
        }
        if let Some(e) = global {
            fail(self.out, prefix, &[e]);
            return false;
        }
        true
    }

    /// Renders every job (in parallel); `None` for jobs whose inputs failed.
    fn render_all(
        &self,
        jobs: &[Result<HelmTemplate, String>],
        concurrency: usize,
    ) -> Vec<Option<Result<String, crate::render::HelmFailure>>> {
        let n = jobs.len();
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let workers = if concurrency == 0 {
            n.min(cpus)
        } else {
            concurrency.min(n).min(cpus.max(1))
        }
        .max(1);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let slots: Vec<std::sync::Mutex<Option<Result<String, crate::render::HelmFailure>>>> =
            (0..n).map(|_| std::sync::Mutex::new(None)).collect();
        let cache = self.cache;
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    if let Ok(j) = &jobs[i] {
                        let r = j.run(cache);
                        if let Ok(mut slot) = slots[i].lock() {
                            *slot = Some(r);
                        }
                    }
                });
            }
        });
        slots
            .into_iter()
            .map(|m| m.into_inner().ok().flatten())
            .collect()
    }
}

/// helmfile's redactedURL: credentials in a chart URL are hidden.
pub(crate) fn redacted(chart: &str) -> String {
    redacted_url(chart)
}

/// helmfile's redactedURL: credentials in a chart URL are hidden.
fn redacted_url(chart: &str) -> String {
    if let Some((scheme, rest)) = chart.split_once("://") {
        if let Some((creds, host)) = rest.split_once('@') {
            if let Some((user, _)) = creds.split_once(':') {
                return format!("{scheme}://{user}:xxxxx@{host}");
            }
        }
    }
    chart.to_string()
}

/// helmfile's cache directory (`HELMFILE_CACHE_HOME`, else the user cache dir's `helmfile`).
fn helmfile_cache_dir() -> PathBuf {
    if let Ok(h) = std::env::var("HELMFILE_CACHE_HOME") {
        if !h.is_empty() {
            return PathBuf::from(h);
        }
    }
    match std::env::var("XDG_CACHE_HOME") {
        Ok(x) if !x.is_empty() => PathBuf::from(x).join("helmfile"),
        _ => match std::env::var("HOME") {
            Ok(h) if !h.is_empty() => PathBuf::from(h).join(".cache").join("helmfile"),
            _ => PathBuf::from(".helmfile"),
        },
    }
}

/// helmfile's getOCIChart for an `oci://` chart with a version: the chart pulled (untarred)
/// into `<cache>/<chart path with :, //, ., & as _>/<version>/` unless already there, logging
/// what `helm pull` prints. Returns the chart directory.
fn oci_chart(
    st: &State,
    rel: &BTreeMap<String, Value>,
    plain_http: bool,
    offline: bool,
    log: &mut String,
) -> Result<Option<PathBuf>, String> {
    // The cache path follows the chart as written (`oci://…` or `REPO/CHART` of an OCI
    // repository); helm is given the `oci://` reference.
    let written = str_of(&get(rel, "chart"));
    let version = str_of(&get(rel, "version"));
    let Some((chart, _, _)) = crate::charts::oci_reference(st, rel) else {
        return Ok(None);
    };
    if version.is_empty() || chart.contains('@') {
        return Ok(None);
    }
    let replaced = written
        .replace(':', "_")
        .replace("//", "_")
        .replace('.', "_")
        .replace('&', "_");
    let safe_version: String = version
        .chars()
        .map(|c| if "=><!|~^ ,*".contains(c) { '_' } else { c })
        .collect();
    let mut dir = helmfile_cache_dir();
    for part in replaced.split('/') {
        dir.push(part);
    }
    dir.push(&safe_version);
    let reference = rudder_repo::oci::Reference::parse(&chart).map_err(|e| e.to_string())?;
    let chart_dir = dir.join(reference.chart_name());
    if chart_dir.join("Chart.yaml").is_file() {
        return Ok(Some(chart_dir));
    }
    let qualified = chart.trim_start_matches("oci://");
    log.push_str(&format!("Pulling {qualified}:{version}\n"));
    let paths = rudder_repo::paths::HelmPaths::from_env();
    let opts = rudder_repo::ops::PullOptions {
        version: version.clone(),
        untar: true,
        untar_dir: dir.clone(),
        plain_http,
        offline,
        ..Default::default()
    };
    let helm_args = {
        let mut a = vec![
            "pull".to_string(),
            chart.clone(),
            "--destination".into(),
            dir.to_string_lossy().into_owned(),
        ];
        a.extend(["--untar".to_string(), "--version".into(), version.clone()]);
        if plain_http {
            a.push("--plain-http".into());
        }
        a
    };
    let failed =
        |e: String| crate::render::exit_error_for("helm", &helm_args, "", &format!("Error: {e}\n"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let pulled =
        rudder_repo::ops::pull(&paths, &chart, &opts).map_err(|e| failed(e.to_string()))?;
    if offline {
        // The bundle recorded the manifest digest helm would print.
        log.push_str(&format!(
            "Pulled: {}/{}:{version}\nDigest: {}\n",
            reference.registry, reference.repository, pulled.manifest
        ));
        return Ok(Some(chart_dir));
    }
    // helm prints the manifest's digest.
    let creds = rudder_repo::oci::config_credentials(&paths.registry_config, &reference.registry);
    let mut reg = rudder_repo::oci::Registry::new(&reference.registry, plain_http, creds, &opts)
        .map_err(|e| failed(e.to_string()))?;
    let manifest = reg
        .manifest(
            &reference.repository,
            &rudder_repo::oci::version_to_tag(&version),
        )
        .map_err(|e| failed(e.to_string()))?;
    log.push_str(&format!(
        "Pulled: {}/{}:{version}\nDigest: sha256:{}\n",
        reference.registry,
        reference.repository,
        rudder_repo::sha256_hex(&manifest)
    ));
    Ok(Some(chart_dir))
}

/// helmfile's SyncRepos: `helm repo add NAME URL --force-update` for each HTTP repository of the
/// state (once per run).
fn sync_repos(out: &mut Outcome, synced: &mut Vec<String>, st: &State) -> Result<(), String> {
    let paths = rudder_repo::paths::HelmPaths::from_env();
    for r in list_items(&get(&st.spec, "repositories")) {
        let m: BTreeMap<String, Value> = crate::map_entries(&r).into_iter().collect();
        let f = |k: &str| str_of(&get(&m, k));
        if matches!(get(&m, "oci"), Value::Bool(true)) || f("url").starts_with("oci://") {
            continue;
        }
        let key = format!("{}\u{0}{}", f("name"), f("url"));
        if synced.contains(&key) {
            continue;
        }
        synced.push(key);
        out.stderr
            .push_str(&format!("Adding repo {} {}\n", f("name"), f("url")));
        let entry = rudder_repo::repofile::Entry {
            name: f("name"),
            url: f("url"),
            username: f("username"),
            password: f("password"),
            cert_file: f("certFile"),
            key_file: f("keyFile"),
            ca_file: f("caFile"),
            insecure_skip_tls_verify: matches!(get(&m, "skipTLSVerify"), Value::Bool(true)),
            pass_credentials_all: matches!(get(&m, "passCredentials"), Value::Bool(true)),
        };
        match rudder_repo::ops::repo_add(&paths, entry, true) {
            Ok(msg) => out
                .stderr
                .push_str(&format!("{}\n", msg.trim_end_matches('\n'))),
            Err(e) => {
                let mut args = vec![
                    "repo".to_string(),
                    "add".into(),
                    f("name"),
                    f("url"),
                    "--force-update".into(),
                ];
                if !f("username").is_empty() {
                    args.extend([
                        "--username".to_string(),
                        f("username"),
                        "--password".into(),
                        f("password"),
                    ]);
                }
                return Err(crate::render::exit_error_for(
                    &str_or(&get(&st.spec, "helmBinary"), "helm"),
                    &args,
                    "",
                    &format!("Error: {e}\n"),
                ));
            }
        }
    }
    Ok(())
}

/// `helmfile template`. `all` is the state tree loaded without `--selector` (for the `needs`
/// graph), when selectors were given.
pub fn template(root: &State, all: Option<&State>, o: &TemplateOpts) -> Outcome {
    let mut out = Outcome::default();
    let cache = ChartCache::default();
    let mut run = Run {
        out: &mut out,
        cache: &cache,
        synced: Vec::new(),
    };
    for (st, every, prefix) in paired(root, all, &o.label) {
        if !run.template_state(st, every, &prefix, o) {
            break;
        }
    }
    out
}

/// `helmfile show-dag`: every release, or with selectors (`all` given) the selected ones.
pub fn show_dag(root: &State, all: Option<&State>, label: &str) -> Outcome {
    let mut out = Outcome::default();
    for (st, prefix) in states(root, label) {
        let rels = if all.is_some() {
            selected(st)
        } else {
            Ok(rels_of(st))
        };
        let prep = selected(st).unwrap_or_default();
        if !prepare_hooks(&mut out, st, Some(&prep), "show-dag", &prefix) {
            break;
        }
        match rels.and_then(|r| dag::show_dag(&r)) {
            Ok(t) => out.stdout.push_str(&t),
            Err(e) => {
                global_cleanup(&mut out, st, "show-dag", Some(&e), &prefix);
                fail(&mut out, &prefix, &[e]);
                break;
            }
        }
        if !global_cleanup(&mut out, st, "show-dag", None, &prefix) {
            break;
        }
    }
    out
}

/// `helmfile repos`: every state's repositories added (`helm repo add --force-update`).
pub fn repos(root: &State, label: &str) -> Outcome {
    let mut out = Outcome::default();
    let mut synced = Vec::new();
    for (st, prefix) in states(root, label) {
        if let Err(e) = sync_repos(&mut out, &mut synced, st) {
            fail(&mut out, &prefix, &[e]);
            break;
        }
    }
    out
}

/// mergo.Merge(dst, src, WithOverride) of two decoded values files.
fn mergo_override(dst: &Value, src: &Value) -> Value {
    let mut m: BTreeMap<String, Value> = crate::map_entries(dst).into_iter().collect();
    for (k, v) in crate::map_entries(src) {
        if matches!(v, Value::Nil | Value::Missing) {
            continue;
        }
        let nv = match (m.get(&k), &v) {
            (Some(old @ Value::Map(_)), Value::Map(_)) => mergo_override(old, &v),
            _ => v.clone(),
        };
        m.insert(k, nv);
    }
    crate::mk_map(m.into_iter().collect())
}

/// `helmfile write-values`: each release's values files merged into one file (`all`: the tree
/// loaded without selectors, for the `needs` warnings).
pub fn write_values(root: &State, all: Option<&State>, o: &TemplateOpts) -> Outcome {
    let mut out = Outcome::default();
    let mut synced = Vec::new();
    'states: for (st, every, prefix) in paired(root, all, &o.label) {
        if !o.skip_deps && !matches!(get_helm_default(st, "skipDeps"), Value::Bool(true)) {
            if let Err(e) = sync_repos(&mut out, &mut synced, st) {
                fail(&mut out, &prefix, &[e]);
                break;
            }
        }
        let rels = match selected(st) {
            Ok(r) => r,
            Err(e) => {
                fail(&mut out, &prefix, &[e]);
                break;
            }
        };
        if !prepare_hooks(&mut out, st, None, "write-values", &prefix) {
            break;
        }
        for r in rels.iter().filter(|r| desired(r)) {
            out.stderr.push_str(&needs_warnings(every, r));
            let res = (|| -> Result<(), String> {
                let vals = st.release_values(r)?;
                for l in &vals.log {
                    out.stderr.push_str(&format!("{l}\n"));
                }
                let tmpl = o.output_file_template.clone().unwrap_or_else(|| {
                    "{{ .State.BaseName }}-{{ .State.AbsPathSHA1 }}/{{ .Release.Name }}.yaml".into()
                });
                let path = output_path_template(st, r, &tmpl, "")?;
                let full = st.cwd.join(&path);
                if let Some(d) = full.parent() {
                    std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
                }
                out.stderr
                    .push_str(&format!("Writing values file {path}\n"));
                let mut merged = Value::empty_map();
                let mut texts: Vec<(String, String)> = vals
                    .docs
                    .iter()
                    .map(|d| (d.source.clone().unwrap_or_default(), d.text.clone()))
                    .collect();
                for f in &o.values {
                    let t = std::fs::read_to_string(st.cwd.join(f))
                        .map_err(|e| format!("reading {f}: {e}"))?;
                    texts.push((f.clone(), t));
                }
                for (src, text) in texts {
                    let v = crate::parse_yaml(&text)
                        .map_err(|e| format!("unmarshalling yaml {src}: {e}"))?;
                    merged = mergo_override(&merged, &v);
                }
                let y = rudder_engine::yaml::to_yaml_pretty(&merged)?;
                std::fs::write(&full, y).map_err(|e| format!("writing values file {path}: {e}"))?;
                Ok(())
            })();
            cleanup_warn(&mut out, st, r, "write-values");
            if let Err(e) = res {
                global_cleanup(&mut out, st, "write-values", Some(&e), &prefix);
                fail(&mut out, &prefix, &[e]);
                break 'states;
            }
        }
        if !global_cleanup(&mut out, st, "write-values", None, &prefix) {
            break;
        }
    }
    out
}

// Crate access for the cluster commands in `deploy.rs` (sync, apply, diff, destroy, status).

/// One state of the tree with its releases in `needs` order (installed or not), and the error
/// prefix helmfile gives it.
pub(crate) struct Planned<'s> {
    pub st: &'s State,
    pub releases: Vec<BTreeMap<String, Value>>,
    pub prefix: String,
}

/// Every state of the tree (nested first) with its selected releases in `needs` order; the
/// state's repositories are added on the way (unless `--skip-deps`). Errors carry what was
/// logged so far in `out`.
pub(crate) fn deploy_plan<'s>(
    root: &'s State,
    all: Option<&'s State>,
    o: &TemplateOpts,
    out: &mut Outcome,
) -> Result<Vec<Planned<'s>>, ()> {
    plan_states(root, all, o, out, true)
}

/// [`deploy_plan`] without the `helmfile.lock` versions applied (`helmfile deps`, which
/// rewrites the lock, never reads it first).
pub(crate) fn deploy_plan_unlocked<'s>(
    root: &'s State,
    all: Option<&'s State>,
    o: &TemplateOpts,
    out: &mut Outcome,
) -> Result<Vec<Planned<'s>>, ()> {
    plan_states(root, all, o, out, false)
}

fn plan_states<'s>(
    root: &'s State,
    all: Option<&'s State>,
    o: &TemplateOpts,
    out: &mut Outcome,
    locked: bool,
) -> Result<Vec<Planned<'s>>, ()> {
    let mut synced = Vec::new();
    let mut plans = Vec::new();
    for (st, every, prefix) in paired(root, all, &o.label) {
        let rels = match ordered(st, every, o) {
            Ok(r) => r,
            Err(e) => {
                fail(out, &prefix, &[e]);
                return Err(());
            }
        };
        if !o.skip_deps && !o.offline && !matches!(get_helm_default(st, "skipDeps"), Value::Bool(true)) {
            if let Err(e) = sync_repos(out, &mut synced, st) {
                fail(out, &prefix, &[e]);
                return Err(());
            }
        }
        let rels = if locked {
            match crate::lockfile::apply(st, rels) {
                Ok(r) => r,
                Err(e) => {
                    // PrepareCharts' errors, printed as Go prints a slice.
                    fail(out, &prefix, &[format!("[{e}]")]);
                    return Err(());
                }
            }
        } else {
            rels
        };
        plans.push(Planned {
            st,
            releases: rels,
            prefix,
        });
    }
    Ok(plans)
}

/// What `helm template`/`upgrade` is given for a release (`template`'s values path).
pub(crate) fn deploy_job(
    st: &State,
    rel: &BTreeMap<String, Value>,
    o: &TemplateOpts,
) -> Result<HelmTemplate, String> {
    let mut out = Outcome::default();
    let cache = ChartCache::default();
    let run = Run {
        out: &mut out,
        cache: &cache,
        synced: Vec::new(),
    };
    run.helm_job(st, rel, o)
}

/// A `helmDefaults` entry of the state.
pub(crate) fn helm_default(st: &State, k: &str) -> Value {
    get_helm_default(st, k)
}

/// Whether the release is wanted (`installed:` not false).
pub(crate) fn is_desired(rel: &BTreeMap<String, Value>) -> bool {
    desired(rel)
}

/// The chart as helmfile shows it in its log lines (credentials hidden).
pub(crate) fn chart_label(st: &State, rel: &BTreeMap<String, Value>) -> String {
    redacted_url(&chart_shown(st, rel))
}
