//! Values, coalescing and dependency processing compared with the real helm v4.3.1.
//!
//! Each test writes a tiny chart into a temp dir whose only template prints `{{ toJson .Values }}`
//! (in the root chart and in each subchart), runs `helm template`, and compares the parsed JSON
//! with Rudder's values for the same chart, computed as Helm's install does:
//! `MergeValues` → `ProcessDependencies` → `CoalesceValues`, and for subcharts the coalesced
//! sub-map they would receive.

use std::path::Path;
use std::process::Command;

use rudder_chart::model::Chart;
use rudder_chart::values::schema::to_json_value;
use rudder_chart::{coalesce_values, load, process_dependencies, ValueOptions};
use rudder_engine::Value;

fn helm() -> std::path::PathBuf {
    rudder_conformance::testbed::oracle("helm")
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

const VALUES_TPL: &str = "{{ toJson .Values }}\n";

/// `helm template` output: for each `# Source: <path>` document, its body.
fn helm_template(chart: &Path, args: &[&str]) -> Result<Vec<(String, String)>, String> {
    let out = Command::new(helm())
        .arg("template")
        .arg("t")
        .arg(chart)
        .args(args)
        .env("HELM_CONFIG_HOME", chart.join("../.helmconf"))
        .env("HELM_CACHE_HOME", chart.join("../.helmcache"))
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut docs = Vec::new();
    for part in text.split("---\n").filter(|p| !p.trim().is_empty()) {
        let (head, body) = part.split_once('\n').unwrap();
        let src = head.trim_start_matches("# Source: ").to_string();
        docs.push((src, body.trim().to_string()));
    }
    Ok(docs)
}

fn rudder_values(chart: &Path, opts: &ValueOptions) -> Result<(Chart, Value), String> {
    let mut c = load(chart).map_err(|e| e.to_string())?;
    let user = opts.merge_values().map_err(|e| e.to_string())?;
    let mut w = Vec::new();
    // Helm's install wraps this error.
    process_dependencies(&mut c, &user, &mut w).map_err(|e| format!("chart dependencies processing failed: {e}"))?;
    let vals = coalesce_values(&c, &user, &mut w).map_err(|e| e.to_string())?;
    Ok((c, vals))
}

/// The `.Values` each chart's templates see: the root's values, and for a subchart at path
/// `a/charts/b` the sub-map under `b`.
fn scoped(chart: &Chart, vals: &Value, prefix: &str, out: &mut Vec<(String, serde_json::Value)>) {
    out.push((format!("{prefix}{}/templates/values.yaml", chart.name()), to_json_value(vals)));
    for sub in &chart.dependencies {
        let sv = match vals {
            Value::Map(m) => m.get(sub.name()).unwrap_or(Value::Nil),
            _ => Value::Nil,
        };
        scoped(sub, &sv, &format!("{prefix}{}/charts/", chart.name()), out);
    }
}

/// Runs helm and Rudder on the chart at `dir/<name>` with `args` and compares every chart's values.
fn compare(dir: &Path, name: &str, args: &[&str], opts: &ValueOptions) {
    let chart = dir.join(name);
    let theirs = helm_template(&chart, args);
    let ours = rudder_values(&chart, opts);
    match (theirs, ours) {
        (Err(h), Err(r)) => assert_eq!(h.lines().last().unwrap_or(""), format!("Error: {r}"), "both failed, differently"),
        (Err(h), Ok(_)) => panic!("helm failed but Rudder did not: {h}"),
        (Ok(_), Err(r)) => panic!("Rudder failed but helm did not: {r}"),
        (Ok(docs), Ok((c, vals))) => {
            let mut mine = Vec::new();
            scoped(&c, &vals, "", &mut mine);
            let mut theirs: Vec<(String, serde_json::Value)> =
                docs.iter().map(|(s, b)| (s.clone(), norm(serde_json::from_str(b).unwrap()))).collect();
            let mut mine: Vec<_> = mine.into_iter().map(|(s, v)| (s, norm(v))).collect();
            theirs.sort_by(|a, b| a.0.cmp(&b.0));
            mine.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(
                serde_json::to_string_pretty(&theirs).unwrap(),
                serde_json::to_string_pretty(&mine).unwrap()
            );
        }
    }
}

/// JSON numbers compared by value (Go's float64 1 prints as `1`; serde keeps `1.0`).
fn norm(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::Number(n) => J::from(n.as_f64().unwrap()),
        J::Array(a) => J::Array(a.into_iter().map(norm).collect()),
        J::Object(o) => J::Object(o.into_iter().map(|(k, v)| (k, norm(v))).collect()),
        other => other,
    }
}

