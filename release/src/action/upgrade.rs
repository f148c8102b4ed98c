//! `helm upgrade` (pkg/action/upgrade.go `prepareUpgrade`, `performUpgrade`,
//! `releasingUpgrade`, `failRelease`, `reuseValues`).

use std::collections::{BTreeMap, HashSet};

use kube::api::PropagationPolicy;
use rudder_chart::model::Chart;
use rudder_chart::render::template::validate_release_name;
use rudder_chart::render::ReleaseOptions;
use rudder_engine::Value;
use rudder_state::release::{now_rfc3339, Info, Release, Status, APPLY_METHOD_SSA};

use super::rollback::{rollback, RollbackOptions};
use super::{build, check_labels, merge_custom_labels, ActionError, Config, DryRun, Result, WaitSettings};
use crate::hooks::exec_hooks;
use crate::kube::apply::{set_ownership, ApplyOptions};
use crate::kube::Resource;
use crate::render;

/// Upgrade's switches.
#[derive(Debug, Clone, Default)]
pub struct UpgradeOptions {
    pub description: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub wait: WaitSettings,
    pub rollback_on_failure: bool,
    pub cleanup_on_fail: bool,
    pub dry_run: DryRun,
    pub disable_hooks: bool,
    pub take_ownership: bool,
    pub force_conflicts: bool,
    /// `--force-replace` (refused with server-side apply, as Helm does).
    pub force_replace: bool,
    pub skip_schema_validation: bool,
    pub sub_notes: bool,
    /// `--hide-secret` (only with a dry run).
    pub hide_secret: bool,
    /// `--enable-dns`.
    pub enable_dns: bool,
    pub reuse_values: bool,
    pub reset_values: bool,
    pub reset_then_reuse_values: bool,
    /// `--history-max` (0 = unlimited).
    pub max_history: usize,
    /// Rudder's opt-in (HIP-0011): create and update the chart's `crds/` before upgrading;
    /// Helm leaves CRDs alone on upgrade.
    pub update_crds: bool,
}

/// Whether `rel` has hooks for `event`.
fn has_hooks(rel: &Release, event: &str) -> bool {
    rel.hooks
        .iter()
        .any(|h| h.events.iter().any(|e| e == event))
}

fn is_csa(method: &str) -> bool {
    method.is_empty() || method == "csa"
}

