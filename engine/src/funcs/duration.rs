//! Helm 4's duration functions (`mustToDuration`, `durationSeconds`, ..., `durationRoundTo`,
//! `durationTruncateTo`). Not written yet.

use super::FuncMap;

/// Adds this family's functions to `map`.
pub fn register(_map: &mut FuncMap) {}
