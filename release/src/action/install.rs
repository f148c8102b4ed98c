//! `helm install` (pkg/action/install.go `RunWithContext`, `performInstall`, `failRelease`).

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::{Api, DynamicObject};
use rudder_chart::model::Chart;
use rudder_chart::render::template::{crd_objects, validate_release_name};
use rudder_chart::render::{Capabilities, ReleaseOptions};
use rudder_engine::Value;
use rudder_state::release::{Release, Status};
use serde_json::json;

use super::uninstall::{uninstall, UninstallOptions};
use super::{build, check_labels, latest, ActionError, Config, DryRun, Result, WaitSettings};
use crate::hooks::exec_hooks;
use crate::kube::apply::{set_ownership, ApplyOptions};
use crate::kube::{resource, Kube, KubeError};
use crate::render;

/// Install's switches (Helm's `action.Install` fields the CLI sets).
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    pub release_name: String,
    pub create_namespace: bool,
    pub description: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub wait: WaitSettings,
    /// `--atomic` / `--rollback-on-failure`: uninstall on failure (implies `--wait`).
    pub rollback_on_failure: bool,
    pub dry_run: DryRun,
    pub skip_crds: bool,
    /// `--no-hooks`.
    pub disable_hooks: bool,
    pub take_ownership: bool,
    pub force_conflicts: bool,
    pub skip_schema_validation: bool,
    pub sub_notes: bool,
    /// `--hide-secret` (only with a dry run).
    pub hide_secret: bool,
    /// `--enable-dns`.
    pub enable_dns: bool,
    /// `--replace`: reuse the name of an uninstalled or failed release.
    pub replace: bool,
    /// `--kube-version` / `--api-versions` for `--dry-run=client`.
    pub client_caps: Option<Capabilities>,
}

/// Installs `chart` (loaded, dependencies not yet processed) with the user values `vals`.
pub async fn install(cfg: &Config, mut chart: Chart, vals: Value, opts: &InstallOptions) -> Result<Release> {
    let kube = &cfg.kube;
    let ns = kube.namespace.clone();
    if opts.dry_run.interacts() {
        if let Err(e) = kube.is_reachable().await {
            let msg = format!("cluster reachability check failed: {e}");
            eprintln!("level=ERROR msg={}", rudder_chart::manifest::sorter::slog_value(&msg));
            return Err(msg.into());
        }
    }
    if !opts.dry_run.is_dry_run() && opts.hide_secret {
        eprintln!("level=ERROR msg=\"hiding Kubernetes secrets requires a dry-run mode\"");
        return Err("hiding Kubernetes secrets requires a dry-run mode".into());
    }
    if let Err(e) = available_name(cfg, opts).await {
        let inner = e
            .message
            .strip_prefix("release name check failed: ")
            .unwrap_or(&e.message)
            .to_string();
        eprintln!(
            "level=ERROR msg=\"release name check failed\" error={}",
            rudder_chart::manifest::sorter::slog_value(&inner)
        );
        return Err(format!("release name check failed: {inner}").into());
    }
    let mut warnings = Vec::new();
    rudder_chart::process_dependencies(&mut chart, &vals, &mut warnings)
        .map_err(|e| format!("chart dependencies processing failed: {e}"))?;

    let crds = crd_objects(&chart);
    if opts.dry_run.interacts() && !opts.skip_crds && !crds.is_empty() {
        if opts.dry_run.is_dry_run() {
            eprintln!("level=WARN msg=\"This chart or one of its subcharts contains CRDs. Rendering may fail or contain inaccuracies.\"");
        } else {
            install_crds(kube, &crds).await?;
        }
    }

    let mut wait = opts.wait.clone();
    if opts.rollback_on_failure {
        wait.wait = true;
    }

    let caps = if opts.dry_run.interacts() {
        render::capabilities(kube).await?
    } else {
        opts.client_caps.clone().unwrap_or_else(Capabilities::helm_default)
    };
    let release_opts = ReleaseOptions {
        name: opts.release_name.clone(),
        namespace: ns.clone(),
        revision: 1,
        is_install: true,
        is_upgrade: false,
    };
    let values = render::coalesce(&chart, &vals, opts.skip_schema_validation)?;
    check_labels(&opts.labels)?;

    let mut rel = Release::new(&opts.release_name, &ns, 1);
    rel.chart = Some(render::stored_chart(&chart));
    rel.config = render::to_json(&vals);
    rel.labels = opts.labels.clone();
    let lookups = if opts.dry_run.interacts() {
        render::lookups(kube)
    } else {
        None
    };
    let flags = render::RenderFlags {
        sub_notes: opts.sub_notes,
        hide_secret: opts.hide_secret,
        enable_dns: opts.enable_dns,
    };
    let rendered = render::render(&chart, values, &release_opts, &caps, &flags, lookups)?;
    rel.hooks = rendered.hooks;
    rel.manifest = rendered.manifest;
    if let Some(i) = rel.info.as_mut() {
        i.notes = rendered.notes;
    }
    rel.set_status(Status::PendingInstall, "Initial install underway");

    if !opts.dry_run.interacts() {
        rel.set_status(Status::PendingInstall, "Dry run complete");
        return Ok(rel);
    }
    let mut resources = build(kube, &rel.manifest, &ns)
        .await
        .map_err(|e| format!("unable to build kubernetes objects from release manifest: {e}"))?;
    for r in resources.iter_mut() {
        set_ownership(r, &rel.name, &rel.namespace);
    }
    let to_adopt = if resources.is_empty() {
        Vec::new()
    } else {
        kube.existing_resources(&resources, &rel.name, &rel.namespace, opts.take_ownership)
            .await
            .map_err(|e| format!("unable to continue with install: {e}"))?
    };

    if opts.dry_run.is_dry_run() {
        if let Some(i) = rel.info.as_mut() {
            i.description = "Dry run complete".into();
        }
        return Ok(rel);
    }

    if opts.create_namespace {
        create_namespace(kube, &ns).await?;
    }

    if opts.replace {
        replace_release(cfg, &mut rel).await?;
    }
    cfg.storage.create(&rel).await?;

    match perform(cfg, &mut rel, &to_adopt, &resources, &wait, opts).await {
        Ok(()) => Ok(rel),
        Err(e) => Err(fail_release(cfg, rel, e, &wait, opts).await),
    }
}

