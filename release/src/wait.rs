//! Waiting for applied objects to become ready (kstatus semantics) or to disappear.
//!
//! The signatures here are the seam the actions call; the kstatus rules live behind them.
//!
//! Helm 4 waits with `fluxcd/cli-utils` kstatus (`pkg/kube/statuswait.go`). The rules are ported
//! in [`kstatus`] so that `--wait` agrees with Helm on what "ready" means, and the errors name
//! the same objects with the same words:
//!
//! ```text
//! resource Deployment/ns/web not ready. status: InProgress, message: Available: 0/1
//! context deadline exceeded
//! ```
//!
//! Where Rudder is deliberately stricter than Helm, it is one rule: a custom resource whose CRD
//! declares `status.observedGeneration` is not ready until its controller has written that field
//! (kstatus counts a brand-new object with an empty status as `Current`; a chart that installs
//! an operator's CR would then "succeed" before the operator looked at it). CRs whose schema
//! has no such field (config-only CRs such as ServiceMonitors never get a status) keep kstatus'
//! answer. See [`StatusRules::expects_observed_generation`].
//!
//! Waiting polls: every round reads all unfinished targets concurrently (one GET per object, or
//! one LIST per kind and namespace when several namespaced objects share them; at most 16
//! requests in flight), first at once, then at an interval growing by 100ms up to 500ms.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::ApiResource;
use serde_json::Value;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// One object to wait on, as the apply step resolved it.
#[derive(Debug, Clone)]
pub struct WaitTarget {
    pub api: ApiResource,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

/// How long and on what to wait.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    pub timeout: Duration,
    /// `--wait-for-jobs`: Jobs count as ready only once complete.
    pub wait_for_jobs: bool,
}

/// What kstatus says of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjStatus {
    /// Ready (kstatus `Current`).
    Current,
    /// Not yet; the message says what is missing.
    InProgress(String),
    /// Failed for good (e.g. a Job with the Failed condition); waiting longer will not help.
    Failed(String),
    /// The object does not exist.
    NotFound,
}

/// `Timeout` and `Failed` carry Helm 4's whole error text (one `resource Kind/ns/name not
/// ready. status: S, message: M` line per object that is not ready, then, for a timeout,
/// `context deadline exceeded`), so their `Display` is exactly what helm prints after its own
/// prefix (e.g. `INSTALLATION FAILED: `).
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("{0}")]
    Kube(String),
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    Failed(String),
}

/// kstatus' status values (`status.Status`), with the spelling Helm prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KStatus {
    InProgress,
    Failed,
    Current,
    Terminating,
    NotFound,
    Unknown,
}

impl KStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KStatus::InProgress => "InProgress",
            KStatus::Failed => "Failed",
            KStatus::Current => "Current",
            KStatus::Terminating => "Terminating",
            KStatus::NotFound => "NotFound",
            KStatus::Unknown => "Unknown",
        }
    }
}

/// A computed status and kstatus' message for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Computed {
    pub status: KStatus,
    pub message: String,
}

/// Which of Helm's status readers applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// `Wait`: kstatus' `Compute` for everything (Jobs current once started).
    Wait,
    /// `WaitWithJobs`: as `Wait`, but Jobs need the Complete condition.
    WaitWithJobs,
    /// `WatchUntilReady` (hooks): Jobs need Complete, Pods need Succeeded, everything else is
    /// ready as soon as it exists.
    Hook,
}

/// Rudder's additions to kstatus, learnt from the cluster (the CRD) rather than the object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusRules {
    /// The object's CRD declares `status.observedGeneration`: its controller reports which
    /// generation it has seen, so a missing field means "not reconciled yet".
    pub expects_observed_generation: bool,
}

/// The status of one live object (its JSON as the API server returned it).
pub fn status_of(obj: &Value, wait_for_jobs: bool) -> ObjStatus {
    let reader = if wait_for_jobs { Reader::WaitWithJobs } else { Reader::Wait };
    let (group, kind) = group_kind(obj);
    to_obj_status(kstatus(obj, &group, &kind, reader, StatusRules::default()))
}

/// As [`status_of`], with Rudder's extra rules (see the module docs).
pub fn status_of_with(obj: &Value, wait_for_jobs: bool, rules: StatusRules) -> ObjStatus {
    let reader = if wait_for_jobs { Reader::WaitWithJobs } else { Reader::Wait };
    let (group, kind) = group_kind(obj);
    to_obj_status(kstatus(obj, &group, &kind, reader, rules))
}

