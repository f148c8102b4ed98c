//! helmfile v1.8.0's command line (cmd/root.go and the per-command files) for the commands
//! that render without a cluster (`template`, `write-values`, `show-dag`, `build`, `list`,
//! `repos`, `lint`, `deps`, `fetch`) and the cluster ones (`sync`, `apply`, `diff`, `destroy`,
//! `status`, `test`).
//! [`run`] parses the global and command flags, finds the state files (state_files.rs: one file,
//! or each file of a `helmfile.d` in turn, as `--sequential-helmfiles` does), loads the state from
//! the state file's directory (helmfile changes into it for a single file) and returns what
//! helmfile prints.

use std::path::Path;

use crate::commands::{self, Outcome, TemplateOpts};
use crate::{load, LoadOptions};

#[derive(Default, Debug)]
struct Globals {
    file: Option<String>,
    load: LoadOptions,
    kube_context: Option<String>,
}

/// Flags that take a value (so `--flag value` consumes the next argument).
const VALUED: &[&str] = &[
    "-f",
    "--file",
    "-e",
    "--environment",
    "-l",
    "--selector",
    "--state-values-set",
    "--state-values-set-string",
    "--state-values-file",
    "-n",
    "--namespace",
    "--kube-context",
    "--helm-binary",
    "-b",
    "--kustomize-binary",
    "-k",
    "--log-level",
    "--chart",
    "-c",
    "--kubeconfig",
    "--args",
    "--set",
    "--values",
    "--output-dir",
    "--output-dir-template",
    "--output-file-template",
    "--concurrency",
    "--kube-version",
    "--show-only",
    "--post-renderer",
    "--post-renderer-args",
    "--template-args",
    "--output",
    "--repo-retries",
    "--context",
    "--timeout",
    "--cascade",
    "--description",
    "--sync-args",
    "--diff-args",
    "--suppress",
    "--report-json",
    "--report-prometheus",
    "--report-pushgateway",
    "--report-job",
];

/// helmfile v1.8.0's root (persistent) flags: accepted anywhere.
const GLOBAL: &[&str] = &[
    "helm-binary",
    "kustomize-binary",
    "file",
    "environment",
    "state-values-set",
    "state-values-set-string",
    "state-values-file",
    "skip-deps",
    "skip-refresh",
    "allow-failed-releases",
    "strip-args-values-on-exit-error",
    "disable-force-update",
    "enforce-plugin-verification",
    "oci-plain-http",
    "repo-retries",
    "quiet",
    "kubeconfig",
    "kube-context",
    "debug",
    "color",
    "no-color",
    "log-level",
    "namespace",
    "chart",
    "selector",
    "allow-no-matching-release",
    "enable-live-output",
    "interactive",
    "sequential-helmfiles",
    "otel-tracing",
    "help",
    // Rudder's: resolve charts from the local caches only (see `rudder bundle import`).
    "offline",
];

/// Each served command's own flags (cobra's "unknown flag" before the command or on another).
fn command_flags(command: &str) -> &'static [&'static str] {
    match command {
        "template" => &[
            "args",
            "set",
            "values",
            "output-dir",
            "output-dir-template",
            "concurrency",
            "validate",
            "include-crds",
            "skip-tests",
            "skip-needs",
            "include-needs",
            "include-transitive-needs",
            "enforce-needs-are-installed",
            "skip-cleanup",
            "no-hooks",
            "post-renderer",
            "post-renderer-args",
            "skip-schema-validation",
            "kube-version",
            "show-only",
            "template-args",
        ],
        "write-values" => &["concurrency", "set", "values", "output-file-template"],
        "deps" => &["args", "skip-repos", "concurrency"],
        "test" => &["args", "cleanup", "logs", "timeout", "concurrency", "skip-needs", "include-needs", "include-transitive-needs"],
        "fetch" => &["concurrency", "output-dir", "output-dir-template"],
        "lint" => &["args", "set", "values", "concurrency", "skip-deps", "skip-cleanup", "include-needs", "include-transitive-needs", "skip-needs"],
        "build" => &["embed-values"],
        "list" => &["keep-temp-dir", "skip-charts", "output"],
        "repos" => &["args"],
        // Cluster commands (deploy.rs).
        "sync" | "apply" | "diff" => &[
            "args", "sync-args", "diff-args", "set", "values", "concurrency", "validate",
            "skip-needs", "skip-crds", "include-needs", "include-transitive-needs",
            "enforce-needs-are-installed", "hide-notes", "take-ownership", "server-side",
            "sync-release-labels", "wait", "wait-for-jobs", "timeout", "reuse-values",
            "reset-values", "post-renderer", "post-renderer-args", "skip-schema-validation",
            "cascade", "description", "context", "output", "suppress", "suppress-secrets",
            "show-secrets", "no-hooks", "suppress-diff", "skip-diff-on-install",
            "skip-diff-validation-on-install", "include-tests", "detailed-exitcode",
            "strip-trailing-cr", "skip-cleanup", "suppress-output-line-regex",
            // Rudder only: the deploy report.
            "report", "report-json", "report-prometheus", "report-pushgateway", "report-job",
        ],
        "destroy" => &["args", "cascade", "concurrency", "skip-charts"],
        "status" => &["args", "concurrency"],
        _ => &[],
    }
}

