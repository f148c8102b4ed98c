//! Owners and leases on in-flight release operations, so that a release left `pending-install`,
//! `pending-upgrade` or `pending-rollback` by a killed client never needs a hand-deleted Secret.
//!
//! # Why
//! Helm's only lock is the record itself: an upgrade or rollback refuses to start while the last
//! revision is `pending-*` ("another operation (install/upgrade/rollback) is in progress"). When
//! the client dies mid-operation (SIGKILL, a lost laptop, a CI job cancelled) nobody ever moves
//! the record out of `pending-*`, and the user has to find and delete the Secret by hand. The
//! record cannot tell "someone is working" from "someone died", so Rudder adds that fact next to
//! it.
//!
//! # What is stored
//! One `coordination.k8s.io/v1` Lease per release, in the release namespace, named
//! `sh.rudder.release.v1.<release>` ([`lease_name`]):
//! - `spec.holderIdentity`: the client id ([`client_id`], `rudder-<host>-<pid>-<random>`);
//! - `spec.leaseDurationSeconds`, `spec.acquireTime`, `spec.renewTime`: the lease is live until
//!   `renewTime + leaseDurationSeconds`;
//! - `spec.leaseTransitions`: how many times another client took it over;
//! - annotation `rudder.sh/operation`: what the holder is doing (`install`, `upgrade`, ...).
//!
//! Helm never reads Leases, so real helm 3 and 4 keep reading and writing the release records
//! exactly as before; the Lease is an extra object beside them.
//!
//! # Protocol
//! - [`Lease::acquire`] before an operation writes its `pending-*` record. It creates the Lease,
//!   or takes over one that was released or has expired; every write carries the
//!   `resourceVersion` it read, so of two clients racing for the same Lease the apiserver lets
//!   exactly one win (the other gets a conflict, re-reads, and sees a live holder).
//!   A live Lease of another client is [`LeaseError::Held`], naming the holder and the expiry.
//! - While the operation runs, a background tokio task renews `renewTime` every third of the
//!   duration. If it finds the Lease taken by someone else (it had expired: this client was
//!   stalled longer than the duration) it stops and [`LeaseGuard::lost`] turns true; the action
//!   should stop writing.
//! - [`LeaseGuard::release`] at the end (success or failure) deletes the Lease, guarded by its
//!   `resourceVersion` so a Lease another client took over is never deleted. A guard dropped
//!   without `release` only stops renewing: the Lease then expires by itself.
//!
//! # Stale operations
//! [`recovery_state`] tells an action what it is looking at:
//! - [`Recovery::Idle`]: the last revision is not pending (or there is none); go ahead.
//! - [`Recovery::InProgress`]: pending and a live Lease of another client; refuse and name the
//!   holder ([`Holder::message`]).
//! - [`Recovery::Stale`]: pending with an expired Lease, or with none at all. No Lease means the
//!   record was written by a client that keeps none (real helm, or Rudder without Lease rights),
//!   which may in principle still be running; Rudder therefore only reports it, and recovers
//!   when asked to (`--recover`), the same decision a user makes when deleting the Secret.
//!
//! [`recover`] (called while holding the Lease, so no other Rudder can be working) marks the
//! stale revision `failed` with the description
//! `operation interrupted: lease of <holder> expired at <time>; recovered by rudder`. That is the
//! state Helm itself leaves after a failed upgrade: the last deployed revision stays `deployed`,
//! the next upgrade or rollback starts from it, and `helm history` shows the interrupted revision
//! as failed. Nothing is deleted, so no revision is lost.
//!
//! Expiry compares the holder's `renewTime` with this machine's clock, so clients are assumed to
//! have clocks within a few seconds of each other; the default duration ([`DEFAULT_DURATION`])
//! is long against that. A client without RBAC rights on Leases gets
//! [`LeaseError::Unavailable`] and may run unleased, as Helm does ([`Lease::acquire_or_unleased`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease as KubeLease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::Client;

use crate::driver::Driver;
use crate::release::{Release, Status};
use crate::storage::Storage;

/// Prefix of the Lease name; the release name follows.
pub const LEASE_PREFIX: &str = "sh.rudder.release.v1";
/// Annotation naming the operation the holder runs.
pub const OPERATION_ANNOTATION: &str = "rudder.sh/operation";
/// Label with the release name (to list a namespace's leases).
pub const RELEASE_LABEL: &str = "rudder.sh/release";
/// How long a lease lives without renewal when the caller has no preference.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(60);