async fn perform(
    cfg: &Config,
    rel: &mut Release,
    to_adopt: &[crate::kube::Resource],
    resources: &[crate::kube::Resource],
    wait: &WaitSettings,
    opts: &InstallOptions,
) -> std::result::Result<(), String> {
    let kube = &cfg.kube;
    if !opts.disable_hooks {
        exec_hooks(kube, &cfg.storage, rel, "pre-install", wait.timeout)
            .await
            .map_err(|e| format!("failed pre-install: {e}"))?;
    }
    let aopts = ApplyOptions {
        force_conflicts: opts.force_conflicts,
        ..Default::default()
    };
    if !resources.is_empty() {
        if to_adopt.is_empty() {
            kube.create_all(resources, &aopts).await.map_err(|e| e.0)?;
        } else {
            let aopts = ApplyOptions {
                upgrade_client_side_manager: true,
                ..aopts
            };
            let (_, r) = kube.update(to_adopt, resources, &aopts).await;
            r.map_err(|e| e.0)?;
        }
    }
    wait.wait_ready(kube, resources).await?;
    if !opts.disable_hooks {
        exec_hooks(kube, &cfg.storage, rel, "post-install", wait.timeout)
            .await
            .map_err(|e| format!("failed post-install: {e}"))?;
    }
    let desc = opts
        .description
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "Install complete".into());
    rel.set_status(Status::Deployed, desc);
    if let Err(e) = cfg.storage.update(rel).await {
        eprintln!(
            "level=ERROR msg=\"failed to record the release\" error={}",
            rudder_chart::manifest::sorter::slog_value(&e.to_string())
        );
    }
    Ok(())
}

async fn fail_release(
    cfg: &Config,
    mut rel: Release,
    err: String,
    wait: &WaitSettings,
    opts: &InstallOptions,
) -> ActionError {
    rel.set_status(
        Status::Failed,
        format!("Release {} failed: {err}", resource::go_quote(&opts.release_name)),
    );
    if opts.rollback_on_failure {
        let u = UninstallOptions {
            disable_hooks: opts.disable_hooks,
            keep_history: false,
            wait: WaitSettings {
                wait: wait.wait,
                wait_for_jobs: false,
                timeout: wait.timeout,
            },
            ..Default::default()
        };
        // The failed state is stored first so uninstall finds the latest revision.
        cfg.record(&rel).await;
        if let Err(ue) = uninstall(cfg, &opts.release_name, &u).await {
            return ActionError {
                message: format!(
                    "an error occurred while uninstalling the release. original install error: {err}: {ue}"
                ),
                release: Some(Box::new(rel)),
            };
        }
        return ActionError {
            message: format!(
                "release {} failed, and has been uninstalled due to rollback-on-failure being set: {err}",
                opts.release_name
            ),
            release: Some(Box::new(rel)),
        };
    }
    cfg.record(&rel).await;
    ActionError {
        message: err,
        release: Some(Box::new(rel)),
    }
}

