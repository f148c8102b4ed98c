//! The storage driver interface (pkg/storage/driver/driver.go) and what the drivers share.

use std::collections::BTreeMap;
use std::future::Future;

use crate::release::Release;
use crate::Error;

pub mod kube;
pub mod memory;

/// `sh.helm.release.v1`: the key prefix and the Secret type suffix.
pub const HELM_STORAGE_TYPE: &str = "sh.helm.release.v1";
/// The Secret `type`.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";
/// The data key that holds the payload.
pub const DATA_KEY: &str = "release";
/// Labels the drivers own (custom labels may not use them).
pub const SYSTEM_LABELS: [&str; 6] = [
    "name",
    "owner",
    "status",
    "version",
    "createdAt",
    "modifiedAt",
];

/// Storage object name of a revision: `sh.helm.release.v1.<name>.v<version>`.
pub fn make_key(name: &str, version: i64) -> String {
    format!("{HELM_STORAGE_TYPE}.{name}.v{version}")
}

pub fn is_system_label(key: &str) -> bool {
    SYSTEM_LABELS.contains(&key)
}

/// The labels minus the system ones (what Get returns).
pub fn filter_system_labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(k, _)| !is_system_label(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether user-supplied labels use a reserved name.
pub fn contains_system_labels(labels: &BTreeMap<String, String>) -> bool {
    labels.keys().any(|k| is_system_label(k))
}

/// The labels Create/Update write: the release's labels, then `extra` (createdAt or
/// modifiedAt), then the system labels `name`, `owner=helm`, `status`, `version` overwrite.
pub fn object_labels(rls: &Release, extra: Option<(&str, String)>) -> BTreeMap<String, String> {
    let mut lbs = rls.labels.clone();
    if let Some((k, v)) = extra {
        lbs.insert(k.to_string(), v);
    }
    lbs.insert("name".into(), rls.name.clone());
    lbs.insert("owner".into(), "helm".into());
    lbs.insert("status".into(), rls.status().to_string());
    lbs.insert("version".into(), rls.version.to_string());
    lbs
}

/// Kubernetes label value syntax (`validation.IsValidLabelValue`): at most 63 characters,
/// empty or alphanumeric at both ends with `-`, `_`, `.` inside.
pub fn is_valid_label_value(v: &str) -> bool {
    if v.len() > 63 {
        return false;
    }
    if v.is_empty() {
        return true;
    }
    let ok = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    let b = v.as_bytes();
    b.iter().all(|&c| ok(c))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Unix seconds now, as the `createdAt`/`modifiedAt` label value.
pub fn unix_now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
        .to_string()
}

/// A release storage backend (Helm's `driver.Driver`). Keys are [`make_key`] names.
pub trait Driver: Send + Sync {
    /// `Secret`, `ConfigMap` or `Memory`.
    fn name(&self) -> &'static str;
    /// One record; its `labels` are the custom labels only. [`Error::NotFound`] if absent.
    fn get(&self, key: &str) -> impl Future<Output = Result<Release, Error>> + Send;
    /// Every record with `owner=helm` that decodes and passes `filter` (undecodable records are
    /// skipped); `labels` are all the object's labels.
    fn list(
        &self,
        filter: &(dyn Fn(&Release) -> bool + Sync),
    ) -> impl Future<Output = Result<Vec<Release>, Error>> + Send;
    /// Records whose labels match all of `labels`; [`Error::NotFound`] when none.
    fn query(
        &self,
        labels: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<Vec<Release>, Error>> + Send;
    /// Stores a new record (label `createdAt`); [`Error::Exists`] if the key is taken.
    fn create(&self, key: &str, rls: &Release) -> impl Future<Output = Result<(), Error>> + Send;
    /// Replaces a record (label `modifiedAt`, labels rebuilt from `rls.labels`).
    fn update(&self, key: &str, rls: &Release) -> impl Future<Output = Result<(), Error>> + Send;
    /// Removes a record and returns it.
    fn delete(&self, key: &str) -> impl Future<Output = Result<Release, Error>> + Send;
}

/// A driver chosen at run time (`HELM_DRIVER`).
pub enum AnyDriver {
    Memory(memory::MemoryDriver),
    Secret(kube::SecretDriver),
    ConfigMap(kube::ConfigMapDriver),
}

/// Which driver `HELM_DRIVER` names (Helm's action.Init): `secret`/`secrets`/"" → Secret,
/// `configmap`/`configmaps` → ConfigMap, `memory` → Memory. `sql` is not supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverKind {
    Secret,
    ConfigMap,
    Memory,
}

impl DriverKind {
    pub fn parse(helm_driver: &str) -> Result<Self, Error> {
        match helm_driver {
            "" | "secret" | "secrets" => Ok(DriverKind::Secret),
            "configmap" | "configmaps" => Ok(DriverKind::ConfigMap),
            "memory" => Ok(DriverKind::Memory),
            other => Err(Error::UnknownDriver(other.to_string())),
        }
    }

    /// From the `HELM_DRIVER` environment variable.
    pub fn from_env() -> Result<Self, Error> {
        Self::parse(&std::env::var("HELM_DRIVER").unwrap_or_default())
    }
}

impl AnyDriver {
    /// Opens the driver of `kind` for `namespace` ("" = all namespaces), talking to the cluster
    /// of `kubeconfig` (the default kubeconfig when None) for Secret and ConfigMap.
    pub async fn open(
        kind: DriverKind,
        kubeconfig: Option<&std::path::Path>,
        context: Option<&str>,
        namespace: &str,
    ) -> Result<Self, Error> {
        Ok(match kind {
            DriverKind::Memory => AnyDriver::Memory(memory::MemoryDriver::new(namespace)),
            DriverKind::Secret => AnyDriver::Secret(kube::SecretDriver::new(
                kube::client(kubeconfig, context).await?,
                namespace,
            )),
            DriverKind::ConfigMap => AnyDriver::ConfigMap(kube::ConfigMapDriver::new(
                kube::client(kubeconfig, context).await?,
                namespace,
            )),
        })
    }
}

macro_rules! each {
    ($self:ident, $d:ident => $e:expr) => {
        match $self {
            AnyDriver::Memory($d) => $e,
            AnyDriver::Secret($d) => $e,
            AnyDriver::ConfigMap($d) => $e,
        }
    };
}

impl Driver for AnyDriver {
    fn name(&self) -> &'static str {
        each!(self, d => d.name())
    }
    async fn get(&self, key: &str) -> Result<Release, Error> {
        each!(self, d => d.get(key).await)
    }
    async fn list(
        &self,
        filter: &(dyn Fn(&Release) -> bool + Sync),
    ) -> Result<Vec<Release>, Error> {
        each!(self, d => d.list(filter).await)
    }
    async fn query(&self, labels: &BTreeMap<String, String>) -> Result<Vec<Release>, Error> {
        each!(self, d => d.query(labels).await)
    }
    async fn create(&self, key: &str, rls: &Release) -> Result<(), Error> {
        each!(self, d => d.create(key, rls).await)
    }
    async fn update(&self, key: &str, rls: &Release) -> Result<(), Error> {
        each!(self, d => d.update(key, rls).await)
    }
    async fn delete(&self, key: &str) -> Result<Release, Error> {
        each!(self, d => d.delete(key).await)
    }
}

/// Splits a key into release name and revision (the memory driver's check): the part after
/// `sh.helm.release.v1.` must be `<name>.v<integer>`, else [`Error::InvalidKey`].
pub fn make_key_parts(key: &str) -> Result<(String, i64), Error> {
    let rest = key
        .strip_prefix(&format!("{HELM_STORAGE_TYPE}."))
        .unwrap_or(key);
    let parts: Vec<&str> = rest.split(".v").collect();
    match parts.as_slice() {
        [name, ver] => ver
            .parse::<i64>()
            .map(|v| (name.to_string(), v))
            .map_err(|_| Error::InvalidKey),
        _ => Err(Error::InvalidKey),
    }
}
