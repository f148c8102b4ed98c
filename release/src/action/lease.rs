//! Leases around the operations that write a pending revision (install, upgrade, rollback,
//! uninstall), so a client killed mid-operation leaves a state the next command can recover
//! from without a hand-deleted Secret. The rules are in `rudder_state::lease` and
//! `docs/stale-operations.md`; this module is the order the actions call them in.

use std::time::Duration;

use rudder_state::driver::DriverKind;
use rudder_state::lease::{self, Lease, LeaseGuard, Recovery};

use super::{Config, Result};

/// How long a lease lives without renewal. The guard renews it in the background, so only a
/// client that died (or lost the API server for this long) lets it expire.
pub const DURATION: Duration = lease::DEFAULT_DURATION;

/// Checks `name` for a pending revision and takes its lease for `operation`.
///
/// - another live holder: refused with the holder's name and expiry;
/// - a stale pending revision (expired lease, or none kept, as real helm leaves it): refused
///   with a message naming `--recover`, or with `recover` marked `failed` so the operation
///   continues from the last deployed revision;
/// - otherwise the lease is taken (an unleased guard where the cluster refuses Leases, so
///   Rudder works wherever Helm does).
///
/// The memory driver has no cluster to hold leases in: `None`.
pub async fn begin(cfg: &Config, kind: DriverKind, name: &str, operation: &str, recover: bool) -> Result<Option<LeaseGuard>> {
    if kind == DriverKind::Memory {
        return Ok(None);
    }
    // The action's own first step: an unreachable cluster reads as Helm says it.
    cfg.kube.is_reachable().await?;
    let client = &cfg.kube.client;
    let ns = &cfg.kube.namespace;
    let e = |e: lease::LeaseError| super::ActionError::from(e.to_string());
    match lease::recovery_state(&cfg.storage, client, ns, name).await.map_err(e)? {
        Recovery::Idle => {}
        Recovery::InProgress(holder) => return Err(holder.message().into()),
        Recovery::Stale(stale) => {
            if !recover {
                return Err(stale.message().into());
            }
            let guard = Lease::acquire_or_unleased(client, ns, name, operation, DURATION).await.map_err(e)?;
            let rel = lease::recover(&cfg.storage, &guard, &stale).await.map_err(e)?;
            tracing::warn!("release {name}: revision {} marked failed: {}", rel.version, stale.description());
            return Ok(Some(guard));
        }
    }
    Ok(Some(Lease::acquire_or_unleased(client, ns, name, operation, DURATION).await.map_err(e)?))
}

/// Gives the lease back (a failure only costs the next client a wait for expiry).
pub async fn end(guard: Option<LeaseGuard>) {
    if let Some(g) = guard {
        if let Err(e) = g.release().await {
            tracing::warn!("releasing the operation lease: {e}");
        }
    }
}
