//! Function family `crypto` (see funcs/mod.rs for the conventions). Not written yet.

use super::FuncMap;

/// Adds this family's functions to `map`.
pub fn register(_map: &mut FuncMap) {}
