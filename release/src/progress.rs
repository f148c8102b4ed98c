//! Progress lines on a terminal: what is being applied, run and waited on. Silent unless
//! stderr is a terminal and `CI` is unset, so piped and CI output stays exactly helm's.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// Whether progress lines are shown (decided once per process; `RUDDER_PROGRESS=0|1` forces).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| match std::env::var("RUDDER_PROGRESS").ok().as_deref() {
        Some("1") => true,
        Some("0") => false,
        _ => std::io::stderr().is_terminal() && std::env::var_os("CI").is_none(),
    })
}

/// One progress line (dim) on stderr.
pub fn note(msg: impl AsRef<str>) {
    if enabled() {
        eprintln!("\x1b[2m» {}\x1b[0m", msg.as_ref());
    }
}
