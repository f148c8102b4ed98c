//! `rudder template` / `helm template` (Helm v4.3.1: pkg/cmd/template.go, pkg/cmd/install.go
//! `runInstall`, pkg/action/install.go `RunWithContext` in client-only dry-run mode).

use std::path::{Path, PathBuf};

use clap::{ArgAction, Args};
use rudder_chart::render::template::{check_if_installable, validate_release_name};
use rudder_chart::render::{template_checked, KubeVersion, ReleaseOptions, TemplateError, TemplateOptions};

use crate::flags::{ChartPathArgs, ValuesArgs};

/// Flags of `helm template` (with the install and chart-path flags it shares; flags that only
/// matter against a cluster are accepted and ignored, as `helm template` ignores them).
#[derive(Args, Debug, Default)]
pub struct TemplateArgs {
    /// [NAME] CHART
    #[arg(num_args = 1.., required = true)]
    pub args: Vec<String>,

    #[command(flatten)]
    pub vals: ValuesArgs,

    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    #[arg(short = 'g', long = "generate-name", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub generate_name: bool,
    #[arg(long = "name-template")]
    pub name_template: Option<String>,
    #[arg(long = "kube-version")]
    pub kube_version: Option<String>,
    #[arg(short = 'a', long = "api-versions", action = ArgAction::Append, value_delimiter = ',')]
    pub api_versions: Vec<String>,
    #[arg(long = "is-upgrade", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub is_upgrade: bool,
    #[arg(long = "include-crds", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub include_crds: bool,
    #[arg(long = "skip-crds", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub skip_crds: bool,
    #[arg(long = "skip-tests", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub skip_tests: bool,
    #[arg(long = "no-hooks", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub no_hooks: bool,
    #[arg(short = 's', long = "show-only", action = ArgAction::Append)]
    pub show_only: Vec<String>,
    #[arg(long = "output-dir")]
    pub output_dir: Option<PathBuf>,
    #[arg(long = "release-name", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub use_release_name: bool,
    #[arg(long = "render-subchart-notes", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub render_subchart_notes: bool,
    #[arg(long = "skip-schema-validation", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub skip_schema_validation: bool,
    #[arg(long = "enable-dns", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub enable_dns: bool,
    #[arg(long = "post-renderer")]
    pub post_renderer: Option<String>,
    #[arg(long = "post-renderer-args", action = ArgAction::Append)]
    pub post_renderer_args: Vec<String>,
    #[arg(long = "debug", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub debug: bool,

    #[arg(long = "dependency-update", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub dependency_update: bool,
    // Accepted for compatibility; no effect on offline rendering.
    #[arg(long = "dry-run", num_args = 0..=1, default_missing_value = "unset")]
    pub dry_run: Option<String>,
    #[arg(long = "validate", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub validate: bool,
    #[arg(long = "create-namespace", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub create_namespace: bool,
    #[arg(long = "disable-openapi-validation", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub disable_openapi_validation: bool,
    #[arg(long = "hide-notes", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub hide_notes: bool,
    #[arg(long = "hide-secret", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub hide_secret: bool,
    #[arg(long = "replace", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub replace: bool,
    #[arg(long = "force", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub force: bool,
    #[arg(long = "wait", num_args = 0..=1, default_missing_value = "watcher")]
    pub wait: Option<String>,
    #[arg(long = "wait-for-jobs", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub wait_for_jobs: bool,
    #[arg(long = "atomic", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub atomic: bool,
    #[arg(long = "rollback-on-failure", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub rollback_on_failure: bool,
    #[arg(long = "take-ownership", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub take_ownership: bool,
    #[arg(long = "timeout")]
    pub timeout: Option<String>,
    #[arg(long = "description")]
    pub description: Option<String>,
    #[arg(short = 'l', long = "labels", action = ArgAction::Append)]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub chart: ChartPathArgs,
    #[arg(long = "force-replace", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub force_replace: bool,
    #[arg(long = "force-conflicts", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub force_conflicts: bool,
    #[arg(long = "server-side", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true")]
    pub server_side: bool,
    #[arg(long = "kube-context")]
    pub kube_context: Option<String>,
    #[arg(long = "kubeconfig")]
    pub kubeconfig: Option<String>,
    #[arg(long = "offline", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub offline: bool,
}