/// The status a hook's object has for Helm's `WatchUntilReady` (Job Complete, Pod Succeeded).
pub fn hook_status_of(obj: &Value) -> ObjStatus {
    let (group, kind) = group_kind(obj);
    to_obj_status(kstatus(obj, &group, &kind, Reader::Hook, StatusRules::default()))
}

fn to_obj_status(c: Computed) -> ObjStatus {
    match c.status {
        KStatus::Current => ObjStatus::Current,
        KStatus::Failed => ObjStatus::Failed(c.message),
        KStatus::NotFound => ObjStatus::NotFound,
        KStatus::InProgress | KStatus::Terminating | KStatus::Unknown => ObjStatus::InProgress(c.message),
    }
}

/// `(group, kind)` from the object's own `apiVersion`/`kind`.
fn group_kind(obj: &Value) -> (String, String) {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let group = match api_version.rsplit_once('/') {
        Some((g, _)) => g.to_string(),
        None => String::new(),
    };
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
    (group, kind)
}

// ---------------------------------------------------------------------------------------------
// kstatus

fn field<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// kstatus `GetIntField`: only integers count, anything else is the default.
fn int_field(obj: &Value, path: &str, default: i64) -> i64 {
    field(obj, path).and_then(Value::as_i64).unwrap_or(default)
}

fn str_field<'a>(obj: &'a Value, path: &str, default: &'a str) -> &'a str {
    field(obj, path).and_then(Value::as_str).unwrap_or(default)
}

struct Cond<'a> {
    typ: &'a str,
    status: &'a str,
    reason: &'a str,
    message: &'a str,
}

fn conditions(obj: &Value) -> Vec<Cond<'_>> {
    let Some(list) = field(obj, "status.conditions").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|c| Cond {
            typ: c.get("type").and_then(Value::as_str).unwrap_or(""),
            status: c.get("status").and_then(Value::as_str).unwrap_or(""),
            reason: c.get("reason").and_then(Value::as_str).unwrap_or(""),
            message: c.get("message").and_then(Value::as_str).unwrap_or(""),
        })
        .collect()
}

fn current(message: impl Into<String>) -> Computed {
    Computed { status: KStatus::Current, message: message.into() }
}

fn in_progress(message: impl Into<String>) -> Computed {
    Computed { status: KStatus::InProgress, message: message.into() }
}

fn failed(message: impl Into<String>) -> Computed {
    Computed { status: KStatus::Failed, message: message.into() }
}

/// The status kstatus (as Helm 4 configures it) computes for one object of `group`/`kind`.
pub fn kstatus(obj: &Value, group: &str, kind: &str, reader: Reader, rules: StatusRules) -> Computed {
    // Helm's custom readers replace kstatus entirely (no generic checks) for their kinds.
    match (reader, group, kind) {
        (Reader::WaitWithJobs | Reader::Hook, "batch", "Job") => return helm_job(obj),
        (Reader::Hook, "", "Pod") => return helm_pod(obj),
        (Reader::Hook, _, _) => return current("Resource is current"),
        _ => {}
    }
    // Helm leaves paused Deployments out of the wait.
    if group == "apps" && kind == "Deployment" && field(obj, "spec.paused").and_then(Value::as_bool) == Some(true) {
        return current("Deployment is paused");
    }
    compute(obj, group, kind, rules)
}

/// kstatus `status.Compute`.
fn compute(obj: &Value, group: &str, kind: &str, rules: StatusRules) -> Computed {
    if let Some(c) = generic(obj, kind) {
        return c;
    }
    let key = if group.is_empty() { kind.to_string() } else { format!("{group}/{kind}") };
    match key.as_str() {
        "Service" => return service(obj),
        "Pod" => return pod(obj),
        "Secret" | "ConfigMap" | "batch/CronJob" => return current("Resource is always ready"),
        "PersistentVolumeClaim" => return pvc(obj),
        "apps/StatefulSet" => return statefulset(obj),
        "apps/DaemonSet" | "extensions/DaemonSet" => return daemonset(obj, kind),
        "apps/Deployment" | "extensions/Deployment" => return deployment(obj),
        "apps/ReplicaSet" | "extensions/ReplicaSet" => return replicaset(obj),
        "policy/PodDisruptionBudget" => return current("AllowedDisruptions has been computed."),
        "batch/Job" => return job(obj),
        "apiextensions.k8s.io/CustomResourceDefinition" => return crd(obj),
        _ => {}
    }
    if rules.expects_observed_generation
        && field(obj, "metadata.generation").is_some()
        && field(obj, "status.observedGeneration").is_none()
    {
        return in_progress(format!("{kind} status.observedGeneration not found"));
    }
    if let Some(c) = ready_condition(obj) {
        return c;
    }
    current("Resource is current")
}

