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
//! with every write of the object, so a cached entry is exactly what decoding would give.
//! The metadata LIST asks for protobuf first (`meta_proto.rs`: the server encodes it in half
//! the time of JSON), then JSON; its items are read in place, without copying their strings,
//! and labels are read only when a selector needs them. When nothing changed, each item is
//! matched against the cache as soon as its bytes have arrived, while the server still sends
//! the rest (`meta_proto::ItemScanner`); the whole answer is checked at the end.
//!
//! What a listing yields is a [`Listed`] per record (the fields `list` shows, sorts and
//! filters on), never a whole [`Release`].

use std::path::PathBuf;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use rudder_state::driver::kube::{client, StorageObject};
use rudder_state::driver::DriverKind;
use rudder_state::{codec, AnyDriver, Release, Storage};

use super::meta_proto::ItemRef;
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

    /// What `list` shows of every record with `owner=helm` in `namespace` ("" = all), with
    /// their storage labels when `labels` (a selector needs them; otherwise they may be left
    /// out); undecodable records are skipped (as Helm's drivers skip them).
    pub async fn list_all(&self, namespace: &str, labels: bool) -> Result<Vec<Listed>, InspectError> {
        match self.driver {
            DriverKind::Memory => {
                let st = self.storage(namespace).await?;
                Ok(st.list_releases().await?.iter().map(Listed::of).collect())
            }
            DriverKind::Secret => self.list_kind::<Secret>(namespace, labels).await,
            DriverKind::ConfigMap => self.list_kind::<ConfigMap>(namespace, labels).await,
        }
    }

    async fn list_kind<K: StorageObject>(&self, namespace: &str, labels: bool) -> Result<Vec<Listed>, InspectError> {
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
        let mut opening = Some(opening);
        let mut cache = None;
        let mut streamed = None;
        let first = if warm {
            get_metadata(&c, &path, &mut opening, &mut cache, labels, &mut streamed).await.map(First::Meta)
        } else {
            get_text(&c, &path, "application/json").await.map(First::Full)
        };
        // Helm checks reachability (`GET /version`) before the LIST; asking only when the LIST
        // failed gives the same error (an unreachable cluster fails with the check's words) and
        // saves a request, and a TLS handshake, on every listing.
        if first.is_err() {
            self.check_reachable(&c).await?;
        }
        if let Some(opening) = opening {
            cache = opening.await.ok().flatten();
        }
        let first = first?;
        if let (Some(cache), First::Meta(meta)) = (cache.as_mut(), &first) {
            // Every item was found in the cache as it arrived: done.
            if let Some(rows) = streamed.and_then(|s: Streamed| s.finish(meta, cache)) {
                if timing {
                    eprintln!("list (metadata + cache) {:?}, streamed", t0.elapsed());
                }
                return Ok(rows);
            }
            let items = meta.items(labels);
            if let Some(out) = match &items {
                Some(items) => self.list_cached(&c, items, plural, secret, labels, cache).await?,
                None => None,
            } {
                cache.save();
                if timing {
                    eprintln!("list (metadata + cache) {:?}", t0.elapsed());
                }
                return Ok(out);
            }
        }
        let body = match first {
            First::Full(b) => b,
            First::Meta(_) => get_text(&c, &path, "application/json").await?,
        };
        let t1 = std::time::Instant::now();
        let decoded = decode_parallel(body, secret).await?;
        if let Some(cache) = cache.as_mut() {
            cache.replace(decoded.iter().map(|(k, l)| (k, l)));
            cache.save();
        }
        if timing {
            eprintln!("list {:?} decode {:?}", t1 - t0, t1.elapsed());
        }
        Ok(decoded.into_iter().map(|(_, l)| l).collect())
    }

    /// The listing from the items of a metadata LIST and the cache; None when so many records
    /// are new or changed that one full LIST is cheaper than fetching them one by one.
    async fn list_cached(
        &self,
        c: &kube::Client,
        items: &[ItemRef<'_>],
        plural: &str,
        secret: bool,
        labels: bool,
        cache: &mut super::record_cache::RecordCache,
    ) -> Result<Option<Vec<Listed>>, InspectError> {
        let missing: Vec<usize> = (0..items.len()).filter(|&n| !cache.has(items[n].uid, items[n].resource_version)).collect();
        if missing.len() > FETCH_ONE_BY_ONE {
            return Ok(None);
        }
        if !missing.is_empty() {
            // The few records the cache lacks, fetched concurrently.
            let fetched = futures::future::join_all(missing.iter().map(|&n| {
                let (ns, name) = (items[n].namespace, items[n].name);
                async move {
                    let p = format!("/api/v1/namespaces/{ns}/{plural}/{name}");
                    get_text(c, &p, "application/json").await.ok()
                }
            }))
            .await;
            for body in fetched.into_iter().flatten() {
                let Ok(obj) = serde_json::from_str::<RawObject>(&body) else { continue };
                let key = obj.metadata.key();
                if let Some(l) = summary_of(obj, secret).map(|s| listed_of(&s, Default::default())) {
                    cache.put(&key, &l);
                }
            }
            // Deleted or rewritten between the LIST and the GET (or undecodable): its current
            // state is in neither; list it from a fresh full LIST instead.
            if missing.iter().any(|&n| !cache.has(items[n].uid, items[n].resource_version)) {
                return Ok(None);
            }
        }
        let out: Vec<Listed> = items.iter().filter_map(|i| cached_row(cache, i, labels)).collect();
        if cache.len() != out.len() {
            cache.retain(items.iter().map(|i| i.uid));
        }
        Ok(Some(out))
    }
}

