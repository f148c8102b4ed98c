//! Helm's release actions against a cluster (pkg/action): install, upgrade, rollback,
//! uninstall, each with Helm's status transitions and record writes, applying with
//! server-side apply and recording `apply_method: ssa`.

pub mod install;
pub mod lease;
pub mod rollback;
pub mod test;
pub mod uninstall;
pub mod upgrade;

use std::collections::BTreeMap;
use std::time::Duration;

use rudder_state::driver::DriverKind;
use rudder_state::release::Release;
use rudder_state::{AnyDriver, ConfigMapDriver, MemoryDriver, SecretDriver, Storage};

use crate::kube::apply::wait_targets;
use crate::kube::{resource, Kube, KubeError, Resource};
use crate::wait::{wait_ready, WaitOptions};

pub use install::{install, InstallOptions};
pub use rollback::{rollback, RollbackOptions};
pub use test::{run_tests, TestOptions, TestRun};
pub use uninstall::{uninstall, UninstallOptions, UninstallResult};
pub use upgrade::{upgrade, UpgradeOptions};

/// A failed action: Helm's message, and the release as it stood (for `-o json` and debugging).
#[derive(Debug, Clone)]
pub struct ActionError {
    pub message: String,
    pub release: Option<Box<Release>>,
}

impl std::fmt::Display for ActionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ActionError {}

impl From<String> for ActionError {
    fn from(message: String) -> Self {
        ActionError { message, release: None }
    }
}

impl From<&str> for ActionError {
    fn from(message: &str) -> Self {
        ActionError {
            message: message.to_string(),
            release: None,
        }
    }
}

impl From<KubeError> for ActionError {
    fn from(e: KubeError) -> Self {
        ActionError {
            message: e.0,
            release: None,
        }
    }
}

impl From<rudder_state::Error> for ActionError {
    fn from(e: rudder_state::Error) -> Self {
        ActionError {
            message: e.to_string(),
            release: None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ActionError>;

/// `--dry-run` (Helm's DryRunStrategy): `none`, `client` (no cluster at all), `server`
/// (cluster read, nothing written).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DryRun {
    #[default]
    None,
    Client,
    Server,
}

impl DryRun {
    pub fn is_dry_run(self) -> bool {
        self != DryRun::None
    }
    /// Whether the cluster is asked at all (Helm's `interactWithServer`).
    pub fn interacts(self) -> bool {
        self != DryRun::Client
    }
}

/// The cluster and the release storage of one namespace (Helm's `action.Configuration`).
pub struct Config {
    pub kube: Kube,
    pub storage: Storage<AnyDriver>,
}

impl Config {
    /// Storage of `kind` in the connection's namespace, sharing its client.
    pub fn new(kube: Kube, kind: DriverKind) -> Config {
        let ns = kube.namespace.clone();
        let driver = match kind {
            DriverKind::Secret => AnyDriver::Secret(SecretDriver::new(kube.client.clone(), &ns)),
            DriverKind::ConfigMap => AnyDriver::ConfigMap(ConfigMapDriver::new(kube.client.clone(), &ns)),
            DriverKind::Memory => AnyDriver::Memory(MemoryDriver::new(&ns)),
        };
        Config {
            kube,
            storage: Storage::new(driver),
        }
    }

    /// Writes a record, ignoring failure (Helm's `recordRelease` logs and goes on).
    pub(crate) async fn record(&self, rel: &Release) {
        if let Err(e) = self.storage.update(rel).await {
            tracing::warn!("failed to record the release {}: {e}", rel.name);
        }
    }
}

/// How an action waits (Helm's `--wait`, `--wait-for-jobs`, `--timeout`).
#[derive(Debug, Clone)]
pub struct WaitSettings {
    /// `--wait` (watcher): wait for the applied objects, not only for hooks.
    pub wait: bool,
    pub wait_for_jobs: bool,
    pub timeout: Duration,
}

impl Default for WaitSettings {
    fn default() -> Self {
        WaitSettings {
            wait: false,
            wait_for_jobs: false,
            timeout: Duration::from_secs(300),
        }
    }
}

impl WaitSettings {
    pub(crate) async fn wait_ready(&self, kube: &Kube, rs: &[Resource]) -> std::result::Result<(), String> {
        if !self.wait || rs.is_empty() {
            return Ok(());
        }
        let opts = WaitOptions {
            timeout: self.timeout,
            wait_for_jobs: self.wait_for_jobs,
        };
        crate::progress::note(format!(
            "waiting for {} resources (timeout {:?})",
            rs.len(),
            self.timeout
        ));
        wait_ready(&kube.client, &wait_targets(rs), &opts)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Helm's `mergeCustomLabels`: the desired labels over the current, `"null"` values removed.
pub fn merge_custom_labels(
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = current.clone();
    out.extend(desired.iter().map(|(k, v)| (k.clone(), v.clone())));
    out.retain(|_, v| v != "null");
    out
}

/// The reserved-label error of install and upgrade.
pub(crate) fn check_labels(labels: &BTreeMap<String, String>) -> Result<()> {
    if rudder_state::driver::contains_system_labels(labels) {
        return Err(rudder_state::Error::ReservedLabel.into());
    }
    Ok(())
}

/// Builds a manifest's objects for the connection's namespace.
pub(crate) async fn build(
    kube: &Kube,
    manifest: &str,
    namespace: &str,
) -> std::result::Result<Vec<Resource>, KubeError> {
    resource::build(&kube.mapper, manifest, namespace).await
}

/// Helm's `SortByRevision` then the last.
pub(crate) fn latest(mut h: Vec<Release>) -> Option<Release> {
    h.sort_by_key(|r| r.version);
    h.pop()
}
