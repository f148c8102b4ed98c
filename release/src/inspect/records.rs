//! Where the commands read records: the driver `HELM_DRIVER` names (Secret by default), the
//! namespace (`-n`, else `HELM_NAMESPACE`, else the kubeconfig context's, else `default`), the
//! cluster of `--kubeconfig`/`KUBECONFIG` and `--kube-context`/`HELM_KUBECONTEXT`.
//!
//! Listing fetches the Secrets/ConfigMaps with one LIST (as Helm) as raw JSON, then decodes the
//! payloads (base64, gunzip, JSON) on blocking threads in parallel chunks, reading only the
//! fields `list` shows or filters on: for a thousand records the decoding, not the request, is
//! the cost. `RUDDER_TIMING=1` prints the time of each phase on stderr (for `bench/list`).
//!
//! With a record cache (`record_cache.rs`) the LIST asks only for the objects' metadata
//! (`PartialObjectMetadataList`: names, labels, uids, resourceVersions, no payloads); records
//! whose uid and resourceVersion the cache has are taken from it, the others are fetched one by
//! one (or, when many changed, with the full LIST as before) and cached. A resourceVersion changes
//! with every write of the object, so a cached summary is exactly what decoding would give.

use std::path::PathBuf;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use rudder_state::driver::kube::{client, StorageObject};
use rudder_state::driver::DriverKind;
use rudder_state::{codec, AnyDriver, Release, Storage};

use super::InspectError;

/// How to reach the records.
#[derive(Debug, Clone)]
pub struct Target {
    pub driver: DriverKind,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// The namespace commands look in (resolved).
    pub namespace: String,
}

impl Target {
    /// Resolves the namespace and driver from flags and environment as Helm's `EnvSettings`.
    pub fn resolve(
        namespace_flag: Option<&str>,
        kubeconfig: Option<PathBuf>,
        context: Option<String>,
    ) -> Result<Target, InspectError> {
        let driver = DriverKind::from_env()?;
        let context = context.or_else(|| std::env::var("HELM_KUBECONTEXT").ok().filter(|s| !s.is_empty()));
        let namespace = match namespace_flag.map(str::to_string).or_else(|| std::env::var("HELM_NAMESPACE").ok()) {
            Some(ns) if !ns.is_empty() => ns,
            _ => context_namespace(kubeconfig.as_deref(), context.as_deref()).unwrap_or_else(|| "default".into()),
        };
        Ok(Target { driver, kubeconfig, context, namespace })
    }

    /// Storage over the driver for `namespace` ("" = all namespaces).
    pub async fn storage(&self, namespace: &str) -> Result<Storage<AnyDriver>, InspectError> {
        if self.driver != DriverKind::Memory {
            self.preflight()?;
            let c = client(self.kubeconfig.as_deref(), self.context.as_deref()).await.map_err(unreachable)?;
            self.check_reachable(&c).await?;
        }
        let driver = AnyDriver::open(self.driver, self.kubeconfig.as_deref(), self.context.as_deref(), namespace)
            .await
            .map_err(unreachable)?;
        if let AnyDriver::Memory(m) = &driver {
            load_memory_data(m).await?;
            m.set_namespace(namespace);
        }
        Ok(Storage::new(driver))
    }

    /// Every record with `owner=helm` in `namespace` ("" = all), with all their labels, decoded
    /// in parallel; undecodable records are skipped (as Helm's drivers skip them).
    pub async fn list_all(&self, namespace: &str) -> Result<Vec<Release>, InspectError> {
        match self.driver {
            DriverKind::Memory => {
                let st = self.storage(namespace).await?;
                Ok(st.list_releases().await?)
            }
            DriverKind::Secret => self.list_kind::<Secret>(namespace).await,
            DriverKind::ConfigMap => self.list_kind::<ConfigMap>(namespace).await,
        }
    }

