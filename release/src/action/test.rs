//! `helm test` (Helm v4 pkg/action/release_testing.go): runs the `test` hooks of a release's
//! last revision and records their last runs in that revision's record.

use std::time::Duration;

use rudder_chart::render::template::validate_release_name;
use rudder_state::release::{Hook, Release};

use super::Config;
use crate::hooks::{exec_hooks, HOOK_FAILED, HOOK_SUCCEEDED, PHASE_FAILED};
use crate::kube::apply::wait_targets;
use crate::kube::resource;
use crate::wait::wait_deleted;

/// `helm test`'s switches.
#[derive(Debug, Clone)]
pub struct TestOptions {
    pub timeout: Duration,
    /// `--filter name=X`: only these hooks run.
    pub include: Vec<String>,
    /// `--filter !name=X`: these hooks are skipped.
    pub exclude: Vec<String>,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            timeout: Duration::from_secs(300),
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// What a test run left: the release as recorded afterwards (when it could be read at all),
/// and the failure of a hook, if any. Helm prints the status block even when a test failed,
/// so both come back together.
#[derive(Clone)]
pub struct TestRun {
    pub release: Option<Release>,
    pub error: Option<String>,
    /// Hooks to delete by their `hook-succeeded`/`hook-failed` policies, in order: Helm 4
    /// defers this (its "delayed shutdown") until after `--logs` has read the test pods.
    pub cleanup: Vec<Hook>,
}

/// Stands in for the deferred policies while the hooks run, so that the runner neither
/// deletes at the end nor adds the default policy to a hook that has policies.
const DEFERRED: &str = "rudder-deferred";

/// Runs the `test` hooks of release `name`. Skipped hooks keep their last runs and go first
/// in the stored hook list, as Helm re-assembles it.
pub async fn run_tests(cfg: &Config, name: &str, opts: &TestOptions) -> TestRun {
    let fail = |e: String| TestRun {
        release: None,
        error: Some(e),
        cleanup: Vec::new(),
    };
    if let Err(e) = cfg.kube.is_reachable().await {
        return fail(e.0);
    }
    if validate_release_name(name).is_err() {
        return fail(format!("releaseTest: Release name is invalid: {name}"));
    }
    let mut rel = match cfg.storage.last(name).await {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    let mut skipped: Vec<Hook> = Vec::new();
    if !opts.exclude.is_empty() {
        let (skip, run): (Vec<Hook>, Vec<Hook>) = std::mem::take(&mut rel.hooks)
            .into_iter()
            .partition(|h| opts.exclude.contains(&h.name));
        skipped.extend(skip);
        rel.hooks = run;
    }
    if !opts.include.is_empty() {
        let (run, skip): (Vec<Hook>, Vec<Hook>) = std::mem::take(&mut rel.hooks)
            .into_iter()
            .partition(|h| opts.include.contains(&h.name));
        skipped.extend(skip);
        rel.hooks = run;
    }
    // The hooks run on a copy whose end-of-run policies are held back (and whose in-between
    // records go to scratch storage, never showing the stand-in policy); the record written
    // afterwards has the hooks' own policies, defaulted as Helm defaults them.
    let mut running = rel.clone();
    for h in running.hooks.iter_mut() {
        let n = h.delete_policies.len();
        h.delete_policies
            .retain(|p| p != HOOK_SUCCEEDED && p != HOOK_FAILED);
        if h.delete_policies.is_empty() && n > 0 {
            h.delete_policies.push(DEFERRED.into());
        }
    }
    let scratch = rudder_state::Storage::new(rudder_state::MemoryDriver::new(&rel.namespace));
    let result = exec_hooks(&cfg.kube, &scratch, &mut running, "test", opts.timeout).await;
    let mut cleanup = Vec::new();
    for (h, r) in rel.hooks.iter_mut().zip(running.hooks) {
        let ran = r.last_run.started_at.is_some() && r.last_run.started_at != h.last_run.started_at;
        // An empty list is one the runner gave the default (it cannot hold the stand-in).
        if h.delete_policies.is_empty() {
            h.delete_policies = r.delete_policies.clone();
        }
        h.last_run = r.last_run;
        if ran {
            cleanup.push(h.clone());
        }
    }
    // Helm deletes the succeeded hooks last first; after a failure the failed one, then the
    // earlier ones.
    cleanup.sort_by(|x, y| x.weight.cmp(&y.weight).then_with(|| x.name.cmp(&y.name)));
    if result.is_ok() {
        cleanup.reverse();
    } else if let Some(i) = cleanup
        .iter()
        .position(|h| h.last_run.phase == PHASE_FAILED)
    {
        let failed = cleanup.remove(i);
        cleanup.insert(0, failed);
    }
    skipped.append(&mut rel.hooks);
    rel.hooks = skipped;
    let mut error = result.err();
    if let Err(e) = cfg.storage.update(&rel).await {
        if error.is_none() {
            error = Some(e.to_string());
        }
    }
    TestRun {
        release: Some(rel),
        error,
        cleanup,
    }
}

/// Helm's `GetPodLogs`: the logs of every container of each test Pod hook, by weight, and
/// the errors met on the way (a missing pod stops the walk, as Helm's).
pub async fn pod_logs(
    client: &kube::Client,
    rel: &Release,
    opts: &TestOptions,
) -> (String, Vec<String>) {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Api, LogParams};
    let mut hooks: Vec<_> = rel.hooks.iter().collect();
    hooks.sort_by_key(|h| h.weight);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &rel.namespace);
    let mut out = String::new();
    let mut errs = Vec::new();
    for h in hooks {
        if !h.events.iter().any(|e| e == "test") || h.kind != "Pod" {
            continue;
        }
        if opts.exclude.contains(&h.name)
            || (!opts.include.is_empty() && !opts.include.contains(&h.name))
        {
            continue;
        }
        let pod = match pods.get(&h.name).await {
            Ok(p) => p,
            Err(err) => {
                errs.push(format!(
                    "unable to get pod {}: {}",
                    h.name,
                    crate::kube::api_message(&err)
                ));
                return (out, errs);
            }
        };
        let spec = pod.spec.unwrap_or_default();
        for c in spec
            .init_containers
            .unwrap_or_default()
            .into_iter()
            .chain(spec.containers)
        {
            let lp = LogParams {
                container: Some(c.name.clone()),
                ..Default::default()
            };
            match pods.logs(&h.name, &lp).await {
                Ok(text) => {
                    out.push_str(&format!("POD LOGS: {} ({})\n{text}\n", h.name, c.name));
                }
                Err(err) => errs.push(format!(
                    "unable to get logs for pod {}, container {}: {}",
                    h.name,
                    c.name,
                    crate::kube::api_message(&err)
                )),
            }
        }
    }
    (out, errs)
}

