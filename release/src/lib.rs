//! Cluster actions: server-side apply, hooks, wait, install/upgrade/rollback/uninstall.
//! (Filled in by the releases issue.)