    async fn list_kind<K: StorageObject>(&self, namespace: &str) -> Result<Vec<Release>, InspectError> {
        self.preflight()?;
        let c = client(self.kubeconfig.as_deref(), self.context.as_deref()).await.map_err(unreachable)?;
        let t0 = std::time::Instant::now();
        let plural = if K::DRIVER_NAME == "Secret" { "secrets" } else { "configmaps" };
        let secret = K::DRIVER_NAME == "Secret";
        let path = if namespace.is_empty() {
            format!("/api/v1/{plural}?labelSelector=owner%3Dhelm")
        } else {
            format!("/api/v1/namespaces/{namespace}/{plural}?labelSelector=owner%3Dhelm")
        };
        let server = kubeconfig_context(self.kubeconfig.as_deref(), self.context.as_deref())
            .and_then(|(_, server)| server)
            .unwrap_or_default();
        let mut cache = super::record_cache::RecordCache::open(&server, plural, namespace);
        let timing = std::env::var_os("RUDDER_TIMING").is_some();
        let warm = cache.as_ref().is_some_and(|c| !c.is_empty());
        // Helm's reachability check and the first LIST go out together: an unreachable cluster
        // still fails with the check's error, and a reachable one saves a round trip.
        let accept = if warm { METADATA } else { "application/json" };
        let (reach, first) = tokio::join!(self.check_reachable(&c), get_text(&c, &path, accept));
        reach?;
        let mut first = Some(first?);
        if let Some(cache) = cache.as_mut().filter(|_| warm) {
            if let Some(out) = self.list_cached(&c, first.take().unwrap_or_default(), plural, secret, cache).await? {
                cache.save();
                if timing {
                    eprintln!("list (metadata + cache) {:?}", t0.elapsed());
                }
                return Ok(out);
            }
        }
        let body = match first {
            Some(b) => b,
            None => get_text(&c, &path, "application/json").await?,
        };
        let t1 = std::time::Instant::now();
        let decoded = decode_parallel(body, secret).await?;
        if let Some(cache) = cache.as_mut() {
            cache.replace(decoded.iter().map(|(k, s, _)| (k.clone(), s.clone())));
            cache.save();
        }
        if timing {
            eprintln!("list {:?} decode {:?}", t1 - t0, t1.elapsed());
        }
        Ok(decoded.into_iter().map(|(_, _, r)| r).collect())
    }

    /// The listing from a metadata LIST (`body`) and the cache; None when so many records are
    /// new or changed that one full LIST is cheaper than fetching them one by one.
    async fn list_cached(
        &self,
        c: &kube::Client,
        body: String,
        plural: &str,
        secret: bool,
        cache: &mut super::record_cache::RecordCache,
    ) -> Result<Option<Vec<Release>>, InspectError> {
        let list: MetaList = serde_json::from_str(&body).map_err(|e| InspectError::new(format!("list: failed to list: {e}")))?;
        if list.kind.as_deref() != Some("PartialObjectMetadataList") {
            return Ok(None);
        }
        let missing: Vec<&MetaItem> = list.items.iter().filter(|i| cache.get(&i.metadata.key()).is_none()).collect();
        if missing.len() > FETCH_ONE_BY_ONE {
            return Ok(None);
        }
        // The few records the cache lacks, fetched concurrently.
        let fetched = futures::future::join_all(missing.iter().map(|i| {
            let ns = i.metadata.namespace.clone().unwrap_or_default();
            let name = i.metadata.name.clone().unwrap_or_default();
            async move {
                let p = format!("/api/v1/namespaces/{ns}/{plural}/{name}");
                get_text(c, &p, "application/json").await.ok()
            }
        }))
        .await;
        for body in fetched.into_iter().flatten() {
            let Ok(obj) = serde_json::from_str::<RawObject>(&body) else { continue };
            let key = obj.metadata.key();
            if let Some(s) = summary_of(obj, secret) {
                cache.put(key, s);
            }
        }
        let mut out = Vec::with_capacity(list.items.len());
        for i in &list.items {
            // Deleted or rewritten between the LIST and the GET: its current state is in
            // neither; list it from a fresh full LIST instead.
            let Some(s) = cache.get(&i.metadata.key()) else {
                if missing.iter().any(|m| m.metadata.key() == i.metadata.key()) {
                    return Ok(None);
                }
                continue;
            };
            // An undecodable record is skipped, as Helm's drivers skip it.
            if let Some(r) = release_of(s, i.metadata.labels.clone().unwrap_or_default()) {
                out.push(r);
            }
        }
        cache.retain(list.items.iter().map(|i| i.metadata.key()).collect());
        Ok(Some(out))
    }
}

/// The metadata-only form of a LIST (names, labels, uids, resourceVersions; no payloads), with
/// plain JSON as the fallback an older server answers with.
const METADATA: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/// More new or changed records than this and one full LIST replaces the per-record GETs.
const FETCH_ONE_BY_ONE: usize = 32;

async fn get_text(c: &kube::Client, path: &str, accept: &str) -> Result<String, InspectError> {
    let req = http::Request::get(path)
        .header("Accept", accept)
        .body(Vec::new())
        .map_err(|e| InspectError::new(format!("list: failed to list: {e}")))?;
    c.request_text(req).await.map_err(|e| InspectError::new(format!("list: failed to list: {e}")))
}

/// A `PartialObjectMetadataList`.
#[derive(serde::Deserialize)]
struct MetaList {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    items: Vec<MetaItem>,
}

#[derive(serde::Deserialize)]
struct MetaItem {
    #[serde(default)]
    metadata: RawMeta,
}

