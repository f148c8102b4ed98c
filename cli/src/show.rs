//! `helm show chart|values|readme|crds|all` (Helm v4.3.1: pkg/cmd/show.go).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use rudder_chart::show::{show, ShowFormat};

use crate::flags::ChartPathArgs;

/// Flags every `show` subcommand has (chart path options are accepted; only local charts are
/// read here).
#[derive(Args, Debug, Default)]
pub struct ShowArgs {
    /// [CHART]
    pub args: Vec<String>,
    #[command(flatten)]
    pub chart: ChartPathArgs,
}

/// `show values` has `--jsonpath` too.
#[derive(Args, Debug, Default)]
pub struct ShowValuesArgs {
    #[command(flatten)]
    pub common: ShowArgs,
    #[arg(long = "jsonpath")]
    pub jsonpath: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ShowCommand {
    /// show all information of the chart
    All(ShowArgs),
    /// show the chart's definition
    Chart(ShowArgs),
    /// show the chart's values
    Values(ShowValuesArgs),
    /// show the chart's README
    Readme(ShowArgs),
    /// show the chart's CRDs
    Crds(ShowArgs),
}

/// Helm's `LocateChart` for a local path.
pub fn locate_chart(name: &str) -> Result<PathBuf, String> {
    let name = name.trim();
    let p = Path::new(name);
    if p.exists() {
        return Ok(std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    }
    if p.is_absolute() || name.starts_with('.') {
        return Err(format!("path {} not found", rudder_engine::print::quote(name)));
    }
    Err(format!("repo {} not found", name.split('/').next().unwrap_or(name)))
}

/// Runs `show <sub>`: stdout text, or the error text (after `Error: `).
pub fn run(cmd: &ShowCommand, program: &str) -> Result<Vec<u8>, String> {
    let (format, a, jsonpath, sub) = match cmd {
        ShowCommand::All(a) => (ShowFormat::All, a, None, "all"),
        ShowCommand::Chart(a) => (ShowFormat::Chart, a, None, "chart"),
        ShowCommand::Values(v) => (ShowFormat::Values, &v.common, v.jsonpath.as_deref(), "values"),
        ShowCommand::Readme(a) => (ShowFormat::Readme, a, None, "readme"),
        ShowCommand::Crds(a) => (ShowFormat::Crds, a, None, "crds"),
    };
    if a.args.len() != 1 {
        return Err(format!(
            "\"{program} show {sub}\" requires 1 argument\n\nUsage:  {program} show {sub} [CHART] [flags]"
        ));
    }
    let path = locate_chart(&a.args[0])?;
    let chart = rudder_chart::load(&path).map_err(|e| e.to_string())?;
    show(&chart, format, jsonpath)
}