/// kstatus `checkGenericProperties`: deletion, observed generation, Reconciling/Stalled.
fn generic(obj: &Value, kind: &str) -> Option<Computed> {
    if field(obj, "metadata.deletionTimestamp").and_then(Value::as_str).is_some_and(|s| !s.is_empty()) {
        return Some(Computed { status: KStatus::Terminating, message: "Resource scheduled for deletion".into() });
    }
    if let (Some(generation), Some(observed)) = (
        field(obj, "metadata.generation").and_then(Value::as_i64),
        field(obj, "status.observedGeneration").and_then(Value::as_i64),
    ) {
        if generation != observed {
            return Some(in_progress(format!(
                "{kind} generation is {generation}, but latest observed generation is {observed}"
            )));
        }
    }
    for c in conditions(obj) {
        if c.typ == "Reconciling" && c.status == "True" {
            return Some(in_progress(c.message));
        }
        if c.typ == "Stalled" && c.status == "True" {
            return Some(failed(c.message));
        }
    }
    None
}

fn ready_condition(obj: &Value) -> Option<Computed> {
    for c in conditions(obj) {
        if c.typ != "Ready" {
            continue;
        }
        match c.status {
            "True" => return Some(current("Resource is Ready")),
            "False" | "Unknown" => return Some(in_progress(c.message)),
            _ => {}
        }
    }
    None
}

fn statefulset(obj: &Value) -> Computed {
    if str_field(obj, "spec.updateStrategy.type", "") == "OnDelete" {
        return current("StatefulSet is using the ondelete update strategy");
    }
    let spec = int_field(obj, "spec.replicas", 1);
    let ready = int_field(obj, "status.readyReplicas", 0);
    let current_replicas = int_field(obj, "status.currentReplicas", 0);
    let updated = int_field(obj, "status.updatedReplicas", 0);
    let status = int_field(obj, "status.replicas", 0);
    let partition = int_field(obj, "spec.updateStrategy.rollingUpdate.partition", -1);
    if spec > status {
        return in_progress(format!("Replicas: {status}/{spec}"));
    }
    if spec > ready {
        return in_progress(format!("Ready: {ready}/{spec}"));
    }
    if status > spec {
        return in_progress(format!("Pending termination: {}", status - spec));
    }
    if partition != -1 {
        if updated < spec - partition {
            return in_progress(format!("updated: {updated}/{}", spec - partition));
        }
        return current(format!("Partition rollout complete. updated: {updated}"));
    }
    if spec > current_replicas {
        return in_progress(format!("current: {current_replicas}/{spec}"));
    }
    if str_field(obj, "status.currentRevision", "") != str_field(obj, "status.updateRevision", "") {
        return in_progress("Waiting for updated revision to match current");
    }
    current(format!("All replicas scheduled as expected. Replicas: {status}"))
}

fn deployment(obj: &Value) -> Computed {
    // Without progressDeadlineSeconds the controller never sets Progressing (MaxInt32 is the
    // controller's "unset").
    let mut progressing = int_field(obj, "spec.progressDeadlineSeconds", i32::MAX as i64) == i32::MAX as i64;
    let mut available = false;
    for c in conditions(obj) {
        match c.typ {
            "Progressing" => {
                if c.reason == "ProgressDeadlineExceeded" {
                    return failed("Progress deadline exceeded");
                }
                if c.status == "True" && c.reason == "NewReplicaSetAvailable" {
                    progressing = true;
                }
            }
            "Available" if c.status == "True" => available = true,
            _ => {}
        }
    }
    let spec = int_field(obj, "spec.replicas", 1);
    let status = int_field(obj, "status.replicas", 0);
    let updated = int_field(obj, "status.updatedReplicas", 0);
    let ready = int_field(obj, "status.readyReplicas", 0);
    let avail = int_field(obj, "status.availableReplicas", 0);
    if spec > status {
        return in_progress(format!("Replicas: {status}/{spec}"));
    }
    if spec > updated {
        return in_progress(format!("Updated: {updated}/{spec}"));
    }
    if status > spec {
        return in_progress(format!("Pending termination: {}", status - spec));
    }
    if updated > avail {
        return in_progress(format!("Available: {avail}/{updated}"));
    }
    if spec > ready {
        return in_progress(format!("Ready: {ready}/{spec}"));
    }
    if !progressing {
        return in_progress("ReplicaSet not Available");
    }
    if !available {
        return in_progress("Deployment not Available");
    }
    current(format!("Deployment is available. Replicas: {status}"))
}

