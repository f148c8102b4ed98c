//! `helm history` (pkg/cmd/history.go, pkg/action/history.go): the newest `--max` revisions,
//! oldest first.

use serde::Serialize;

use super::encode::{encode_json, encode_yaml};
use super::table::Table;
use super::{app_version, chart_name, last_deployed, valid_release_name, Format, InspectError, Target};

#[derive(Debug, Clone)]
pub struct HistoryOptions {
    /// `--max` (default 256).
    pub max: i64,
    pub show_rollback: bool,
    pub output: Format,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions { max: 256, show_rollback: false, output: Format::Table }
    }
}

/// `releaseInfo` as its `MarshalJSON` writes it (`updated` left out when zero).
#[derive(Serialize)]
struct Info {
    revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
    status: String,
    chart: String,
    app_version: String,
    #[serde(skip_serializing_if = "is_zero")]
    rollback_revision: i64,
    description: String,
    #[serde(skip)]
    ansic: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

pub async fn run(target: &Target, name: &str, opts: &HistoryOptions) -> Result<String, InspectError> {
    if !valid_release_name(name) {
        return Err(InspectError::new(format!("release name is invalid: {name}")));
    }
    let st = target.storage(&target.namespace).await?;
    let mut hist = st.history(name).await?;
    hist.sort_by(|a, b| b.version.cmp(&a.version));
    let keep = usize::try_from(opts.max.max(0)).unwrap_or(usize::MAX).min(hist.len());
    hist.truncate(keep);
    hist.reverse();
    let items: Vec<Info> = hist
        .iter()
        .map(|r| {
            let t = last_deployed(r);
            let info = r.info.clone().unwrap_or_default();
            Info {
                revision: r.version,
                updated: (!t.is_zero()).then(|| t.rfc3339_nano()),
                status: r.status().to_string(),
                chart: chart_name(r),
                app_version: app_version(r),
                rollback_revision: info.rollback_revision,
                description: info.description,
                ansic: t.ansic(),
            }
        })
        .collect();
    match opts.output {
        Format::Json => encode_json(&items),
        Format::Yaml => encode_yaml(&items),
        Format::Table => {
            let mut t = Table::new();
            if opts.show_rollback {
                t.add_row(["REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION", "ROLLBACK", "DESCRIPTION"]);
            } else {
                t.add_row(["REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION", "DESCRIPTION"]);
            }
            for i in &items {
                let mut row = vec![i.revision.to_string(), i.ansic.clone(), i.status.clone(), i.chart.clone(), i.app_version.clone()];
                if opts.show_rollback {
                    row.push(if i.rollback_revision > 0 { i.rollback_revision.to_string() } else { String::new() });
                }
                row.push(i.description.clone());
                t.add_row(row);
            }
            Ok(t.encode())
        }
    }
}
