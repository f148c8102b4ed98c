//! Discovery and a cached REST mapper (GVK → resource + scope), as Helm's client-go
//! `DeferredDiscoveryRESTMapper`: filled on first use, reset after CRDs are installed so new
//! kinds resolve. The same pass gives the API version set Helm puts in `.Capabilities`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::discovery::ApiResource;
use kube::Client;
use tokio::sync::RwLock;
use tokio::task::JoinHandle;

use super::{api_message, KubeError};

/// How one kind is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub api: ApiResource,
    pub namespaced: bool,
}

#[derive(Debug, Default)]
struct Cache {
    /// (apiVersion, kind) → mapping.
    by_gvk: HashMap<(String, String), Mapping>,
    /// Every group/version and every `group/version/Kind` (Helm's `GetVersionSet`).
    api_versions: Vec<String>,
}

/// The server's version as `/version` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    pub git_version: String,
    pub major: String,
    pub minor: String,
}

/// A discovery running in the background.
type Ahead = JoinHandle<Result<Cache, KubeError>>;

/// Discovery results, fetched lazily (or ahead, [`Mapper::prefetch`]) and kept until
/// [`Mapper::reset`].
pub struct Mapper {
    client: Client,
    cache: RwLock<Option<Arc<Cache>>>,
    /// A discovery started ahead of its first use, so its round trips overlap the action's
    /// other requests; taken by that first use, dropped by a reset.
    ahead: Mutex<Option<Ahead>>,
    /// The server version as the reachability check just read it ([`Mapper::offer_version`]),
    /// taken by the next [`Mapper::server_version`].
    known_version: Mutex<Option<ServerVersion>>,
}

impl Mapper {
    pub fn new(client: Client) -> Self {
        Mapper {
            client,
            cache: RwLock::new(None),
            ahead: Mutex::new(None),
            known_version: Mutex::new(None),
        }
    }

    /// Starts discovery in the background (on the current tokio runtime). The answer is the
    /// one the first use would have fetched: Helm asks afresh in every action (it invalidates
    /// its cache before reading the capabilities), and so does this, only earlier.
    pub fn prefetch(&self) {
        let client = self.client.clone();
        let task = tokio::spawn(async move { discover(&client).await });
        if let Some(old) = self.ahead_slot().replace(task) {
            old.abort();
        }
    }

    /// Keeps the version the action's reachability check read, so the capabilities that
    /// follow in the same action need not ask again (Helm asks twice, both at the start).
    pub fn offer_version(&self, v: ServerVersion) {
        *self.known_version.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
    }

    fn ahead_slot(&self) -> std::sync::MutexGuard<'_, Option<Ahead>> {
        self.ahead.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets what discovery found (after CRDs were created).
    pub async fn reset(&self) {
        if let Some(task) = self.ahead_slot().take() {
            task.abort();
        }
        *self.cache.write().await = None;
    }

    async fn ensure(&self) -> Result<Arc<Cache>, KubeError> {
        if let Some(c) = self.cache.read().await.as_ref() {
            return Ok(c.clone());
        }
        let ahead = self.ahead_slot().take();
        let found = match ahead {
            Some(task) => match task.await {
                Ok(found) => found,
                // Aborted or panicked: ask now.
                Err(_) => discover(&self.client).await,
            },
            None => discover(&self.client).await,
        };
        let c = Arc::new(found?);
        *self.cache.write().await = Some(c.clone());
        Ok(c)
    }

    /// The mapping of `apiVersion` + `kind`; refreshes discovery once when the kind is unknown
    /// (a CRD may just have been established).
    pub async fn mapping(&self, api_version: &str, kind: &str) -> Result<Option<Mapping>, KubeError> {
        let key = (api_version.to_string(), kind.to_string());
        if let Some(m) = self.ensure().await?.by_gvk.get(&key) {
            return Ok(Some(m.clone()));
        }
        self.reset().await;
        Ok(self.ensure().await?.by_gvk.get(&key).cloned())
    }

    /// Helm's `GetVersionSet` (order is not meaningful: Helm's comes from a Go map).
    pub async fn api_versions(&self) -> Result<Vec<String>, KubeError> {
        Ok(self.ensure().await?.api_versions.clone())
    }

    /// The server version (never cached: Helm invalidates before asking; the one offered by
    /// the reachability check serves the first call after it only).
    pub async fn server_version(&self) -> Result<ServerVersion, KubeError> {
        let known = self
            .known_version
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        match known {
            Some(v) => Ok(v),
            None => fetch_version(&self.client).await,
        }
    }
}

