//! The `rudder` binary. Invoked through a symlink named `helm` it speaks Helm's command line
//! (`helm template ...`); as `rudder` it offers the same commands.

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
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
            eprintln!("Error: {first}");
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
            Err(e) => {
                eprintln!("Error: {e}");
                std::process::exit(1);
            }
        },
    }
}