impl Target {
    /// Helm's `KubeClient.IsReachable`: `GET /version` before anything else, failing with
    /// `kubernetes cluster unreachable: ...` in Go's words for a refused connection.
    async fn check_reachable(&self, c: &kube::Client) -> Result<(), InspectError> {
        let Err(e) = c.apiserver_version().await else { return Ok(()) };
        let server = kubeconfig_context(self.kubeconfig.as_deref(), self.context.as_deref())
            .and_then(|(_, server)| server)
            .unwrap_or_default();
        let url = format!("{}/version", server.trim_end_matches('/'));
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        let mut refused = false;
        while let Some(err) = source {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
            }
            refused |= err.to_string().contains("Connection refused");
            source = err.source();
        }
        if refused {
            let authority = url
                .split_once("://")
                .map(|(scheme, rest)| {
                    let host = rest.split('/').next().unwrap_or(rest);
                    if host.contains(':') && !host.ends_with(']') {
                        host.to_string()
                    } else {
                        format!("{host}:{}", if scheme == "http" { 80 } else { 443 })
                    }
                })
                .unwrap_or_default();
            return Err(InspectError::new(format!(
                "kubernetes cluster unreachable: Get {url:?}: dial tcp {authority}: connect: connection refused"
            )));
        }
        Err(InspectError::new(format!("kubernetes cluster unreachable: {e}")))
    }
}

/// The parts of a Secret/ConfigMap list the listing needs.
#[derive(serde::Deserialize)]
struct RawList {
    #[serde(default)]
    items: Vec<RawObject>,
}

#[derive(serde::Deserialize)]
struct RawObject {
    #[serde(default)]
    metadata: RawMeta,
    #[serde(default)]
    data: Option<RawData>,
}

#[derive(serde::Deserialize, Default)]
struct RawMeta {
    #[serde(default)]
    labels: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default, rename = "resourceVersion")]
    resource_version: Option<String>,
}

impl RawMeta {
    /// What identifies one stored state of the object.
    fn key(&self) -> super::record_cache::Key {
        super::record_cache::Key {
            uid: self.uid.clone().unwrap_or_default(),
            resource_version: self.resource_version.clone().unwrap_or_default(),
        }
    }
}

#[derive(serde::Deserialize)]
struct RawData {
    #[serde(default)]
    release: Option<String>,
}

/// The fields of a record `helm list` shows or filters on; everything else in the payload
/// (templates, files, values, manifest) is skipped by the parser without being kept. This is
/// also what the record cache keeps (nothing of the values or manifests).
#[derive(serde::Deserialize, serde::Serialize, Clone)]
pub(crate) struct Summary {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    info: Option<SummaryInfo>,
    #[serde(default)]
    chart: Option<SummaryChart>,
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(serde::Deserialize, serde::Serialize, Clone)]
struct SummaryInfo {
    #[serde(default)]
    last_deployed: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(serde::Deserialize, serde::Serialize, Clone)]
struct SummaryChart {
    #[serde(default)]
    metadata: Option<SummaryMeta>,
}

#[derive(serde::Deserialize, serde::Serialize, Clone)]
struct SummaryMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(rename = "appVersion", default)]
    app_version: Option<String>,
}

/// One stored object's summary: Secrets hold the payload base64-encoded once more by the API.
/// None for an object without a decodable payload.
fn summary_of(obj: RawObject, secret: bool) -> Option<Summary> {
    use base64::Engine as _;
    let text = obj.data?.release?;
    let payload = if secret {
        base64::engine::general_purpose::STANDARD.decode(text.as_bytes()).ok()?
    } else {
        text.into_bytes()
    };
    let json = codec::decode_json(&payload).ok()?;
    serde_json::from_slice(&json).ok()
}

