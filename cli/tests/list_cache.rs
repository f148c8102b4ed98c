//! `rudder list` with its record cache against the real helm 4 on the test bed: whatever helm
//! does between two listings (install, upgrade, uninstall, rollback), the warm listing, which
//! reads only object metadata plus the records that changed, prints exactly what `helm list`
//! prints; a damaged cache file changes nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rudder_conformance::testbed::{self, oracle, unique_name};

struct Scratch(PathBuf, String);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = testbed::testbed().delete(&format!("/api/v1/namespaces/{}", self.1));
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cmd(program: &Path, home: &Path, args: &[&str], timing: bool) -> Output {
    let mut c: Command = testbed::testbed().command(program, home);
    c.args(args);
    if timing {
        c.env("RUDDER_TIMING", "1");
    }
    c.output().expect("run")
}

fn ok(o: Output, what: &str) -> Output {
    assert!(o.status.success(), "{what}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    o
}

fn chart(dir: &Path) -> PathBuf {
    let c = dir.join("chart");
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(c.join("Chart.yaml"), "apiVersion: v2\nname: cached\nversion: 0.1.0\nappVersion: \"2.0\"\n").unwrap();
    std::fs::write(c.join("templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  v: {{ .Values.v | default \"a\" | quote }}\n").unwrap();
    c
}

#[test]
fn warm_listings_print_what_helm_prints() {
    let tb = testbed::testbed();
    let ns = unique_name("listcache");
    let dir = std::env::temp_dir().join(&ns);
    std::fs::create_dir_all(&dir).unwrap();
    let _s = Scratch(dir.clone(), ns.clone());
    let home = dir.join("h");
    let helm = oracle("helm");
    let rudder = PathBuf::from(env!("CARGO_BIN_EXE_rudder"));
    let c = chart(&dir);
    let c = c.to_str().unwrap();
    let helm_do = |args: &[&str]| ok(cmd(&helm, &home, args, false), &args.join(" "));
    let same = |step: &str, want_cached: bool| {
        for args in [
            vec!["list", "-n", ns.as_str()],
            vec!["list", "-n", ns.as_str(), "--superseded", "--uninstalled", "--deployed", "-o", "json"],
            // A selector needs the storage labels, which the cache does not hold.
            vec!["list", "-n", ns.as_str(), "-l", "name!=lc-a,status in (deployed,uninstalled)", "--uninstalled"],
            vec!["list", "-A", "-f", "^lc-", "--uninstalled", "-d"],
        ] {
            let want = ok(cmd(&helm, &home, &args, false), "helm list");
            let got = ok(cmd(&rudder, &home, &args, true), "rudder list");
            assert_eq!(String::from_utf8_lossy(&got.stdout), String::from_utf8_lossy(&want.stdout), "{step}: {args:?}");
            let timing = String::from_utf8_lossy(&got.stderr).into_owned();
            if want_cached && args[1] == "-n" {
                assert!(timing.contains("(metadata + cache)"), "{step}: the warm listing did not use the cache: {timing}");
            }
        }
    };
    helm_do(&["install", "lc-a", c, "-n", &ns, "--create-namespace"]);
    helm_do(&["install", "lc-b", c, "-n", &ns]);
    helm_do(&["install", "lc-c", c, "-n", &ns]);
    same("cold", false);
    same("warm, nothing changed", true);
    helm_do(&["upgrade", "lc-a", c, "-n", &ns, "--set", "v=b"]);
    helm_do(&["uninstall", "lc-b", "-n", &ns]);
    helm_do(&["install", "lc-d", c, "-n", &ns]);
    same("after upgrade, uninstall, install", true);
    helm_do(&["rollback", "lc-a", "1", "-n", &ns]);
    helm_do(&["uninstall", "lc-c", "-n", &ns, "--keep-history"]);
    same("after rollback and uninstall --keep-history", true);
    // A damaged cache file (cut short, or not one at all) is an empty cache.
    let records = home.join("cache/rudder/records");
    let files: Vec<PathBuf> = std::fs::read_dir(&records).expect("the record cache was written").flatten().map(|e| e.path()).collect();
    assert!(!files.is_empty(), "no cache file in {}", records.display());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        std::fs::write(f, &bytes[..bytes.len() / 2]).unwrap();
    }
    same("truncated cache", false);
    for f in &files {
        std::fs::write(f, b"{ not a cache").unwrap();
    }
    same("damaged cache", false);
    let _ = tb;
}
