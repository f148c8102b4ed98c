//! `list`, `history`, `status` and `get ...`: flags as Helm v4.3.1 declares them (pkg/cmd), the
//! work in `rudder_release::inspect`.

use std::path::PathBuf;

use clap::{ArgAction, Args, Subcommand};
use rudder_release::inspect::{self, history::HistoryOptions, list::ListOptions, Colors, Format, InspectError, Target};

/// Helm's global flags that these commands use (others accepted and ignored).
#[derive(Args, Debug, Default, Clone)]
pub struct GlobalFlags {
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    #[arg(long = "kubeconfig")]
    pub kubeconfig: Option<PathBuf>,
    #[arg(long = "kube-context")]
    pub kube_context: Option<String>,
    #[arg(long = "color", visible_alias = "colour")]
    pub color: Option<String>,
    #[arg(long = "debug", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub debug: bool,
    #[arg(long = "burst-limit")]
    pub burst_limit: Option<String>,
    #[arg(long = "qps")]
    pub qps: Option<String>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    pub args: Vec<String>,
    #[arg(short = 'q', long = "short", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub short: bool,
    #[arg(long = "no-headers", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub no_headers: bool,
    #[arg(long = "time-format", default_value = "")]
    pub time_format: String,
    #[arg(short = 'd', long = "date", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub date: bool,
    #[arg(short = 'r', long = "reverse", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub reverse: bool,
    #[arg(long = "uninstalled", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub uninstalled: bool,
    #[arg(long = "superseded", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub superseded: bool,
    #[arg(long = "uninstalling", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub uninstalling: bool,
    #[arg(long = "deployed", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub deployed: bool,
    #[arg(long = "failed", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub failed: bool,
    #[arg(long = "pending", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub pending: bool,
    #[arg(short = 'A', long = "all-namespaces", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub all_namespaces: bool,
    #[arg(short = 'm', long = "max", default_value = "256", allow_hyphen_values = true)]
    pub max: String,
    #[arg(long = "offset", default_value = "0", allow_hyphen_values = true)]
    pub offset: String,
    #[arg(short = 'f', long = "filter", default_value = "")]
    pub filter: String,
    #[arg(short = 'l', long = "selector", default_value = "")]
    pub selector: String,
    #[arg(short = 'o', long = "output", default_value = "table")]
    pub output: String,
    #[command(flatten)]
    pub global: GlobalFlags,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    pub args: Vec<String>,
    #[arg(long = "max", default_value = "256", allow_hyphen_values = true)]
    pub max: String,
    #[arg(long = "show-rollback-revision", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub show_rollback: bool,
    #[arg(short = 'o', long = "output", default_value = "table")]
    pub output: String,
    #[command(flatten)]
    pub global: GlobalFlags,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    pub args: Vec<String>,
    #[arg(long = "revision", default_value = "0", allow_hyphen_values = true)]
    pub revision: String,
    #[arg(short = 'o', long = "output", default_value = "table")]
    pub output: String,
    #[command(flatten)]
    pub global: GlobalFlags,
}

/// `--revision` plus the globals (manifest, notes, hooks).
#[derive(Args, Debug)]
pub struct GetBasicArgs {
    pub args: Vec<String>,
    #[arg(long = "revision", default_value = "0", allow_hyphen_values = true)]
    pub revision: String,
    #[command(flatten)]
    pub global: GlobalFlags,
}

#[derive(Args, Debug)]
pub struct GetValuesArgs {
    pub args: Vec<String>,
    #[arg(long = "revision", default_value = "0", allow_hyphen_values = true)]
    pub revision: String,
    #[arg(short = 'a', long = "all", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub all: bool,
    #[arg(short = 'o', long = "output", default_value = "table")]
    pub output: String,
    #[command(flatten)]
    pub global: GlobalFlags,
}

#[derive(Args, Debug)]
pub struct GetMetadataArgs {
    pub args: Vec<String>,
    #[arg(long = "revision", default_value = "0", allow_hyphen_values = true)]
    pub revision: String,
    #[arg(short = 'o', long = "output", default_value = "table")]
    pub output: String,
    #[command(flatten)]
    pub global: GlobalFlags,
}

#[derive(Args, Debug)]
pub struct GetAllArgs {
    pub args: Vec<String>,
    #[arg(long = "revision", default_value = "0", allow_hyphen_values = true)]
    pub revision: String,
    #[arg(long = "template", default_value = "")]
    pub template: String,
    #[command(flatten)]
    pub global: GlobalFlags,
}