/// Helm's `replaceRelease`: the new record takes the next revision; the last one, unless it
/// failed, is marked superseded.
async fn replace_release(cfg: &Config, rel: &mut Release) -> Result<()> {
    let Ok(h) = cfg.storage.history(&rel.name).await else {
        return Ok(());
    };
    let Some(mut last) = latest(h) else { return Ok(()) };
    rel.version = last.version + 1;
    if last.status() == Status::Failed {
        return Ok(());
    }
    last.set_status(Status::Superseded, "superseded by new release");
    cfg.storage.update(&last).await?;
    Ok(())
}

/// Helm's `availableName`.
async fn available_name(cfg: &Config, opts: &InstallOptions) -> Result<()> {
    let name = &opts.release_name;
    if let Err(e) = validate_release_name(name) {
        return Err(e.into());
    }
    if opts.dry_run.is_dry_run() {
        return Ok(());
    }
    let Ok(h) = cfg.storage.history(name).await else {
        return Ok(());
    };
    let Some(last) = latest(h) else { return Ok(()) };
    let st = last.status();
    if opts.replace && (st == Status::Uninstalled || st == Status::Failed) {
        return Ok(());
    }
    Err("cannot reuse a name that is still in use".into())
}

/// `--create-namespace`: the namespace with label `name=<ns>`, applied; one that exists is fine.
pub async fn create_namespace(kube: &Kube, ns: &str) -> Result<()> {
    let rs = build(
        kube,
        &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    name: {ns}\n"),
        ns,
    )
    .await?;
    for r in &rs {
        if kube.get_live(r).await?.is_some() {
            continue;
        }
        kube.apply_one(r, &ApplyOptions::default()).await?;
    }
    Ok(())
}

/// Helm's `installCRDs`: each `crds/` file's objects created (ones that exist are left alone),
/// then waited until Established, and the REST mapper reset so their kinds resolve.
async fn install_crds(kube: &Kube, crds: &[(String, std::sync::Arc<[u8]>)]) -> Result<()> {
    apply_crds(kube, crds, false).await
}

/// CRDs of `crds/` created, or with `update` also applied when they exist (Rudder's opt-in
/// `--update-crds`, HIP-0011), then waited Established.
pub(crate) async fn apply_crds(kube: &Kube, crds: &[(String, std::sync::Arc<[u8]>)], update: bool) -> Result<()> {
    let mut created = Vec::new();
    for (name, data) in crds {
        let text = String::from_utf8_lossy(data);
        let rs = resource::build(&kube.mapper, &text, &kube.namespace)
            .await
            .map_err(|e| format!("failed to install CRD {name}: {e}"))?;
        if rs.is_empty() {
            return Err(format!("failed to install CRD {name}: resources are empty").into());
        }
        for r in rs {
            if !update && kube.get_live(&r).await?.is_some() {
                continue;
            }
            kube.apply_one(&r, &ApplyOptions::default())
                .await
                .map_err(|e| format!("failed to install CRD {name}: {e}"))?;
            created.push(r);
        }
    }
    if created.is_empty() {
        return Ok(());
    }
    wait_established(kube, &created, Duration::from_secs(60)).await?;
    kube.mapper.reset().await;
    Ok(())
}

/// Polls CRDs until their `Established` condition is True.
async fn wait_established(
    kube: &Kube,
    crds: &[crate::kube::Resource],
    timeout: Duration,
) -> std::result::Result<(), KubeError> {
    let deadline = tokio::time::Instant::now() + timeout;
    for r in crds.iter().filter(|r| r.kind() == "CustomResourceDefinition") {
        let api: Api<DynamicObject> = Api::all_with(kube.client.clone(), &r.mapping.api);
        loop {
            let ok = match api.get(&r.name).await {
                Ok(o) => {
                    let v = serde_json::to_value(o).unwrap_or_default();
                    v["status"]["conditions"].as_array().is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c["type"] == json!("Established") && c["status"] == json!("True"))
                    })
                }
                Err(_) => false,
            };
            if ok {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(KubeError(format!(
                    "context deadline exceeded: CRD {} not established",
                    r.name
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}
