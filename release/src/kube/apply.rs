//! Server-side apply and deletion as Helm 4's `pkg/kube` client does them: objects of one kind
//! at a time, the objects of that kind concurrently, kinds in the order given (InstallOrder);
//! Helm's ownership metadata and its refusal to adopt objects of another release
//! (pkg/action/validate.go); deletion that honours `helm.sh/resource-policy: keep`.

use std::collections::HashSet;

use futures::future::join_all;

/// How many existence reads [`Kube::exist_all`] has in flight: a chart of hundreds of objects
/// must not open hundreds of connections to the apiserver at once (the client speaks HTTP/1.1).
const EXIST_READS: usize = 16;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PropagationPolicy, ValidationDirective};
use serde_json::{json, Map, Value};

use super::resource::{go_quote, ObjectRef, Resource};
use super::{api_message, is_conflict, is_not_found, Kube, KubeError};

pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_HELM: &str = "Helm";
pub const RELEASE_NAME_ANNOTATION: &str = "meta.helm.sh/release-name";
pub const RELEASE_NAMESPACE_ANNOTATION: &str = "meta.helm.sh/release-namespace";
pub const RESOURCE_POLICY_ANNOTATION: &str = "helm.sh/resource-policy";
pub const KEEP_POLICY: &str = "keep";

/// How to apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// `--force-conflicts`: take fields owned by other managers.
    pub force_conflicts: bool,
    /// Server-side dry run (`--dry-run=server`).
    pub dry_run: bool,
    /// Move fields the same manager owns through client-side `Update` entries to its `Apply`
    /// entry first (a release last applied client-side, e.g. by helm 3).
    pub upgrade_client_side_manager: bool,
    /// `--force-replace`: Helm refuses it together with server-side apply.
    pub force_replace: bool,
}

/// What an update did (Helm's `kube.Result`).
#[derive(Debug, Clone, Default)]
pub struct UpdateResult {
    pub created: Vec<Resource>,
    pub updated: Vec<Resource>,
    pub deleted: Vec<Resource>,
}

/// Sets Helm's ownership label and annotations on a rendered object (`setMetadataVisitor`
/// with force: the chart's own values for these keys are overwritten).
pub fn set_ownership(r: &mut Resource, release: &str, namespace: &str) {
    let md = r
        .obj
        .as_object_mut()
        .map(|o| o.entry("metadata").or_insert_with(|| json!({})));
    let Some(Value::Object(md)) = md else { return };
    let labels = md.entry("labels").or_insert_with(|| json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    labels[MANAGED_BY_LABEL] = json!(MANAGED_BY_HELM);
    let ann = md.entry("annotations").or_insert_with(|| json!({}));
    if !ann.is_object() {
        *ann = json!({});
    }
    ann[RELEASE_NAME_ANNOTATION] = json!(release);
    ann[RELEASE_NAMESPACE_ANNOTATION] = json!(namespace);
}

fn string_map(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn require_value(m: &Map<String, Value>, k: &str, v: &str) -> Option<String> {
    match m.get(k) {
        None => Some(format!("missing key {}: must be set to {}", go_quote(k), go_quote(v))),
        Some(actual) => {
            let a = actual.as_str().unwrap_or("");
            (a != v).then(|| {
                format!(
                    "key {} must equal {}: current value is {}",
                    go_quote(k),
                    go_quote(v),
                    go_quote(a)
                )
            })
        }
    }
}

/// Helm's `checkOwnership` of a live object: `invalid ownership metadata; ...` when it does not
/// belong to the release.
pub fn check_ownership(live: &Value, release: &str, namespace: &str) -> Result<(), String> {
    let labels = string_map(&live["metadata"]["labels"]);
    let ann = string_map(&live["metadata"]["annotations"]);
    let mut errs = Vec::new();
    if let Some(e) = require_value(&labels, MANAGED_BY_LABEL, MANAGED_BY_HELM) {
        errs.push(format!("label validation error: {e}"));
    }
    if let Some(e) = require_value(&ann, RELEASE_NAME_ANNOTATION, release) {
        errs.push(format!("annotation validation error: {e}"));
    }
    if let Some(e) = require_value(&ann, RELEASE_NAMESPACE_ANNOTATION, namespace) {
        errs.push(format!("annotation validation error: {e}"));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!("invalid ownership metadata; {}", errs.join("; ")))
    }
}

/// Splits `items` into runs of the same kind (Helm's `batchPerform` waits between kinds).
fn kind_runs(items: &[Resource]) -> Vec<&[Resource]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=items.len() {
        if i == items.len() || items[i].kind() != items[start].kind() {
            if start < i {
                runs.push(&items[start..i]);
            }
            start = i;
        }
    }
    runs
}

