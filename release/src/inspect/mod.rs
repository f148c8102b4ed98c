//! The read-only release commands, printing exactly what Helm v4.3.1 prints: `list`,
//! `history`, `status`, `get values|manifest|notes|hooks|metadata|all` (pkg/cmd/{list,history,
//! status,get_*}.go over pkg/action/{list,history,status,get*}.go).
//!
//! ```text
//! gotime    Go time.Time parsing and formatting (String, ANSIC, RFC 3339, --time-format)
//! table     gosuri/uitable layout
//! encode    Helm's EncodeJSON / EncodeYAML
//! selector  Kubernetes label selectors (list -l)
//! records   where records come from: driver, namespace, kubeconfig; parallel decoding
//! list      helm list
//! meta_proto  the protobuf form of a metadata-only LIST, decoded
//! history   helm history
//! status    helm status (with the live resources table)
//! get       helm get values|manifest|notes|hooks|metadata|all
//! ```
//!
//! Every command returns the bytes for stdout, or an [`InspectError`] whose text is what Helm
//! prints after `Error: `.

pub mod encode;
pub mod get;
pub mod gotime;
pub mod history;
pub mod list;
pub mod meta_proto;
pub(crate) mod record_cache;
pub mod records;
pub mod resources;
pub mod selector;
pub mod status;
pub mod table;

pub use records::Target;

/// A command's failure: the message Helm prints after `Error: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InspectError(pub String);

impl InspectError {
    pub fn new(msg: impl Into<String>) -> Self {
        InspectError(msg.into())
    }
}

impl From<rudder_state::Error> for InspectError {
    fn from(e: rudder_state::Error) -> Self {
        InspectError(e.to_string())
    }
}

/// `-o table|json|yaml` (Helm's `output.Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
}

impl Format {
    /// `output.ParseFormat`; the error is `invalid format type`.
    pub fn parse(s: &str) -> Result<Format, InspectError> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "yaml" => Ok(Format::Yaml),
            _ => Err(InspectError::new("invalid format type")),
        }
    }
}

/// Whether Helm would colour its output (`--color`, `HELM_COLOR`, `NO_COLOR`, and for `auto`
/// fatih/color's terminal check on stdout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Colors {
    pub enabled: bool,
}

impl Colors {
    /// From the `--color` value (None = from the environment).
    pub fn resolve(flag: Option<&str>) -> Result<Colors, InspectError> {
        let env_mode = || {
            if std::env::var("NO_COLOR").is_ok_and(|v| !v.is_empty()) {
                return "never".to_string();
            }
            match std::env::var("HELM_COLOR").map(|v| v.to_lowercase()) {
                Ok(v) if matches!(v.as_str(), "never" | "auto" | "always") => v,
                _ => "auto".to_string(),
            }
        };
        let mode = flag.map(str::to_string).unwrap_or_else(env_mode);
        let enabled = match mode.as_str() {
            "never" => false,
            "always" => true,
            "auto" => {
                use std::io::IsTerminal;
                !std::env::var("NO_COLOR").is_ok_and(|v| !v.is_empty())
                    && std::env::var("TERM").map_or(true, |t| t != "dumb")
                    && std::io::stdout().is_terminal()
            }
            other => {
                return Err(InspectError::new(format!(
                    "invalid color mode {other:?}: must be one of: never, auto, always"
                )))
            }
        };
        Ok(Colors { enabled })
    }

    fn wrap(&self, code: &str, s: &str) -> String {
        // fatih/color v1.19 ends bold with its own reset (22), colours with 0.
        let reset = if code == "1" { "22" } else { "0" };
        if self.enabled {
            format!("\u{1b}[{code}m{s}\u{1b}[{reset}m")
        } else {
            s.to_string()
        }
    }

    /// `ColorizeHeader`: bold.
    pub fn header(&self, s: &str) -> String {
        self.wrap("1", s)
    }

    /// `ColorizeNamespace`: cyan.
    pub fn namespace(&self, s: &str) -> String {
        self.wrap("36", s)
    }

    /// `ColorizeStatus`: deployed green, failed and unknown red, pending and uninstalling yellow.
    pub fn status(&self, s: &str) -> String {
        match s {
            "deployed" => self.wrap("32", s),
            "failed" | "unknown" => self.wrap("31", s),
            "pending-install" | "pending-upgrade" | "pending-rollback" | "uninstalling" => self.wrap("33", s),
            _ => s.to_string(),
        }
    }
}

/// `chartutil.ValidateReleaseName`: at most 53 characters of DNS-1123 subdomain syntax.
pub fn valid_release_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 53 {
        return false;
    }
    name.split('.').all(|label| {
        let b = label.as_bytes();
        !b.is_empty()
            && b.iter().all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    })
}

/// `formatChartName`: `name-version`, or `MISSING` for a record without chart metadata.
pub fn chart_name(r: &rudder_state::Release) -> String {
    format_chart_name(r.chart.as_ref().and_then(|c| c.metadata.as_ref()).map(|m| (m.name.as_str(), m.version.as_str())))
}

/// `formatAppVersion`: the chart's appVersion, or `MISSING`.
pub fn app_version(r: &rudder_state::Release) -> String {
    format_app_version(r.chart.as_ref().and_then(|c| c.metadata.as_ref()).map(|m| m.app_version.as_str()))
}

/// `formatChartName` over the chart metadata's name and version (None: no metadata).
pub fn format_chart_name(name_version: Option<(&str, &str)>) -> String {
    match name_version {
        Some((name, version)) => format!("{name}-{version}"),
        None => "MISSING".into(),
    }
}

/// `formatAppVersion` over the chart metadata's appVersion (None: no metadata).
pub fn format_app_version(app_version: Option<&str>) -> String {
    app_version.map_or_else(|| "MISSING".into(), str::to_string)
}

/// `Info.LastDeployed` (zero when absent).
pub fn last_deployed(r: &rudder_state::Release) -> gotime::GoTime {
    gotime::GoTime::from_field(r.info.as_ref().and_then(|i| i.last_deployed.as_deref()))
}