/// The metadata-only form of a LIST (names, labels, uids, resourceVersions; no payloads):
/// protobuf first, then JSON, with plain JSON as the fallback an older server answers with.
const METADATA: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,\
application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/// What the first LIST brought: a metadata list, or a full JSON list.
enum First {
    Meta(Metadata),
    Full(String),
}

/// A metadata LIST's answer, kept whole: its items borrow from it.
enum Metadata {
    /// A protobuf `PartialObjectMetadataList`.
    Protobuf(Vec<u8>),
    /// A JSON one, parsed.
    Json(Vec<RawMeta>),
    /// Another kind (the server ignored the `as=` parameters).
    Other,
}

impl Metadata {
    /// The items; None when there are none to read (another kind, or a protobuf answer this
    /// decoder cannot read: not an error of the listing, the caller lists in full instead).
    fn items(&self, labels: bool) -> Option<Vec<ItemRef<'_>>> {
        use super::meta_proto as mp;
        match self {
            Metadata::Protobuf(body) => {
                let decoded = mp::list_items(body).and_then(|items| {
                    items.map(|items| items.into_iter().map(|i| mp::decode_item_ref(i, labels)).collect::<Result<Vec<_>, _>>()).transpose()
                });
                match decoded {
                    Ok(items) => items,
                    Err(e) => {
                        tracing::debug!(error = %e, "protobuf metadata list not decoded; listing in full");
                        None
                    }
                }
            }
            Metadata::Json(metas) => Some(
                metas
                    .iter()
                    .map(|m| {
                        fn t(v: &Option<String>) -> &str {
                            v.as_deref().unwrap_or("")
                        }
                        ItemRef {
                            name: t(&m.name),
                            namespace: t(&m.namespace),
                            uid: t(&m.uid),
                            resource_version: t(&m.resource_version),
                            labels: m.labels.iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
                        }
                    })
                    .collect(),
            ),
            Metadata::Other => None,
        }
    }
}

/// The cached row of exactly this state of the item's object, with the item's labels when
/// `labels`; None when the cache does not hold that state.
fn cached_row(cache: &super::record_cache::RecordCache, item: &ItemRef<'_>, labels: bool) -> Option<Listed> {
    let mut l = cache.get(item.uid, item.resource_version)?;
    if labels {
        l.labels = item.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    }
    Some(l)
}

/// A warm listing's rows, made from the cache item by item while the metadata LIST arrives.
#[derive(Default)]
struct Streamed {
    rows: Vec<Listed>,
    /// An item the cache does not have (new or changed), or one that did not decode: the
    /// listing then takes the ordinary path over the whole answer.
    failed: bool,
}