fn chart_yaml(name: &str, deps: &str) -> String {
    format!("apiVersion: v2\nname: {name}\nversion: 1.0.0\n{deps}")
}

#[test]
fn nulls_lists_and_maps() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("p/Chart.yaml", &chart_yaml("p", "")),
            ("p/values.yaml", "a: 1\nb: {c: 2, d: [1, 2], e: {f: 3}}\nlist: [1, 2, 3]\nn: null\nkeep: {x: null, y: 1}\n"),
            ("p/templates/values.yaml", VALUES_TPL),
            ("u.yaml", "a: null\nb: {c: null, d: [9], e: 5}\nlist: [4]\nnew: null\nkeep: {z: 3}\n---\nsecond: doc\n"),
        ],
    );
    let f = d.path().join("u.yaml").display().to_string();
    let opts = ValueOptions {
        value_files: vec![f.clone()],
        ..Default::default()
    };
    compare(d.path(), "p", &["-f", &f], &opts);
}

#[test]
fn set_family_typing_and_precedence() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("p/Chart.yaml", &chart_yaml("p", "")),
            ("p/values.yaml", "a: 1\n"),
            (
                "p/templates/values.yaml",
                "{{ toJson .Values }}\n{{- range $k, $v := .Values }}\n# {{ $k }} {{ printf \"%T\" $v }}{{ end }}\n",
            ),
            ("f.txt", "file content\n"),
        ],
    );
    let file = format!("ff={}", d.path().join("f.txt").display());
    let args = [
        "--set", "i=10,z=0,lead=007,fl=1.5,b=true,nul=null,list={a,b}",
        "--set-string", "s=10",
        "--set-json", r#"j={"x":[1,2]}"#,
        "--set-json", r#"{"obj":{"k":1},"i":99}"#,
        "--set-file", &file,
        "--set-literal", "lit=a,b=c",
        "--set", "i=11",
    ];
    let opts = ValueOptions {
        values: vec!["i=10,z=0,lead=007,fl=1.5,b=true,nul=null,list={a,b}".into(), "i=11".into()],
        string_values: vec!["s=10".into()],
        json_values: vec![r#"j={"x":[1,2]}"#.into(), r#"{"obj":{"k":1},"i":99}"#.into()],
        file_values: vec![file.clone()],
        literal_values: vec!["lit=a,b=c".into()],
        ..Default::default()
    };
    // Structural values, and Go types of the top-level values.
    let chart = d.path().join("p");
    let docs = helm_template(&chart, &args).unwrap();
    let (_, vals) = rudder_values(&chart, &opts).unwrap();
    let body = &docs[0].1;
    let (json, types) = body.split_once('\n').unwrap();
    let theirs: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(norm(theirs), norm(to_json_value(&vals)));
    let mut mine = String::new();
    if let Value::Map(m) = &vals {
        for (k, v) in m.read().iter() {
            mine.push_str(&format!("\n# {k} {}", if matches!(v, Value::Nil) { "<nil>".to_string() } else { v.go_type().to_string() }));
        }
    }
    assert_eq!(types.trim(), mine.trim());
}

fn subchart_fixture(root: &Path) {
    write(
        root,
        &[
            (
                "p/Chart.yaml",
                &chart_yaml(
                    "p",
                    "dependencies:\n- name: sub\n  version: ~1.0.0\n  alias: one\n  condition: one.enabled\n  tags: [front]\n  import-values: [data]\n- name: sub\n  version: ~1.0.0\n  alias: two\n  condition: two.enabled,global.subs\n  tags: [back]\n  import-values:\n  - child: deep.table\n    parent: imported.here\n- name: other\n  version: '>=2'\n  tags: [front, back]\n",
                ),
            ),
            (
                "p/values.yaml",
                "global: {g: parent, nested: {a: 1}}\none: {v: from-parent, enabled: true}\ntwo: {v: null}\nimported: {here: {mine: parent-wins}}\nown: 1\n",
            ),
            ("p/templates/values.yaml", VALUES_TPL),
            ("p/charts/sub/Chart.yaml", &chart_yaml("sub", "")),
            (
                "p/charts/sub/values.yaml",
                "v: sub-default\nenabled: true\nglobal: {g: sub, own: sub, nested: {b: 2}}\nexports: {data: {exported: 1}}\ndeep: {table: {mine: child, extra: 2}}\n",
            ),
            ("p/charts/sub/templates/values.yaml", VALUES_TPL),
            ("p/charts/other/Chart.yaml", "apiVersion: v2\nname: other\nversion: 2.1.0\n"),
            ("p/charts/other/values.yaml", "x: 1\n"),
            ("p/charts/other/templates/values.yaml", VALUES_TPL),
        ],
    );
}