const KNOWN_SHORT: &str = "bkfeqnclih";

/// helmfile's commands (those rudder does not serve yet get a clear error, others cobra's).
const COMMANDS: &[&str] = &[
    "apply",
    "build",
    "cache",
    "completion",
    "create",
    "deps",
    "destroy",
    "diff",
    "doctor",
    "fetch",
    "help",
    "init",
    "lint",
    "list",
    "print-env",
    "repos",
    "show-dag",
    "status",
    "sync",
    "template",
    "test",
    "unittest",
    "version",
    "write-values",
];

/// An error helmfile prints bare and exits 3 with (cobra's and other non-app errors).
fn bare_error(msg: &str) -> Outcome {
    Outcome {
        stdout: String::new(),
        stderr: format!("{msg}\n"),
        code: 3,
    }
}

fn usage_error(msg: &str) -> Outcome {
    Outcome {
        stdout: String::new(),
        stderr: format!("Error: {msg}\n"),
        code: 1,
    }
}

/// Runs helmfile's CLI on `args` (without the program name).
pub fn run(args: &[String]) -> Outcome {
    let mut g = Globals::default();
    let mut o = TemplateOpts {
        offline: rudder_repo::cache::offline_from_env(),
        ..TemplateOpts::default()
    };
    let mut d = crate::deploy::DeployOpts::default();
    let mut color: Option<bool> = None;
    let mut test_logs = false;
    let mut command: Option<String> = None;
    let mut skip_needs: Option<bool> = None;
    // Command flags given before the command (checked once the command is known).
    let mut local_before: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        if let Some(long) = flag.strip_prefix("--") {
            if !GLOBAL.contains(&long) {
                match command.as_deref() {
                    Some(c) if !command_flags(c).contains(&long) => {
                        return bare_error(&format!("unknown flag: --{long}"));
                    }
                    Some(_) => {}
                    None => {
                        // Before the command, cobra takes `--flag NEXT` as a flag and its value
                        // while looking for the command: a boolean command flag swallows the
                        // command name, and the root then rejects the flag.
                        let swallows = inline.is_none()
                            && !VALUED.contains(&flag.as_str())
                            && args.get(i + 1).is_some_and(|n| !n.starts_with('-'));
                        if swallows {
                            return bare_error(&format!("unknown flag: --{long}"));
                        }
                        local_before.push(long.to_string());
                    }
                }
            }
        } else if let Some(short) = flag.strip_prefix('-') {
            if let Some(c) = short.chars().next() {
                if !KNOWN_SHORT.contains(c) {
                    return bare_error(&format!("unknown shorthand flag: '{c}' in {a}"));
                }
            }
        }
        let takes = VALUED.contains(&flag.as_str());
        let val = if takes {
            match inline.clone() {
                Some(v) => Some(v),
                None => {
                    i += 1;
                    match args.get(i) {
                        Some(v) => Some(v.clone()),
                        None => return usage_error(&format!("flag needs an argument: {flag}")),
                    }
                }
            }
        } else {
            None
        };
        let v = val.clone().unwrap_or_default();
        let on = inline.as_deref().map(|s| s != "false").unwrap_or(true);
        match flag.as_str() {
            "-f" | "--file" => g.file = Some(v),
            "-e" | "--environment" => g.load.environment = Some(v),
            "-l" | "--selector" => g.load.selectors.push(v),
            "--state-values-set" => g.load.state_values_set.push(v),
            "-n" | "--namespace" => g.load.namespace = Some(v),
            "--kube-context" => g.kube_context = Some(v),
            "--state-values-file" => g.load.state_values_files.push(v),
            "--state-values-set-string" => g.load.state_values_set_string.push(v),
            "--args" => o.args = v.split_whitespace().map(String::from).collect(),
            "--set" => o
                .set
                .extend(v.split(',').filter(|s| !s.is_empty()).map(String::from)),
            "--values" => o.values.push(v),
            "--output-dir" => o.output_dir = Some(v),
            "--output-dir-template" => o.output_dir_template = Some(v),
            "--output-file-template" => o.output_file_template = Some(v),
            "--concurrency" => o.concurrency = v.parse().unwrap_or(0),
            "--kube-version" => o.kube_version = Some(v),
            "--show-only" => o.show_only.push(v),
            "--skip-deps" => o.skip_deps = on,
            "--oci-plain-http" => o.oci_plain_http = on,
            "--offline" => o.offline = on,
            "--skip-repos" => o.skip_repos = on,
            "--include-needs" | "--include-transitive-needs" => o.include_needs = on,
            "--skip-needs" => skip_needs = Some(on),
            "--include-crds" => o.include_crds = on,
            "--skip-crds" => o.include_crds = !on,
            "--skip-tests" => o.skip_tests = on,
            "--no-hooks" => o.no_hooks = on,
            "--skip-schema-validation" => o.skip_schema_validation = on,
            // Cluster commands (deploy.rs).
            "--kubeconfig" => d.kubeconfig = Some(v),
            "--skip-diff-on-install" => d.skip_diff_on_install = on,
            "--suppress-secrets" => d.suppress_secrets = on,
            "--suppress-diff" => d.suppress_diff = on,
            "--wait" => d.wait = on,
            "--detailed-exitcode" => d.detailed_exitcode = on,
            "--no-color" => d.no_color = on,
            "--report" => d.report.table = on,
            "--logs" => test_logs = on,
            "--color" => color = Some(on),
            "--timeout" => d.timeout = v.parse().ok(),
            "--report-json" => d.report.json = Some(v.clone().into()),
            "--report-prometheus" => d.report.prometheus = Some(v.clone().into()),
            "--report-pushgateway" => d.report.pushgateway = Some(v.clone()),
            "--report-job" => d.report.job = Some(v.clone()),
            "--context" => d.context = v.parse::<i64>().ok().and_then(|c| usize::try_from(c).ok()),
            _ if takes => {}
            f if f.starts_with('-') => {
                // Boolean flags without an effect on rendering (--debug, --quiet, --skip-refresh,
                // --skip-needs, --include-needs, --validate, --skip-cleanup, --no-color ...).
            }
            _ => {
                if command.is_none() {
                    command = Some(a.clone());
                } else {
                    return usage_error(&format!(
                        "unknown command {a:?} for \"helmfile {}\"",
                        command.unwrap_or_default()
                    ));
                }
            }
        }
        i += 1;
    }
    o.kube_context = g.kube_context.clone();
    // helmfile template: --skip-needs defaults to true, and is false with --include-needs.
    o.skip_needs = if o.include_needs {
        false
    } else {
        skip_needs.unwrap_or(true)
    };
    let Some(command) = command else {
        return usage_error(
            "a command is required (template, write-values, show-dag, build, list)",
        );
    };
    if let Some(f) = local_before
        .iter()
        .find(|f| !command_flags(&command).contains(&f.as_str()))
    {
        return bare_error(&format!("unknown flag: --{f}"));
    }
    if !COMMANDS.contains(&command.as_str()) {
        return bare_error(&format!("unknown command {command:?} for \"helmfile\""));
    }
    if !matches!(
        command.as_str(),
        "template" | "write-values" | "show-dag" | "build" | "list" | "repos" | "lint" | "deps" | "fetch" | "test"
            | "sync" | "apply" | "diff" | "destroy" | "status"
    ) {
        return usage_error(&format!(
            "rudder's helmfile does not implement {command:?} yet"
        ));
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    // helmfile's FileOrDir: `--file`, else $HELMFILE_FILE_PATH.
    let specified = g
        .file
        .clone()
        .filter(|f| !f.is_empty())
        .or_else(|| std::env::var("HELMFILE_FILE_PATH").ok().filter(|f| !f.is_empty()));
    let files = match crate::state_files::find(specified.as_deref(), &cwd, command == "destroy") {
        Ok(f) => f,
        Err(e) => {
            return Outcome {
                stdout: String::new(),
                stderr: format!("{e}\n"),
                code: 1,
            }
        }
    };
    let cluster = matches!(
        command.as_str(),
        "sync" | "apply" | "diff" | "destroy" | "status" | "test"
    );
    if cluster {
        // Cluster commands: `needs` are honoured (helmfile's default for them).
        o.skip_needs = skip_needs.unwrap_or(false);
        if color != Some(true) && std::env::var("HELMFILE_NO_COLOR").is_ok_and(|v| v == "true") {
            d.no_color = true;
        }
    }
    let t = crate::deploy::TestCmdOpts { timeout: d.timeout, logs: test_logs };
    let [file] = files.as_slice() else {
        // helmfile.d with several files (or none): each file its own state, in order.
        return run_files(&command, &files, &cwd, &g.load, &o, &d, &t);
    };
    // helmfile works from the state file's directory, and names the state `DIR/FILE` in errors.
    let (dir, name, label) = crate::state_files::split(&cwd, file);
    if dir != cwd && std::env::set_current_dir(&dir).is_err() {
        return usage_error(&format!(
            "chdir {}: no such file or directory",
            dir.display()
        ));
    }
    let st = match load(&name, &dir, &g.load) {
        Ok(st) => st,
        Err(e) => {
            if e.starts_with("err: no releases found") {
                // show-dag has printed its (empty) table header by then.
                let stdout = if command == "show-dag" && !g.load.selectors.is_empty() {
                    "GROUP RELEASE DEPENDENCIES\n"
                } else {
                    ""
                };
                return Outcome {
                    stdout: stdout.into(),
                    stderr: format!("{e}\n"),
                    code: 3,
                };
            }
            return Outcome {
                stdout: String::new(),
                stderr: format!("in {label}: {e}\n"),
                code: 1,
            };
        }
    };
    // helmfile plans `needs` over every release and warns about needs at load time for all of
    // them; selectors only pick what runs.
    let all = if g.load.selectors.is_empty() {
        None
    } else {
        let mut lo = g.load.clone();
        lo.selectors.clear();
        load(&name, &dir, &lo).ok()
    };
    let warnings = commands::load_warnings(all.as_ref().unwrap_or(&st));
    let mut out = run_state(&command, &st, all.as_ref(), &label, &o, &d, &t);
    out.stderr = format!("{warnings}{}", out.stderr);
    out
}