fn replicaset(obj: &Value) -> Computed {
    if conditions(obj).iter().any(|c| c.typ == "ReplicaFailure" && c.status == "True") {
        return in_progress("Replica Failure condition. Check Pods");
    }
    let spec = int_field(obj, "spec.replicas", 1);
    let status = int_field(obj, "status.replicas", 0);
    let ready = int_field(obj, "status.readyReplicas", 0);
    let avail = int_field(obj, "status.availableReplicas", 0);
    let labelled = int_field(obj, "status.fullyLabeledReplicas", 0);
    if spec > labelled {
        return in_progress(format!("Labelled: {labelled}/{spec}"));
    }
    if spec > avail {
        return in_progress(format!("Available: {avail}/{spec}"));
    }
    if spec > ready {
        return in_progress(format!("Ready: {ready}/{spec}"));
    }
    if status > spec {
        return in_progress(format!("Pending termination: {}", status - spec));
    }
    current(format!("ReplicaSet is available. Replicas: {status}"))
}

fn daemonset(obj: &Value, kind: &str) -> Computed {
    // The controller always sets these once it has acted; unset means "not yet".
    if field(obj, "metadata.generation").and_then(Value::as_i64).is_none() {
        return in_progress(format!("{kind} metadata.generation not found"));
    }
    if field(obj, "status.observedGeneration").and_then(Value::as_i64).is_none() {
        return in_progress(format!("{kind} status.observedGeneration not found"));
    }
    let desired = int_field(obj, "status.desiredNumberScheduled", -1);
    let current_n = int_field(obj, "status.currentNumberScheduled", 0);
    let updated = int_field(obj, "status.updatedNumberScheduled", 0);
    let avail = int_field(obj, "status.numberAvailable", 0);
    let ready = int_field(obj, "status.numberReady", 0);
    if desired == -1 {
        return in_progress("Missing .status.desiredNumberScheduled");
    }
    if desired > current_n {
        return in_progress(format!("Current: {current_n}/{desired}"));
    }
    if desired > updated {
        return in_progress(format!("Updated: {updated}/{desired}"));
    }
    if desired > avail {
        return in_progress(format!("Available: {avail}/{desired}"));
    }
    if desired > ready {
        return in_progress(format!("Ready: {ready}/{desired}"));
    }
    current(format!("All replicas scheduled as expected. Replicas: {desired}"))
}

fn pvc(obj: &Value) -> Computed {
    let phase = str_field(obj, "status.phase", "unknown");
    if phase != "Bound" {
        return in_progress(format!("PVC is not Bound. phase: {phase}"));
    }
    current("PVC is Bound")
}

/// How long kstatus lets a Pod be unschedulable before calling it failed.
const SCHEDULE_WINDOW_SECS: i64 = 15;

fn pod(obj: &Value) -> Computed {
    match str_field(obj, "status.phase", "") {
        "Succeeded" => current("Pod has completed successfully"),
        "Failed" => current("Pod has completed, but not successfully"),
        "Running" => {
            if conditions(obj).iter().any(|c| c.typ == "Ready" && c.status == "True") {
                return current("Pod is Ready");
            }
            let crashing = crash_looping(obj);
            if !crashing.is_empty() {
                return failed(format!("Containers in CrashLoop state: {}", crashing.join(",")));
            }
            in_progress("Pod is running but is not Ready")
        }
        "Pending" => {
            let unschedulable = conditions(obj)
                .iter()
                .any(|c| c.typ == "PodScheduled" && c.status == "False" && c.reason == "Unschedulable");
            if unschedulable {
                let created = str_field(obj, "metadata.creationTimestamp", "");
                let young = match (parse_rfc3339(created), now_unix()) {
                    (Some(t), Some(now)) => now - SCHEDULE_WINDOW_SECS < t,
                    _ => true,
                };
                if young {
                    return in_progress("Pod has not been scheduled");
                }
                return failed("Pod could not be scheduled");
            }
            in_progress("Pod is in the Pending phase")
        }
        "" => in_progress("Pod phase not available"),
        other => Computed { status: KStatus::Unknown, message: format!("unknown phase {other}") },
    }
}