async fn fetch_version(client: &Client) -> Result<ServerVersion, KubeError> {
    let v = client.apiserver_version().await.map_err(|e| {
        KubeError(format!(
            "could not get server version from Kubernetes: {}",
            api_message(&e)
        ))
    })?;
    Ok(ServerVersion {
        git_version: v.git_version,
        major: v.major,
        minor: v.minor,
    })
}

fn split_gv(gv: &str) -> (String, String) {
    match gv.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), gv.to_string()),
    }
}

/// Discovery in two requests (aggregated discovery, Kubernetes ≥ 1.30 serves it), else one
/// request per group/version.
async fn discover(client: &Client) -> Result<Cache, KubeError> {
    match discover_aggregated(client).await {
        Ok(c) => Ok(c),
        Err(_) => discover_legacy(client).await,
    }
}

async fn discover_aggregated(client: &Client) -> Result<Cache, kube::Error> {
    let (core, groups) = tokio::try_join!(
        client.list_core_api_versions_aggregated(),
        client.list_api_groups_aggregated()
    )?;
    let mut cache = Cache::default();
    let mut seen = std::collections::HashSet::new();
    let mut push = |cache: &mut Cache, id: String| {
        if seen.insert(id.clone()) {
            cache.api_versions.push(id);
        }
    };
    for g in core.items.iter().chain(groups.items.iter()) {
        let group = g.metadata.as_ref().and_then(|m| m.name.clone()).unwrap_or_default();
        for v in &g.versions {
            let version = v.version.clone().unwrap_or_default();
            let gv = if group.is_empty() {
                version.clone()
            } else {
                format!("{group}/{version}")
            };
            push(&mut cache, gv.clone());
            for r in &v.resources {
                let kind = r
                    .response_kind
                    .as_ref()
                    .and_then(|k| k.kind.clone())
                    .unwrap_or_default();
                let plural = r.resource.clone().unwrap_or_default();
                push(&mut cache, format!("{gv}/{kind}"));
                for sub in &r.subresources {
                    if let Some(k) = sub.response_kind.as_ref().and_then(|k| k.kind.clone()) {
                        push(&mut cache, format!("{gv}/{k}"));
                    }
                }
                let api = ApiResource {
                    group: group.clone(),
                    version: version.clone(),
                    api_version: gv.clone(),
                    kind: kind.clone(),
                    plural,
                };
                let namespaced = r.scope.as_deref() == Some("Namespaced");
                cache
                    .by_gvk
                    .entry((gv.clone(), kind))
                    .or_insert(Mapping { api, namespaced });
            }
        }
    }
    Ok(cache)
}

async fn discover_legacy(client: &Client) -> Result<Cache, KubeError> {
    let err = |e: kube::Error| {
        KubeError(format!(
            "could not get apiVersions from Kubernetes: {}",
            api_message(&e)
        ))
    };
    let mut gvs: Vec<String> = Vec::new();
    let core = client.list_core_api_versions().await.map_err(err)?;
    gvs.extend(core.versions.iter().cloned());
    let groups = client.list_api_groups().await.map_err(err)?;
    for g in &groups.groups {
        for v in &g.versions {
            gvs.push(v.group_version.clone());
        }
    }
    let mut set = tokio::task::JoinSet::new();
    for gv in gvs.clone() {
        let client = client.clone();
        set.spawn(async move {
            let res = if gv.contains('/') {
                client.list_api_group_resources(&gv).await
            } else {
                client.list_core_api_resources(&gv).await
            };
            (gv, res)
        });
    }
    let mut cache = Cache::default();
    let mut seen = std::collections::HashSet::new();
    for gv in &gvs {
        if seen.insert(gv.clone()) {
            cache.api_versions.push(gv.clone());
        }
    }
    while let Some(joined) = set.join_next().await {
        let Ok((gv, res)) = joined else { continue };
        // A group that fails (an unavailable aggregated API) is skipped, as Helm only warns.
        let Ok(list) = res else { continue };
        let (group, version) = split_gv(&gv);
        for r in &list.resources {
            let id = format!("{gv}/{}", r.kind);
            if seen.insert(id.clone()) {
                cache.api_versions.push(id);
            }
            if r.name.contains('/') {
                continue;
            }
            let api = ApiResource {
                group: r.group.clone().unwrap_or_else(|| group.clone()),
                version: r.version.clone().unwrap_or_else(|| version.clone()),
                api_version: gv.clone(),
                kind: r.kind.clone(),
                plural: r.name.clone(),
            };
            cache.by_gvk.entry((gv.clone(), r.kind.clone())).or_insert(Mapping {
                api,
                namespaced: r.namespaced,
            });
        }
    }
    Ok(cache)
}
