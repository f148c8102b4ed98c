//! Chart sources: HTTP index repositories, OCI registries, the content cache, offline bundles.
//! (Filled in by the chart-sources issue.)