fn crash_looping(obj: &Value) -> Vec<String> {
    let Some(list) = field(obj, "status.containerStatuses").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter(|cs| str_field(cs, "state.waiting.reason", "") == "CrashLoopBackOff")
        .filter_map(|cs| cs.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn job(obj: &Value) -> Computed {
    let parallelism = int_field(obj, "spec.parallelism", 1);
    let completions = int_field(obj, "spec.completions", parallelism);
    let succeeded = int_field(obj, "status.succeeded", 0);
    let active = int_field(obj, "status.active", 0);
    let failed_n = int_field(obj, "status.failed", 0);
    for c in conditions(obj) {
        match c.typ {
            "Complete" if c.status == "True" => {
                return current(format!("Job Completed. succeeded: {succeeded}/{completions}"));
            }
            "Failed" if c.status == "True" => {
                return failed(format!("Job Failed. failed: {failed_n}/{completions}"));
            }
            _ => {}
        }
    }
    if str_field(obj, "status.startTime", "").is_empty() {
        return in_progress("Job not started");
    }
    current(format!("Job in progress. success:{succeeded}, active: {active}, failed: {failed_n}"))
}

/// Helm's `customJobStatusReader` (`--wait-for-jobs` and hooks): only Complete is ready.
fn helm_job(obj: &Value) -> Computed {
    let parallelism = int_field(obj, "spec.parallelism", 1);
    let completions = int_field(obj, "spec.completions", parallelism);
    let succeeded = int_field(obj, "status.succeeded", 0);
    let failed_n = int_field(obj, "status.failed", 0);
    for c in conditions(obj) {
        match c.typ {
            "Complete" if c.status == "True" => {
                return current(format!("Job Completed. succeeded: {succeeded}/{completions}"));
            }
            "Failed" if c.status == "True" => {
                return failed(format!("Job Failed. failed: {failed_n}/{completions}"));
            }
            _ => {}
        }
    }
    in_progress("Job in progress")
}

/// Helm's `customPodStatusReader` (hooks): Succeeded is ready, Failed is failed.
fn helm_pod(obj: &Value) -> Computed {
    let name = str_field(obj, "metadata.name", "");
    match str_field(obj, "status.phase", "") {
        "Succeeded" => current(format!("pod {name} succeeded")),
        "Failed" => failed(format!("pod {name} failed")),
        _ => in_progress("Pod in progress"),
    }
}

fn service(obj: &Value) -> Computed {
    // kstatus (and so Helm 4) asks a LoadBalancer Service for a cluster IP only, not for an
    // ingress address.
    if str_field(obj, "spec.type", "ClusterIP") == "LoadBalancer" && str_field(obj, "spec.clusterIP", "").is_empty() {
        return in_progress("ClusterIP not set. Service type: LoadBalancer");
    }
    current("Service is ready")
}

fn crd(obj: &Value) -> Computed {
    for c in conditions(obj) {
        if c.typ == "NamesAccepted" && c.status == "False" {
            return failed(c.message);
        }
        if c.typ == "Established" {
            if c.status == "False" && c.reason != "Installing" {
                return failed(c.message);
            }
            if c.status == "True" {
                return current("CRD is established");
            }
        }
    }
    in_progress("Install in progress")
}

/// Seconds since the epoch of an RFC 3339 timestamp as the API server writes them
/// (`2024-01-02T03:04:05Z`, fractional seconds and offsets accepted).
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b't') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh = rest.get(1..3)?.parse::<i64>().ok()?;
            let om = rest.get(4..6)?.parse::<i64>().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = if y2 >= 0 { y2 } else { y2 - 399 } / 400;
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + h * 3600 + mi * 60 + sec - offset)
}

fn now_unix() -> Option<i64> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs() as i64)
}

// ---------------------------------------------------------------------------------------------
// Polling

/// The identifier Helm prints: `Kind/namespace/name` (namespace empty when cluster-scoped).
fn identifier(t: &WaitTarget) -> String {
    format!("{}/{}/{}", t.api.kind, t.namespace.as_deref().unwrap_or(""), t.name)
}

