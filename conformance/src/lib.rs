//! Test-bed helpers shared by the conformance tests: locating the oracles built by
//! `conformance/oracles` and bringing the local cluster up with `conformance/testbed`.

pub mod testbed;
pub mod fault_proxy;
pub mod cases;
pub mod engine_diff;
pub mod gen;
pub mod template_diff;
