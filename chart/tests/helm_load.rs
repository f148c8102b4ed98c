//! Chart loading compared with the real helm v4.3.1: every corpus chart loads, and the files
//! Rudder loaded (templates, files, subcharts recursively) are the files `helm package` writes
//! for the same chart (it saves exactly what Helm's loader loaded). Bad inputs fail with the
//! same error text as `helm template`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use rudder_chart::load;
use rudder_chart::model::Chart;

fn helm() -> std::path::PathBuf {
    rudder_conformance::testbed::oracle("helm")
}

const CORPUS: &str = "/work/shared/corpus/charts";

/// The paths `chartutil.Save` writes for a loaded chart, under `prefix`.
fn saved_paths(c: &Chart, prefix: &str, out: &mut BTreeSet<String>) {
    let p = format!("{prefix}{}", c.name());
    out.insert(format!("{p}/Chart.yaml"));
    if c.lock.is_some() && c.metadata.api_version == "v2" {
        out.insert(format!("{p}/Chart.lock"));
    }
    // Save writes values.yaml only when the chart had one (from Raw).
    if c.values_raw.is_some() {
        out.insert(format!("{p}/values.yaml"));
    }
    if c.schema.is_some() {
        out.insert(format!("{p}/values.schema.json"));
    }
    for f in c.templates.iter().chain(c.files.iter()) {
        out.insert(format!("{p}/{}", f.name));
    }
    for d in &c.dependencies {
        saved_paths(d, &format!("{p}/charts/"), out);
    }
}

fn tar_list(tgz: &Path) -> BTreeSet<String> {
    let out = Command::new("tar").arg("tzf").arg(tgz).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.ends_with('/')).map(str::to_string).collect()
}

#[test]
fn corpus_charts_load_like_helm() {
    let tmp = tempfile::tempdir().unwrap();
    let mut names: Vec<_> = std::fs::read_dir(CORPUS)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for name in names {
        let dir = Path::new(CORPUS).join(&name);
        let chart = load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        let dest = tmp.path().join(&name);
        std::fs::create_dir_all(&dest).unwrap();
        let out = Command::new(helm()).arg("package").arg(&dir).arg("-d").arg(&dest).output().unwrap();
        assert!(out.status.success(), "{name}: helm package: {}", String::from_utf8_lossy(&out.stderr));
        let tgz = std::fs::read_dir(&dest).unwrap().next().unwrap().unwrap().path();
        let mut mine = BTreeSet::new();
        saved_paths(&chart, "", &mut mine);
        let theirs = tar_list(&tgz);
        let only_helm: Vec<_> = theirs.difference(&mine).collect();
        let only_rudder: Vec<_> = mine.difference(&theirs).collect();
        assert!(only_helm.is_empty() && only_rudder.is_empty(), "{name}: only helm {only_helm:?}, only Rudder {only_rudder:?}");
        // The packaged archive loads to the same chart.
        let again = load(&tgz).unwrap_or_else(|e| panic!("{name} (tgz): {e}"));
        let mut mine2 = BTreeSet::new();
        saved_paths(&again, "", &mut mine2);
        assert_eq!(mine, mine2, "{name}: archive loads differently");
        assert_eq!(again.metadata, chart.metadata, "{name}: metadata from archive differs");
    }
}

