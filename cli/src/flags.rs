//! Flag groups several commands share, declared once so each command takes them with exactly
//! the same spelling and parsing (Helm v4.3.1 pkg/cmd/flags.go: `addValueOptionsFlags`,
//! `addChartPathOptionsFlags`).
//!
//! Boolean flags use `num_args = 0..=1, require_equals = true, default_missing_value = "true"`
//! so that `--flag`, `--flag=true` and `--flag=false` all work as with cobra's bool flags.

use clap::{ArgAction, Args};
use rudder_chart::values::ValueOptions;

/// `-f/--values` and the `--set*` flags (Helm's `values.Options`).
#[derive(Args, Debug, Default, Clone)]
pub struct ValuesArgs {
    #[arg(short = 'f', long = "values", action = ArgAction::Append, value_delimiter = ',')]
    pub values: Vec<String>,
    #[arg(long = "set", action = ArgAction::Append)]
    pub set: Vec<String>,
    #[arg(long = "set-string", action = ArgAction::Append)]
    pub set_string: Vec<String>,
    #[arg(long = "set-file", action = ArgAction::Append)]
    pub set_file: Vec<String>,
    #[arg(long = "set-json", action = ArgAction::Append)]
    pub set_json: Vec<String>,
    #[arg(long = "set-literal", action = ArgAction::Append)]
    pub set_literal: Vec<String>,
}

impl ValuesArgs {
    /// The flags as the chart crate's value options, ready to merge.
    pub fn options(&self) -> ValueOptions {
        ValueOptions {
            value_files: self.values.clone(),
            string_values: self.set_string.clone(),
            values: self.set.clone(),
            file_values: self.set_file.clone(),
            json_values: self.set_json.clone(),
            literal_values: self.set_literal.clone(),
        }
    }
}

/// Where a chart that is not a local path comes from, and how to reach it (Helm's
/// `ChartPathOptions`).
#[derive(Args, Debug, Default, Clone)]
pub struct ChartPathArgs {
    #[arg(long = "version")]
    pub version: Option<String>,
    #[arg(long = "devel", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub devel: bool,
    #[arg(long = "repo")]
    pub repo: Option<String>,
    #[arg(long = "username")]
    pub username: Option<String>,
    #[arg(long = "password")]
    pub password: Option<String>,
    #[arg(long = "ca-file")]
    pub ca_file: Option<String>,
    #[arg(long = "cert-file")]
    pub cert_file: Option<String>,
    #[arg(long = "key-file")]
    pub key_file: Option<String>,
    #[arg(long = "keyring")]
    pub keyring: Option<String>,
    #[arg(long = "verify", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub verify: bool,
    #[arg(long = "insecure-skip-tls-verify", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub insecure_skip_tls_verify: bool,
    #[arg(long = "plain-http", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub plain_http: bool,
    #[arg(long = "pass-credentials", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub pass_credentials: bool,
}

impl ChartPathArgs {
    /// The flags as the repo crate's pull options; the caller fills in where the chart goes
    /// and whether the network may be used.
    pub fn pull_options(&self) -> rudder_repo::PullOptions {
        rudder_repo::PullOptions {
            version: self.version.clone().unwrap_or_default(),
            devel: self.devel,
            repo_url: self.repo.clone().unwrap_or_default(),
            username: self.username.clone().unwrap_or_default(),
            password: self.password.clone().unwrap_or_default(),
            pass_credentials_all: self.pass_credentials,
            cert_file: self.cert_file.clone().unwrap_or_default(),
            key_file: self.key_file.clone().unwrap_or_default(),
            ca_file: self.ca_file.clone().unwrap_or_default(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            plain_http: self.plain_http,
            ..Default::default()
        }
    }
}
