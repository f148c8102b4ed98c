//! sprig's `getHostByName` (network.go) and Helm's replacement for it.
//!
//! sprig resolves the name (Go's `net.LookupHost`) and returns one of the addresses at random; with
//! no address, Go's `rand.Intn(0)` panics, which text/template reports as the error
//! "invalid argument to Intn". Helm (pkg/engine/engine.go) replaces the function with one that
//! returns "" unless DNS lookups are enabled (`--enable-dns`); [`register_helm`] installs that.

use std::net::ToSocketAddrs;

use rand::Rng;

use super::util::*;
use super::FuncMap;
use crate::value::Value;

/// Go's `net.LookupHost`: the addresses of `name` as strings (IP literals are returned as is).
fn lookup_host(name: &str) -> Vec<String> {
    if let Ok(ip) = name.parse::<std::net::IpAddr>() {
        return vec![ip.to_string()];
    }
    if name.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    if let Ok(addrs) = (name, 0u16).to_socket_addrs() {
        for a in addrs {
            let s = a.ip().to_string();
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// Adds sprig's resolving `getHostByName` to `map`.
pub fn register(m: &mut FuncMap) {
    add(m, "getHostByName", vec![str_t()], str_t(), |a| {
        let addrs = lookup_host(arg_str(&a[0]));
        if addrs.is_empty() {
            return err("invalid argument to Intn");
        }
        let i = rand::rngs::OsRng.gen_range(0..addrs.len());
        ok(Value::string(addrs[i].as_str()))
    });
}

/// Helm's `getHostByName` when DNS lookups are not enabled (the default): always "".
pub fn register_helm(m: &mut FuncMap) {
    add(m, "getHostByName", vec![str_t()], str_t(), |_| ok(Value::string("")));
}

/// Helm with `--enable-dns`: sprig's resolving function.
pub fn register_helm_dns(m: &mut FuncMap) {
    register(m);
}
