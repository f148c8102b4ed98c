//! Talking to the cluster as Helm's `pkg/kube` does: a client from kubeconfig with Helm's
//! namespace rules (`client`), a cached REST mapper from discovery (`discovery`), rendered
//! manifests turned into API objects (`resource`), and server-side apply / delete with Helm's
//! ownership metadata (`apply`).

pub mod apply;
pub mod discovery;
pub mod resource;
pub mod retry;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

pub use apply::{ApplyOptions, UpdateResult};
pub use discovery::{Mapper, Mapping};
pub use resource::{ObjectRef, Resource};

/// An error from the cluster or from building objects, worded as Helm words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KubeError(pub String);

impl KubeError {
    pub fn new(msg: impl Into<String>) -> Self {
        KubeError(msg.into())
    }
}

/// The text of an API error as Go's `StatusError.Error()` gives it (the status message), other
/// errors as kube-rs words them.
pub fn api_message(e: &kube::Error) -> String {
    match e {
        // client-go's words for a 401 (the apiserver's own body just says "Unauthorized").
        kube::Error::Api(s) if s.code == 401 => {
            "the server has asked for the client to provide credentials".into()
        }
        kube::Error::Api(s) => s.message.clone(),
        other => match retry::transport_error(other) {
            Some(t) => t.to_string(),
            None => other.to_string(),
        },
    }
}

/// The whole source chain of an error, for recognising transport failures.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// Kubeconfig errors in client-go's words.
fn config_message(msg: String) -> String {
    match msg.strip_prefix("failed to load current context: ") {
        Some(ctx) => format!("context {} does not exist", resource::go_quote(ctx)),
        None => msg,
    }
}

/// Whether the API answered 404.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Whether the API answered 409 AlreadyExists.
pub fn is_already_exists(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists")
}

/// Whether the API answered 409 Conflict (an SSA field-manager conflict among others).
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409 && s.reason != "AlreadyExists")
}

/// Where to connect (Helm's `--kubeconfig`, `--kube-context`, `--namespace` and their
/// environment variables `KUBECONFIG`, `HELM_KUBECONTEXT`, `HELM_NAMESPACE`).
#[derive(Debug, Clone, Default)]
pub struct KubeOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// `--kube-apiserver` (`HELM_KUBEAPISERVER`).
    pub api_server: Option<String>,
    /// `--kube-token` (`HELM_KUBETOKEN`).
    pub token: Option<String>,
    /// `--kube-as-user` / `--kube-as-group` (`HELM_KUBEASUSER`, `HELM_KUBEASGROUPS`).
    pub as_user: Option<String>,
    pub as_groups: Vec<String>,
    /// `--kube-ca-file` (`HELM_KUBECAFILE`).
    pub ca_file: Option<PathBuf>,
    /// `--kube-insecure-skip-tls-verify` (`HELM_KUBEINSECURE_SKIP_TLS_VERIFY`).
    pub insecure_skip_tls_verify: bool,
    /// `--kube-tls-server-name` (`HELM_KUBETLS_SERVER_NAME`).
    pub tls_server_name: Option<String>,
    /// How long one request may wait for its answer (kube-rs's read timeout). None, as in
    /// client-go (so Helm), waits as long as the server takes; watches need None or a value
    /// above their own 290 s server timeout.
    pub request_timeout: Option<Duration>,
}

