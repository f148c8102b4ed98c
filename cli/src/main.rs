//! The `rudder` binary. Invoked through a symlink named `helm` it speaks Helm's command line
//! (`helm template ...`); as `rudder` it offers the same commands.

mod flags;
mod lint;
mod package;
mod show;
mod sources;
mod release;
mod inspect;
mod helmfile_cmd;
mod template;
mod diff_cmd;
mod test_cmd;

use std::io::Write;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "rudder", disable_version_flag = true, disable_help_subcommand = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Locally render templates.
    Template(template::TemplateArgs),
    /// Print the version.
    Version,
    /// show information of a chart
    #[command(alias = "inspect")]
    Show {
        #[command(subcommand)]
        cmd: show::ShowCommand,
    },
    /// examine a chart for possible issues
    Lint(lint::LintArgs),
    /// package a chart directory into a chart archive
    Package(package::PackageArgs),
    // Chart sources (cli/src/sources.rs).
    /// add, list, remove, update, and index chart repositories
    Repo(sources::RepoArgs),
    /// download a chart from a repository and (optionally) unpack it in local directory
    #[command(alias = "fetch")]
    Pull(sources::PullArgs),
    /// push a chart to remote
    Push(sources::PushArgs),
    /// login to or logout from a registry
    Registry(sources::RegistryArgs),
    /// manage a chart's dependencies
    #[command(alias = "dep", alias = "dependencies")]
    Dependency(sources::DependencyArgs),
    /// air-gapped chart bundles (create, import)
    Bundle(sources::BundleArgs),
    /// Install a chart.
    Install(Box<release::InstallArgs>),
    /// Upgrade a release.
    Upgrade(Box<release::UpgradeArgs>),
    /// Roll back a release to a previous revision.
    Rollback(Box<release::RollbackArgs>),
    /// Uninstall a release.
    #[command(visible_aliases = ["un", "del", "delete"])]
    Uninstall(Box<release::UninstallArgs>),
    /// list releases
    #[command(visible_alias = "ls")]
    List(inspect::ListArgs),
    /// fetch release history
    #[command(visible_alias = "hist")]
    History(inspect::HistoryArgs),
    /// display the status of the named release
    Status(inspect::StatusArgs),
    /// download extended information of a named release
    Get(inspect::GetArgs),
    /// preview what an upgrade, rollback or install would change (helm-diff)
    Diff(diff_cmd::DiffArgs),
    /// run tests for a release
    Test(Box<test_cmd::TestArgs>),
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off for this process. mimalloc reserves memory in large segments;
/// where the kernel backs every touched 2 MiB range with a huge page (THP "always"), a short
/// run's resident set grows to about twice what it uses (kube-prometheus-stack's `template`:
/// 77 MB against 45 MB without THP), and zeroing those pages costs more time than the page
/// faults saved. The flag applies to every later page fault, so it is set before anything
/// allocates: the Rust runtime allocates before `main`, and mimalloc reserves its first arena
/// then, so this runs as an early ELF constructor (priority 100, before the default ones).
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array.00100")]
static NO_HUGE_PAGES: extern "C" fn() = no_huge_pages;

#[cfg(target_os = "linux")]
extern "C" fn no_huge_pages() {
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and changes no memory
    // of this process; a failure (an old kernel) only leaves THP as it was.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let argv0 = args.first().cloned().unwrap_or_default();
    let invoked_as = std::path::Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The helmfile face: through a `helmfile` symlink, or as `rudder helmfile ...`.
    if invoked_as == "helmfile" || (invoked_as != "helm" && args.get(1).map(String::as_str) == Some("helmfile")) {
        let skip = if invoked_as == "helmfile" { 1 } else { 2 };
        std::process::exit(helmfile_cmd::main(&args[skip..]));
    }
    if args.get(1).map(String::as_str) == Some("--version") {
        args[1] = "version".into();
    }
    inspect::hoist_globals(&mut args);
    if let Some(a) = parse_list_alone(&args) {
        inspect::finish(inspect::list(&a));
        exit_now(0)
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                std::process::exit(0);
            }
            let program = if invoked_as == "helm" { "helm" } else { "rudder" };
            eprintln!("Error: {}", sources::arg_error(&e, &args, program).unwrap_or_else(|| cobra_error(&e, program)));
            std::process::exit(1);
        }
    };
    let program = if invoked_as == "helm" { "helm" } else { "rudder" };
    match cli.command {
        Command::Show { cmd } => match show::run(&cmd, program) {
            Ok(out) => {
                let mut so = std::io::stdout().lock();
                let _ = so.write_all(&out);
                let _ = so.flush();
            }
            Err(e) => {
                eprintln!("Error: {e}");
                std::process::exit(1);
            }
        },
        Command::Lint(a) => chart_tool_exit(lint::run(&a, program)),
        Command::Package(a) => chart_tool_exit(package::run(&a)),
        Command::Version => {
            println!("rudder {} (invoked as {invoked_as})", env!("CARGO_PKG_VERSION"));
        }
        Command::Repo(a) => finish(sources::run_repo(&a)),
        Command::Pull(a) => finish(sources::run_pull(&a)),
        Command::Push(a) => finish(sources::run_push(&a)),
        Command::Registry(a) => finish(sources::run_registry(&a)),
        Command::Dependency(a) => finish(sources::run_dependency(&a)),
        Command::Bundle(a) => finish(sources::run_bundle(&a)),
        Command::Install(a) => finish(release::block_on(release::install(&a))),
        Command::Upgrade(a) => finish(release::block_on(release::upgrade(&a))),
        Command::Rollback(a) => finish(release::block_on(release::rollback(&a))),
        Command::Uninstall(a) => finish(release::block_on(release::uninstall(&a))),
        Command::List(a) => inspect::finish(inspect::list(&a)),
        Command::History(a) => inspect::finish(inspect::history(&a)),
        Command::Status(a) => inspect::finish(inspect::status(&a)),
        Command::Get(a) => inspect::finish(inspect::get(&a)),
        Command::Diff(a) => diff_cmd::main(&a),
        Command::Test(a) => finish(release::block_on(test_cmd::run(&a))),
        Command::Template(a) => match template::run(&a) {
            Ok(out) => {
                let mut so = std::io::stdout().lock();
                let _ = so.write_all(out.as_bytes());
                let _ = so.flush();
            }
            Err((printed, e)) => {
                let mut so = std::io::stdout().lock();
                let _ = so.write_all(printed.as_bytes());
                let _ = so.flush();
                eprintln!("Error: {e}");
                std::process::exit(1);
            }
        },
    }
    exit_now(0)
}

