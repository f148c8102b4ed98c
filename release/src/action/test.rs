//! `helm test` (Helm v4 pkg/action/release_testing.go): runs the `test` hooks of a release's
//! last revision and records their last runs in that revision's record.

use std::time::Duration;

use rudder_chart::render::template::validate_release_name;
use rudder_state::release::{Hook, Release};

use super::Config;
use crate::hooks::exec_hooks;

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
pub struct TestRun {
    pub release: Option<Release>,
    pub error: Option<String>,
}

/// Runs the `test` hooks of release `name`. Skipped hooks keep their last runs and go first
/// in the stored hook list, as Helm re-assembles it.
pub async fn run_tests(cfg: &Config, name: &str, opts: &TestOptions) -> TestRun {
    let fail = |e: String| TestRun {
        release: None,
        error: Some(e),
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
    // As Helm, the record written as each hook starts holds only the running hooks; the
    // final write puts the skipped ones back in front.
    let result = exec_hooks(&cfg.kube, &cfg.storage, &mut rel, "test", opts.timeout).await;
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
