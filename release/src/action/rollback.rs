//! `helm rollback` (pkg/action/rollback.go): the target revision's manifest, hooks, chart and
//! values re-applied as a new revision; the deployed ones superseded.

use kube::api::PropagationPolicy;
use rudder_chart::render::template::validate_release_name;
use rudder_state::release::{now_rfc3339, Info, Release, Status, APPLY_METHOD_SSA};

use super::{build, Config, DryRun, Result, WaitSettings};
use crate::hooks::exec_hooks;
use crate::kube::apply::{set_ownership, ApplyOptions};

/// Rollback's switches.
#[derive(Debug, Clone, Default)]
pub struct RollbackOptions {
    /// The revision to go back to; 0 = the one before the last.
    pub version: i64,
    pub wait: WaitSettings,
    pub disable_hooks: bool,
    pub dry_run: DryRun,
    pub force_conflicts: bool,
    /// `--force-replace` (refused with server-side apply, as Helm does).
    pub force_replace: bool,
    pub cleanup_on_fail: bool,
    pub max_history: usize,
    pub description: Option<String>,
}

/// Helm's `MaxDescriptionLength`.
pub const MAX_DESCRIPTION_LENGTH: usize = 512;

/// Rolls release `name` back; returns the new revision.
pub async fn rollback(cfg: &mut Config, name: &str, opts: &RollbackOptions) -> Result<Release> {
    if let Some(d) = &opts.description {
        let n = d.chars().count();
        if n > MAX_DESCRIPTION_LENGTH {
            return Err(format!("description must be {MAX_DESCRIPTION_LENGTH} characters or less, got {n}").into());
        }
    }
    cfg.kube.is_reachable().await?;
    cfg.storage.max_history = opts.max_history;

    if validate_release_name(name).is_err() {
        return Err(format!("prepareRollback: Release name is invalid: {name}").into());
    }
    if opts.version < 0 {
        return Err("invalid release revision number".into());
    }
    let mut current = cfg.storage.last(name).await?;
    let previous_version = if opts.version == 0 {
        current.version - 1
    } else {
        opts.version
    };
    let history = cfg.storage.history(name).await?;
    if !history.iter().any(|r| r.version == previous_version) {
        return Err(format!("release has no {previous_version} version").into());
    }
    let previous = cfg.storage.get(name, previous_version).await?;
    let description = opts
        .description
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| format!("Rollback to {previous_version}"));
    let mut target = Release::new(name, &current.namespace, current.version + 1);
    target.chart = previous.chart.clone();
    target.config = previous.config.clone();
    target.info = Some(Info {
        first_deployed: current.info.as_ref().and_then(|i| i.first_deployed.clone()),
        last_deployed: Some(now_rfc3339()),
        status: Status::PendingRollback,
        notes: previous.info.as_ref().map(|i| i.notes.clone()).unwrap_or_default(),
        description,
        rollback_revision: previous_version,
        ..Default::default()
    });
    target.labels = previous.labels.clone();
    target.manifest = previous.manifest.clone();
    target.hooks = previous.hooks.clone();
    target.apply_method = APPLY_METHOD_SSA.into();

    if opts.dry_run.is_dry_run() {
        return Ok(target);
    }
    cfg.storage.create(&target).await?;

    let kube = &cfg.kube;
    let ns = target.namespace.clone();
    let current_rs = build(kube, &current.manifest, &ns)
        .await
        .map_err(|e| format!("unable to build kubernetes objects from current release manifest: {e}"))?;
    let mut target_rs = build(kube, &target.manifest, &ns)
        .await
        .map_err(|e| format!("unable to build kubernetes objects from new release manifest: {e}"))?;
    if !opts.disable_hooks {
        exec_hooks(kube, &cfg.storage, &mut target, "pre-rollback", opts.wait.timeout).await?;
    }
    for r in target_rs.iter_mut() {
        set_ownership(r, name, &ns);
    }
    let aopts = ApplyOptions {
        force_conflicts: opts.force_conflicts,
        dry_run: false,
        upgrade_client_side_manager: true,
        force_replace: opts.force_replace,
    };
    let (res, r) = kube.update(&current_rs, &target_rs, &aopts).await;
    if let Err(e) = r {
        let msg = format!("Rollback {} failed: {e}", crate::kube::resource::go_quote(name));
        eprintln!("level=WARN msg={}", rudder_chart::manifest::sorter::slog_value(&msg));
        if let Some(i) = current.info.as_mut() {
            i.status = Status::Superseded;
        }
        target.set_status(Status::Failed, msg);
        cfg.record(&current).await;
        cfg.record(&target).await;
        if opts.cleanup_on_fail && !res.created.is_empty() {
            let (_, errs) = kube.delete_all(&res.created, PropagationPolicy::Background).await;
            if !errs.is_empty() {
                return Err(format!(
                    "an error occurred while cleaning up resources. original rollback error: unable to cleanup resources: {}",
                    errs.join(", ")
                )
                .into());
            }
        }
        return Err(e.into());
    }
    if let Err(e) = opts.wait.wait_ready(kube, &target_rs).await {
        target.set_status(
            Status::Failed,
            format!("Release {} failed: {e}", crate::kube::resource::go_quote(name)),
        );
        cfg.record(&current).await;
        cfg.record(&target).await;
        return Err(format!("release {name} failed: {e}").into());
    }
    if !opts.disable_hooks {
        exec_hooks(kube, &cfg.storage, &mut target, "post-rollback", opts.wait.timeout).await?;
    }
    match cfg.storage.deployed_all(name).await {
        Ok(deployed) => {
            for mut d in deployed {
                if let Some(i) = d.info.as_mut() {
                    i.status = Status::Superseded;
                }
                cfg.record(&d).await;
            }
        }
        Err(rudder_state::Error::NoDeployedReleases(_)) => {}
        Err(e) => return Err(e.into()),
    }
    if let Some(i) = target.info.as_mut() {
        i.status = Status::Deployed;
    }
    cfg.storage.update(&target).await?;
    Ok(target)
}
