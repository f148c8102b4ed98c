//! Rudder's helmfile face: `helmfile [global flags] COMMAND [flags]` (the parsing and commands
//! live in `rudder_helmfile::cli`).

use std::io::Write;

/// Runs helmfile's CLI on `args` (without the program name); prints and returns the exit code.
pub fn main(args: &[String]) -> i32 {
    let out = rudder_helmfile::cli::run(args);
    let mut so = std::io::stdout().lock();
    let _ = so.write_all(out.stdout.as_bytes());
    let _ = so.flush();
    let mut se = std::io::stderr().lock();
    let _ = se.write_all(out.stderr.as_bytes());
    let _ = se.flush();
    out.code
}