/// Watches on the few objects still waited for, from the resourceVersion each was last read
/// at: resolves when one of them changes, so that the next round of reads comes at once
/// instead of after the interval (a Deployment is often Ready ~50 ms after it is applied; the
/// first interval is 100 ms). Helm waits on watches too. It never resolves on its own
/// failure: a watch that cannot start, ends or reports an error leaves the interval to decide,
/// and with more than [`MAX_WATCHES`] objects pending (each watch holds a connection), or none
/// read yet, there are no watches at all.
fn first_change<'a>(
    client: &'a kube::Client,
    targets: &'a [WaitTarget],
    done: &[bool],
    seen: &[Option<String>],
) -> impl std::future::Future<Output = ()> + 'a {
    use futures::StreamExt;
    let pending: Vec<(usize, String)> = (0..targets.len())
        .filter(|&i| !done[i])
        .filter_map(|i| Some((i, seen[i].clone()?)))
        .collect();
    let watch = pending.len() <= MAX_WATCHES && pending.len() == done.iter().filter(|d| !**d).count();
    let watches: Vec<_> = if watch { pending } else { Vec::new() }
        .into_iter()
        .map(|(i, rv)| {
            let t = &targets[i];
            let api = api_for(client, t);
            let params = kube::api::WatchParams::default().fields(&format!("metadata.name={}", t.name)).timeout(290);
            Box::pin(async move {
                if let Ok(stream) = api.watch(&params, &rv).await {
                    let mut stream = std::pin::pin!(stream);
                    if let Some(Ok(kube::api::WatchEvent::Added(_) | kube::api::WatchEvent::Modified(_) | kube::api::WatchEvent::Deleted(_))) =
                        stream.next().await
                    {
                        return;
                    }
                }
                std::future::pending::<()>().await
            })
        })
        .collect();
    async move {
        if watches.is_empty() {
            return std::future::pending::<()>().await;
        }
        futures::future::select_all(watches).await;
    }
}

/// At most this many objects are watched while waiting (see [`first_change`]).
const MAX_WATCHES: usize = 8;

fn api_for(client: &kube::Client, t: &WaitTarget) -> Api<DynamicObject> {
    match &t.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &t.api),
        None => Api::all_with(client.clone(), &t.api),
    }
}

/// A failed read: its text, and whether more waiting could cure it (401/403 and the like
/// cannot; timeouts and 5xx may).
#[derive(Debug, Clone)]
struct ReadError {
    message: String,
    permanent: bool,
}

impl From<&kube::Error> for ReadError {
    fn from(e: &kube::Error) -> Self {
        let permanent = matches!(e, kube::Error::Api(s) if matches!(s.code, 400 | 401 | 403 | 405));
        ReadError { message: e.to_string(), permanent }
    }
}

/// At most this many reads in flight at once.
const MAX_IN_FLIGHT: usize = 16;

/// Reads the live JSON of every listed target: `Ok(None)` when it does not exist.
///
/// Namespaced objects of one kind in one namespace are read with one LIST when there are
/// several; cluster-scoped ones (CRDs can weigh megabytes each) and lone objects with a GET.
async fn read_all(
    client: &kube::Client,
    targets: &[WaitTarget],
    which: &[usize],
) -> Vec<(usize, Result<Option<Value>, ReadError>)> {
    let mut groups: BTreeMap<(String, String, String), Vec<usize>> = BTreeMap::new();
    let mut singles: Vec<Vec<usize>> = Vec::new();
    for &i in which {
        let t = &targets[i];
        match &t.namespace {
            Some(ns) => {
                let key = (t.api.api_version.clone(), t.api.plural.clone(), ns.clone());
                groups.entry(key).or_default().push(i);
            }
            None => singles.push(vec![i]),
        }
    }
    for (_, idx) in groups {
        if idx.len() == 1 {
            singles.push(idx);
        } else {
            singles.insert(0, idx);
        }
    }
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let mut set = JoinSet::new();
    for idx in singles {
        let api = api_for(client, &targets[idx[0]]);
        let names: Vec<(usize, String)> = idx.iter().map(|&i| (i, targets[i].name.clone())).collect();
        let gv = targets[idx[0]].api.clone();
        let permits = permits.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let with_type = |o: DynamicObject| -> Value {
                let mut v = serde_json::to_value(&o).unwrap_or(Value::Null);
                if let Some(m) = v.as_object_mut() {
                    m.entry("apiVersion").or_insert_with(|| Value::String(gv.api_version.clone()));
                    m.entry("kind").or_insert_with(|| Value::String(gv.kind.clone()));
                }
                v
            };
            if names.len() == 1 {
                let (i, name) = &names[0];
                let r = api.get_opt(name).await.map(|o| o.map(with_type)).map_err(|e| ReadError::from(&e));
                return vec![(*i, r)];
            }
            match api.list(&ListParams::default()).await {
                Ok(list) => {
                    let mut by_name: HashMap<String, DynamicObject> = list
                        .items
                        .into_iter()
                        .filter_map(|o| o.metadata.name.clone().map(|n| (n, o)))
                        .collect();
                    names.into_iter().map(|(i, n)| (i, Ok(by_name.remove(&n).map(with_type)))).collect()
                }
                Err(e) => {
                    let err = ReadError::from(&e);
                    names.into_iter().map(|(i, _)| (i, Err(err.clone()))).collect()
                }
            }
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Ok(v) = r {
            out.extend(v);
        }
    }
    out
}

