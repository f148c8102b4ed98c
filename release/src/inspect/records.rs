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
//! The metadata LIST asks for protobuf first (`meta_proto.rs`: the server encodes it in half
//! the time of JSON), then JSON.

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
        // The cache file is read and parsed on a blocking thread while the LIST is out; whether
        // it exists decides which LIST to send.
        let warm = super::record_cache::RecordCache::exists(&server, plural, namespace);
        let opening = {
            let (server, plural, namespace) = (server.clone(), plural.to_string(), namespace.to_string());
            tokio::task::spawn_blocking(move || super::record_cache::RecordCache::open(&server, &plural, &namespace))
        };
        let timing = std::env::var_os("RUDDER_TIMING").is_some();
        let first = if warm {
            get_metadata(&c, &path).await.map(First::Meta)
        } else {
            get_text(&c, &path, "application/json").await.map(First::Full)
        };
        // Helm checks reachability (`GET /version`) before the LIST; asking only when the LIST
        // failed gives the same error (an unreachable cluster fails with the check's words) and
        // saves a request, and a TLS handshake, on every listing.
        if first.is_err() {
            self.check_reachable(&c).await?;
        }
        let mut cache = opening.await.ok().flatten();
        let mut first = Some(first?);
        if let (Some(cache), Some(First::Meta(items))) = (cache.as_mut(), first.as_mut()) {
            let items = std::mem::take(items);
            first = None;
            if let Some(out) = self.list_cached(&c, items, plural, secret, cache).await? {
                cache.save();
                if timing {
                    eprintln!("list (metadata + cache) {:?}", t0.elapsed());
                }
                return Ok(out);
            }
        }
        let body = match first {
            Some(First::Full(b)) => b,
            _ => get_text(&c, &path, "application/json").await?,
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

    /// The listing from a metadata LIST (`items`; None when the server answered another kind)
    /// and the cache; None when so many records are new or changed that one full LIST is
    /// cheaper than fetching them one by one.
    async fn list_cached(
        &self,
        c: &kube::Client,
        items: Option<Vec<MetaItem>>,
        plural: &str,
        secret: bool,
        cache: &mut super::record_cache::RecordCache,
    ) -> Result<Option<Vec<Release>>, InspectError> {
        let Some(mut items) = items else { return Ok(None) };
        let cached = |m: &RawMeta| cache.get_parts(m.uid.as_deref().unwrap_or(""), m.resource_version.as_deref().unwrap_or(""));
        let missing: Vec<usize> = (0..items.len()).filter(|&n| cached(&items[n].metadata).is_none()).collect();
        if missing.len() > FETCH_ONE_BY_ONE {
            return Ok(None);
        }
        if !missing.is_empty() {
            // The few records the cache lacks, fetched concurrently.
            let fetched = futures::future::join_all(missing.iter().map(|&n| {
                let ns = items[n].metadata.namespace.clone().unwrap_or_default();
                let name = items[n].metadata.name.clone().unwrap_or_default();
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
            // Deleted or rewritten between the LIST and the GET: its current state is in
            // neither; list it from a fresh full LIST instead.
            if missing.iter().any(|&n| cache.get(&items[n].metadata.key()).is_none()) {
                return Ok(None);
            }
        }
        // Each release is built straight into its slot of the output (a release is about a
        // kilobyte: a thousand of them copied around is measurable).
        let cache_ref = &*cache;
        let mut out: Vec<Release> = std::iter::repeat_with(Release::default).take(items.len()).collect();
        let mut built = vec![false; items.len()];
        in_parallel(&mut items, &mut out, &mut built, |i, slot, ok| {
            let m = &mut i.metadata;
            // An undecodable record is skipped, as Helm's drivers skip it.
            if let Some(s) = cache_ref.get_parts(m.uid.as_deref().unwrap_or(""), m.resource_version.as_deref().unwrap_or("")) {
                if let Some(r) = release_of(s, m.labels.take().unwrap_or_default()) {
                    *slot = r;
                    *ok = true;
                }
            }
        });
        let found = built.iter().filter(|&&b| b).count();
        if found != out.len() {
            let mut n = 0;
            out.retain(|_| {
                n += 1;
                built[n - 1]
            });
        }
        if cache.len() != found {
            cache.retain(items.iter().map(|i| i.metadata.key()).collect());
        }
        Ok(Some(out))
    }
}

/// The metadata-only form of a LIST (names, labels, uids, resourceVersions; no payloads):
/// protobuf first, then JSON, with plain JSON as the fallback an older server answers with.
const METADATA: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,\
application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/// What the first LIST brought: metadata items (None: the server answered another kind), or
/// a full JSON list.
enum First {
    Meta(Option<Vec<MetaItem>>),
    Full(String),
}

/// The metadata LIST at `path`, in whichever form the server chose. A failed request is
/// asked again as plain JSON, so that its error reads exactly as every other LIST's (an error
/// answered in protobuf would not decode as one).
async fn get_metadata(c: &kube::Client, path: &str) -> Result<Option<Vec<MetaItem>>, InspectError> {
    use http_body_util::BodyExt;
    let fail = |e: String| InspectError::new(format!("list: failed to list: {e}"));
    let req = http::Request::get(path)
        .header("Accept", METADATA)
        .body(kube::client::Body::empty())
        .map_err(|e| fail(e.to_string()))?;
    let res = match c.send(req).await {
        Ok(res) if res.status().is_success() => res,
        _ => return get_text(c, path, METADATA).await.and_then(|b| json_metadata(&b)),
    };
    let protobuf = res
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/vnd.kubernetes.protobuf"));
    // Frames go straight into one buffer (a thousand records' metadata is ~400 KiB); the
    // capacity beyond what arrives is never touched.
    let mut stream = res.into_body();
    let mut body = Vec::with_capacity(1 << 20);
    while let Some(frame) = stream.frame().await {
        if let Ok(data) = frame.map_err(|e| fail(e.to_string()))?.into_data() {
            body.extend_from_slice(&data);
        }
    }
    if !protobuf {
        let text = std::str::from_utf8(&body).map_err(|e| fail(e.to_string()))?;
        return json_metadata(text);
    }
    // A protobuf answer this decoder cannot read is not an error of the listing: `Ok(None)`
    // sends the caller to the full JSON LIST, as for an answer of another kind.
    let Ok(Some(mut encoded)) = super::meta_proto::list_items(&body) else { return Ok(None) };
    let mut items: Vec<MetaItem> = std::iter::repeat_with(MetaItem::default).take(encoded.len()).collect();
    let mut errors: Vec<Option<String>> = vec![None; encoded.len()];
    in_parallel(&mut encoded, &mut items, &mut errors, |item, slot, error| match super::meta_proto::decode_item(item) {
        Ok(m) => {
            slot.metadata = RawMeta {
                labels: Some(m.labels),
                name: Some(m.name),
                namespace: Some(m.namespace),
                uid: Some(m.uid),
                resource_version: Some(m.resource_version),
            }
        }
        Err(e) => *error = Some(e),
    });
    match errors.into_iter().flatten().next() {
        Some(e) => {
            tracing::debug!(error = %e, "protobuf metadata list not decoded; listing in full");
            Ok(None)
        }
        None => Ok(Some(items)),
    }
}

/// `f` over the elements of three slices of equal length taken together (an input, its output
/// slot and a flag or error slot), on as many scoped threads as there are cores (the caller's
/// thread takes the first share). For the per-record work of a listing: a thousand records
/// cost a millisecond or two on one core, a thread starts in tens of µs; writing into slots
/// moves no result after it is made.
fn in_parallel<T: Send, R: Send, E: Send>(items: &mut [T], out: &mut [R], extra: &mut [E], f: impl Fn(&mut T, &mut R, &mut E) + Sync) {
    debug_assert!(items.len() == out.len() && out.len() == extra.len());
    let run = |items: &mut [T], out: &mut [R], extra: &mut [E]| {
        for ((i, o), e) in items.iter_mut().zip(out.iter_mut()).zip(extra.iter_mut()) {
            f(i, o, e);
        }
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    if workers == 1 || items.len() < 64 {
        return run(items, out, extra);
    }
    let chunk = items.len().div_ceil(workers);
    let run = &run;
    std::thread::scope(|scope| {
        let mut parts = items.chunks_mut(chunk).zip(out.chunks_mut(chunk)).zip(extra.chunks_mut(chunk));
        let first = parts.next();
        let rest: Vec<_> = parts.map(|((i, o), e)| scope.spawn(move || run(i, o, e))).collect();
        if let Some(((i, o), e)) = first {
            run(i, o, e);
        }
        for handle in rest {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    })
}

fn json_metadata(body: &str) -> Result<Option<Vec<MetaItem>>, InspectError> {
    let list: MetaList = serde_json::from_str(body).map_err(|e| InspectError::new(format!("list: failed to list: {e}")))?;
    Ok((list.kind.as_deref() == Some("PartialObjectMetadataList")).then_some(list.items))
}

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

#[derive(serde::Deserialize, Default)]
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

#[derive(serde::Deserialize, Default)]
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
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut r = Release {
        name: text(&s.name),
        version: s.version.unwrap_or_default(),
        namespace: text(&s.namespace),
        ..Default::default()
    };
    if let Some(i) = &s.info {
        r.info = Some(rudder_state::release::Info {
            last_deployed: i.last_deployed.clone().filter(|t| !t.is_empty() && t != rudder_state::release::ZERO_TIME),
            status: rudder_state::Status::from(i.status.as_deref().unwrap_or_default()),
            ..Default::default()
        });
    }
    if let Some(c) = &s.chart {
        r.chart = Some(rudder_state::release::Chart {
            metadata: c.metadata.as_ref().map(|m| rudder_state::release::Metadata {
                name: text(&m.name),
                version: text(&m.version),
                app_version: text(&m.app_version),
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
    tokio::task::spawn_blocking(move || {
        let list: RawList = serde_json::from_str(&body).map_err(|e| InspectError::new(format!("list: failed to list: {e}")))?;
        let mut items = list.items;
        let mut out: Vec<Option<(super::record_cache::Key, Summary, Release)>> = std::iter::repeat_with(|| None).take(items.len()).collect();
        let mut unused = vec![(); items.len()];
        in_parallel(&mut items, &mut out, &mut unused, |o, slot, _| {
            let key = o.metadata.key();
            let labels = o.metadata.labels.take().unwrap_or_default();
            // An undecodable record is skipped, as Helm's drivers skip it.
            *slot = summary_of(std::mem::take(o), secret).and_then(|s| {
                let r = release_of(&s, labels)?;
                Some((key, s, r))
            });
        });
        Ok(out.into_iter().flatten().collect())
    })
    .await
    .map_err(|e| InspectError::new(e.to_string()))?
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
            let kc = rudder_state::driver::kube::read_kubeconfig(self.kubeconfig.as_deref());
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
    let kc = rudder_state::driver::kube::read_kubeconfig(path)?;
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
