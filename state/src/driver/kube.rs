//! The cluster drivers (pkg/storage/driver/secrets.go, cfgmaps.go): one Secret or ConfigMap per
//! revision in the release namespace, talking to the apiserver with the `kube` crate.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::{
    filter_system_labels, is_valid_label_value, object_labels, unix_now, Driver, DATA_KEY,
    SECRET_TYPE,
};
use crate::codec;
use crate::release::Release;
use crate::Error;

/// The kubeconfig at `path` (None: the `KUBECONFIG` files merged, or `~/.kube/config`), read
/// and parsed once per process and then cloned: one command asks for it several times (the
/// namespace, the client, the server's address) and parsing a kubeconfig costs ~0.3 ms.
/// None when it cannot be read; callers then take their own path, with its own error text.
pub fn read_kubeconfig(path: Option<&Path>) -> Option<Kubeconfig> {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::{Mutex, OnceLock};
    type Seen = HashMap<(Option<PathBuf>, Option<std::ffi::OsString>), (Vec<Stamp>, Kubeconfig)>;
    static SEEN: OnceLock<Mutex<Seen>> = OnceLock::new();
    // Without a path, which files are read depends on KUBECONFIG: it is part of the key. A
    // file changed since (size or mtime) is read again.
    let env = if path.is_none() { std::env::var_os("KUBECONFIG") } else { None };
    let files: Vec<PathBuf> = match (path, &env) {
        (Some(p), _) => vec![p.to_path_buf()],
        (None, Some(list)) => std::env::split_paths(list).filter(|p| !p.as_os_str().is_empty()).collect(),
        (None, None) => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube/config")).into_iter().collect(),
    };
    let stamps: Vec<Stamp> = files.iter().map(|f| Stamp::of(f)).collect();
    let key = (path.map(Path::to_path_buf), env);
    let seen = SEEN.get_or_init(Default::default);
    if let Some((was, kc)) = seen.lock().ok()?.get(&key) {
        if *was == stamps {
            return Some(kc.clone());
        }
    }
    let kc = match path {
        Some(p) => Kubeconfig::read_from(p).ok()?,
        None => Kubeconfig::read().ok()?,
    };
    seen.lock().ok()?.insert(key, (stamps, kc.clone()));
    Some(kc)
}

/// What tells a file changed: its size and modification time (None: not there).
#[derive(PartialEq)]
struct Stamp(Option<(u64, std::time::SystemTime)>);

impl Stamp {
    fn of(path: &Path) -> Stamp {
        Stamp(std::fs::metadata(path).ok().and_then(|m| Some((m.len(), m.modified().ok()?))))
    }
}

/// A client for the cluster of `kubeconfig` (default loading rules when None) and `context`
/// (the current context when None).
pub async fn client(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<Client, Error> {
    let opts = KubeConfigOptions {
        context: context.map(str::to_string),
        ..Default::default()
    };
    let config = match (kubeconfig, read_kubeconfig(kubeconfig)) {
        (_, Some(kc)) => Config::from_custom_kubeconfig(kc, &opts).await.map_err(|e| Error::Kube(e.to_string()))?,
        (Some(path), None) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| Error::Kube(e.to_string()))?;
            Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| Error::Kube(e.to_string()))?
        }
        (None, None) => Config::from_kubeconfig(&opts)
            .await
            .map_err(|e| Error::Kube(e.to_string()))?,
    };
    let mut config = config;
    skip_unused_trust_store(&mut config);
    Ok(crate::connect::client_builder(config).map_err(|e| Error::Kube(e.to_string()))?.build())
}

/// When any server certificate is accepted (`insecure-skip-tls-verify`) and no CA is given,
/// the system trust store is never consulted, yet kube-rs would still read and parse every
/// system CA (hundreds of files under /etc/ssl/certs, several ms) for each client. An empty
/// store in its place changes nothing but that cost.
pub fn skip_unused_trust_store(config: &mut Config) {
    if config.accept_invalid_certs && config.root_cert.is_none() && config.root_cert_file.is_none() {
        config.root_cert = Some(Vec::new());
    }
}

/// A storage object kind: how the payload sits in it.
pub trait StorageObject:
    kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + std::fmt::Debug
    + serde::Serialize
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// `Secret` or `ConfigMap` (Helm's driver names).
    const DRIVER_NAME: &'static str;
    /// The payload (base64 text) under `data.release`.
    fn payload(&self) -> Option<Vec<u8>>;
    /// A new object holding the payload.
    fn build(name: &str, labels: BTreeMap<String, String>, payload: String) -> Self;
}

impl StorageObject for Secret {
    const DRIVER_NAME: &'static str = "Secret";
    fn payload(&self) -> Option<Vec<u8>> {
        self.data.as_ref()?.get(DATA_KEY).map(|b| b.0.clone())
    }
    fn build(name: &str, labels: BTreeMap<String, String>, payload: String) -> Self {
        Secret {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                labels: Some(labels),
                ..Default::default()
            },
            type_: Some(SECRET_TYPE.to_string()),
            data: Some(BTreeMap::from([(
                DATA_KEY.to_string(),
                ByteString(payload.into_bytes()),
            )])),
            ..Default::default()
        }
    }
}