/// A gzipped tar with the given (name, bytes) entries, names written raw.
fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = Vec::new();
    for (name, data) in entries {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        tar.extend_from_slice(&h);
        tar.extend_from_slice(data);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.resize(tar.len() + 1024, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

/// `helm template` and Rudder's `load` on the same path: both must fail with the same text, or
/// both succeed.
fn same_outcome(path: &Path) {
    let out = Command::new(helm()).arg("template").arg("t").arg(path).output().unwrap();
    let helm_err = String::from_utf8_lossy(&out.stderr);
    let helm_err = helm_err.lines().filter(|l| l.starts_with("Error: ")).last().map(str::to_string);
    let ours = load(path).err().map(|e| format!("Error: {e}"));
    if ours.is_some() || !out.status.success() {
        assert_eq!(helm_err, ours, "{}", path.display());
    }
}

const CHART_YAML: &[u8] = b"apiVersion: v2\nname: x\nversion: 1.0.0\n";

#[test]
fn bad_archives_fail_like_helm() {
    let tmp = tempfile::tempdir().unwrap();
    let big = vec![b'a'; 6 * 1024 * 1024];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("parent.tgz", tgz(&[("x/Chart.yaml", CHART_YAML), ("x/../../evil", b"x")])),
        ("abs.tgz", tgz(&[("x/Chart.yaml", CHART_YAML), ("x//etc/passwd", b"x")])),
        ("base.tgz", tgz(&[("Chart.yaml", CHART_YAML)])),
        ("drive.tgz", tgz(&[("x/Chart.yaml", CHART_YAML), ("x/C:/evil", b"x")])),
        ("nochart.tgz", tgz(&[("x/values.yaml", b"a: 1\n")])),
        ("bigfile.tgz", tgz(&[("x/Chart.yaml", CHART_YAML), ("x/big.txt", &big)])),
        ("badyaml.tgz", tgz(&[("x/Chart.yaml", b"apiVersion: v2\nname: [x\n")])),
        ("noversion.tgz", tgz(&[("x/Chart.yaml", b"apiVersion: v2\nname: x\n")])),
        ("badvalues.tgz", tgz(&[("x/Chart.yaml", CHART_YAML), ("x/values.yaml", b"- 1\n")])),
        ("notgz.tgz", b"just text".to_vec()),
        ("empty.tgz", tgz(&[])),
    ];
    for (name, bytes) in cases {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        same_outcome(&p);
        // The in-memory loader never panics and gives the detailed reason.
        let _ = rudder_chart::load::load_archive(&std::fs::read(&p).unwrap());
    }
}

#[test]
fn bad_directories_fail_like_helm() {
    let tmp = tempfile::tempdir().unwrap();
    let big = vec![b'a'; 300 * 1024];
    const S_CHART: &[u8] = b"apiVersion: v2\nname: s\nversion: 1.0.0\n";
    let cases: Vec<(&str, Vec<(&str, &[u8])>)> = vec![
        ("missing", vec![("values.yaml", b"a: 1\n")]),
        ("noname", vec![("Chart.yaml", b"apiVersion: v2\nversion: 1.0.0\n")]),
        ("badversion", vec![("Chart.yaml", b"apiVersion: v2\nname: x\nversion: one\n")]),
        ("floatversion", vec![("Chart.yaml", b"apiVersion: v2\nname: x\nversion: 1.0\n")]),
        ("badtype", vec![("Chart.yaml", b"apiVersion: v2\nname: x\nversion: 1.0.0\ntype: app\n")]),
        ("keywords", vec![("Chart.yaml", b"apiVersion: v2\nname: x\nversion: 1.0.0\nkeywords: 3\n")]),
        ("nullmaint", vec![("Chart.yaml", b"apiVersion: v2\nname: x\nversion: 1.0.0\nmaintainers: [null]\n")]),
        ("depdup", vec![("Chart.yaml", b"apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies: [{name: a}, {name: b, alias: a}]\n")]),
        ("badalias", vec![("Chart.yaml", b"apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies: [{name: a, alias: 'a.b'}]\n")]),
        ("unsupported", vec![("Chart.yaml", b"apiVersion: v9\nname: x\nversion: 1.0.0\n")]),
        ("badsub", vec![("Chart.yaml", CHART_YAML), ("charts/s/Chart.yaml", b"apiVersion: v2\nname: s\n")]),
        ("valuesdoc", vec![("Chart.yaml", CHART_YAML), ("values.yaml", b"a: 1\n--- x\n")]),
        ("helmignore", vec![("Chart.yaml", CHART_YAML), (".helmignore", b"**/x\n")]),
        ("bom", vec![("Chart.yaml", b"\xef\xbb\xbfapiVersion: v2\nname: x\nversion: 1.0.0\n")]),
        ("misnamedtgz", vec![("Chart.yaml", CHART_YAML), ("charts/s.tgz/Chart.yaml", b"apiVersion: v2\nname: s\nversion: 1.0.0\n")]),
        // Big enough to load values and subcharts on two threads: the first error is still the
        // one sequential loading meets first.
        ("bigbadvalues", vec![("Chart.yaml", CHART_YAML), ("values.yaml", b"- 1\n"), ("charts/s/Chart.yaml", b"apiVersion: v2\nname: s\n"), ("charts/s/big.txt", &big)]),
        ("bignochart", vec![("values.yaml", b"- 1\n"), ("charts/s/Chart.yaml", S_CHART), ("charts/s/big.txt", &big)]),
        ("bigmisnamed", vec![("Chart.yaml", CHART_YAML), ("charts/a/Chart.yaml", S_CHART), ("charts/a/big.txt", &big), ("charts/b.tgz/Chart.yaml", S_CHART)]),
    ];
    for (name, files) in cases {
        let root = tmp.path().join(name);
        for (f, data) in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
        same_outcome(&root);
    }
    two_bad_subcharts(tmp.path(), &big);
}

/// Two failing subcharts in a chart big enough to load on two threads. Helm walks its map of
/// subcharts in Go's random order, so either failure can be the one helm reports (as the
/// check below holds). Rudder goes in name order on any number of threads, so it must give
/// helm's error for the chart in which only the first of them (`b`) fails.
fn two_bad_subcharts(tmp: &Path, big: &[u8]) {
    const S_CHART: &[u8] = b"apiVersion: v2\nname: s\nversion: 1.0.0\n";
    let make = |name: &str, b_bad: bool, c_bad: bool| {
        let root = tmp.join(name);
        let b_chart: &[u8] = if b_bad { b"apiVersion: v2\nname: b\nversion: one\n" } else { b"apiVersion: v2\nname: b\nversion: 1.0.0\n" };
        let c_values: &[u8] = if c_bad { b"- 1\n" } else { b"a: 1\n" };
        for (f, data) in [
            ("Chart.yaml", CHART_YAML),
            ("values.yaml", b"a: 1\n".as_slice()),
            ("charts/a/Chart.yaml", S_CHART),
            ("charts/a/big.txt", big),
            ("charts/b/Chart.yaml", b_chart),
            ("charts/c/Chart.yaml", S_CHART),
            ("charts/c/values.yaml", c_values),
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
        root
    };
    let helm_error = |path: &Path| {
        let out = Command::new(helm()).arg("template").arg("t").arg(path).output().unwrap();
        assert!(!out.status.success(), "helm accepted {}", path.display());
        String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.starts_with("Error: ")).last().map(str::to_string).unwrap()
    };
    let only_b = helm_error(&make("bigbad-b", true, false));
    let only_c = helm_error(&make("bigbad-c", false, true));
    let both = make("bigbadsubs", true, true);
    let helm_both = helm_error(&both);
    assert!(helm_both == only_b || helm_both == only_c, "helm: {helm_both}\nnot one of:\n{only_b}\n{only_c}");
    let ours = load(&both).err().map(|e| format!("Error: {e}"));
    assert_eq!(ours.as_deref(), Some(only_b.as_str()), "{}", both.display());
}
