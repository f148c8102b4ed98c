//! Links the `rudder` binary as a position-dependent executable on glibc Linux, as Go links
//! helm: a PIE's tens of thousands of relative relocations are applied at every start,
//! writing (and so copying) some 160 pages of the binary, a fifth of a millisecond that a
//! short command like `list` feels. Library code stays position-independent; only the link
//! changes. Static musl builds keep their own default.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