impl StorageObject for ConfigMap {
    const DRIVER_NAME: &'static str = "ConfigMap";
    fn payload(&self) -> Option<Vec<u8>> {
        self.data
            .as_ref()?
            .get(DATA_KEY)
            .map(|s| s.as_bytes().to_vec())
    }
    fn build(name: &str, labels: BTreeMap<String, String>, payload: String) -> Self {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                labels: Some(labels),
                ..Default::default()
            },
            data: Some(BTreeMap::from([(DATA_KEY.to_string(), payload)])),
            ..Default::default()
        }
    }
}

/// The Secret driver (Helm's default).
pub type SecretDriver = KubeDriver<Secret>;
/// The ConfigMap driver.
pub type ConfigMapDriver = KubeDriver<ConfigMap>;

/// A driver storing each revision as one object of kind `K` in one namespace.
pub struct KubeDriver<K> {
    api: Api<K>,
}

fn kube_err(e: kube::Error) -> Error {
    Error::Kube(message(&e))
}

/// An API error as Go's `StatusError.Error()` gives it (the status message, which is what Helm
/// prints after `failed to create: `); a transport error from the client's layers (Rudder's
/// retry layer words them as Go's `url.Error`) as its own text, without kube-rs's prefix.
pub fn message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        kube::Error::Service(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn status_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

impl<K: StorageObject> KubeDriver<K> {
    /// A driver for `namespace`; "" means all namespaces (list/query only, like `helm list -A`).
    pub fn new(client: Client, namespace: &str) -> Self {
        let api = if namespace.is_empty() {
            Api::all(client)
        } else {
            Api::namespaced(client, namespace)
        };
        KubeDriver { api }
    }

    /// The underlying API handle.
    pub fn api(&self) -> &Api<K> {
        &self.api
    }

    fn decode(obj: &K) -> Option<Release> {
        let mut rls = codec::decode(&obj.payload()?).ok()?;
        rls.labels = obj.meta().labels.clone().unwrap_or_default();
        Some(rls)
    }

    async fn list_selector(&self, selector: &str) -> Result<Vec<K>, kube::Error> {
        Ok(self
            .api
            .list(&ListParams::default().labels(selector))
            .await?
            .items)
    }

    fn object(key: &str, rls: &Release, stamp: &str) -> Result<K, Error> {
        let payload = codec::encode(rls)?;
        Ok(K::build(
            key,
            object_labels(rls, Some((stamp, unix_now()))),
            payload,
        ))
    }
}

impl<K: StorageObject> Driver for KubeDriver<K> {
    fn name(&self) -> &'static str {
        K::DRIVER_NAME
    }

    async fn get(&self, key: &str) -> Result<Release, Error> {
        let obj = match self.api.get_opt(key).await {
            Ok(Some(o)) => o,
            Ok(None) => return Err(Error::NotFound),
            Err(e) => {
                return Err(Error::Kube(format!(
                    "get: failed to get {key:?}: {}",
                    message(&e)
                )))
            }
        };
        let payload = obj.payload().unwrap_or_default();
        let mut rls = codec::decode(&payload)
            .map_err(|e| Error::Decode(format!("get: failed to decode data {key:?}: {e}")))?;
        rls.labels = filter_system_labels(&obj.meta().labels.clone().unwrap_or_default());
        Ok(rls)
    }

    async fn list(
        &self,
        filter: &(dyn Fn(&Release) -> bool + Sync),
    ) -> Result<Vec<Release>, Error> {
        let items = self
            .list_selector("owner=helm")
            .await
            .map_err(|e| Error::Kube(format!("list: failed to list: {}", message(&e))))?;
        Ok(items
            .iter()
            .filter_map(Self::decode)
            .filter(|r| filter(r))
            .collect())
    }

    async fn query(&self, labels: &BTreeMap<String, String>) -> Result<Vec<Release>, Error> {
        for v in labels.values() {
            if !is_valid_label_value(v) {
                return Err(Error::InvalidLabelValue(v.clone()));
            }
        }
        let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let items = self.list_selector(&selector.join(",")).await.map_err(|e| {
            Error::Kube(format!(
                "query: failed to query with labels: {}",
                message(&e)
            ))
        })?;
        if items.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(items.iter().filter_map(Self::decode).collect())
    }

    async fn create(&self, key: &str, rls: &Release) -> Result<(), Error> {
        let obj = Self::object(key, rls, "createdAt").map_err(|e| {
            Error::Encode(format!(
                "create: failed to encode release {:?}: {e}",
                rls.name
            ))
        })?;
        match self.api.create(&PostParams::default(), &obj).await {
            Ok(_) => Ok(()),
            Err(e) if status_code(&e) == Some(409) => Err(Error::Exists),
            Err(e) => Err(Error::Kube(format!(
                "create: failed to create: {}",
                message(&e)
            ))),
        }
    }

    async fn update(&self, key: &str, rls: &Release) -> Result<(), Error> {
        let obj = Self::object(key, rls, "modifiedAt").map_err(|e| {
            Error::Encode(format!(
                "update: failed to encode release {:?}: {e}",
                rls.name
            ))
        })?;
        self.api
            .replace(key, &PostParams::default(), &obj)
            .await
            .map(|_| ())
            .map_err(|e| Error::Kube(format!("update: failed to update: {}", message(&e))))
    }

    async fn delete(&self, key: &str) -> Result<Release, Error> {
        let rls = self.get(key).await?;
        self.api
            .delete(key, &DeleteParams::default())
            .await
            .map_err(kube_err)?;
        Ok(rls)
    }
}
