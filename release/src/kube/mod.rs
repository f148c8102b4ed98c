//! Talking to the cluster as Helm's `pkg/kube` does: a client from kubeconfig with Helm's
//! namespace rules (`client`), a cached REST mapper from discovery (`discovery`), rendered
//! manifests turned into API objects (`resource`), and server-side apply / delete with Helm's
//! ownership metadata (`apply`).

pub mod apply;
pub mod discovery;
pub mod resource;

use std::path::PathBuf;

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
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
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
}

impl KubeOptions {
    /// Flags first, then Helm's environment variables (empty values count as unset).
    pub fn resolve(kubeconfig: Option<String>, context: Option<String>, namespace: Option<String>) -> Self {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        KubeOptions {
            kubeconfig: kubeconfig.filter(|k| !k.is_empty()).map(PathBuf::from),
            context: context.filter(|c| !c.is_empty()).or_else(|| env("HELM_KUBECONTEXT")),
            namespace: namespace.filter(|n| !n.is_empty()).or_else(|| env("HELM_NAMESPACE")),
        }
    }
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
}

/// The field manager Helm's CLI uses for apply and create.
pub const FIELD_MANAGER: &str = "helm";

impl Kube {
    /// Connects as Helm does: the kubeconfig file given (else `KUBECONFIG` / `~/.kube/config`),
    /// the context given (else the current one).
    pub async fn connect(opts: &KubeOptions) -> Result<Kube, KubeError> {
        let kopts = KubeConfigOptions { context: opts.context.clone(), ..Default::default() };
        let config = match &opts.kubeconfig {
            Some(path) => {
                let kc = Kubeconfig::read_from(path)
                    .map_err(|e| KubeError(format!("kubernetes cluster unreachable: {e}")))?;
                Config::from_custom_kubeconfig(kc, &kopts).await
            }
            None => Config::from_kubeconfig(&kopts).await,
        }
        .map_err(|e| KubeError(format!("kubernetes cluster unreachable: {e}")))?;
        let context_ns = config.default_namespace.clone();
        let kept = config.clone();
        let client = Client::try_from(config).map_err(|e| KubeError(format!("kubernetes cluster unreachable: {e}")))?;
        let namespace = opts.namespace.clone().filter(|n| !n.is_empty()).unwrap_or(context_ns);
        let namespace = if namespace.is_empty() { "default".to_string() } else { namespace };
        Ok(Kube {
            mapper: Mapper::new(client.clone()),
            client,
            namespace,
            field_manager: FIELD_MANAGER.to_string(),
            config: Some(kept),
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
        }
    }

    /// Helm's `IsReachable`: the server version answers.
    pub async fn is_reachable(&self) -> Result<(), KubeError> {
        self.client
            .apiserver_version()
            .await
            .map(|_| ())
            .map_err(|e| KubeError(format!("kubernetes cluster unreachable: {}", api_message(&e))))
    }
}