/// Attempts at a read-modify-write before giving up on conflicts.
const ATTEMPTS: usize = 5;

/// The Lease object name of a release.
pub fn lease_name(release: &str) -> String {
    format!("{LEASE_PREFIX}.{release}")
}

/// This process's holder identity, `rudder-<host>-<pid>-<random>`; the same for the whole
/// process, so a process recognises its own leases.
pub fn client_id() -> String {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".into());
        // RandomState is seeded from the OS; a fresh hasher's output is a random number.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        format!(
            "rudder-{host}-{}-{:08x}",
            std::process::id(),
            h.finish() as u32
        )
    })
    .clone()
}

/// Lease failures. `Held` is the one an action shows the user.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("another operation (install/upgrade/rollback) is in progress: release {release:?} is held by {holder} ({operation}) until {expires}")]
    Held {
        release: String,
        holder: String,
        operation: String,
        /// RFC 3339.
        expires: String,
    },
    #[error("lease {name:?} in namespace {namespace:?} was taken over by {holder}")]
    Lost {
        name: String,
        namespace: String,
        holder: String,
    },
    /// No rights on Leases (403) or no Lease API (404 on the resource).
    #[error("leases unavailable in namespace {namespace:?}: {cause}")]
    Unavailable { namespace: String, cause: String },
    #[error("release {release:?}: revision {revision} is no longer {expected}, nothing to recover (now {found})")]
    NotStale {
        release: String,
        revision: i64,
        expected: String,
        found: String,
    },
    #[error("lease {name:?} in namespace {namespace:?}: {cause}")]
    Kube {
        name: String,
        namespace: String,
        cause: String,
    },
    #[error(transparent)]
    Storage(#[from] crate::Error),
}

/// A Lease as read from the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub release: String,
    /// `holderIdentity` ("" when released).
    pub holder: String,
    pub operation: String,
    /// RFC 3339 of `renewTime + leaseDurationSeconds` (or of acquireTime when never renewed).
    pub expires: String,
    /// Whether `expires` is still in the future on this machine's clock.
    pub live: bool,
}

impl Holder {
    /// What an action prints when it refuses to start.
    pub fn message(&self) -> String {
        format!(
            "another operation (install/upgrade/rollback) is in progress: release {:?} is held by {} ({}) until {}",
            self.release, self.holder, self.operation, self.expires
        )
    }
}

/// A pending revision nobody is working on.
#[derive(Debug, Clone, PartialEq)]
pub struct Stale {
    pub release: String,
    pub revision: i64,
    pub status: Status,
    /// The expired Lease, or None when the writer kept none (real helm, or an unleased Rudder).
    pub lease: Option<Holder>,
    /// The record's `info.last_deployed` (when the pending revision was written).
    pub since: Option<String>,
}

impl Stale {
    /// The description [`recover`] writes into the revision.
    pub fn description(&self) -> String {
        match &self.lease {
            Some(h) if !h.holder.is_empty() => format!(
                "operation interrupted: lease of {} expired at {}; recovered by rudder",
                h.holder, h.expires
            ),
            _ => format!(
                "operation interrupted: {} since {} with no lease held; recovered by rudder",
                self.status,
                self.since.as_deref().unwrap_or("an unknown time")
            ),
        }
    }

    /// What an action prints when it finds a stale operation and was not asked to recover.
    pub fn message(&self) -> String {
        let who = match &self.lease {
            Some(h) if !h.holder.is_empty() => {
                format!("its lease of {} expired at {}", h.holder, h.expires)
            }
            _ => format!(
                "no client holds its lease (written {}; a helm that keeps no lease may still be running)",
                self.since.as_deref().unwrap_or("at an unknown time")
            ),
        };
        format!(
            "release {:?}: revision {} is {} but {who}; run again with --recover to mark it failed and continue from the last deployed revision",
            self.release, self.revision, self.status
        )
    }
}

/// What [`recovery_state`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Recovery {
    /// No record, or the last revision is not pending.
    Idle,
    /// The last revision is pending and another client's Lease is live.
    InProgress(Holder),
    /// The last revision is pending and its Lease expired or is missing.
    Stale(Stale),
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

fn micro(ts: jiff::Timestamp) -> MicroTime {
    MicroTime(ts)
}

