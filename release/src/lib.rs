//! Cluster actions: server-side apply, hooks, wait, install/upgrade/rollback/uninstall.

pub mod inspect;
pub mod wait;
