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

/// Who takes the lease and for how long (tests run two "clients" in one process with two
/// holders, and short durations to see expiry).
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    pub duration: Duration,
    /// The holder identity; None: this process's ([`lease::client_id`]).
    pub holder: Option<String>,
}

impl Default for LeaseSettings {
    fn default() -> Self {
        LeaseSettings {
            duration: DURATION,
            holder: None,
        }
    }
}

/// Checks `name` for a pending revision and takes its lease for `operation`.
///
/// - another live holder: refused with the holder's name and expiry;
/// - a stale pending revision (expired lease, or none kept, as real helm leaves it): for
///   `upgrade` and `rollback` refused with a message naming `--recover`, or with `recover`
///   marked `failed` so the operation continues from the last deployed revision. `install` and
///   `uninstall` are not refused (Helm's own answers stay: "cannot reuse a name that is still in
///   use" for an install, an uninstall of a pending release goes ahead), but still recover
///   with `recover`;
/// - otherwise the lease is taken (an unleased guard where the cluster refuses Leases, so
///   Rudder works wherever Helm does).
///
/// The memory driver has no cluster to hold leases in: `None`.
pub async fn begin(
    cfg: &Config,
    kind: DriverKind,
    name: &str,
    operation: &str,
    recover: bool,
) -> Result<Option<LeaseGuard>> {
    begin_with(
        cfg,
        kind,
        name,
        operation,
        recover,
        &LeaseSettings::default(),
    )
    .await
}

/// [`begin`] with an explicit holder and duration.
pub async fn begin_with(
    cfg: &Config,
    kind: DriverKind,
    name: &str,
    operation: &str,
    recover: bool,
    settings: &LeaseSettings,
) -> Result<Option<LeaseGuard>> {
    if kind == DriverKind::Memory {
        return Ok(None);
    }
    let client = &cfg.kube.client;
    let ns = &cfg.kube.namespace;
    let e = |e: lease::LeaseError| super::ActionError::from(e.to_string());
    let holder = settings.holder.clone().unwrap_or_else(lease::client_id);
    let acquire =
        || Lease::acquire_or_unleased_as(client, ns, name, operation, settings.duration, &holder);
    let refuses_stale = matches!(operation, "upgrade" | "rollback");
    // The reachability check, the release state and a first try at creating the Lease go out
    // together. Only a create is tried ahead: it succeeds only where no Lease exists, and if
    // the state then refuses the operation, deleting it leaves the cluster as it was.
    let (reachable, state, early) = tokio::join!(
        // The action's own first step: an unreachable cluster reads as Helm says it.
        cfg.kube.is_reachable(),
        lease::pending_last(&cfg.storage, name),
        Lease::try_create_as(client, ns, name, operation, settings.duration, &holder),
    );
    let early = early.ok().flatten();
    if let Err(err) = reachable {
        end(early).await;
        return Err(err.into());
    }
    let pending = match state {
        Ok(p) => p,
        Err(err) => {
            end(early).await;
            return Err(e(err));
        }
    };
    let state = match pending {
        None => Recovery::Idle,
        // The early create succeeded, so there was no Lease before it.
        Some(last) if early.is_some() => lease::recovery_of(name, &last, None),
        Some(last) => match lease::read(client, ns, name).await {
            Ok(found) => lease::recovery_of(name, &last, found),
            // Without rights to read Leases nobody can have held one here.
            Err(lease::LeaseError::Unavailable { .. }) => lease::recovery_of(name, &last, None),
            Err(err) => return Err(e(err)),
        },
    };
    let guard = match state {
        Recovery::Idle => early,
        Recovery::InProgress(holder) => {
            end(early).await;
            return Err(holder.message().into());
        }
        Recovery::Stale(stale) if recover => {
            let guard = match early {
                Some(g) => g,
                None => acquire().await.map_err(e)?,
            };
            let rel = lease::recover(&cfg.storage, &guard, &stale)
                .await
                .map_err(e)?;
            tracing::warn!(
                "release {name}: revision {} marked failed: {}",
                rel.version,
                stale.description()
            );
            return Ok(Some(guard));
        }
        Recovery::Stale(stale) if refuses_stale => {
            end(early).await;
            return Err(stale.message().into());
        }
        Recovery::Stale(_) => early,
    };
    match guard {
        Some(g) => Ok(Some(g)),
        None => Ok(Some(acquire().await.map_err(e)?)),
    }
}

/// Gives the lease back (a failure only costs the next client a wait for expiry).
pub async fn end(guard: Option<LeaseGuard>) {
    if let Some(g) = guard {
        if let Err(e) = g.release().await {
            tracing::warn!("releasing the operation lease: {e}");
        }
    }
}
