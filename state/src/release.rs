//! The release record as Helm v4 (pkg/release/v1) writes it to JSON, readable by Helm 3 too.
//!
//! Every struct keeps the keys it does not model in `extra`, so a record that Helm (or a newer
//! Helm) wrote survives a decode/encode round trip with its unknown fields. Keys are emitted in
//! Go's field-declaration order, with Go's `omitempty`/`omitzero` rules; extras follow.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Unknown keys of a JSON object, kept verbatim.
pub type Extra = Map<String, Value>;

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_empty_config(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// A Go `time.Time` that Helm 3 writes as `""` when zero and Helm 4 leaves out; `null` is
/// also zero. Non-zero times are kept as the RFC 3339 text Helm wrote.
fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    Ok(v.filter(|s| !s.is_empty() && s != ZERO_TIME))
}

/// `null` for a string-valued Go field reads as "".
fn de_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn de_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn de_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(Option::<i64>::deserialize(d)?.unwrap_or_default())
}

/// A release: one revision of one installation of a chart (`rspb.Release`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Release {
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<Chart>,
    /// The user-supplied values, not coalesced (a JSON object, or null).
    #[serde(default, skip_serializing_if = "is_empty_config")]
    pub config: Value,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub manifest: String,
    #[serde(
        default,
        deserialize_with = "de_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub hooks: Vec<Hook>,
    #[serde(default, deserialize_with = "de_i64", skip_serializing_if = "is_zero")]
    pub version: i64,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub namespace: String,
    /// Helm 4: `"ssa"` (server-side apply) or `"csa"`; empty means client-side apply.
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub apply_method: String,
    /// The storage object's labels (not part of the JSON). Drivers fill it: Get gives the
    /// custom labels only, List/Query all of them; Create/Update write it back as custom labels.
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Server-side apply, the value Rudder writes in `apply_method`.
pub const APPLY_METHOD_SSA: &str = "ssa";
/// Client-side apply.
pub const APPLY_METHOD_CSA: &str = "csa";

impl Release {
    /// A new record as Rudder writes it: `apply_method: "ssa"`, first and last deployed now,
    /// status `unknown` until the caller sets it (Helm's install stores `pending-install` first).
    pub fn new(name: impl Into<String>, namespace: impl Into<String>, version: i64) -> Self {
        let now = now_rfc3339();
        Release {
            name: name.into(),
            namespace: namespace.into(),
            version,
            info: Some(Info {
                first_deployed: Some(now.clone()),
                last_deployed: Some(now),
                status: Status::Unknown,
                ..Default::default()
            }),
            apply_method: APPLY_METHOD_SSA.to_string(),
            ..Default::default()
        }
    }

    /// The status, or `unknown` when the record has no info.
    pub fn status(&self) -> Status {
        self.info
            .as_ref()
            .map(|i| i.status.clone())
            .unwrap_or_default()
    }

    /// Sets status and description (Helm's `SetStatus`).
    pub fn set_status(&mut self, status: Status, description: impl Into<String>) {
        let info = self.info.get_or_insert_with(Info::default);
        info.status = status;
        info.description = description.into();
    }

    /// Chart name from the metadata ("" when there is none).
    pub fn chart_name(&self) -> &str {
        self.chart
            .as_ref()
            .and_then(|c| c.metadata.as_ref())
            .map(|m| m.name.as_str())
            .unwrap_or("")
    }
}

/// Release status (`common.Status`); any other string is kept as `Other`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Status {
    #[default]
    Unknown,
    Deployed,
    Uninstalled,
    Superseded,
    Failed,
    Uninstalling,
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
    /// A value this version does not know (kept verbatim; "" is `Other("")`).
    Other(String),
}

impl Status {
    pub fn as_str(&self) -> &str {
        match self {
            Status::Unknown => "unknown",
            Status::Deployed => "deployed",
            Status::Uninstalled => "uninstalled",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
            Status::Uninstalling => "uninstalling",
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
            Status::Other(s) => s,
        }
    }

    /// `pending-install`, `pending-upgrade` or `pending-rollback` (Helm's `IsPending`).
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            Status::PendingInstall | Status::PendingUpgrade | Status::PendingRollback
        )
    }
}

impl From<&str> for Status {
    fn from(s: &str) -> Self {
        match s {
            "unknown" => Status::Unknown,
            "deployed" => Status::Deployed,
            "uninstalled" => Status::Uninstalled,
            "superseded" => Status::Superseded,
            "failed" => Status::Failed,
            "uninstalling" => Status::Uninstalling,
            "pending-install" => Status::PendingInstall,
            "pending-upgrade" => Status::PendingUpgrade,
            "pending-rollback" => Status::PendingRollback,
            other => Status::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        Ok(Status::from(s.as_str()))
    }
}

fn status_is_empty(s: &Status) -> bool {
    matches!(s, Status::Other(x) if x.is_empty())
}

/// `info`: times, status, notes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Info {
    #[serde(
        default,
        deserialize_with = "de_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_deployed: Option<String>,
    #[serde(
        default,
        deserialize_with = "de_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_deployed: Option<String>,
    #[serde(
        default,
        deserialize_with = "de_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted: Option<String>,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    #[serde(default = "empty_status", skip_serializing_if = "status_is_empty")]
    pub status: Status,
    #[serde(default, deserialize_with = "de_i64", skip_serializing_if = "is_zero")]
    pub rollback_revision: i64,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub notes: String,
    /// `map[string][]runtime.Object`, normally absent.
    #[serde(default, skip_serializing_if = "is_empty_config")]
    pub resources: Value,
    #[serde(flatten)]
    pub extra: Extra,
}

