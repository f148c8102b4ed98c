//! OCI registries (pkg/registry).

use crate::{Error, HelmPaths, PullOptions, Pulled, Result};

/// `helm pull oci://…`.
pub fn pull(_paths: &HelmPaths, reference: &str, _opts: &PullOptions) -> Result<Pulled> {
    Err(Error::new(format!("OCI pull of {reference} is not implemented yet")))
}
