//! Release records stored like Helm (v4.3.1 and v3.22) stores them: Secrets (the default),
//! ConfigMaps or memory, encoded as base64(gzip(JSON)), named `sh.helm.release.v1.<name>.v<n>`,
//! plus Helm's `Storage` helpers (history, last, deployed, `--history-max` pruning).
//!
//! ```text
//! release  the record model (JSON exactly as Helm writes it; unknown fields kept)
//! codec    encode/decode of the stored payload
//! connect  kube-rs clients with TCP_NODELAY connections (as Go's)
//! driver   the Driver trait, labels, keys; memory, kube (Secret/ConfigMap) drivers
//! lease    owners and leases on in-flight operations; stale pending records and recovery
//! storage  Storage: history, last, deployed, max-history pruning
//! ```

pub mod codec;
pub mod connect;
pub mod driver;
pub mod lease;
pub mod release;
pub mod storage;

pub use driver::{
    kube::ConfigMapDriver, kube::SecretDriver, memory::MemoryDriver, AnyDriver, Driver,
};
pub use release::{Release, Status};
pub use storage::Storage;

/// Storage errors. The messages are Helm's (pkg/storage/driver/driver.go).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("release: not found")]
    NotFound,
    #[error("release: already exists")]
    Exists,
    #[error("release: invalid key")]
    InvalidKey,
    #[error("{0:?} has no deployed releases")]
    NoDeployedReleases(String),
    #[error("no revision for release {0:?}")]
    NoRevision(String),
    #[error("invalid label value: {0:?}")]
    InvalidLabelValue(String),
    #[error("user supplied labels contains system reserved label name. System labels: [name owner status version createdAt modifiedAt]")]
    ReservedLabel,
    #[error("another operation (install/upgrade/rollback) is in progress")]
    Pending,
    #[error("{0}")]
    Decode(String),
    #[error("{0}")]
    Encode(String),
    #[error("{0}")]
    Kube(String),
    #[error("unknown driver {0:?}")]
    UnknownDriver(String),
    #[error("encountered {0} deletion errors. First is: {1}")]
    Deletions(usize, Box<Error>),
}

impl Error {
    /// Helm's `errors.Is(err, driver.ErrReleaseNotFound)`.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound)
    }
}