/// Helm's `LocateChart` for remote references (`repo/chart`, `oci://`, URLs, `--repo`): the
/// archive from the content cache, fetched first unless offline (cli/src/sources.rs).
fn locate_any(a: &TemplateArgs, name: &str) -> Result<PathBuf, String> {
    let n = name.trim();
    let local = Path::new(n);
    if !n.starts_with("oci://") && (a.chart.repo.as_deref().unwrap_or("").is_empty() || local.exists()) {
        if local.exists() || local.is_absolute() || n.starts_with('.') {
            return locate_chart(n);
        }
    }
    let c = &a.chart;
    let opts = rudder_repo::PullOptions {
        version: rudder_repo::index::effective_version(c.version.as_deref().unwrap_or(""), c.devel),
        devel: false,
        offline: a.offline,
        ..c.pull_options()
    };
    crate::sources::locate_remote_chart(n, &opts)
}

/// `--dependency-update`: Helm runs `dependency update` (output on stdout) when the chart's
/// dependencies are not all in charts/, then loads the chart again.
fn dependency_update(a: &TemplateArgs, path: &Path, printed: &mut String) -> Result<(), String> {
    let opts = rudder_repo::deps::DepOptions {
        offline: a.offline || rudder_repo::cache::offline_from_env(),
        username: a.chart.username.clone().unwrap_or_default(),
        password: a.chart.password.clone().unwrap_or_default(),
        cert_file: a.chart.cert_file.clone().unwrap_or_default(),
        key_file: a.chart.key_file.clone().unwrap_or_default(),
        ca_file: a.chart.ca_file.clone().unwrap_or_default(),
        insecure_skip_tls_verify: a.chart.insecure_skip_tls_verify,
        plain_http: a.chart.plain_http,
        oci_lines_to_stderr: true,
        ..Default::default()
    };
    rudder_repo::deps::update(&rudder_repo::HelmPaths::from_env(), path, &opts, printed).map_err(|e| e.0)
}

/// Helm's `Install.NameAndChart` as `helm template` reaches it (the release name is preset to
/// `release-name`, so `--generate-name` alone changes nothing).
fn name_and_chart(a: &TemplateArgs) -> Result<(String, String), String> {
    let args = &a.args;
    if args.len() > 2 {
        return Err(format!("expected at most two arguments, unexpected arguments: {}", args[2..].join(", ")));
    }
    if args.len() == 2 {
        if a.generate_name {
            return Err("cannot set --generate-name and also specify a name".into());
        }
        if a.name_template.is_some() {
            return Err("cannot set --name-template and also specify a name".into());
        }
        return Ok((args[0].clone(), args[1].clone()));
    }
    if let Some(t) = a.name_template.as_deref().filter(|t| !t.is_empty()) {
        return Ok((template_name(t)?, args[0].clone()));
    }
    Ok(("release-name".into(), args[0].clone()))
}

/// Helm's `TemplateName`: the name template executed with sprig's functions on nil data.
fn template_name(text: &str) -> Result<String, String> {
    let mut set = rudder_engine::TemplateSet::new(rudder_engine::funcs::sprig());
    set.parse("name-template", text).map_err(|e| e.message)?;
    set.execute("name-template", &rudder_engine::Value::Nil).map_err(|e| e.message)
}

/// slog's text handler line for an error (Helm logs some failures before returning them).
fn slog_error(msg: &str, err: &str) {
    eprintln!(
        "level=ERROR msg={} error={}",
        rudder_chart::manifest::sorter::slog_value(msg),
        rudder_chart::manifest::sorter::slog_value(err)
    );
}

/// Cobra's notices for deprecated flags that were given.
fn print_deprecations(a: &TemplateArgs) {
    let notes: [(&str, bool, &str); 5] = [
        ("force", a.force, "use --force-replace instead"),
        ("atomic", a.atomic, "use --rollback-on-failure instead"),
        ("hide-notes", a.hide_notes, "this flag has no effect for 'helm template' and will be removed in Helm 5"),
        ("render-subchart-notes", a.render_subchart_notes, "this flag has no effect for 'helm template' and will be removed in Helm 5"),
        ("validate", a.validate, "use '--dry-run=server' instead"),
    ];
    for (flag, given, why) in notes {
        if given {
            eprintln!("Flag --{flag} has been deprecated, {why}");
        }
    }
}

