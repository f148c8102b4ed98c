//! `helm status` (pkg/cmd/status.go `statusPrinter`, pkg/action/status.go) and the printer
//! `helm get all` shares.

use super::encode::{go_escape, json_text_to_yaml, value_yaml};
use super::get::{computed_values, config_value, release_content};
use super::resources::{self, Resources};
use super::{last_deployed, Colors, Format, InspectError, Target};
use rudder_state::Release;

/// What the status printer shows.
pub struct StatusView<'a> {
    pub release: &'a Release,
    /// The live objects, by `version/Kind` (table mode: kubectl tables already printed).
    pub resources: Option<&'a Resources>,
    /// `get all`: values, computed values, hooks and manifest.
    pub debug: bool,
    /// `get all`: chart name, version, app version.
    pub show_metadata: bool,
    pub colors: Colors,
}

/// `statusPrinter.WriteTable`.
pub fn print_status(v: &StatusView<'_>) -> Result<String, InspectError> {
    let r = v.release;
    let info = r.info.clone().unwrap_or_default();
    let mut out = String::new();
    out.push_str(&format!("NAME: {}\n", r.name));
    let t = last_deployed(r);
    if !t.is_zero() {
        out.push_str(&format!("LAST DEPLOYED: {}\n", t.ansic()));
    }
    out.push_str(&format!("NAMESPACE: {}\n", v.colors.namespace(&r.namespace)));
    out.push_str(&format!("STATUS: {}\n", v.colors.status(info.status.as_str())));
    out.push_str(&format!("REVISION: {}\n", r.version));
    if v.show_metadata {
        let md = r.chart.as_ref().and_then(|c| c.metadata.clone()).unwrap_or_default();
        out.push_str(&format!("CHART: {}\nVERSION: {}\nAPP_VERSION: {}\n", md.name, md.version, md.app_version));
    }
    out.push_str(&format!("DESCRIPTION: {}\n", info.description));
    if let Some(res) = v.resources {
        if !res.is_empty() {
            out.push_str("RESOURCES:\n");
            for (kind, text) in &res.tables {
                out.push_str(&format!("==> {kind}\n"));
                out.push_str(text);
                out.push('\n');
            }
            out.push('\n');
        }
    }
    let tests: Vec<_> = r.hooks.iter().filter(|h| h.events.iter().any(|e| e == "test")).collect();
    if tests.is_empty() {
        out.push_str("TEST SUITE: None\n");
    } else {
        for h in tests {
            let started = super::gotime::GoTime::from_field(h.last_run.started_at.as_deref());
            if started.is_zero() {
                continue;
            }
            let completed = super::gotime::GoTime::from_field(h.last_run.completed_at.as_deref());
            out.push_str(&format!(
                "TEST SUITE:     {}\nLast Started:   {}\nLast Completed: {}\nPhase:          {}\n",
                h.name,
                started.ansic(),
                completed.ansic(),
                h.last_run.phase
            ));
        }
    }
    if v.debug {
        out.push_str("USER-SUPPLIED VALUES:\n");
        out.push_str(&value_yaml(&config_value(r))?);
        out.push('\n');
        out.push_str("COMPUTED VALUES:\n");
        out.push_str(&value_yaml(&computed_values(r)?)?);
        out.push('\n');
    }
    if info.description.eq_ignore_ascii_case("Dry run complete") || v.debug {
        out.push_str("HOOKS:\n");
        for h in &r.hooks {
            out.push_str(&format!("---\n# Source: {}\n{}\n", h.path, h.manifest));
        }
        out.push_str(&format!("MANIFEST:\n{}\n", r.manifest));
    }
    if !info.notes.is_empty() {
        out.push_str(&format!("NOTES:\n{}\n", info.notes.trim_matches(|c: char| c.is_whitespace())));
    }
    Ok(out)
}

/// `helm status NAME [--revision N] [-o FORMAT]`.
pub async fn run(target: &Target, name: &str, revision: i64, output: Format, colors: Colors) -> Result<String, InspectError> {
    let mut rel = release_content(target, name, revision).await?;
    let res = resources::fetch(target, &rel, output == Format::Table).await?;
    // strip chart metadata from the output
    rel.chart = None;
    match output {
        Format::Table => print_status(&StatusView { release: &rel, resources: Some(&res), debug: false, show_metadata: false, colors }),
        Format::Json | Format::Yaml => {
            if let Some(info) = rel.info.as_mut() {
                info.resources = res.objects_json();
            }
            let json = rudder_state::codec::to_json(&rel).map_err(|e| InspectError::new(format!("unable to write JSON output: {e}")))?;
            let json = String::from_utf8_lossy(&json).into_owned();
            if output == Format::Json {
                Ok(format!("{}\n", go_escape(&json)))
            } else {
                json_text_to_yaml(&json)
            }
        }
    }
}