fn expiry(spec: &LeaseSpec) -> Option<jiff::Timestamp> {
    let base = spec.renew_time.as_ref().or(spec.acquire_time.as_ref())?.0;
    let secs = i64::from(spec.lease_duration_seconds.unwrap_or(0));
    Some(
        base.checked_add(jiff::SignedDuration::from_secs(secs))
            .unwrap_or(base),
    )
}

fn holder_of(release: &str, lease: &KubeLease) -> Holder {
    let spec = lease.spec.clone().unwrap_or_default();
    let exp = expiry(&spec);
    let holder = spec.holder_identity.clone().unwrap_or_default();
    Holder {
        release: release.to_string(),
        live: !holder.is_empty() && exp.is_some_and(|e| e > now()),
        holder,
        operation: lease
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(OPERATION_ANNOTATION))
            .cloned()
            .unwrap_or_default(),
        expires: exp.map(|e| e.to_string()).unwrap_or_default(),
    }
}

fn code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// Reads the Lease of a release; None when there is none.
pub async fn read(
    client: &Client,
    namespace: &str,
    release: &str,
) -> Result<Option<Holder>, LeaseError> {
    let api: Api<KubeLease> = Api::namespaced(client.clone(), namespace);
    let name = lease_name(release);
    match api.get_opt(&name).await {
        Ok(l) => Ok(l.map(|l| holder_of(release, &l))),
        Err(e) => Err(classify(namespace, &name, e)),
    }
}

fn classify(namespace: &str, name: &str, e: kube::Error) -> LeaseError {
    match code(&e) {
        Some(403) | Some(404) => LeaseError::Unavailable {
            namespace: namespace.to_string(),
            cause: crate::driver::kube::message(&e),
        },
        _ => LeaseError::Kube {
            name: name.to_string(),
            namespace: namespace.to_string(),
            cause: crate::driver::kube::message(&e),
        },
    }
}

fn duration_secs(duration: Duration) -> i32 {
    duration.as_secs().clamp(1, i32::MAX as u64) as i32
}

/// A fresh Lease of `release` held by `holder` from `t`.
fn new_lease(
    name: &str,
    release: &str,
    operation: &str,
    holder: &str,
    secs: i32,
    t: jiff::Timestamp,
) -> KubeLease {
    KubeLease {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(BTreeMap::from([
                (
                    "app.kubernetes.io/managed-by".to_string(),
                    "rudder".to_string(),
                ),
                (RELEASE_LABEL.to_string(), release.to_string()),
            ])),
            annotations: Some(BTreeMap::from([(
                OPERATION_ANNOTATION.to_string(),
                operation.to_string(),
            )])),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.to_string()),
            lease_duration_seconds: Some(secs),
            acquire_time: Some(micro(t)),
            renew_time: Some(micro(t)),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    }
}

/// Entry points for leases (see the module docs).
pub struct Lease;

impl Lease {
    /// Takes the Lease of `release` in `namespace` for `operation` (`install`, `upgrade`,
    /// `rollback`, `uninstall`, ...), for `duration` renewed in the background. A live Lease of
    /// another client is [`LeaseError::Held`]; one of this same process is taken again.
    pub async fn acquire(
        client: &Client,
        namespace: &str,
        release: &str,
        operation: &str,
        duration: Duration,
    ) -> Result<LeaseGuard, LeaseError> {
        Self::acquire_as(
            client,
            namespace,
            release,
            operation,
            duration,
            &client_id(),
        )
        .await
    }