/// Upgrades release `name` to `chart` with user values `vals`.
pub async fn upgrade(
    cfg: &mut Config,
    name: &str,
    mut chart: Chart,
    vals: Value,
    opts: &UpgradeOptions,
) -> Result<Release> {
    cfg.kube.is_reachable().await?;
    let mut wait = opts.wait.clone();
    if opts.rollback_on_failure {
        wait.wait = true;
    }
    if validate_release_name(name).is_err() {
        return Err(format!("release name is invalid: {name}").into());
    }
    // prepareUpgrade
    if !opts.dry_run.is_dry_run() && opts.hide_secret {
        return Err("hiding Kubernetes secrets requires a dry-run mode".into());
    }
    let (last, history) = cfg.storage.last_for_upgrade_with_history(name).await?;
    let current = if last.status() == Status::Deployed {
        last.clone()
    } else {
        match cfg.storage.deployed(name).await {
            Ok(r) => r,
            Err(rudder_state::Error::NoDeployedReleases(_))
                if matches!(last.status(), Status::Failed | Status::Superseded) =>
            {
                last.clone()
            }
            Err(e) => return Err(e.into()),
        }
    };
    let vals = reuse_values(&mut chart, &current, vals, opts)?;
    let mut warnings = Vec::new();
    rudder_chart::process_dependencies(&mut chart, &vals, &mut warnings).map_err(|e| e.to_string())?;
    if opts.update_crds && !opts.dry_run.is_dry_run() {
        let crds = rudder_chart::render::template::crd_objects(&chart);
        if !crds.is_empty() {
            super::install::apply_crds(&cfg.kube, &crds, true).await?;
        }
    }
    let revision = last.version + 1;
    let release_opts = ReleaseOptions {
        name: name.to_string(),
        namespace: current.namespace.clone(),
        revision,
        is_upgrade: true,
        is_install: false,
    };
    let caps = render::capabilities(&cfg.kube).await?;
    let values = render::coalesce(&chart, &vals, opts.skip_schema_validation)?;
    let flags = render::RenderFlags {
        sub_notes: opts.sub_notes,
        hide_secret: opts.hide_secret,
        enable_dns: opts.enable_dns,
    };
    // `--dry-run=client` renders without the cluster (lookup gives empty maps), as Helm.
    let lookups = if opts.dry_run.interacts() {
        render::lookups(&cfg.kube)
    } else {
        None
    };
    let rendered = render::render(&chart, values, &release_opts, &caps, &flags, lookups)?;
    check_labels(&opts.labels)?;

    let mut up = Release::new(name, &current.namespace, revision);
    up.chart = Some(render::stored_chart(&chart));
    up.config = render::to_json(&vals);
    up.info = Some(Info {
        first_deployed: current.info.as_ref().and_then(|i| i.first_deployed.clone()),
        last_deployed: Some(now_rfc3339()),
        status: Status::PendingUpgrade,
        description: "Preparing upgrade".into(),
        notes: rendered.notes,
        ..Default::default()
    });
    up.manifest = rendered.manifest;
    up.hooks = rendered.hooks;
    up.labels = merge_custom_labels(&last.labels, &opts.labels);
    up.apply_method = APPLY_METHOD_SSA.into();
    let ns = current.namespace.clone();
    build(&cfg.kube, &up.manifest, &ns).await?;

    // performUpgrade
    let mut current_rs = build(&cfg.kube, &current.manifest, &ns).await.map_err(|e| {
        if e.0.contains("no matches for kind") {
            format!("current release manifest contains removed kubernetes api(s) for this kubernetes version and it is therefore unable to build the kubernetes objects for performing the diff. error from kubernetes: {e}")
        } else {
            format!("unable to build kubernetes objects from current release manifest: {e}")
        }
    })?;
    let mut target = build(&cfg.kube, &up.manifest, &ns)
        .await
        .map_err(|e| format!("unable to build kubernetes objects from new release manifest: {e}"))?;
    for r in target.iter_mut() {
        set_ownership(r, name, &ns);
    }
    let existing: HashSet<_> = current_rs.iter().map(Resource::key).collect();
    let to_create: Vec<Resource> = target
        .iter()
        .filter(|r| !existing.contains(&r.key()))
        .cloned()
        .collect();
    let adopted = cfg
        .kube
        .existing_resources(&to_create, name, &ns, opts.take_ownership)
        .await
        .map_err(|e| format!("unable to continue with update: {e}"))?;
    current_rs.extend(adopted);

    if opts.dry_run.is_dry_run() {
        if let Some(i) = up.info.as_mut() {
            i.description = opts
                .description
                .clone()
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "Dry run complete".into());
        }
        return Ok(up);
    }

    cfg.storage.max_history = opts.max_history;
    // Nothing was written since the history was read (the release's Lease is held).
    let record = cfg.storage.create_after(&up, history);
    // Without pre-upgrade hooks nothing runs between the record and the applies, so the
    // targets' existence is asked alongside the record's write.
    let hooks_first = !opts.disable_hooks && has_hooks(&up, "pre-upgrade");
    let found = async {
        if hooks_first {
            None
        } else {
            Some(cfg.kube.exist_all(&target).await)
        }
    };
    let (record, found) = tokio::join!(record, found);
    record?;

    let mut original = current.clone();
    match releasing(cfg, &mut up, &mut original, &current_rs, &target, found, &wait, opts).await {
        Ok(()) => {
            cfg.storage.update(&up).await?;
            Ok(up)
        }
        Err((created, e)) => Err(fail_release(cfg, up, created, e, &wait, opts).await),
    }
}

async fn releasing(
    cfg: &Config,
    up: &mut Release,
    original: &mut Release,
    current: &[Resource],
    target: &[Resource],
    found: Option<Vec<std::result::Result<bool, kube::Error>>>,
    wait: &WaitSettings,
    opts: &UpgradeOptions,
) -> std::result::Result<(), (Vec<Resource>, String)> {
    let kube = &cfg.kube;
    if !opts.disable_hooks {
        exec_hooks(kube, &cfg.storage, up, "pre-upgrade", wait.timeout)
            .await
            .map_err(|e| (Vec::new(), format!("pre-upgrade hooks failed: {e}")))?;
    }
    let aopts = ApplyOptions {
        force_conflicts: opts.force_conflicts,
        dry_run: false,
        upgrade_client_side_manager: is_csa(&original.apply_method),
        force_replace: opts.force_replace,
    };
    let (res, r) = kube.update_found(current, target, &aopts, found).await;
    if let Err(e) = r {
        cfg.record(original).await;
        return Err((res.created, e.0));
    }
    if let Err(e) = wait.wait_ready(kube, target).await {
        cfg.record(original).await;
        return Err((res.created, e));
    }
    if !opts.disable_hooks {
        exec_hooks(kube, &cfg.storage, up, "post-upgrade", wait.timeout)
            .await
            .map_err(|e| (res.created.clone(), format!("post-upgrade hooks failed: {e}")))?;
    }
    if let Some(i) = original.info.as_mut() {
        i.status = Status::Superseded;
    }
    cfg.record(original).await;
    let desc = opts
        .description
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "Upgrade complete".into());
    up.set_status(Status::Deployed, desc);
    Ok(())
}

