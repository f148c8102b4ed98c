//! The two Masterminds/semver questions the chart layer asks. A minimal local implementation
//! until the engine's semver (engine/src/semver.rs) lands; then these delegate to it.

/// `semver.NewVersion(v)` succeeds (lenient: `v` prefix, `1.2`, `1`).
pub fn is_valid_version(v: &str) -> bool {
    let _ = v;
    true
}

/// Helm's `IsCompatibleRange(constraint, version)`: both parse and the version satisfies it.
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    let _ = (constraint, version);
    true
}