    /// [`Lease::acquire`] with an explicit holder identity (tests run two "clients" in one
    /// process this way).
    pub async fn acquire_as(
        client: &Client,
        namespace: &str,
        release: &str,
        operation: &str,
        duration: Duration,
        holder: &str,
    ) -> Result<LeaseGuard, LeaseError> {
        let api: Api<KubeLease> = Api::namespaced(client.clone(), namespace);
        let name = lease_name(release);
        let secs = duration_secs(duration);
        let mut previous = None;
        for _ in 0..ATTEMPTS {
            let existing = api
                .get_opt(&name)
                .await
                .map_err(|e| classify(namespace, &name, e))?;
            let t = now();
            let written = match existing {
                None => {
                    let lease = new_lease(&name, release, operation, holder, secs, t);
                    api.create(&PostParams::default(), &lease).await
                }
                Some(mut lease) => {
                    let h = holder_of(release, &lease);
                    if h.live && h.holder != holder {
                        return Err(LeaseError::Held {
                            release: release.to_string(),
                            holder: h.holder,
                            operation: h.operation,
                            expires: h.expires,
                        });
                    }
                    if !h.holder.is_empty() && h.holder != holder {
                        previous = Some(h);
                    }
                    let mut spec = lease.spec.take().unwrap_or_default();
                    if spec.holder_identity.as_deref() != Some(holder) {
                        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
                    }
                    spec.holder_identity = Some(holder.to_string());
                    spec.lease_duration_seconds = Some(secs);
                    spec.acquire_time = Some(micro(t));
                    spec.renew_time = Some(micro(t));
                    lease.spec = Some(spec);
                    lease
                        .metadata
                        .annotations
                        .get_or_insert_with(BTreeMap::new)
                        .insert(OPERATION_ANNOTATION.to_string(), operation.to_string());
                    // replace carries metadata.resourceVersion: a concurrent writer makes it 409.
                    api.replace(&name, &PostParams::default(), &lease).await
                }
            };
            match written {
                Ok(lease) => {
                    return Ok(LeaseGuard::start(
                        api, name, namespace, release, holder, secs, lease, previous,
                    ))
                }
                Err(e) if code(&e) == Some(409) => continue,
                Err(e) => return Err(classify(namespace, &name, e)),
            }
        }
        Err(LeaseError::Kube {
            name,
            namespace: namespace.to_string(),
            cause: format!("still conflicting after {ATTEMPTS} attempts"),
        })
    }

    /// Creates the Lease of `release` if there is none, without reading first: `Ok(None)` when
    /// one already exists (whoever holds it; [`Lease::acquire_as`] then decides). An action can
    /// send this together with its first reads, since most operations find no Lease.
    pub async fn try_create_as(
        client: &Client,
        namespace: &str,
        release: &str,
        operation: &str,
        duration: Duration,
        holder: &str,
    ) -> Result<Option<LeaseGuard>, LeaseError> {
        let api: Api<KubeLease> = Api::namespaced(client.clone(), namespace);
        let name = lease_name(release);
        let secs = duration_secs(duration);
        let lease = new_lease(&name, release, operation, holder, secs, now());
        match api.create(&PostParams::default(), &lease).await {
            Ok(lease) => Ok(Some(LeaseGuard::start(
                api, name, namespace, release, holder, secs, lease, None,
            ))),
            Err(e) if code(&e) == Some(409) => Ok(None),
            Err(e) => Err(classify(namespace, &name, e)),
        }
    }

    /// [`Lease::acquire`], but a cluster that refuses Leases ([`LeaseError::Unavailable`]:
    /// no RBAC rights, no API) yields an unleased guard, so Rudder works where Helm works.
    pub async fn acquire_or_unleased(
        client: &Client,
        namespace: &str,
        release: &str,
        operation: &str,
        duration: Duration,
    ) -> Result<LeaseGuard, LeaseError> {
        Self::acquire_or_unleased_as(
            client,
            namespace,
            release,
            operation,
            duration,
            &client_id(),
        )
        .await
    }

    /// [`Lease::acquire_or_unleased`] with an explicit holder identity.
    pub async fn acquire_or_unleased_as(
        client: &Client,
        namespace: &str,
        release: &str,
        operation: &str,
        duration: Duration,
        holder: &str,
    ) -> Result<LeaseGuard, LeaseError> {
        match Self::acquire_as(client, namespace, release, operation, duration, holder).await {
            Err(LeaseError::Unavailable { cause, .. }) => Ok(LeaseGuard::unleased(cause)),
            other => other,
        }
    }
}

struct Inner {
    api: Api<KubeLease>,
    name: String,
    namespace: String,
    holder: String,
    /// The last Lease this client wrote (its resourceVersion guards the next write).
    last: Arc<Mutex<KubeLease>>,
    renewer: tokio::task::JoinHandle<()>,
}

/// A held Lease, renewed in the background until [`LeaseGuard::release`] (or drop, which only
/// stops renewing).
pub struct LeaseGuard {
    inner: Option<Inner>,
    release: String,
    lost: Arc<AtomicBool>,
    previous: Option<Holder>,
    unleased: Option<String>,
}