/// Runs `command` on one loaded state (`all`: the state without selectors, when selecting);
/// `label` is the state's name in helmfile's `in LABEL: ...` errors.
fn run_state(
    command: &str,
    st: &crate::State,
    all: Option<&crate::State>,
    label: &str,
    o: &TemplateOpts,
    d: &crate::deploy::DeployOpts,
    t: &crate::deploy::TestCmdOpts,
) -> Outcome {
    let mut o = o.clone();
    o.label = label.to_string();
    let mut d = d.clone();
    d.template = o.clone();
    match command {
        "sync" => crate::deploy::sync(st, all, &d),
        "apply" => crate::deploy::apply(st, all, &d),
        "diff" => crate::deploy::diff(st, all, &d),
        "status" => crate::deploy::status(st, all, &d),
        "test" => crate::deploy::test(st, all, &d, t),
        "destroy" => crate::deploy::destroy(st, all, &d),
        _ => run_command(command, st, all, &o),
    }
}

/// A `helmfile.d` of several files: each file's state run in turn (state_files.rs); `list`
/// prints one table of every file's releases once all are visited.
fn run_files(
    command: &str,
    files: &[String],
    cwd: &Path,
    lo: &crate::LoadOptions,
    o: &TemplateOpts,
    d: &crate::deploy::DeployOpts,
    t: &crate::deploy::TestCmdOpts,
) -> Outcome {
    // `--detailed-exitcode`: a file with changes (exit 2) does not end the run.
    let how = crate::state_files::Visit {
        tolerated_code: d.detailed_exitcode.then_some(2),
    };
    if command != "list" {
        return crate::state_files::visit(files, cwd, lo, &how, |st, all, label| {
            run_state(command, st, all, label, o, d, t)
        });
    }
    let mut states = Vec::new();
    let mut out = crate::state_files::visit(files, cwd, lo, &how, |st, _, label| {
        states.push(st.clone());
        commands::hooks_around(st, label, "list", Outcome::default)
    });
    if out.code == 0 {
        match crate::state_files::list_table(&states) {
            Ok(table) => out.stdout.push_str(&table),
            Err(e) => {
                out.stderr.push_str(&format!("{e}\n"));
                out.code = 1;
            }
        }
    }
    out
}

