//! `helm uninstall` (pkg/action/uninstall.go): pre-delete hooks, the manifest's objects deleted
//! in UninstallOrder (those annotated `helm.sh/resource-policy: keep` and those not owned by the
//! release left alone), post-delete hooks, then the history purged or, with `--keep-history`,
//! the last revision marked uninstalled.

use std::collections::BTreeMap;

use kube::api::PropagationPolicy;
use rudder_chart::manifest::sort::UNINSTALL_ORDER;
use rudder_chart::manifest::sorter::sort_manifests;
use rudder_chart::manifest::split::split_manifests;
use rudder_chart::render::template::validate_release_name;
use rudder_state::release::{now_rfc3339, Release, Status};

use super::{build, latest, Config, Result, WaitSettings};
use crate::hooks::exec_hooks;
use crate::kube::apply::{check_ownership, wait_targets, KEEP_POLICY, RESOURCE_POLICY_ANNOTATION};
use crate::kube::Resource;
use crate::wait::wait_deleted;

/// Uninstall's switches.
#[derive(Debug, Clone)]
pub struct UninstallOptions {
    pub disable_hooks: bool,
    pub keep_history: bool,
    /// `--wait`: wait until the deleted objects are gone.
    pub wait: WaitSettings,
    /// `--cascade`: `background` (default), `foreground` or `orphan`.
    pub cascade: String,
    pub description: Option<String>,
    pub ignore_not_found: bool,
    pub dry_run: bool,
}

impl Default for UninstallOptions {
    fn default() -> Self {
        UninstallOptions {
            disable_hooks: false,
            keep_history: false,
            wait: WaitSettings::default(),
            cascade: "background".into(),
            description: None,
            ignore_not_found: false,
            dry_run: false,
        }
    }
}

/// The uninstalled release and the text about what was kept.
#[derive(Debug, Clone, Default)]
pub struct UninstallResult {
    pub release: Option<Release>,
    pub info: String,
}

fn propagation(cascade: &str) -> PropagationPolicy {
    match cascade {
        "orphan" => PropagationPolicy::Orphan,
        "foreground" => PropagationPolicy::Foreground,
        _ => PropagationPolicy::Background,
    }
}

/// The stored manifest's documents in UninstallOrder, split into kept and to-delete
/// (Helm's `filterManifestsToKeep`: a policy other than `keep` keeps nothing and deletes
/// nothing).
fn manifests_by_policy(manifest: &str) -> std::result::Result<(Vec<(String, String)>, String), String> {
    let files: BTreeMap<String, String> = split_manifests(manifest)
        .into_iter()
        .enumerate()
        .map(|(i, d)| (format!("manifest-{i:06}"), d.to_string()))
        .collect();
    let (_, sorted) = sort_manifests(&files, UNINSTALL_ORDER)?;
    let mut kept = Vec::new();
    let mut delete = String::new();
    for m in sorted {
        let ann = m
            .head
            .metadata
            .as_ref()
            .and_then(|md| md.annotations.as_ref())
            .filter(|a| !a.is_empty());
        match ann.and_then(|a| a.get(RESOURCE_POLICY_ANNOTATION)) {
            None => {
                delete.push_str("\n---\n");
                delete.push_str(&m.content);
            }
            Some(p) if p.trim().to_lowercase() == KEEP_POLICY => {
                let name = m.head.metadata.as_ref().map(|md| md.name.clone()).unwrap_or_default();
                kept.push((m.head.kind.clone(), name));
            }
            Some(_) => {}
        }
    }
    Ok((kept, delete))
}