#[derive(Subcommand, Debug)]
pub enum GetCommand {
    /// download all information for a named release
    All(GetAllArgs),
    /// download the values file for a named release
    Values(GetValuesArgs),
    /// download the manifest for a named release
    Manifest(GetBasicArgs),
    /// download all hooks for a named release
    Hooks(GetBasicArgs),
    /// download the notes for a named release
    Notes(GetBasicArgs),
    /// This command fetches metadata for a given release
    Metadata(GetMetadataArgs),
}

#[derive(Args, Debug)]
pub struct GetArgs {
    #[command(subcommand)]
    pub command: GetCommand,
}

/// The program name cobra prints in usage lines.
fn program() -> String {
    let argv0 = std::env::args().next().unwrap_or_default();
    let base = std::path::Path::new(&argv0).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if base == "helm" { "helm".into() } else { "rudder".into() }
}

fn no_args(cmd: &str, args: &[String]) -> Result<(), InspectError> {
    if args.is_empty() {
        return Ok(());
    }
    let p = program();
    Err(InspectError::new(format!("\"{p} {cmd}\" accepts no arguments\n\nUsage:  {p} {cmd} [flags]")))
}

fn one_arg<'a>(cmd: &str, args: &'a [String]) -> Result<&'a str, InspectError> {
    if args.len() == 1 {
        return Ok(&args[0]);
    }
    let p = program();
    Err(InspectError::new(format!("\"{p} {cmd}\" requires 1 argument\n\nUsage:  {p} {cmd} RELEASE_NAME [flags]")))
}

/// pflag's int parsing error text.
fn int_flag(v: &str, flag: &str) -> Result<i64, InspectError> {
    go_int(v).ok_or_else(|| {
        InspectError::new(format!("invalid argument {v:?} for {flag:?} flag: strconv.ParseInt: parsing {v:?}: invalid syntax"))
    })
}

/// `strconv.ParseInt(s, 0, 64)`: decimal, `0x`, `0o`, `0b`, leading-0 octal, underscores.
fn go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        (2, d)
    } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        (8, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    let digits = if radix != 10 || body.contains('_') { digits.replace('_', "") } else { digits.to_string() };
    if digits.is_empty() {
        return None;
    }
    let v = i64::from_str_radix(&digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn output_flag(v: &str) -> Result<Format, InspectError> {
    Format::parse(v).map_err(|_| InspectError::new(format!("invalid argument {v:?} for \"-o, --output\" flag: invalid format type")))
}

fn target(g: &GlobalFlags) -> Result<(Target, Colors), InspectError> {
    let colors = Colors::resolve(g.color.as_deref())?;
    let t = Target::resolve(g.namespace.as_deref(), g.kubeconfig.clone(), g.kube_context.clone())?;
    Ok((t, colors))
}

fn runtime() -> Result<tokio::runtime::Runtime, InspectError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| InspectError::new(e.to_string()))
}

pub fn list(a: &ListArgs) -> Result<String, InspectError> {
    no_args("list", &a.args)?;
    let output = output_flag(&a.output)?;
    let max = int_flag(&a.max, "-m, --max")?;
    let offset = int_flag(&a.offset, "--offset")?;
    let (t, colors) = target(&a.global)?;
    let opts = ListOptions {
        all_namespaces: a.all_namespaces,
        by_date: a.date,
        reverse: a.reverse,
        deployed: a.deployed,
        failed: a.failed,
        pending: a.pending,
        superseded: a.superseded,
        uninstalled: a.uninstalled,
        uninstalling: a.uninstalling,
        max,
        offset,
        filter: a.filter.clone(),
        selector: a.selector.clone(),
        short: a.short,
        no_headers: a.no_headers,
        time_format: a.time_format.clone(),
        output,
        colors,
    };
    // One LIST and then work on blocking threads: no worker threads to start. The blocking
    // thread that read the record cache is idle by the end; the runtime does not wait for it
    // to notice the shutdown and exit (a fifth of a millisecond).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| InspectError::new(e.to_string()))?;
    let out = rt.block_on(inspect::list::run(&t, &opts));
    rt.shutdown_background();
    out
}

pub fn history(a: &HistoryArgs) -> Result<String, InspectError> {
    let output = output_flag(&a.output)?;
    let max = int_flag(&a.max, "--max")?;
    let name = one_arg("history", &a.args)?;
    let (t, _) = target(&a.global)?;
    let opts = HistoryOptions { max, show_rollback: a.show_rollback, output };
    runtime()?.block_on(inspect::history::run(&t, name, &opts))
}