fn run_command(
    command: &str,
    st: &crate::State,
    all: Option<&crate::State>,
    o: &TemplateOpts,
) -> Outcome {
    match command {
        "template" => commands::template(st, all, o),
        "lint" => crate::lint::lint(st, all, o),
        "deps" => crate::charts::deps(st, all, o),
        "fetch" => crate::charts::fetch(st, all, o),
        "write-values" => commands::write_values(st, all, o),
        "show-dag" => commands::show_dag(st, all, &o.label),
        "repos" => commands::repos(st, &o.label),
        "build" | "list" => commands::hooks_around(st, &o.label, command, || {
            run_command(&format!("{command}!"), st, all, o)
        }),
        "build!" => match st.build_yaml() {
            Ok(s) => Outcome {
                stdout: s,
                stderr: String::new(),
                code: 0,
            },
            Err(e) => Outcome {
                stdout: String::new(),
                stderr: format!("in {}: {e}\n", o.label),
                code: 1,
            },
        },
        _ => match st.list_table() {
            Ok(s) => Outcome {
                stdout: s,
                stderr: String::new(),
                code: 0,
            },
            Err(e) => Outcome {
                stdout: String::new(),
                stderr: format!("in {}: {e}\n", o.label),
                code: 1,
            },
        },
    }
}
