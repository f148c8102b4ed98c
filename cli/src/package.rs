//! `helm package` (Helm v4.3.1: pkg/cmd/package.go, pkg/action/package.go).
//!
//! `-u/--dependency-update` is accepted but does not fetch anything yet (dependency fetching
//! belongs to the chart-sources work); the charts in `charts/` are packaged as they are.

use std::path::PathBuf;

use clap::{ArgAction, Args};
use rudder_chart::package::{package, PackageOptions};

use crate::flags::ValuesArgs;

#[derive(Args, Debug, Default)]
pub struct PackageArgs {
    /// [CHART_PATH] [...]
    pub paths: Vec<String>,
    #[arg(short = 'd', long = "destination", default_value = ".")]
    pub destination: String,
    #[arg(long = "version")]
    pub version: Option<String>,
    #[arg(long = "app-version")]
    pub app_version: Option<String>,
    #[arg(short = 'u', long = "dependency-update", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub dependency_update: bool,
    #[arg(long = "sign", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub sign: bool,
    #[arg(long = "key")]
    pub key: Option<String>,
    #[arg(long = "keyring")]
    pub keyring: Option<String>,
    #[arg(long = "passphrase-file")]
    pub passphrase_file: Option<String>,
    #[arg(long = "username")]
    pub username: Option<String>,
    #[arg(long = "password")]
    pub password: Option<String>,
    #[arg(long = "cert-file")]
    pub cert_file: Option<String>,
    #[arg(long = "key-file")]
    pub key_file: Option<String>,
    #[arg(long = "ca-file")]
    pub ca_file: Option<String>,
    #[arg(long = "insecure-skip-tls-verify", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub insecure_skip_tls_verify: bool,
    #[arg(long = "plain-http", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub plain_http: bool,
    #[command(flatten)]
    pub vals: ValuesArgs,
}

/// Runs `package`: (stdout so far, Err(error text) on failure).
pub fn run(a: &PackageArgs) -> (String, Result<(), String>) {
    let mut out = String::new();
    if a.paths.is_empty() {
        return (out, Err("need at least one argument, the path to the chart".into()));
    }
    let epoch = match std::env::var("SOURCE_DATE_EPOCH").ok().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n < 0 => return (out, Err("invalid SOURCE_DATE_EPOCH: must not be negative".into())),
            Ok(n) => Some(n),
            Err(_) => {
                return (out, Err(format!("invalid SOURCE_DATE_EPOCH: strconv.ParseInt: parsing {}: invalid syntax", rudder_engine::print::quote(&s))))
            }
        },
    };
    if a.sign {
        if a.key.as_deref().unwrap_or("").is_empty() {
            return (out, Err("--key is required for signing a package".into()));
        }
        return (out, Err("signing packages is not supported by rudder yet".into()));
    }
    let vo = a.vals.options();
    if let Err(e) = vo.merge_values() {
        return (out, Err(e.to_string()));
    }
    let opts = PackageOptions {
        version: a.version.clone(),
        app_version: a.app_version.clone(),
        destination: PathBuf::from(&a.destination),
        source_date_epoch: epoch,
    };
    for p in &a.paths {
        let abs = std::path::absolute(p).unwrap_or_else(|_| PathBuf::from(p));
        if let Err(e) = std::fs::metadata(p) {
            return (out, Err(format!("stat {p}: {}", rudder_chart::values::options::go_errno_text(&e))));
        }
        match package(&abs, &opts) {
            Ok(file) => out.push_str(&format!("Successfully packaged chart and saved it to: {}\n", file.display())),
            Err(e) => return (out, Err(e)),
        }
    }
    (out, Ok(()))
}