impl KubeOptions {
    /// Flags first, then Helm's environment variables (empty values count as unset).
    pub fn resolve(
        kubeconfig: Option<String>,
        context: Option<String>,
        namespace: Option<String>,
    ) -> Self {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        KubeOptions {
            kubeconfig: kubeconfig.filter(|k| !k.is_empty()).map(PathBuf::from),
            context: context
                .filter(|c| !c.is_empty())
                .or_else(|| env("HELM_KUBECONTEXT")),
            namespace: namespace
                .filter(|n| !n.is_empty())
                .or_else(|| env("HELM_NAMESPACE")),
            api_server: env("HELM_KUBEAPISERVER"),
            token: env("HELM_KUBETOKEN"),
            as_user: env("HELM_KUBEASUSER"),
            as_groups: env("HELM_KUBEASGROUPS")
                .map(|g| g.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            ca_file: env("HELM_KUBECAFILE").map(PathBuf::from),
            insecure_skip_tls_verify: env("HELM_KUBEINSECURE_SKIP_TLS_VERIFY")
                .is_some_and(|v| v == "true"),
            tls_server_name: env("HELM_KUBETLS_SERVER_NAME"),
            request_timeout: None,
        }
    }

    /// Applies the overrides of the `--kube-*` flags to a loaded configuration.
    fn apply(&self, config: &mut Config) -> Result<(), KubeError> {
        if let Some(url) = &self.api_server {
            config.cluster_url = url.parse().map_err(|e| {
                KubeError(format!(
                    "kubernetes cluster unreachable: invalid --kube-apiserver {url:?}: {e}"
                ))
            })?;
        }
        if let Some(t) = &self.token {
            config.auth_info.token = Some(secrecy::SecretString::from(t.clone()));
        }
        if let Some(u) = &self.as_user {
            config.auth_info.impersonate = Some(u.clone());
        }
        if !self.as_groups.is_empty() {
            config.auth_info.impersonate_groups = Some(self.as_groups.clone());
        }
        if let Some(ca) = &self.ca_file {
            if !ca.exists() {
                return Err(KubeError(format!(
                    "kubernetes cluster unreachable: open {}: no such file or directory",
                    ca.display()
                )));
            }
            config.root_cert_file = Some(ca.clone());
        }
        if self.insecure_skip_tls_verify {
            config.accept_invalid_certs = true;
        }
        if let Some(n) = &self.tls_server_name {
            config.tls_server_name = Some(n.clone());
        }
        if let Some(t) = self.request_timeout {
            config.read_timeout = Some(t);
        }
        Ok(())
    }
}

/// A client for `config` that retries as client-go does ([`retry`]) instead of kube-rs's
/// default retries.
pub fn client(mut config: Config) -> Result<Client, kube::Error> {
    config.default_retry = false;
    rudder_state::driver::kube::skip_unused_trust_store(&mut config);
    let layer = retry::RetryLayer::default().base(config.cluster_url.clone());
    Ok(rudder_state::connect::client_builder(config)?
        .with_layer(&layer)
        .build())
}

/// A connected cluster: the client, the namespace Helm would use, the REST mapper.
pub struct Kube {
    pub client: Client,
    /// The release namespace: `--namespace`, else the kubeconfig context's, else `default`.
    pub namespace: String,
    pub mapper: Mapper,
    /// The SSA field manager (`helm`, as Helm's CLI sets it).
    pub field_manager: String,
    /// The connection settings (for clients on other threads, e.g. template `lookup`);
    /// `None` when built from a bare client.
    pub config: Option<Config>,
    /// Set once the server answered [`Kube::is_reachable`]: later checks in the same action
    /// (the lease's, then the action's own) cost no further round trip.
    reached: AtomicBool,
}

/// The field manager Helm's CLI uses for apply and create.
pub const FIELD_MANAGER: &str = "helm";

impl Kube {
    /// Connects as Helm does: the kubeconfig file given (else `KUBECONFIG` / `~/.kube/config`),
    /// the context given (else the current one).
    pub async fn connect(opts: &KubeOptions) -> Result<Kube, KubeError> {
        let kopts = KubeConfigOptions {
            context: opts.context.clone(),
            ..Default::default()
        };
        let config = match &opts.kubeconfig {
            Some(path) => {
                let kc = Kubeconfig::read_from(path).map_err(|e| {
                    KubeError(format!(
                        "kubernetes cluster unreachable: {}",
                        config_message(e.to_string())
                    ))
                })?;
                Config::from_custom_kubeconfig(kc, &kopts).await
            }
            None => Config::from_kubeconfig(&kopts).await,
        }
        .map_err(|e| {
            KubeError(format!(
                "kubernetes cluster unreachable: {}",
                config_message(e.to_string())
            ))
        })?;
        let mut config = config;
        opts.apply(&mut config)?;
        let context_ns = config.default_namespace.clone();
        let kept = config.clone();
        let client = client(config)
            .map_err(|e| KubeError(format!("kubernetes cluster unreachable: {e}")))?;
        let namespace = opts
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or(context_ns);
        let namespace = if namespace.is_empty() {
            "default".to_string()
        } else {
            namespace
        };
        Ok(Kube {
            mapper: Mapper::new(client.clone()),
            client,
            namespace,
            field_manager: FIELD_MANAGER.to_string(),
            config: Some(kept),
            reached: AtomicBool::new(false),
        })
    }

    /// A connection to an existing client (tests, callers that already hold one).
    pub fn from_client(client: Client, namespace: impl Into<String>) -> Kube {
        Kube {
            mapper: Mapper::new(client.clone()),
            client,
            namespace: namespace.into(),
            field_manager: FIELD_MANAGER.to_string(),
            config: None,
            reached: AtomicBool::new(false),
        }
    }

    /// Helm's `IsReachable`: the server version answers.
    /// Once it answered, it is not asked again by this connection.
    pub async fn is_reachable(&self) -> Result<(), KubeError> {
        if self.reached.load(Ordering::Relaxed) {
            return Ok(());
        }
        let e = match self.client.apiserver_version().await {
            Ok(v) => {
                self.reached.store(true, Ordering::Relaxed);
                self.mapper.offer_version(discovery::ServerVersion {
                    git_version: v.git_version,
                    major: v.major,
                    minor: v.minor,
                });
                return Ok(());
            }
            Err(e) => e,
        };
        let chain = error_chain(&e);
        let msg = if let Some(t) = retry::transport_error(&e) {
            t.to_string()
        } else if matches!(e, kube::Error::Api(_)) {
            api_message(&e)
        } else if chain.to_lowercase().contains("connection refused") {
            let url = self
                .config
                .as_ref()
                .map(|c| c.cluster_url.to_string())
                .unwrap_or_default();
            let url = url.trim_end_matches('/').to_string();
            let host = url
                .split("://")
                .nth(1)
                .unwrap_or(&url)
                .split('/')
                .next()
                .unwrap_or("")
                .to_string();
            format!("Get \"{url}/version\": dial tcp {host}: connect: connection refused")
        } else {
            chain
        };
        Err(KubeError(format!("kubernetes cluster unreachable: {msg}")))
    }
}