/// Helm's delayed shutdown of a test run: deletes each hook that ran by `hook-failed` (when
/// it failed) or `hook-succeeded` (when it succeeded), waiting until the objects are gone.
pub async fn cleanup(
    cfg: &Config,
    run: &TestRun,
    timeout: Duration,
) -> std::result::Result<(), String> {
    let ns = run
        .release
        .as_ref()
        .map(|r| r.namespace.clone())
        .unwrap_or_default();
    for h in &run.cleanup {
        let policy = if h.last_run.phase == PHASE_FAILED {
            HOOK_FAILED
        } else {
            HOOK_SUCCEEDED
        };
        if h.kind == "CustomResourceDefinition" || !h.delete_policies.iter().any(|p| p == policy) {
            continue;
        }
        let rs = resource::build(&cfg.kube.mapper, &h.manifest, &ns)
            .await
            .map_err(|e| {
                format!(
                    "unable to build kubernetes object for deleting hook {}: {e}",
                    h.path
                )
            })?;
        let (deleted, errs) = cfg
            .kube
            .delete_all(&rs, kube::api::PropagationPolicy::Background)
            .await;
        if !errs.is_empty() {
            return Err(errs.join("; "));
        }
        wait_deleted(&cfg.kube.client, &wait_targets(&deleted), timeout)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
