//! Version checks the chart layer needs, on the engine's Masterminds/semver v3.5.0 port
//! (`rudder_engine::semver`), the same code that `semverCompare` runs in templates.

pub use rudder_engine::semver::is_compatible_range;

/// `semver.NewVersion(v)` succeeds (lenient: `v` prefix, `1.2`, `1`).
pub fn is_valid_version(v: &str) -> bool {
    rudder_engine::semver::Version::parse(v).is_ok()
}