impl Streamed {
    fn take(&mut self, item: &[u8], cache: &super::record_cache::RecordCache, labels: bool) {
        if self.failed {
            return;
        }
        let Ok(m) = super::meta_proto::decode_item_ref(item, labels) else {
            self.failed = true;
            return;
        };
        match cached_row(cache, &m, labels) {
            Some(l) => self.rows.push(l),
            None => self.failed = true,
        }
    }

    /// The rows, when every item of the whole answer `meta` was found and the cache holds
    /// nothing else (records deleted since, for the ordinary path to forget); None sends the
    /// listing the ordinary way.
    fn finish(self, meta: &Metadata, cache: &super::record_cache::RecordCache) -> Option<Vec<Listed>> {
        let Metadata::Protobuf(body) = meta else { return None };
        let items = super::meta_proto::list_items(body).ok()??;
        (!self.failed && items.len() == self.rows.len() && cache.len() == self.rows.len()).then_some(self.rows)
    }
}

/// The metadata LIST at `path`, in whichever form the server chose. A failed request is
/// asked again as plain JSON, so that its error reads exactly as every other LIST's (an error
/// answered in protobuf would not decode as one).
async fn get_metadata(
    c: &kube::Client,
    path: &str,
    opening: &mut Option<tokio::task::JoinHandle<Option<super::record_cache::RecordCache>>>,
    cache: &mut Option<super::record_cache::RecordCache>,
    labels: bool,
    streamed: &mut Option<Streamed>,
) -> Result<Metadata, InspectError> {
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
    // The cache has long been read by now (the request took longer); with it, each item is
    // looked up as soon as it has arrived, while the server is still sending the rest.
    if protobuf {
        if let Some(o) = opening.take() {
            *cache = o.await.ok().flatten();
        }
    }
    let mut scan = (protobuf && cache.is_some()).then(|| (super::meta_proto::ItemScanner::default(), Streamed::default()));
    // Frames go straight into one buffer (a thousand records' metadata is ~400 KiB); the
    // capacity beyond what arrives is never touched.
    let mut stream = res.into_body();
    let mut body = Vec::with_capacity(1 << 20);
    while let Some(frame) = stream.frame().await {
        if let Ok(data) = frame.map_err(|e| fail(e.to_string()))?.into_data() {
            body.extend_from_slice(&data);
            if let (Some((scanner, st)), Some(cache)) = (scan.as_mut(), cache.as_ref()) {
                scanner.scan(&body, |item| st.take(item, cache, labels));
                if scanner.failed {
                    st.failed = true;
                }
            }
        }
    }
    *streamed = scan.map(|(_, st)| st);
    if !protobuf {
        let text = std::str::from_utf8(&body).map_err(|e| fail(e.to_string()))?;
        return json_metadata(text);
    }
    Ok(Metadata::Protobuf(body))
}