impl Kube {
    fn api(&self, r: &Resource) -> Api<DynamicObject> {
        match &r.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &r.mapping.api),
            None => Api::all_with(self.client.clone(), &r.mapping.api),
        }
    }

    /// The live object, `None` when it does not exist.
    pub async fn get_live(&self, r: &Resource) -> Result<Option<Value>, KubeError> {
        match self.api(r).get(&r.name).await {
            Ok(o) => Ok(Some(serde_json::to_value(o).map_err(|e| KubeError(e.to_string()))?)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(KubeError(format!(
                "could not get information about the resource {}: {}",
                r.describe(),
                api_message(&e)
            ))),
        }
    }

    /// Helm's `existingResourceConflict` / `requireAdoption`: the objects that already exist
    /// (to be adopted); with `take_ownership` false, one owned by anything else than this
    /// release is an error.
    pub async fn existing_resources(
        &self,
        rs: &[Resource],
        release: &str,
        namespace: &str,
        take_ownership: bool,
    ) -> Result<Vec<Resource>, KubeError> {
        // Objects named by `generateName` are new each time: nothing to adopt.
        let named: Vec<&Resource> = rs.iter().filter(|r| !r.name.is_empty()).collect();
        let lives = join_all(named.iter().map(|r| self.get_live(r))).await;
        let mut out = Vec::new();
        for (r, live) in named.into_iter().zip(lives) {
            let Some(live) = live? else { continue };
            if !take_ownership {
                if let Err(e) = check_ownership(&live, release, namespace) {
                    return Err(KubeError(format!(
                        "{} exists and cannot be imported into the current release: {e}",
                        r.describe()
                    )));
                }
            }
            out.push(r.clone());
        }
        Ok(out)
    }

    /// Server-side apply of one object (Helm's `patchResourceServerSide`).
    pub async fn apply_one(&self, r: &Resource, opts: &ApplyOptions) -> Result<Value, KubeError> {
        if opts.upgrade_client_side_manager {
            self.upgrade_client_side_manager(r, opts.dry_run).await?;
        }
        let pp = PatchParams {
            dry_run: opts.dry_run,
            force: opts.force_conflicts,
            field_manager: Some(self.field_manager.clone()),
            field_validation: Some(ValidationDirective::Strict),
        };
        crate::progress::note(format!("applying {} {}", r.kind(), r.ns_name().trim_start_matches('/')));
        match self.api(r).patch(&r.name, &pp, &Patch::Apply(&r.obj)).await {
            Ok(o) => serde_json::to_value(o).map_err(|e| KubeError(e.to_string())),
            Err(e) => {
                let what = if is_conflict(&e) {
                    "conflict occurred while applying"
                } else {
                    "server-side apply failed for"
                };
                Err(KubeError(format!(
                    "{what} object {} {}: {}",
                    r.ns_name(),
                    r.gvk_string(),
                    api_message(&e)
                )))
            }
        }
    }

    /// Helm's `upgradeClientSideFieldManager` (csaupgrade): the field set our manager owns
    /// through `Update` entries is merged into its `Apply` entry, so server-side apply can later
    /// remove fields a client-side apply set.
    async fn upgrade_client_side_manager(&self, r: &Resource, dry_run: bool) -> Result<(), KubeError> {
        let Some(live) = self.get_live(r).await? else {
            return Ok(());
        };
        let fields = live["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let is_csa = |e: &Value| {
            e["manager"] == json!(self.field_manager)
                && e["operation"] == json!("Update")
                && e.get("subresource").and_then(Value::as_str).unwrap_or("").is_empty()
        };
        if !fields.iter().any(is_csa) {
            return Ok(());
        }
        let mut merged = json!({});
        let mut rest = Vec::new();
        let mut apply_idx = None;
        for e in &fields {
            if is_csa(e) {
                merge_fields(&mut merged, &e["fieldsV1"]);
            } else {
                if e["manager"] == json!(self.field_manager) && e["operation"] == json!("Apply") {
                    apply_idx = Some(rest.len());
                }
                rest.push(e.clone());
            }
        }
        match apply_idx {
            Some(i) => merge_fields(&mut rest[i]["fieldsV1"], &merged),
            None => rest.push(json!({
                "manager": self.field_manager,
                "operation": "Apply",
                "apiVersion": r.mapping.api.api_version,
                "fieldsType": "FieldsV1",
                "fieldsV1": merged,
                "time": live["metadata"]["creationTimestamp"],
            })),
        }
        // A merge patch replaces the list whole; the resourceVersion makes it conditional.
        let patch =
            json!({"metadata": {"resourceVersion": live["metadata"]["resourceVersion"], "managedFields": rest}});
        let pp = PatchParams {
            dry_run,
            field_manager: Some(self.field_manager.clone()),
            ..Default::default()
        };
        let patch = Patch::Merge(patch);
        self.api(r).patch(&r.name, &pp, &patch).await.map_err(|e| {
            KubeError(format!(
                "failed to patch object to upgrade CSA field manager {} {}: {}",
                r.ns_name(),
                r.gvk_string(),
                api_message(&e)
            ))
        })?;
        Ok(())
    }

    /// Helm's `Create` with server-side apply: kinds one after another, each kind's objects
    /// concurrently; every failure is reported (joined with newlines, as Go's `errors.Join`).
    pub async fn create_all(&self, rs: &[Resource], opts: &ApplyOptions) -> Result<(), KubeError> {
        let mut errs = Vec::new();
        for run in kind_runs(rs) {
            for res in join_all(run.iter().map(|r| self.apply_one(r, opts))).await {
                if let Err(e) = res {
                    errs.push(e.0);
                }
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(KubeError(errs.join("\n")))
        }
    }

    /// Helm's `Update`: targets that do not exist are created, the others applied; then the
    /// originals no longer in the targets are deleted unless their live object says `keep`.
    pub async fn update(
        &self,
        originals: &[Resource],
        targets: &[Resource],
        opts: &ApplyOptions,
    ) -> (UpdateResult, Result<(), KubeError>) {
        self.update_found(originals, targets, opts, None).await
    }

    /// Whether each target exists (reads only, [`EXIST_READS`] at a time, in target order),
    /// as [`Kube::update_found`] takes it.
    pub async fn exist_all(&self, targets: &[Resource]) -> Vec<Result<bool, kube::Error>> {
        let mut out = Vec::with_capacity(targets.len());
        for chunk in targets.chunks(EXIST_READS) {
            out.extend(join_all(chunk.iter().map(|t| async move { self.api(t).get_opt(&t.name).await.map(|o| o.is_some()) })).await);
        }
        out
    }

    /// [`Kube::update`], with the targets' existence already asked ([`Kube::exist_all`], in
    /// target order) when `found` is given: a caller sends those reads alongside its own
    /// writes when nothing in between can change the objects.
    pub async fn update_found(
        &self,
        originals: &[Resource],
        targets: &[Resource],
        opts: &ApplyOptions,
        found: Option<Vec<Result<bool, kube::Error>>>,
    ) -> (UpdateResult, Result<(), KubeError>) {
        let mut res = UpdateResult::default();
        if opts.force_replace && opts.force_conflicts {
            return (
                res,
                Err(KubeError::new(
                    "invalid operation: cannot use force conflicts and force replace together",
                )),
            );
        }
        if opts.force_replace {
            return (
                res,
                Err(KubeError::new(
                    "invalid operation: cannot use server-side apply and force replace together",
                )),
            );
        }
        let mut errs: Vec<String> = Vec::new();
        // Whether each target exists, asked for all kinds at once (reads only, so their order
        // is free); each kind's applies still wait for the kinds before it.
        let found = match found {
            Some(f) if f.len() == targets.len() => f,
            _ => self.exist_all(targets).await,
        };
        let mut found = found.into_iter();
        for run in kind_runs(targets) {
            let found: Vec<_> = found.by_ref().take(run.len()).collect();
            let outcomes = join_all(run.iter().zip(found).map(|(t, exists)| async move {
                match exists {
                    Err(e) => (
                        false,
                        Err(KubeError(format!(
                            "could not get information about the resource: {}",
                            api_message(&e)
                        ))),
                    ),
                    Ok(false) => (
                        true,
                        self.apply_one(
                            t,
                            &ApplyOptions {
                                upgrade_client_side_manager: false,
                                ..opts.clone()
                            },
                        )
                        .await
                        .map(|_| ())
                        .map_err(|e| KubeError(format!("failed to create resource: {e}"))),
                    ),
                    Ok(true) => (false, self.apply_one(t, opts).await.map(|_| ())),
                }
            }))
            .await;
            let mut fatal = None;
            for (t, (created, r)) in run.iter().zip(outcomes) {
                if created {
                    res.created.push(t.clone());
                } else {
                    res.updated.push(t.clone());
                }
                if let Err(e) = r {
                    if created || e.0.starts_with("could not get") {
                        fatal.get_or_insert(e);
                    } else {
                        errs.push(e.0);
                    }
                }
            }
            if let Some(e) = fatal {
                return (res, Err(e));
            }
        }
        if !errs.is_empty() {
            return (res, Err(KubeError(errs.join(" && "))));
        }
        let target_keys: HashSet<ObjectRef> = targets.iter().map(Resource::key).collect();
        for o in originals.iter().filter(|o| !target_keys.contains(&o.key())) {
            let live = match self.get_live(o).await {
                Ok(Some(l)) => l,
                _ => continue,
            };
            if live["metadata"]["annotations"][RESOURCE_POLICY_ANNOTATION].as_str() == Some(KEEP_POLICY) {
                continue;
            }
            match self.delete_one(o, PropagationPolicy::Background, opts.dry_run).await {
                Ok(()) => res.deleted.push(o.clone()),
                Err(e) if is_not_found(&e) => {}
                Err(e) => errs.push(format!(
                    "failed to delete resource namespace={}, name={}, kind={}: {}",
                    o.namespace.as_deref().unwrap_or(""),
                    o.name,
                    o.kind(),
                    api_message(&e)
                )),
            }
        }
        if errs.is_empty() {
            (res, Ok(()))
        } else {
            (res, Err(KubeError(errs.join(" && "))))
        }
    }

    /// Deletes one object with the given propagation.
    pub async fn delete_one(&self, r: &Resource, policy: PropagationPolicy, dry_run: bool) -> Result<(), kube::Error> {
        let dp = DeleteParams {
            propagation_policy: Some(policy),
            dry_run,
            ..Default::default()
        };
        self.api(r).delete(&r.name, &dp).await?;
        crate::progress::note(format!("deleted {} {}", r.kind(), r.ns_name().trim_start_matches('/')));
        Ok(())
    }

    /// Helm's `Delete`: all objects (kinds in the order given, each kind concurrently); objects
    /// already gone count as deleted; other failures are collected.
    pub async fn delete_all(&self, rs: &[Resource], policy: PropagationPolicy) -> (Vec<Resource>, Vec<String>) {
        let mut deleted = Vec::new();
        let mut errs = Vec::new();
        for run in kind_runs(rs) {
            let outs = join_all(run.iter().map(|r| self.delete_one(r, policy.clone(), false))).await;
            for (r, o) in run.iter().zip(outs) {
                match o {
                    Ok(()) => deleted.push(r.clone()),
                    Err(e) if is_not_found(&e) => deleted.push(r.clone()),
                    Err(e) => errs.push(api_message(&e)),
                }
            }
        }
        (deleted, errs)
    }
}

/// Deep union of two `fieldsV1` trees.
fn merge_fields(dst: &mut Value, src: &Value) {
    if !dst.is_object() {
        *dst = json!({});
    }
    if let (Some(d), Some(s)) = (dst.as_object_mut(), src.as_object()) {
        for (k, v) in s {
            merge_fields(d.entry(k.clone()).or_insert_with(|| json!({})), v);
        }
    }
}

/// The `kube::discovery` targets of resources for the waiter.
pub fn wait_targets(rs: &[Resource]) -> Vec<crate::wait::WaitTarget> {
    rs.iter()
        .map(|r| crate::wait::WaitTarget {
            api: r.mapping.api.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
        })
        .collect()
}
