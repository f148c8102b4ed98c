//! Running a release's hooks for one event as Helm's `execHook` does (pkg/action/hooks.go):
//! hooks of the event sorted by weight then name; the default delete policy
//! `before-hook-creation` set and applied; each hook created by server-side apply, then waited
//! on (Jobs to completion, Pods to success); its `last_run` recorded in the release; after all
//! succeeded the `hook-succeeded` ones are deleted (last first), on a failure the failed one by
//! `hook-failed` and the earlier ones by `hook-succeeded`.

use std::time::Duration;

use kube::api::PropagationPolicy;
use rudder_state::release::{now_rfc3339, HookExecution, Release};
use rudder_state::{Driver, Storage};

use crate::kube::apply::{wait_targets, ApplyOptions};
use crate::kube::{resource, Kube};
use crate::wait::{wait_deleted, wait_hook, WaitError};

pub const BEFORE_HOOK_CREATION: &str = "before-hook-creation";
pub const HOOK_SUCCEEDED: &str = "hook-succeeded";
pub const HOOK_FAILED: &str = "hook-failed";

pub const PHASE_RUNNING: &str = "Running";
pub const PHASE_UNKNOWN: &str = "Unknown";
pub const PHASE_SUCCEEDED: &str = "Succeeded";
pub const PHASE_FAILED: &str = "Failed";

fn wait_text(e: WaitError) -> String {
    e.to_string()
}

/// Deletes a hook's objects when it has `policy` (CRD hooks never), then waits until they
/// are gone.
async fn delete_by_policy(
    kube: &Kube,
    rel: &Release,
    idx: usize,
    policy: &str,
    timeout: Duration,
) -> Result<(), String> {
    let h = &rel.hooks[idx];
    if h.kind == "CustomResourceDefinition" || !h.delete_policies.iter().any(|p| p == policy) {
        return Ok(());
    }
    let rs = resource::build(&kube.mapper, &h.manifest, &rel.namespace)
        .await
        .map_err(|e| format!("unable to build kubernetes object for deleting hook {}: {e}", h.path))?;
    let (deleted, errs) = kube.delete_all(&rs, PropagationPolicy::Background).await;
    if !errs.is_empty() {
        return Err(errs.join("; "));
    }
    wait_deleted(&kube.client, &wait_targets(&deleted), timeout)
        .await
        .map_err(wait_text)
}

/// Runs the hooks of `event` (`pre-install`, `post-upgrade`, ...), recording their phases in
/// `rel` and writing `rel` to `storage` as each starts (as Helm's `recordRelease`).
pub async fn exec_hooks<D: Driver>(
    kube: &Kube,
    storage: &Storage<D>,
    rel: &mut Release,
    event: &str,
    timeout: Duration,
) -> Result<(), String> {
    let mut order: Vec<usize> = (0..rel.hooks.len())
        .filter(|&i| rel.hooks[i].events.iter().any(|e| e == event))
        .collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&rel.hooks[a], &rel.hooks[b]);
        x.weight.cmp(&y.weight).then_with(|| x.name.cmp(&y.name))
    });
    for (n, &i) in order.iter().enumerate() {
        if rel.hooks[i].delete_policies.is_empty() {
            rel.hooks[i].delete_policies = vec![BEFORE_HOOK_CREATION.to_string()];
        }
        delete_by_policy(kube, rel, i, BEFORE_HOOK_CREATION, timeout).await?;
        let h = rel.hooks[i].clone();
        let rs = resource::build(&kube.mapper, &h.manifest, &rel.namespace)
            .await
            .map_err(|e| format!("unable to build kubernetes object for {event} hook {}: {e}", h.path))?;
        rel.hooks[i].last_run = HookExecution {
            started_at: Some(now_rfc3339()),
            phase: PHASE_RUNNING.into(),
            ..Default::default()
        };
        let _ = storage.update(rel).await;
        rel.hooks[i].last_run.phase = PHASE_UNKNOWN.into();
        if let Err(e) = kube.create_all(&rs, &ApplyOptions::default()).await {
            rel.hooks[i].last_run.completed_at = Some(now_rfc3339());
            rel.hooks[i].last_run.phase = PHASE_FAILED.into();
            return Err(format!("warning: Hook {event} {} failed: {e}", h.path));
        }
        let mut failure = None;
        crate::progress::note(format!("waiting for {event} hook {} {}", h.kind, h.name));
        for t in wait_targets(&rs) {
            if let Err(e) = wait_hook(&kube.client, &t, timeout).await {
                failure = Some(wait_text(e));
                break;
            }
        }
        rel.hooks[i].last_run.completed_at = Some(now_rfc3339());
        if let Some(err) = failure {
            rel.hooks[i].last_run.phase = PHASE_FAILED.into();
            if let Err(e) = delete_by_policy(kube, rel, i, HOOK_FAILED, timeout).await {
                eprintln!("error deleting the hook resource on hook failure: {e}");
            }
            for &j in &order[..n] {
                delete_by_policy(kube, rel, j, HOOK_SUCCEEDED, timeout).await?;
            }
            return Err(err);
        }
        rel.hooks[i].last_run.phase = PHASE_SUCCEEDED.into();
    }
    for &i in order.iter().rev() {
        delete_by_policy(kube, rel, i, HOOK_SUCCEEDED, timeout).await?;
    }
    Ok(())
}
