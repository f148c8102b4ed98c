//! Cluster actions: server-side apply, hooks, wait, install/upgrade/rollback/uninstall.

pub mod diff;
pub mod action;
pub mod hooks;
pub mod kube;
pub mod lookup;
pub mod progress;
pub mod render;
pub mod inspect;
pub mod wait;
