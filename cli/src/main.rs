//! The `rudder` binary. Invoked through a symlink named `helm` it speaks Helm's command line
//! (`helm template ...`); as `rudder` it offers the same commands.

mod helmfile_cmd;
mod template;

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
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                std::process::exit(0);
            }
            eprintln!("Error: {}", cobra_error(&e, if invoked_as == "helm" { "helm" } else { "rudder" }));
            std::process::exit(1);
        }
    };
    match cli.command {
        Command::Version => {
            println!("rudder {} (invoked as {invoked_as})", env!("CARGO_PKG_VERSION"));
        }
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
        ErrorKind::MissingRequiredArgument => format!(
            "\"{program} template\" requires at least 1 argument\n\nUsage:  {program} template [NAME] [CHART] [flags]"
        ),
        ErrorKind::InvalidSubcommand | ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            format!("unknown command {:?} for {program:?}", ctx(ContextKind::InvalidSubcommand))
        }
        _ => {
            let msg = e.to_string();
            msg.lines().next().unwrap_or("").trim_start_matches("error: ").to_string()
        }
    }
}