/// What one polling loop is after.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Goal {
    Ready(Reader),
    Deleted,
}

/// Rudder's rule for CRs: learn from each target's CRD whether it reports observedGeneration.
async fn rules_for(client: &kube::Client, targets: &[WaitTarget]) -> Vec<StatusRules> {
    let crd_api = ApiResource {
        group: "apiextensions.k8s.io".into(),
        version: "v1".into(),
        api_version: "apiextensions.k8s.io/v1".into(),
        kind: "CustomResourceDefinition".into(),
        plural: "customresourcedefinitions".into(),
    };
    let crd_name = |t: &WaitTarget| format!("{}.{}", t.api.plural, t.api.group);
    // Each CRD read once, all of them at the same time.
    let mut names: Vec<String> = targets.iter().filter(|t| !is_builtin_group(&t.api.group)).map(crd_name).collect();
    names.sort();
    names.dedup();
    let mut set = JoinSet::new();
    for name in names {
        let crds: Api<DynamicObject> = Api::all_with(client.clone(), &crd_api);
        set.spawn(async move {
            let crd = crds.get_opt(&name).await.ok().flatten().map(|c| serde_json::to_value(&c).unwrap_or(Value::Null));
            (name, crd)
        });
    }
    let mut crds: HashMap<String, Value> = HashMap::new();
    while let Some(r) = set.join_next().await {
        if let Ok((name, Some(crd))) = r {
            crds.insert(name, crd);
        }
    }
    targets
        .iter()
        .map(|t| match crds.get(&crd_name(t)) {
            Some(crd) if !is_builtin_group(&t.api.group) => {
                StatusRules { expects_observed_generation: crd_declares_observed_generation(crd, &t.api.version) }
            }
            _ => StatusRules::default(),
        })
        .collect()
}

/// Whether a CRD's schema for `version` has `status.observedGeneration`.
pub fn crd_declares_observed_generation(crd: &Value, version: &str) -> bool {
    let Some(versions) = field(crd, "spec.versions").and_then(Value::as_array) else {
        return false;
    };
    versions
        .iter()
        .filter(|v| v.get("name").and_then(Value::as_str) == Some(version))
        .any(|v| field(v, "schema.openAPIV3Schema.properties.status.properties.observedGeneration").is_some())
}