pub fn status(a: &StatusArgs) -> Result<String, InspectError> {
    let output = output_flag(&a.output)?;
    let revision = int_flag(&a.revision, "--revision")?;
    let name = one_arg("status", &a.args)?;
    let (t, colors) = target(&a.global)?;
    runtime()?.block_on(inspect::status::run(&t, name, revision, output, colors))
}

pub fn get(a: &GetArgs) -> Result<String, InspectError> {
    use inspect::get as g;
    match &a.command {
        GetCommand::All(x) => {
            let revision = int_flag(&x.revision, "--revision")?;
            let name = one_arg("get all", &x.args)?;
            let (t, colors) = target(&x.global)?;
            runtime()?.block_on(g::all(&t, name, revision, &x.template, colors))
        }
        GetCommand::Values(x) => {
            let output = output_flag(&x.output)?;
            let revision = int_flag(&x.revision, "--revision")?;
            let name = one_arg("get values", &x.args)?;
            let (t, _) = target(&x.global)?;
            runtime()?.block_on(g::values(&t, name, revision, x.all, output))
        }
        GetCommand::Manifest(x) => {
            let revision = int_flag(&x.revision, "--revision")?;
            let name = one_arg("get manifest", &x.args)?;
            let (t, _) = target(&x.global)?;
            runtime()?.block_on(g::manifest(&t, name, revision))
        }
        GetCommand::Hooks(x) => {
            let revision = int_flag(&x.revision, "--revision")?;
            let name = one_arg("get hooks", &x.args)?;
            let (t, _) = target(&x.global)?;
            runtime()?.block_on(g::hooks(&t, name, revision))
        }
        GetCommand::Notes(x) => {
            let revision = int_flag(&x.revision, "--revision")?;
            let name = one_arg("get notes", &x.args)?;
            let (t, _) = target(&x.global)?;
            runtime()?.block_on(g::notes(&t, name, revision))
        }
        GetCommand::Metadata(x) => {
            let output = output_flag(&x.output)?;
            let revision = int_flag(&x.revision, "--revision")?;
            let name = one_arg("get metadata", &x.args)?;
            let (t, _) = target(&x.global)?;
            runtime()?.block_on(g::metadata(&t, name, revision, output))
        }
    }
}

/// Prints a command's result the way Helm does: stdout, or `Error: ...` on stderr and exit 1.
pub fn finish(res: Result<String, InspectError>) {
    use std::io::Write;
    match res {
        Ok(out) => {
            let mut so = std::io::stdout().lock();
            let _ = so.write_all(out.as_bytes());
            let _ = so.flush();
        }
        Err(e) if e.0.starts_with("unknown driver ") => {
            // Helm fails while initialising (log.Fatal through its slog logger).
            eprintln!("level=INFO msg={:?}", e.0);
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
    }
}

/// Helm takes its global flags anywhere (`helm -n NS list`); clap wants them after the
/// subcommand. Moves leading `-n/--namespace`, `--kube-context`, `--kubeconfig`, `--color`,
/// `--colour`, `--debug` in front of `list`/`ls`/`history`/`hist`/`status`/`get SUB` to just
/// after the (sub)command. Other command lines are left alone.
pub fn hoist_globals(args: &mut Vec<String>) {
    let takes_value = |a: &str| matches!(a, "-n" | "--namespace" | "--kube-context" | "--kubeconfig" | "--color" | "--colour");
    let is_global = |a: &str| {
        takes_value(a)
            || a == "--debug"
            || ["--namespace=", "--kube-context=", "--kubeconfig=", "--color=", "--colour=", "--debug="].iter().any(|p| a.starts_with(p))
            || (a.starts_with("-n") && a.len() > 2 && !a.starts_with("--"))
    };
    let mut moved = Vec::new();
    let i = 1;
    while i < args.len() && is_global(&args[i]) {
        let a = args.remove(i);
        let needs = takes_value(&a);
        moved.push(a);
        if needs && i < args.len() {
            moved.push(args.remove(i));
        }
    }
    if moved.is_empty() {
        return;
    }
    let cmd = args.get(1).map(String::as_str).unwrap_or("");
    let at = match cmd {
        "list" | "ls" | "history" | "hist" | "status" => 2,
        "get" if args.len() > 2 => 3,
        _ => {
            // Not one of ours: put them back.
            for (k, a) in moved.into_iter().enumerate() {
                args.insert(1 + k, a);
            }
            return;
        }
    };
    for (k, a) in moved.into_iter().enumerate() {
        args.insert(at + k, a);
    }
}