/// `f` over the elements of two slices of equal length taken together (an input and its
/// output slot), on as many scoped threads as there are cores (the caller's thread takes the
/// first share). For the per-record work of a cold listing: a thousand records cost a
/// millisecond or two on one core, a thread starts in tens of µs; writing into slots moves no
/// result after it is made.
fn in_parallel<T: Send, R: Send>(items: &mut [T], out: &mut [R], f: impl Fn(&mut T, &mut R) + Sync) {
    debug_assert!(items.len() == out.len());
    let run = |items: &mut [T], out: &mut [R]| {
        for (i, o) in items.iter_mut().zip(out.iter_mut()) {
            f(i, o);
        }
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    if workers == 1 || items.len() < 64 {
        return run(items, out);
    }
    let chunk = items.len().div_ceil(workers);
    let run = &run;
    std::thread::scope(|scope| {
        let mut parts = items.chunks_mut(chunk).zip(out.chunks_mut(chunk));
        let first = parts.next();
        let rest: Vec<_> = parts.map(|(i, o)| scope.spawn(move || run(i, o))).collect();
        if let Some((i, o)) = first {
            run(i, o);
        }
        for handle in rest {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    })
}

fn json_metadata(body: &str) -> Result<Metadata, InspectError> {
    let list: MetaList = serde_json::from_str(body).map_err(|e| InspectError::new(format!("list: failed to list: {e}")))?;
    Ok(match list.kind.as_deref() {
        Some("PartialObjectMetadataList") => Metadata::Json(list.items.into_iter().map(|i| i.metadata).collect()),
        _ => Metadata::Other,
    })
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
/// (templates, files, values, manifest) is skipped by the parser without being kept.
#[derive(serde::Deserialize)]
struct Summary {
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

#[derive(serde::Deserialize)]
struct SummaryInfo {
    #[serde(default)]
    last_deployed: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(serde::Deserialize)]
struct SummaryChart {
    #[serde(default)]
    metadata: Option<SummaryMeta>,
}

#[derive(serde::Deserialize)]
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

/// The row of a decoded summary, with the object's labels.
fn listed_of(s: &Summary, labels: std::collections::BTreeMap<String, String>) -> Listed {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    Listed {
        name: text(&s.name),
        namespace: text(&s.namespace),
        revision: s.version.unwrap_or_default(),
        // As `Release::status`: "unknown" without info, the text as stored with it.
        status: match &s.info {
            Some(i) => rudder_state::Status::from(i.status.as_deref().unwrap_or_default()).to_string(),
            None => rudder_state::Status::default().to_string(),
        },
        last_deployed: s.info.as_ref().and_then(|i| i.last_deployed.clone()).filter(|t| !t.is_empty() && t != rudder_state::release::ZERO_TIME),
        chart: s.chart.as_ref().and_then(|c| c.metadata.as_ref()).map(|m| ListedChart {
            name: text(&m.name),
            version: text(&m.version),
            app_version: text(&m.app_version),
        }),
        labels,
    }
}

/// What `list` shows, sorts and filters on of one record: all it keeps of it (a full
/// [`Release`] is a kilobyte before its payload; a thousand of them built, moved and dropped
/// were a third of a listing's own time).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Listed {
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    /// The status as [`Release::status`] gives it ("unknown" for a record without info).
    pub status: String,
    /// `info.last_deployed`; None when absent, empty or Go's zero time.
    pub last_deployed: Option<String>,
    /// The chart's metadata; None for a record without it.
    pub chart: Option<ListedChart>,
    /// The storage object's labels (empty unless asked for).
    pub labels: std::collections::BTreeMap<String, String>,
}

/// The chart metadata `list` shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListedChart {
    pub name: String,
    pub version: String,
    pub app_version: String,
}

impl Listed {
    /// The listing of a decoded release (the memory driver's records), with its labels.
    pub fn of(r: &Release) -> Listed {
        Listed {
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            revision: r.version,
            status: r.status().to_string(),
            last_deployed: r.info.as_ref().and_then(|i| i.last_deployed.clone()),
            chart: r.chart.as_ref().and_then(|c| c.metadata.as_ref()).map(|m| ListedChart {
                name: m.name.clone(),
                version: m.version.clone(),
                app_version: m.app_version.clone(),
            }),
            labels: r.labels.clone(),
        }
    }

    /// `formatChartName`.
    pub fn chart_name(&self) -> String {
        super::format_chart_name(self.chart.as_ref().map(|c| (c.name.as_str(), c.version.as_str())))
    }

    /// `formatAppVersion`.
    pub fn app_version(&self) -> String {
        super::format_app_version(self.chart.as_ref().map(|c| c.app_version.as_str()))
    }

    /// `Info.LastDeployed` (zero when absent).
    pub fn last_deployed(&self) -> super::gotime::GoTime {
        super::gotime::GoTime::from_field(self.last_deployed.as_deref())
    }
}

/// Parses the list and decodes its records on `available_parallelism` blocking tasks, keeping
/// their order: each with its cache key.
async fn decode_parallel(body: String, secret: bool) -> Result<Vec<(super::record_cache::Key, Listed)>, InspectError> {
    tokio::task::spawn_blocking(move || {
        let list: RawList = serde_json::from_str(&body).map_err(|e| InspectError::new(format!("list: failed to list: {e}")))?;
        let mut items = list.items;
        let mut out: Vec<Option<(super::record_cache::Key, Listed)>> = std::iter::repeat_with(|| None).take(items.len()).collect();
        in_parallel(&mut items, &mut out, |o, slot| {
            let key = o.metadata.key();
            let labels = o.metadata.labels.take().unwrap_or_default();
            // An undecodable record is skipped, as Helm's drivers skip it.
            *slot = summary_of(std::mem::take(o), secret).map(|s| (key, listed_of(&s, labels)));
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