/// A (summary) release from a summary and the object's labels.
fn release_of(s: &Summary, labels: std::collections::BTreeMap<String, String>) -> Option<Release> {
    let s = s.clone();
    let mut r = Release {
        name: s.name.unwrap_or_default(),
        version: s.version.unwrap_or_default(),
        namespace: s.namespace.unwrap_or_default(),
        ..Default::default()
    };
    if let Some(i) = s.info {
        r.info = Some(rudder_state::release::Info {
            last_deployed: i.last_deployed.filter(|t| !t.is_empty() && t != rudder_state::release::ZERO_TIME),
            status: rudder_state::Status::from(i.status.unwrap_or_default().as_str()),
            ..Default::default()
        });
    }
    if let Some(c) = s.chart {
        r.chart = Some(rudder_state::release::Chart {
            metadata: c.metadata.map(|m| rudder_state::release::Metadata {
                name: m.name.unwrap_or_default(),
                version: m.version.unwrap_or_default(),
                app_version: m.app_version.unwrap_or_default(),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    r.labels = labels;
    Some(r)
}

/// Parses the list and decodes its records on `available_parallelism` blocking tasks, keeping
/// their order: each with its cache key and summary.
async fn decode_parallel(body: String, secret: bool) -> Result<Vec<(super::record_cache::Key, Summary, Release)>, InspectError> {
    let list: RawList = tokio::task::spawn_blocking(move || serde_json::from_str(&body))
        .await
        .map_err(|e| InspectError::new(e.to_string()))?
        .map_err(|e| InspectError::new(format!("list: failed to list: {e}")))?;
    let mut items = list.items;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).max(1);
    let chunk = items.len().div_ceil(workers).max(16);
    let mut tasks = Vec::new();
    while !items.is_empty() {
        let rest = items.split_off(chunk.min(items.len()));
        let part = std::mem::replace(&mut items, rest);
        tasks.push(tokio::task::spawn_blocking(move || {
            part.into_iter()
                .filter_map(|mut o| {
                    let key = o.metadata.key();
                    let labels = o.metadata.labels.take().unwrap_or_default();
                    let s = summary_of(o, secret)?;
                    let r = release_of(&s, labels)?;
                    Some((key, s, r))
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        if let Ok(mut part) = t.await {
            out.append(&mut part);
        }
    }
    Ok(out)
}

/// A kubeconfig problem in the words Helm wraps it with.
fn unreachable(e: rudder_state::Error) -> InspectError {
    InspectError::new(format!("kubernetes cluster unreachable: {e}"))
}

impl Target {
    /// client-go's errors for a `--kubeconfig` that is not there and a `--kube-context` the
    /// kubeconfig does not have, checked before the client is built.
    fn preflight(&self) -> Result<(), InspectError> {
        if let Some(p) = &self.kubeconfig {
            if let Err(e) = std::fs::metadata(p) {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                    std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                    _ => e.to_string(),
                };
                return Err(InspectError::new(format!("kubernetes cluster unreachable: stat {}: {why}", p.display())));
            }
        }
        if let Some(ctx) = &self.context {
            let kc = match &self.kubeconfig {
                Some(p) => kube::config::Kubeconfig::read_from(p).ok(),
                None => kube::config::Kubeconfig::read().ok(),
            };
            if let Some(kc) = kc {
                if !kc.contexts.iter().any(|c| &c.name == ctx) {
                    return Err(InspectError::new(format!("kubernetes cluster unreachable: context {ctx:?} does not exist")));
                }
            }
        }
        Ok(())
    }
}

/// The namespace and the cluster server of the kubeconfig context in use.
fn kubeconfig_context(path: Option<&std::path::Path>, context: Option<&str>) -> Option<(Option<String>, Option<String>)> {
    let kc = match path {
        Some(p) => kube::config::Kubeconfig::read_from(p).ok()?,
        None => kube::config::Kubeconfig::read().ok()?,
    };
    let name = context.map(str::to_string).or_else(|| kc.current_context.clone())?;
    let ctx = kc.contexts.iter().find(|c| c.name == name)?.context.clone()?;
    let server = kc
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone());
    Some((ctx.namespace.filter(|s| !s.is_empty()), server))
}

/// The namespace of the kubeconfig context in use.
fn context_namespace(path: Option<&std::path::Path>, context: Option<&str>) -> Option<String> {
    kubeconfig_context(path, context)?.0
}

/// Helm's `loadReleasesInMemory`: with `HELM_DRIVER=memory`, the releases listed in the YAML
/// files named by `HELM_MEMORY_DRIVER_DATA` (colon-separated) are created in the memory store.
async fn load_memory_data(m: &rudder_state::MemoryDriver) -> Result<(), InspectError> {
    use rudder_state::Driver;
    let Ok(paths) = std::env::var("HELM_MEMORY_DRIVER_DATA") else { return Ok(()) };
    for path in paths.split(':').filter(|p| !p.is_empty()) {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InspectError::new(format!("Unable to read memory driver data {e}")))?;
        let v = rudder_engine::yaml::from_yaml(&text)
            .map_err(|e| InspectError::new(format!("Unable to unmarshal memory driver data: {e}")))?;
        let json = rudder_engine::json::to_json(&v).map_err(InspectError::new)?;
        let rels: Vec<Release> = serde_json::from_str::<Option<Vec<Release>>>(&json)
            .map_err(|e| InspectError::new(format!("Unable to unmarshal memory driver data: {e}")))?
            .unwrap_or_default();
        for r in rels {
            m.create(&rudder_state::driver::make_key(&r.name, r.version), &r).await?;
        }
    }
    Ok(())
}