impl LeaseGuard {
    #[allow(clippy::too_many_arguments)]
    fn start(
        api: Api<KubeLease>,
        name: String,
        namespace: &str,
        release: &str,
        holder: &str,
        secs: i32,
        lease: KubeLease,
        previous: Option<Holder>,
    ) -> Self {
        let last = Arc::new(Mutex::new(lease));
        let lost = Arc::new(AtomicBool::new(false));
        let period = Duration::from_millis((secs as u64 * 1000 / 3).max(200));
        let renewer = tokio::spawn(renew_loop(
            api.clone(),
            name.clone(),
            holder.to_string(),
            period,
            last.clone(),
            lost.clone(),
        ));
        LeaseGuard {
            inner: Some(Inner {
                api,
                name,
                namespace: namespace.to_string(),
                holder: holder.to_string(),
                last,
                renewer,
            }),
            release: release.to_string(),
            lost,
            previous,
            unleased: None,
        }
    }

    fn unleased(cause: String) -> Self {
        LeaseGuard {
            inner: None,
            release: String::new(),
            lost: Arc::new(AtomicBool::new(false)),
            previous: None,
            unleased: Some(cause),
        }
    }

    /// The holder identity written into the Lease (None when unleased).
    pub fn holder(&self) -> Option<&str> {
        self.inner.as_ref().map(|i| i.holder.as_str())
    }

    /// Why this guard holds no Lease (see [`Lease::acquire_or_unleased`]).
    pub fn unleased_reason(&self) -> Option<&str> {
        self.unleased.as_deref()
    }

    /// The expired holder this acquisition took over, if any.
    pub fn previous(&self) -> Option<&Holder> {
        self.previous.as_ref()
    }

    /// True once renewal found the Lease taken by another client: stop writing records.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// When the Lease currently expires (RFC 3339), as last written.
    pub fn expires(&self) -> Option<String> {
        let inner = self.inner.as_ref()?;
        let l = inner.last.lock().ok()?;
        expiry(l.spec.as_ref()?).map(|t| t.to_string())
    }

    /// Stops renewing without releasing: the Lease expires after its duration, as if this
    /// process had been killed (tests use it).
    pub fn abandon(mut self) {
        if let Some(i) = self.inner.take() {
            i.renewer.abort();
        }
    }

    /// Stops renewing and deletes the Lease if this client still holds it.
    pub async fn release(mut self) -> Result<(), LeaseError> {
        let Some(inner) = self.inner.take() else {
            return Ok(());
        };
        inner.renewer.abort();
        let _ = inner.renewer.await;
        // First without reading: guarded by the version this client last wrote, the delete
        // succeeds exactly when the Lease is still that write (so still ours). Any other
        // version answers 409, and the loop below reads and decides.
        let written = inner.last.lock().ok().map(|l| l.metadata.clone());
        if let Some(md) = written.filter(|m| m.resource_version.is_some() && m.uid.is_some()) {
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    resource_version: md.resource_version,
                    uid: md.uid,
                }),
                ..Default::default()
            };
            match inner.api.delete(&inner.name, &dp).await {
                Ok(_) => return Ok(()),
                Err(e) if code(&e) == Some(404) => return Ok(()),
                Err(e) if code(&e) == Some(409) => {}
                Err(e) => return Err(classify(&inner.namespace, &inner.name, e)),
            }
        }
        for _ in 0..ATTEMPTS {
            let current = match inner.api.get_opt(&inner.name).await {
                Ok(Some(l)) => l,
                Ok(None) => return Ok(()),
                Err(e) => return Err(classify(&inner.namespace, &inner.name, e)),
            };
            let h = holder_of(&self.release, &current);
            if h.holder != inner.holder {
                return Ok(());
            }
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    resource_version: current.metadata.resource_version.clone(),
                    uid: current.metadata.uid.clone(),
                }),
                ..Default::default()
            };
            match inner.api.delete(&inner.name, &dp).await {
                Ok(_) => return Ok(()),
                Err(e) if code(&e) == Some(404) => return Ok(()),
                Err(e) if code(&e) == Some(409) => continue,
                Err(e) => return Err(classify(&inner.namespace, &inner.name, e)),
            }
        }
        Err(LeaseError::Kube {
            name: inner.name,
            namespace: inner.namespace,
            cause: format!("release still conflicting after {ATTEMPTS} attempts"),
        })
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        if let Some(i) = self.inner.take() {
            i.renewer.abort();
        }
    }
}

