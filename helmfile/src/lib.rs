//! helmfile v1 desired-state files: parsing, environments, the `needs` DAG, parallel runs.
//! (Filled in by the helmfile issue.)