fn empty_status() -> Status {
    Status::Other(String::new())
}

/// A hook (`rspb.Hook`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub kind: String,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub path: String,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub manifest: String,
    #[serde(
        default,
        deserialize_with = "de_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub events: Vec<String>,
    #[serde(default)]
    pub last_run: HookExecution,
    #[serde(default, deserialize_with = "de_i64", skip_serializing_if = "is_zero")]
    pub weight: i64,
    #[serde(
        default,
        deserialize_with = "de_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub delete_policies: Vec<String>,
    #[serde(
        default,
        deserialize_with = "de_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub output_log_policies: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `last_run` of a hook; `phase` is always written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookExecution {
    #[serde(
        default,
        deserialize_with = "de_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub started_at: Option<String>,
    #[serde(
        default,
        deserialize_with = "de_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub completed_at: Option<String>,
    #[serde(default, deserialize_with = "de_string")]
    pub phase: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The stored chart (`chart.Chart` v2): only the root chart, subcharts are not stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    #[serde(default)]
    pub metadata: Option<Metadata>,
    /// `null` or `{generated, digest, dependencies}`, kept as Helm wrote it.
    #[serde(default)]
    pub lock: Value,
    #[serde(default, deserialize_with = "de_vec")]
    pub templates: Vec<File>,
    /// The chart's values (after dependency processing), or null.
    #[serde(default)]
    pub values: Value,
    /// Base64 of values.schema.json, or null.
    #[serde(default)]
    pub schema: Option<String>,
    /// Helm 4 writes it always (zero time `0001-01-01T00:00:00Z`); Helm 3 never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schemamodtime: Option<String>,
    #[serde(default, deserialize_with = "de_vec")]
    pub files: Vec<File>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Chart {
    /// A chart record as Helm 4 writes one (`schemamodtime` zero, no lock, no schema).
    pub fn new(metadata: Metadata) -> Self {
        Chart {
            metadata: Some(metadata),
            schemamodtime: Some(ZERO_TIME.to_string()),
            ..Default::default()
        }
    }
}

/// Go's zero `time.Time` in JSON.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A chart file: `data` is the base64 of the bytes (Go `[]byte`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct File {
    #[serde(default, deserialize_with = "de_string")]
    pub name: String,
    #[serde(default, deserialize_with = "de_string")]
    pub data: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl File {
    /// A file from its bytes.
    pub fn new(name: impl Into<String>, bytes: &[u8]) -> Self {
        use base64::Engine as _;
        File {
            name: name.into(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
            extra: Extra::new(),
        }
    }

    /// The file's bytes.
    pub fn bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.decode(&self.data)
    }
}

/// Chart.yaml fields as stored (all omitempty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub home: String,
    #[serde(
        default,
        deserialize_with = "de_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub sources: Vec<String>,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub version: String,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    #[serde(
        default,
        deserialize_with = "de_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub keywords: Vec<String>,
    #[serde(
        default,
        deserialize_with = "de_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub maintainers: Vec<Maintainer>,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub icon: String,
    #[serde(
        rename = "apiVersion",
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub condition: String,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub tags: String,
    #[serde(
        rename = "appVersion",
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub app_version: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(
        rename = "kubeVersion",
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub kube_version: String,
    /// `dependency` objects (name, version, repository, condition, tags, enabled,
    /// import-values, alias), kept as JSON.
    #[serde(
        default,
        deserialize_with = "de_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dependencies: Vec<Value>,
    #[serde(
        rename = "type",
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub chart_type: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A chart maintainer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Maintainer {
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub email: String,
    #[serde(
        default,
        deserialize_with = "de_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub url: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The current time as Go's RFC 3339 with nanoseconds in UTC (`2025-01-02T03:04:05.123456789Z`,
/// trailing zeros of the fraction trimmed), as Helm writes `time.Now()` on a UTC machine.
pub fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format_rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

/// Formats Unix seconds + nanoseconds like Go's `time.RFC3339Nano` in UTC.
pub fn format_rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_like_go() {
        assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(1_735_787_045, 123_456_000),
            "2025-01-02T03:04:05.123456Z"
        );
        assert_eq!(
            format_rfc3339(951_782_400, 5),
            "2000-02-29T00:00:00.000000005Z"
        );
    }

    #[test]
    fn new_release_is_ssa() {
        let r = Release::new("a", "ns", 1);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["apply_method"], "ssa");
        assert_eq!(v["info"]["status"], "unknown");
        let c = serde_json::to_value(Chart::new(Metadata {
            name: "c".into(),
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(c["schemamodtime"], ZERO_TIME);
        assert!(c["schema"].is_null() && c["lock"].is_null());
    }
}