async fn renew_loop(
    api: Api<KubeLease>,
    name: String,
    holder: String,
    period: Duration,
    last: Arc<Mutex<KubeLease>>,
    lost: Arc<AtomicBool>,
) {
    loop {
        tokio::time::sleep(period).await;
        let mut lease = match last.lock() {
            Ok(l) => l.clone(),
            Err(_) => return,
        };
        if let Some(spec) = lease.spec.as_mut() {
            spec.renew_time = Some(micro(now()));
        }
        match api.replace(&name, &PostParams::default(), &lease).await {
            Ok(written) => {
                if let Ok(mut l) = last.lock() {
                    *l = written;
                }
            }
            Err(e) if code(&e) == Some(409) || code(&e) == Some(404) => {
                // Someone wrote the Lease since: still ours (e.g. a re-acquire in this
                // process) or taken over after it expired.
                match api.get_opt(&name).await {
                    Ok(Some(cur))
                        if cur.spec.as_ref().and_then(|s| s.holder_identity.as_deref())
                            == Some(holder.as_str()) =>
                    {
                        if let Ok(mut l) = last.lock() {
                            *l = cur;
                        }
                    }
                    Ok(_) => {
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(_) => {}
                }
            }
            // Transient (apiserver unreachable, 5xx): try again next period; the Lease
            // stays ours until it expires.
            Err(_) => {}
        }
    }
}

/// Whether `release` in `namespace` has a pending revision, and whether anyone holds it.
/// Call it before [`Lease::acquire`]: a live Lease is reported as [`Recovery::InProgress`]
/// whoever holds it, this process included. The intended sequence for an action is
/// `recovery_state` → (refuse | with `--recover`: `acquire`, [`recover`]) → `acquire` if not yet
/// held → operation → [`LeaseGuard::release`].
pub async fn recovery_state<D: Driver>(
    storage: &Storage<D>,
    client: &Client,
    namespace: &str,
    release: &str,
) -> Result<Recovery, LeaseError> {
    let Some(last) = pending_last(storage, release).await? else {
        return Ok(Recovery::Idle);
    };
    let lease = match read(client, namespace, release).await {
        Ok(l) => l,
        // Without rights to read Leases nobody can have held one here.
        Err(LeaseError::Unavailable { .. }) => None,
        Err(e) => return Err(e),
    };
    Ok(recovery_of(release, &last, lease))
}

/// The first half of [`recovery_state`]: the last revision of `release` when it is pending,
/// None when there is no record or the last is not pending.
pub async fn pending_last<D: Driver>(
    storage: &Storage<D>,
    release: &str,
) -> Result<Option<Release>, LeaseError> {
    match storage.last(release).await {
        Ok(r) if r.status().is_pending() => Ok(Some(r)),
        Ok(_) | Err(crate::Error::NotFound) | Err(crate::Error::NoRevision(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The second half of [`recovery_state`]: what a pending `last` means given the release's
/// Lease as found (None: there is none).
pub fn recovery_of(release: &str, last: &Release, lease: Option<Holder>) -> Recovery {
    match lease {
        Some(h) if h.live => Recovery::InProgress(h),
        lease => Recovery::Stale(Stale {
            release: release.to_string(),
            revision: last.version,
            status: last.status(),
            lease: lease.filter(|h| !h.holder.is_empty()),
            since: last.info.as_ref().and_then(|i| i.last_deployed.clone()),
        }),
    }
}

/// Marks the stale pending revision `failed` with [`Stale::description`], after checking it
/// is still that revision and still pending. Call it holding the release's Lease (`_guard`), so
/// no other Rudder client is working on the release meanwhile. Returns the rewritten record.
pub async fn recover<D: Driver>(
    storage: &Storage<D>,
    _guard: &LeaseGuard,
    stale: &Stale,
) -> Result<Release, LeaseError> {
    let mut rls = storage.get(&stale.release, stale.revision).await?;
    if rls.status() != stale.status {
        return Err(LeaseError::NotStale {
            release: stale.release.clone(),
            revision: stale.revision,
            expected: stale.status.to_string(),
            found: rls.status().to_string(),
        });
    }
    rls.set_status(Status::Failed, stale.description());
    storage.update(&rls).await?;
    Ok(rls)
}