/// Helm's `LocateChart` for local paths.
fn locate_chart(name: &str) -> Result<PathBuf, String> {
    let name = name.trim();
    let p = Path::new(name);
    if p.exists() {
        return Ok(std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    }
    if p.is_absolute() || name.starts_with('.') {
        return Err(format!("path {} not found", rudder_engine::print::quote(name)));
    }
    Err(format!(
        "repo {} not found",
        name.split('/').next().unwrap_or(name)
    ))
}

/// Runs the command; the result is what goes to stdout, or the error text (after `Error: `).
/// On failure: what was already printed to stdout, and the error text.
pub fn run(a: &TemplateArgs) -> Result<String, (String, String)> {
    run_inner(a).map_err(|e| (e.stdout.clone(), e.display()))
}

fn run_inner(a: &TemplateArgs) -> Result<String, TemplateError> {
    let early = TemplateError::early;
    print_deprecations(a);
    let kube_version = match &a.kube_version {
        Some(kv) if !kv.is_empty() => Some(
            KubeVersion::parse(kv).map_err(|e| early(format!("invalid kube version '{kv}': {e}")))?,
        ),
        _ => None,
    };
    let (name, chart_ref) = name_and_chart(a).map_err(early)?;
    let path = locate_any(a, &chart_ref).map_err(early)?;
    let user_vals = a.vals.options().merge_values().map_err(|e| early(e.to_string()))?;
    let mut chart = rudder_chart::load(&path).map_err(|e| early(e.to_string()))?;
    check_if_installable(&chart).map_err(early)?;
    let mut printed = String::new();
    if a.dependency_update && !chart.metadata.dependencies.is_empty() && rudder_chart::check_dependencies(&chart).is_err() {
        dependency_update(a, &path, &mut printed).map_err(|e| TemplateError { stdout: printed.clone(), ..early(e) })?;
        chart = rudder_chart::load(&path).map_err(|e| early(e.to_string()))?;
    }
    if !chart.metadata.dependencies.is_empty() {
        rudder_chart::check_dependencies(&chart).map_err(|e| {
            early(format!(
                "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: {e}"
            ))
        })?;
    }
    let namespace = a
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .or_else(|| std::env::var("HELM_NAMESPACE").ok().filter(|n| !n.is_empty()))
        .unwrap_or_else(|| "default".into());
    validate_release_name(&name).map_err(|e| {
        let inner = e.strip_prefix("release name check failed: ").unwrap_or(&e).to_string();
        slog_error("release name check failed", &inner);
        early(e)
    })?;
    let mut warnings = Vec::new();
    rudder_chart::process_dependencies(&mut chart, &user_vals, &mut warnings).map_err(|e| {
        slog_error("chart dependencies processing failed", &e.to_string());
        early(format!("chart dependencies processing failed: {e}"))
    })?;
    let vals = rudder_chart::coalesce_values(&chart, &user_vals, &mut warnings).map_err(|e| early(e.to_string()))?;
    for w in &warnings {
        // Helm prints these with Go's `log.Printf` (local time; UTC here).
        eprintln!("{} {w}", go_log_timestamp());
    }
    // Checked while the chart renders (see `template_checked`).
    let check = (!a.skip_schema_validation).then(|| rudder_chart::SchemaCheck::new(&chart, &vals));
    let opts = TemplateOptions {
        release: ReleaseOptions {
            name,
            namespace,
            revision: 1,
            is_upgrade: a.is_upgrade,
            is_install: !a.is_upgrade,
        },
        kube_version,
        api_versions: a.api_versions.clone(),
        include_crds: a.include_crds,
        skip_tests: a.skip_tests,
        disable_hooks: a.no_hooks,
        show_only: a.show_only.clone(),
        output_dir: a.output_dir.clone(),
        use_release_name: a.use_release_name,
        enable_dns: a.enable_dns,
        sub_notes: a.render_subchart_notes,
        post_renderer: a.post_renderer.clone().filter(|p| !p.is_empty()).map(|p| (p, a.post_renderer_args.clone())),
        exits_after: true,
    };
    let out = template_checked(&chart, vals, &opts, check.as_ref()).map(|o| if printed.is_empty() { o.stdout } else { printed + &o.stdout });
    // The command ends the process: the chart's files and trees are the OS's to reclaim.
    std::mem::forget(check);
    std::mem::forget(chart);
    out
}

/// Go's default `log` prefix: `2006/01/02 15:04:05` (UTC).
fn go_log_timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}/{m:02}/{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}