#[test]
fn subcharts_aliases_globals_imports() {
    let d = tempfile::tempdir().unwrap();
    subchart_fixture(d.path());
    compare(d.path(), "p", &[], &ValueOptions::default());
}

#[test]
fn tags_and_conditions() {
    let d = tempfile::tempdir().unwrap();
    subchart_fixture(d.path());
    for set in [
        "tags.front=false",
        "tags.front=false,tags.back=true",
        "tags.back=false,two.enabled=true",
        "one.enabled=false,tags.front=true",
        "two.enabled=false,global.subs=true",
        "two.enabled=x,global.subs=false",
        "one=null",
        "global.nested.c=3,global.g=user",
    ] {
        let opts = ValueOptions {
            values: vec![set.into()],
            ..Default::default()
        };
        compare(d.path(), "p", &["--set", set], &opts);
    }
}

#[test]
fn subchart_type_mismatch() {
    let d = tempfile::tempdir().unwrap();
    subchart_fixture(d.path());
    let opts = ValueOptions {
        values: vec!["other=5".into()],
        ..Default::default()
    };
    compare(d.path(), "p", &["--set", "other=5"], &opts);
}

#[test]
fn schema_errors_like_helm() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("p/Chart.yaml", &chart_yaml("p", "")),
            ("p/values.yaml", "replicas: 1\nname: x\n"),
            (
                "p/values.schema.json",
                r#"{"type":"object","required":["name","port"],"properties":{"replicas":{"type":"integer","minimum":2},"name":{"type":"string","enum":["a","b"]}},"additionalProperties":{"not":{"const":"forbidden"}},"patternProperties":{"^e":{"type":"string"}}}"#,
            ),
            ("p/templates/values.yaml", VALUES_TPL),
            ("p/charts/s/Chart.yaml", &chart_yaml("s", "")),
            ("p/charts/s/values.schema.json", r#"{"properties":{"n":{"type":["string","null"]}}}"#),
            ("p/charts/s/templates/values.yaml", VALUES_TPL),
        ],
    );
    let chart = d.path().join("p");
    let accepted: Vec<bool> =
        ["s.n=1,extra=1,e2=forbidden", "replicas=3,name=a,port=1"].iter().map(|set| schema_verdict_like_helm(&chart, set)).collect();
    // Both outcomes are exercised (helm's own verdicts: the first values break the schema).
    assert!(accepted.contains(&true) && accepted.contains(&false), "{accepted:?}");
}

/// Validates the chart's values with `--set set` as helm does and compares the outcome with
/// `helm template`'s (messages as sets of lines: Go's validator walks schema maps in random
/// order, so a chart section's lines come in any order from one helm run to the next).
/// Returns whether helm accepted the values.
fn schema_verdict_like_helm(chart: &Path, set: &str) -> bool {
    let out = Command::new(helm()).args(["template", "t"]).arg(chart).args(["--set", set]).output().unwrap();
    let helm_err = String::from_utf8_lossy(&out.stderr).into_owned();
    let opts = ValueOptions {
        values: vec![set.into()],
        ..Default::default()
    };
    let (c, vals) = rudder_values(chart, &opts).unwrap();
    let ours = match rudder_chart::values::validate_against_schema(&c, &vals) {
        Ok(()) => String::new(),
        Err(e) => format!("Error: {}\n", rudder_chart::values::schema::schema_error_text(&e)),
    };
    if out.status.success() {
        assert_eq!(ours, "", "{set}");
        return true;
    }
    let lines = |t: &str| {
        let mut v: Vec<String> = t.lines().map(str::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(lines(&helm_err), lines(&ours), "{set}");
    assert!(helm_err.ends_with("\n\n") && ours.ends_with("\n\n"), "{set}");
    false
}

/// cilium's 160 KB schema has no references, so it is validated split into pieces (see
/// `split_passes` in chart/src/values/schema.rs); accepted and rejected values must still get
/// helm's verdicts and messages.
#[test]
fn big_schema_verdicts_like_helm() {
    let chart = Path::new("/work/shared/corpus/charts/cilium");
    let accepted: Vec<bool> = [
        "debug.enabled=true",
        "debug.enabled=5,hubble.relay.replicas=x",
        "cluster.id=abc,hubble.tls.auto.method=cronJob",
        "hubble.enabled=null",
    ]
    .iter()
    .map(|set| schema_verdict_like_helm(chart, set))
    .collect();
    // Both outcomes are exercised (helm's own verdicts).
    assert!(accepted.contains(&true) && accepted.contains(&false), "{accepted:?}");
}
