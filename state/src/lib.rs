//! Release records stored as Helm-compatible Secrets/ConfigMaps, and their history.
//! (Filled in by the releases issue.)
