//! The `rudder` binary. Invoked through a symlink named `helm` or `helmfile` it will speak that
//! tool's command line; the commands arrive with the later issues.

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_default();
    let invoked_as = std::path::Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match args.next().as_deref() {
        Some("version") | Some("--version") => {
            println!("rudder {} (invoked as {invoked_as})", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        _ => anyhow::bail!("usage: rudder version (more commands arrive with the next issues)"),
    }
}
