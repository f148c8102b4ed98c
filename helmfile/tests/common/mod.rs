//! What the differential helmfile tests share: running the real helmfile (v1.8.0, driving the
//! real helm) and Rudder's helmfile CLI in-process on the same directory and arguments. The helm
//! and helmfile homes both see come from the process environment each test sets.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rudder_helmfile::commands::Outcome;

/// The directory of the built oracles (helmfile, helm, ...).
pub fn oracle_dir() -> PathBuf {
    rudder_conformance::testbed::oracle("helmfile").parent().unwrap().to_path_buf()
}

/// The real helmfile in `dir` with `args`, without its upgrade notice and update check.
pub fn real(dir: &Path, args: &[String]) -> Outcome {
    let out = Command::new(oracle_dir().join("helmfile"))
        .current_dir(dir)
        .args(args)
        .env("HELMFILE_UPGRADE_NOTICE_DISABLED", "1")
        .env("HELMFILE_UPDATE_CHECK", "false")
        .output()
        .expect("run the real helmfile");
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

/// Rudder's helmfile CLI in-process, from `dir` (it changes the process's directory: tests that
/// use it run one at a time).
pub fn mine(dir: &Path, args: &[String]) -> Outcome {
    std::env::set_current_dir(dir).unwrap();
    rudder_helmfile::cli::run(args)
}