/// `list` parsed against its own arguments only: clap builds every subcommand's arguments
/// before parsing, about half a millisecond, a twentieth of a listing's whole time. A command
/// line that does not parse this way (help, an error) goes through the full parser, so that it
/// prints exactly what it always does.
fn parse_list_alone(args: &[String]) -> Option<inspect::ListArgs> {
    use clap::{Args, FromArgMatches};
    if !matches!(args.get(1).map(String::as_str), Some("list" | "ls")) {
        return None;
    }
    let cmd = inspect::ListArgs::augment_args(clap::Command::new("list").no_binary_name(true));
    let m = cmd.try_get_matches_from(&args[2..]).ok()?;
    inspect::ListArgs::from_arg_matches(&m).ok()
}

/// Ends the process once a command has finished and its output is flushed. `_exit` skips the
/// C runtime's exit handlers, whose only work here is mimalloc's final collection: it walks
/// and decommits the whole heap (about 4% of a big chart's render) for memory the OS takes
/// back anyway. Rust runs no destructors at exit in either case.
fn exit_now(code: i32) -> ! {
    let _ = std::io::stdout().lock().flush();
    let _ = std::io::stderr().lock().flush();
    // SAFETY: `_exit` ends the process at once; it touches no memory of this program.
    unsafe { libc::_exit(code) }
}

/// Prints what a chart tool wrote to stdout, then its error (exit code 1) if it failed.
fn chart_tool_exit((out, res): (String, Result<(), String>)) {
    let mut so = std::io::stdout().lock();
    let _ = so.write_all(out.as_bytes());
    let _ = so.flush();
    if let Err(e) = res {
        eprintln!("Error: {e}");
        std::process::exit(1);
    }
}

/// Print a command's output; on failure what it printed, then `Error: …` and exit 1.
fn finish(r: Result<String, sources::Failure>) {
    let (printed, err) = match r {
        Ok(out) => (out, None),
        Err((printed, e)) => (printed, Some(e)),
    };
    let mut so = std::io::stdout().lock();
    let _ = so.write_all(printed.as_bytes());
    let _ = so.flush();
    if let Some(e) = err {
        eprintln!("Error: {e}");
        std::process::exit(1);
    }
}

/// Clap's parse errors in the words cobra (Helm's flag library) uses.
fn cobra_error(e: &clap::Error, program: &str) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let ctx = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.first().cloned().unwrap_or_default(),
        _ => String::new(),
    };
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = ctx(ContextKind::InvalidArg);
            if let Some(long) = arg.strip_prefix("--") {
                format!("unknown flag: --{}", long.split('=').next().unwrap_or(long))
            } else if let Some(short) = arg.strip_prefix('-') {
                let c = short.chars().next().unwrap_or('-');
                format!("unknown shorthand flag: '{c}' in {arg}")
            } else {
                format!("unknown command {arg:?} for {program:?}")
            }
        }
        ErrorKind::InvalidValue | ErrorKind::NoEquals => {
            let arg = ctx(ContextKind::InvalidArg);
            let flag = arg.split_whitespace().next().unwrap_or("").split('=').next().unwrap_or("").to_string();
            let value = ctx(ContextKind::InvalidValue);
            if value.is_empty() {
                match flag.strip_prefix("--") {
                    Some(_) => format!("flag needs an argument: {flag}"),
                    None => format!("flag needs an argument: {flag}"),
                }
            } else {
                format!("invalid argument {value:?} for {flag:?} flag: {}", e.kind())
            }
        }
        ErrorKind::MissingRequiredArgument | ErrorKind::WrongNumberOfValues => {
            let sub = std::env::args().nth(1).unwrap_or_default();
            match release::usage(&sub) {
                Some(usage) if sub == "upgrade" => {
                    format!("\"{program} upgrade\" requires 2 arguments\n\nUsage:  {program} {usage}")
                }
                Some(usage) => format!("\"{program} {sub}\" requires at least 1 argument\n\nUsage:  {program} {usage}"),
                None => format!(
                    "\"{program} template\" requires at least 1 argument\n\nUsage:  {program} template [NAME] [CHART] [flags]"
                ),
            }
        }
        ErrorKind::InvalidSubcommand | ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            format!("unknown command {:?} for {program:?}", ctx(ContextKind::InvalidSubcommand))
        }
        _ => {
            let msg = e.to_string();
            msg.lines().next().unwrap_or("").trim_start_matches("error: ").to_string()
        }
    }
}