/// API groups served by Kubernetes itself (no CRD to read). Any other dotted group may be a
/// CRD's; ungrouped names (`apps`, `batch`, `policy`, ...) are all built in.
fn is_builtin_group(group: &str) -> bool {
    const BUILTIN: &[&str] = &[
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "metrics.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    ];
    !group.contains('.') || BUILTIN.contains(&group)
}

async fn poll(
    client: &kube::Client,
    targets: &[WaitTarget],
    timeout: Duration,
    goal: Goal,
) -> Result<(), WaitError> {
    if targets.is_empty() {
        return Ok(());
    }
    let timeout = if timeout.is_zero() { Duration::from_secs(30) } else { timeout };
    let deadline = Instant::now() + timeout;
    let rules = match goal {
        Goal::Ready(Reader::Wait | Reader::WaitWithJobs) => tokio::time::timeout_at(deadline, rules_for(client, targets))
            .await
            .unwrap_or_else(|_| vec![StatusRules::default(); targets.len()]),
        _ => vec![StatusRules::default(); targets.len()],
    };
    // Unknown with an empty message until first read, as kstatus' collector starts.
    let mut last: Vec<Computed> =
        vec![Computed { status: KStatus::Unknown, message: String::new() }; targets.len()];
    let mut done = vec![false; targets.len()];
    let mut interval = Duration::from_millis(0);
    // The resourceVersion each object was last read at (for the watches that end a sleep early).
    let mut seen: Vec<Option<String>> = vec![None; targets.len()];
    loop {
        let pending: Vec<usize> = (0..targets.len()).filter(|&i| !done[i]).collect();
        let round = read_all(client, targets, &pending);
        let results = match tokio::time::timeout_at(deadline, round).await {
            Ok(r) => r,
            Err(_) => break,
        };
        for (i, r) in results {
            let t = &targets[i];
            seen[i] = match &r {
                Ok(Some(obj)) => obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).map(str::to_string),
                _ => None,
            };
            let c = match r {
                Ok(None) => Computed { status: KStatus::NotFound, message: "Resource not found".into() },
                Ok(Some(obj)) => match goal {
                    Goal::Ready(reader) => kstatus(&obj, &t.api.group, &t.api.kind, reader, rules[i]),
                    Goal::Deleted => kstatus(&obj, &t.api.group, &t.api.kind, Reader::Wait, StatusRules::default()),
                },
                Err(e) => {
                    if e.permanent {
                        return Err(WaitError::Kube(format!("{}: {}", identifier(t), e.message)));
                    }
                    Computed { status: KStatus::Unknown, message: e.message }
                }
            };
            done[i] = match goal {
                // Failed is terminal: waiting longer will not help (Helm stops watching it).
                Goal::Ready(_) => matches!(c.status, KStatus::Current | KStatus::Failed),
                Goal::Deleted => c.status == KStatus::NotFound,
            };
            last[i] = c;
        }
        if done.iter().all(|d| *d) {
            break;
        }
        if let Some(i) = (0..targets.len()).find(|&i| !done[i]) {
            tracing::debug!(
                resource = %identifier(&targets[i]),
                status = last[i].status.as_str(),
                message = %last[i].message,
                waiting_on = done.iter().filter(|d| !**d).count(),
                "waiting for resource"
            );
        }
        interval = (interval + Duration::from_millis(100)).min(Duration::from_millis(500));
        let changed = first_change(client, targets, &done, &seen);
        if Instant::now() + interval >= deadline {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => break,
                _ = changed => {}
            }
        } else {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = changed => {}
            }
        }
    }
    let mut lines = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let c = &last[i];
        match goal {
            Goal::Ready(_) if c.status != KStatus::Current => lines.push(format!(
                "resource {} not ready. status: {}, message: {}",
                identifier(t),
                c.status.as_str(),
                c.message
            )),
            Goal::Deleted if c.status != KStatus::NotFound => lines.push(format!(
                "resource {} still exists. status: {}, message: {}",
                identifier(t),
                c.status.as_str(),
                c.message
            )),
            _ => {}
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    if done.iter().all(|d| *d) {
        // Everything settled, some of it Failed: no deadline involved.
        return Err(WaitError::Failed(lines.join("\n")));
    }
    lines.push("context deadline exceeded".into());
    Err(WaitError::Timeout(lines.join("\n")))
}

/// Waits until every target is `Current`, failing early on `Failed`, or with `Timeout`.
///
/// As Helm, a Failed object stops being watched, the others are still waited for, and the
/// error then lists every object that is not `Current`. A zero timeout means 30 seconds
/// (Helm's `DefaultStatusWatcherTimeout`).
pub async fn wait_ready(client: &kube::Client, targets: &[WaitTarget], opts: &WaitOptions) -> Result<(), WaitError> {
    let reader = if opts.wait_for_jobs { Reader::WaitWithJobs } else { Reader::Wait };
    poll(client, targets, opts.timeout, Goal::Ready(reader)).await
}

/// Waits until every target is gone (uninstall with `--wait`, hook deletion).
pub async fn wait_deleted(client: &kube::Client, targets: &[WaitTarget], timeout: Duration) -> Result<(), WaitError> {
    poll(client, targets, timeout, Goal::Deleted).await
}

/// Waits for a hook's Job to complete or its Pod to succeed; a failed Job/Pod is `Failed` with
/// the hook's name. Other kinds are ready as soon as they exist, as in Helm's `WatchUntilReady`
/// (hooks are ConfigMaps, Secrets, ServiceAccounts... that have nothing to wait for).
pub async fn wait_hook(client: &kube::Client, target: &WaitTarget, timeout: Duration) -> Result<(), WaitError> {
    poll(client, std::slice::from_ref(target), timeout, Goal::Ready(Reader::Hook)).await
}