/// Uninstalls release `name`.
pub async fn uninstall(cfg: &Config, name: &str, opts: &UninstallOptions) -> Result<UninstallResult> {
    cfg.kube.is_reachable().await?;
    if opts.dry_run {
        let rel = match cfg.storage.last(name).await {
            Ok(r) => r,
            Err(e) if opts.ignore_not_found && e.is_not_found() => return Ok(UninstallResult::default()),
            Err(e) => return Err(e.into()),
        };
        let mut info = String::new();
        if let Ok((kept, _)) = manifests_by_policy(&rel.manifest) {
            if !kept.is_empty() {
                info.push_str("These resources were kept due to the resource policy:\n");
                for (k, n) in kept {
                    info.push_str(&format!("[{k}] {n}\n"));
                }
            }
        }
        return Ok(UninstallResult {
            release: Some(rel),
            info,
        });
    }
    if validate_release_name(name).is_err() {
        return Err(format!("uninstall: Release name is invalid: {name}").into());
    }
    let rels = match cfg.storage.history(name).await {
        Ok(h) => h,
        Err(_) if opts.ignore_not_found => return Ok(UninstallResult::default()),
        Err(e) => return Err(format!("uninstall: Release not loaded: {name}: {e}").into()),
    };
    if rels.is_empty() {
        return Err("no release provided".into());
    }
    let mut rel = latest(rels.clone()).expect("history is not empty");
    if rel.status() == Status::Uninstalled {
        if !opts.keep_history {
            purge(cfg, &rels)
                .await
                .map_err(|e| format!("uninstall: Failed to purge the release: {e}"))?;
            return Ok(UninstallResult {
                release: Some(rel),
                info: String::new(),
            });
        }
        return Err(format!(
            "the release named {} is already deleted",
            crate::kube::resource::go_quote(name)
        )
        .into());
    }
    rel.set_status(Status::Uninstalling, "Deletion in progress (or silently failed)");
    if let Some(i) = rel.info.as_mut() {
        i.deleted = Some(now_rfc3339());
    }
    let timeout = opts.wait.timeout;
    if !opts.disable_hooks {
        exec_hooks(&cfg.kube, &cfg.storage, &mut rel, "pre-delete", timeout).await?;
    }
    cfg.record(&rel).await;

    let (deleted, kept, del_errs) = delete_release(cfg, &rel, &opts.cascade).await;
    if !del_errs.is_empty() {
        return Err(format!("failed to delete release: {name}").into());
    }
    let mut errs: Vec<String> = Vec::new();
    if opts.wait.wait && !deleted.is_empty() {
        if let Err(e) = wait_deleted(&cfg.kube.client, &wait_targets(&deleted), timeout).await {
            errs.push(e.to_string());
        }
    }
    if !opts.disable_hooks {
        if let Err(e) = exec_hooks(&cfg.kube, &cfg.storage, &mut rel, "post-delete", timeout).await {
            errs.push(e);
        }
    }
    let desc = opts
        .description
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "Uninstallation complete".into());
    rel.set_status(Status::Uninstalled, desc);
    let result = UninstallResult {
        release: Some(rel.clone()),
        info: kept,
    };
    if !opts.keep_history {
        if let Err(e) = purge(cfg, &rels).await {
            errs.push(format!("uninstall: Failed to purge the release: {e}"));
        }
    } else {
        cfg.record(&rel).await;
        if let Ok(deployed) = cfg.storage.deployed_all(name).await {
            for mut d in deployed {
                if let Some(i) = d.info.as_mut() {
                    i.status = Status::Superseded;
                }
                cfg.record(&d).await;
            }
        }
    }
    if !errs.is_empty() {
        return Err(format!(
            "uninstallation completed with {} error(s): {}",
            errs.len(),
            errs.join("; ")
        )
        .into());
    }
    Ok(result)
}

async fn purge(cfg: &Config, rels: &[Release]) -> std::result::Result<(), rudder_state::Error> {
    for r in rels {
        cfg.storage.delete(&r.name, r.version).await?;
    }
    Ok(())
}

/// Helm's `deleteRelease`: the deleted objects, the "kept" text, the errors.
async fn delete_release(cfg: &Config, rel: &Release, cascade: &str) -> (Vec<Resource>, String, Vec<String>) {
    let (kept_list, to_delete) = match manifests_by_policy(&rel.manifest) {
        Ok(x) => x,
        Err(e) => {
            return (
                Vec::new(),
                rel.manifest.clone(),
                vec![format!(
                    "corrupted release record. You must manually delete the resources: {e}"
                )],
            )
        }
    };
    let mut kept = String::new();
    if !kept_list.is_empty() {
        kept.push_str("These resources were kept due to the resource policy:\n");
        for (k, n) in &kept_list {
            kept.push_str(&format!("[{k}] {n}\n"));
        }
    }
    let resources = match build(&cfg.kube, &to_delete, &rel.namespace).await {
        Ok(r) => r,
        Err(e) => {
            return (
                Vec::new(),
                String::new(),
                vec![format!("unable to build kubernetes objects for delete: {e}")],
            )
        }
    };
    let mut owned = Vec::new();
    let mut unowned = Vec::new();
    let mut unverifiable = Vec::new();
    for r in resources {
        match cfg.kube.get_live(&r).await {
            Ok(None) => {}
            Err(e) => unverifiable.push((r, e.0)),
            Ok(Some(live)) => {
                if check_ownership(&live, &rel.name, &rel.namespace).is_ok() {
                    owned.push(r);
                } else {
                    unowned.push(r);
                }
            }
        }
    }
    if !unowned.is_empty() {
        if !kept.is_empty() {
            kept.push('\n');
        }
        kept.push_str(&format!(
            "{} resource(s) were not deleted because they are not owned by this release:\n",
            unowned.len()
        ));
        for r in &unowned {
            kept.push_str(&format!("[{}] {}\n", r.kind(), r.name));
        }
    }
    if !unverifiable.is_empty() {
        if !kept.is_empty() {
            kept.push('\n');
        }
        kept.push_str(&format!(
            "{} resource(s) were not deleted because their ownership could not be verified:\n",
            unverifiable.len()
        ));
        for (r, e) in &unverifiable {
            kept.push_str(&format!("[{}] {}: {e}\n", r.kind(), r.name));
        }
    }
    if owned.is_empty() {
        return (owned, kept, Vec::new());
    }
    let (deleted, errs) = cfg.kube.delete_all(&owned, propagation(cascade)).await;
    (deleted, kept, errs)
}