async fn fail_release(
    cfg: &mut Config,
    mut rel: Release,
    created: Vec<Resource>,
    err: String,
    wait: &WaitSettings,
    opts: &UpgradeOptions,
) -> ActionError {
    let msg = format!("Upgrade {} failed: {err}", crate::kube::resource::go_quote(&rel.name));
    eprintln!(
        "level=WARN msg=\"upgrade failed\" name={} error={}",
        rudder_chart::manifest::sorter::slog_value(&rel.name),
        rudder_chart::manifest::sorter::slog_value(&err)
    );
    rel.set_status(Status::Failed, msg);
    cfg.record(&rel).await;
    if opts.cleanup_on_fail && !created.is_empty() {
        let (_, errs) = cfg.kube.delete_all(&created, PropagationPolicy::Background).await;
        if !errs.is_empty() {
            return ActionError {
                message: format!(
                    "an error occurred while cleaning up resources. original upgrade error: {err}: unable to cleanup resources: {}",
                    errs.join(", ")
                ),
                release: Some(Box::new(rel)),
            };
        }
    }
    if opts.rollback_on_failure {
        let hist = match cfg.storage.history(&rel.name).await {
            Ok(h) => h,
            Err(he) => {
                return ActionError {
                    message: format!(
                        "an error occurred while finding last successful release. original upgrade error: {err}: {he}"
                    ),
                    release: Some(Box::new(rel)),
                }
            }
        };
        let Some(target) = hist
            .iter()
            .filter(|r| matches!(r.status(), Status::Superseded | Status::Deployed))
            .map(|r| r.version)
            .max()
        else {
            return ActionError {
                message: format!("unable to find a previously successful release when attempting to rollback. original upgrade error: {err}"),
                release: Some(Box::new(rel)),
            };
        };
        let ropts = RollbackOptions {
            version: target,
            wait: wait.clone(),
            disable_hooks: opts.disable_hooks,
            force_conflicts: opts.force_conflicts,
            force_replace: opts.force_replace,
            max_history: opts.max_history,
            ..Default::default()
        };
        if let Err(re) = rollback(cfg, &rel.name, &ropts).await {
            return ActionError {
                message: format!(
                    "an error occurred while rolling back the release. original upgrade error: {err}: {re}"
                ),
                release: Some(Box::new(rel)),
            };
        }
        return ActionError {
            message: format!(
                "release {} failed, and has been rolled back due to rollback-on-failure being set: {err}",
                rel.name
            ),
            release: Some(Box::new(rel)),
        };
    }
    ActionError {
        message: err,
        release: Some(Box::new(rel)),
    }
}

fn is_empty_map(v: &Value) -> bool {
    match v {
        Value::Map(m) => m.read().is_empty(),
        Value::Nil | Value::Missing => true,
        _ => false,
    }
}

/// Helm's `reuseValues`.
fn reuse_values(chart: &mut Chart, current: &Release, new_vals: Value, opts: &UpgradeOptions) -> Result<Value> {
    if opts.reset_values {
        return Ok(new_vals);
    }
    let old_config = match render::from_json(&current.config) {
        Value::Nil | Value::Missing => Value::empty_map(),
        v => v,
    };
    let mut w = Vec::new();
    if opts.reuse_values {
        let old_chart = current
            .chart
            .as_ref()
            .map(render::chart_from_record)
            .transpose()
            .map_err(|e| format!("failed to rebuild old values: {e}"))?;
        if let Some(oc) = old_chart {
            let old_vals = rudder_chart::coalesce_values(&oc, &old_config, &mut w)
                .map_err(|e| format!("failed to rebuild old values: {e}"))?;
            chart.values = old_vals;
        }
        return Ok(rudder_chart::values::coalesce_tables(&new_vals, &old_config, &mut w));
    }
    if opts.reset_then_reuse_values {
        return Ok(rudder_chart::values::coalesce_tables(&new_vals, &old_config, &mut w));
    }
    if is_empty_map(&new_vals) && !is_empty_map(&old_config) {
        return Ok(old_config);
    }
    Ok(new_vals)
}

/// Whether a release exists for `upgrade --install` (Helm's check: history has no
/// revision, or only an uninstalled one kept with `--keep-history`).
pub async fn needs_install(cfg: &Config, name: &str) -> Result<bool> {
    match cfg.storage.history(name).await {
        Err(rudder_state::Error::NotFound) => Ok(true),
        Err(e) => Err(e.into()),
        Ok(h) => Ok(h.is_empty() || super::latest(h).is_some_and(|r| r.status() == Status::Uninstalled)),
    }
}
