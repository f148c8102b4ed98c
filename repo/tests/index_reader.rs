//! The dedicated `index.yaml` reader (`rudder_repo::index_reader`) against the generic path
//! (`IndexFile::parse_generic`: the engine's go-yaml v2 reader, then the typed decoding) on every
//! index we can get: Helm's own test indexes, real `helm repo index` output for the corpus
//! charts (YAML and `--json`, LF and CRLF), the benchmark's generated Bitnami-style index, and
//! hand-made tricky ones. Whenever the fast reader accepts a document, both results (entries,
//! metadata, warnings, every field) must be identical; helm-written layouts must be accepted.

use std::path::{Path, PathBuf};
use std::process::Command;

use rudder_conformance::testbed::{corpus_dir, oracle, run_ok, unique_name, workspace_root};
use rudder_repo::index_reader;
use rudder_repo::IndexFile;

fn tempdir(prefix: &str) -> PathBuf {
    let dir = workspace_root()
        .join("target/tmp")
        .join(unique_name(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn helm(home: &Path) -> Command {
    let mut c = Command::new(oracle("helm"));
    c.env_clear();
    c.env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in [
        ("HOME", "home"),
        ("HELM_CONFIG_HOME", "config"),
        ("HELM_CACHE_HOME", "cache"),
        ("HELM_DATA_HOME", "data"),
    ] {
        c.env(k, home.join(v));
    }
    c
}

/// Both readers on `data`. Returns whether the fast reader took it; panics on any difference.
fn compare(label: &str, data: &[u8]) -> bool {
    let generic = IndexFile::parse_generic(data, "src");
    match index_reader::read(data, "src") {
        Ok(fast) => {
            let generic = generic.unwrap_or_else(|e| {
                panic!("{label}: fast reader accepted what the generic one refuses: {e}")
            });
            let (f, g) = (format!("{fast:#?}"), format!("{generic:#?}"));
            if f != g {
                let line = f
                    .lines()
                    .zip(g.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                let ctx = |s: &str| {
                    s.lines()
                        .skip(line.saturating_sub(8))
                        .take(12)
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                panic!("{label}: fast and generic differ near line {line}:\n--- fast\n{}\n--- generic\n{}", ctx(&f), ctx(&g));
            }
            // The public entry point gives the same.
            assert_eq!(
                format!("{:#?}", IndexFile::parse(data, "src").unwrap()),
                g,
                "{label}"
            );
            true
        }
        Err(why) => {
            // Whatever the generic path says (a result or an error) is what `parse` says.
            let via_parse = IndexFile::parse(data, "src");
            assert_eq!(
                format!("{via_parse:?}"),
                format!("{generic:?}"),
                "{label} (fell back: {why})"
            );
            eprintln!("{label}: generic path ({why})");
            false
        }
    }
}

fn crlf(data: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(data)
        .replace('\n', "\r\n")
        .into_bytes()
}

/// Helm's own test indexes (pkg/repo, pkg/downloader, pkg/cmd, ... testdata) of the helm
/// module versions the test bed pins.
fn helm_testdata_indexes() -> Vec<PathBuf> {
    let out = Command::new("go")
        .args(["env", "GOMODCACHE"])
        .output()
        .expect("go must be on PATH for Helm's sources");
    let cache = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let mut found = Vec::new();
    for m in ["helm.sh/helm/v4@v4.3.1", "helm.sh/helm/v3@v3.22.0"] {
        let root = cache.join(m);
        assert!(
            root.is_dir(),
            "{} missing: run `go mod download helm.sh/helm/{}`",
            root.display(),
            m.split_once('/').unwrap().1
        );
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                let n = e.file_name().to_string_lossy().into_owned();
                if p.is_dir() {
                    stack.push(p);
                } else if p.to_string_lossy().contains("/testdata/")
                    && (n.ends_with("index.yaml") || n.ends_with("index.json"))
                {
                    found.push(p);
                }
            }
        }
    }
    found.sort();
    assert!(found.len() > 20, "only {} test indexes found", found.len());
    found
}

#[test]
fn helm_testdata_indexes_read_alike() {
    let mut fast = 0;
    let files = helm_testdata_indexes();
    for p in &files {
        let data = std::fs::read(p).unwrap();
        if data.is_empty() {
            continue;
        }
        let label = p.display().to_string();
        if compare(&label, &data) {
            fast += 1;
        }
        compare(&format!("{label} (CRLF)"), &crlf(&data));
    }
    eprintln!(
        "{fast} of {} Helm test indexes on the fast path",
        files.len()
    );
    // Only the JSON ones and the deliberately broken ones may go the generic way.
    assert!(fast * 10 >= files.len() * 8, "{fast} of {}", files.len());
}

#[test]
fn helm_repo_index_of_the_corpus_reads_alike() {
    let home = tempdir("idxr-home");
    let repo = tempdir("idxr-repo");
    let charts = corpus_dir().join("charts");
    let mut names: Vec<_> = std::fs::read_dir(&charts)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("Chart.yaml").is_file())
        .map(|e| e.path())
        .collect();
    names.sort();
    assert!(names.len() > 20, "corpus has {} charts", names.len());
    for c in &names {
        run_ok(helm(&home).arg("package").arg(c).arg("-d").arg(&repo)).unwrap();
    }
    for args in [
        vec![],
        vec!["--url", "https://charts.example.invalid/x/"],
        vec!["--json"],
    ] {
        let mut cmd = helm(&home);
        cmd.args(["repo", "index"]).arg(&repo).args(&args);
        run_ok(&mut cmd).unwrap();
        let data = std::fs::read(repo.join("index.yaml")).unwrap();
        let label = format!("helm repo index {args:?}");
        let fast = compare(&label, &data);
        assert_eq!(
            fast,
            args != ["--json"],
            "{label}: helm-written YAML takes the fast path, JSON the generic one"
        );
        assert!(compare(&format!("{label} (CRLF)"), &crlf(&data)) || args == ["--json"]);
        let idx = IndexFile::parse(&data, "src").unwrap();
        assert!(
            idx.entries.len() >= names.len() - 2,
            "{} charts indexed",
            idx.entries.len()
        );
        std::fs::remove_file(repo.join("index.yaml")).unwrap();
    }
}

#[test]
fn generated_bitnami_style_index_reads_alike() {
    // The generator bench/index uses; 2 MB unless RUDDER_INDEX_DIFF_MB says (bench/index uses
    // 15; the generic reader takes about a minute on that in a debug build).
    let mb = std::env::var("RUDDER_INDEX_DIFF_MB").unwrap_or_else(|_| "2".into());
    let out = tempdir("idxr-gen").join("index.yaml");
    let gen = workspace_root().join("bench/gen-index.py");
    run_ok(
        Command::new("python3")
            .arg(&gen)
            .arg(&out)
            .arg(&mb)
            .arg("5e0f3c1b".repeat(8)),
    )
    .unwrap();
    let data = std::fs::read(&out).unwrap();
    assert!(compare(&format!("generated {mb} MB"), &data));
    let idx = IndexFile::parse(&data, "src").unwrap();
    assert_eq!(idx.get("bench-chart", "~7.3").unwrap().version(), "7.3.1");
}

/// Hand-made documents: `Some(true)` must take the fast path, `Some(false)` must not, `None`
/// either way (results compared whenever the fast path is taken).
const TRICKY: &[(&str, Option<bool>, &str)] = &[
    ("minimal", Some(true), "apiVersion: v1\nentries: {}\n"),
    ("no entries key", Some(true), "apiVersion: v1\n"),
    ("entries null", Some(true), "apiVersion: v1\nentries:\ngenerated: 2024-01-01T00:00:00Z\n"),
    ("document start and comments", Some(true), "# top\n---\n# c\napiVersion: v1 # trailing\nentries:\n  # between\n  a:\n  # before item\n  - name: a # c\n    version: 1.0.0\n\n    urls:\n    # inside\n    - a.tgz\n"),
    ("quoted versions", Some(true), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: \"1.10\"\n    appVersion: '1e3'\n  - name: a\n    version: \"1.2.0\"\n"),
    ("unquoted float version", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.10\n"),
    ("unquoted exponent appVersion", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    appVersion: 1e3\n"),
    ("unquoted int appVersion", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    appVersion: 8\n"),
    ("bools in string fields", Some(true), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    appVersion: yes\n    condition: off\n    deprecated: true\n    keywords: []\n"),
    ("nulls", Some(true), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    description: ~\n    home: null\n    keywords:\n    - ~\n    - x\n    annotations:\n      k: null\n      j: \n    maintainers:\n    sources: Null\n    digest: ~\n    created:\n    removed: NULL\n"),
    ("empty and null entries", Some(true), "apiVersion: v1\nentries:\n  a:\n  - ~\n  -\n  - null\n  - {}\n  - name: a\n    version: 2.0.0\n  b: []\n  c:\n"),
    ("bad entries", Some(true), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: not-semver\n  - name: a\n  - version: 1.0.0\n  - name: ../x\n    version: 1.0.0\n  - name: a\n    version: 1.0.0\n    type: plugin\n  - name: a\n    version: 3.0.0\n    dependencies:\n    - name: d\n    - name: d\n  - name: a\n    version: 3.1.0\n    dependencies:\n    - name: d\n      alias: bad alias!\n  - name: a\n    version: 1.1.0\n"),
    ("sorting", Some(true), "apiVersion: v1\nentries:\n  z:\n  - name: z\n    version: 1.0.0\n  a:\n  - name: a\n    version: 1.0.0\n  - name: a\n    version: 1.10.0\n  - name: a\n    version: 1.9.0-rc.1\n  - name: a\n    version: v1.9.0\n  - name: a\n    version: \"1.2\"\n"),
    ("multi-line plain", Some(true), "apiVersion: v1\nentries:\n  a:\n  - description: Apache Airflow is a tool to express and execute workflows as directed\n      acyclic graphs (DAGs). It includes utilities to schedule tasks,\n\n      monitor task progress   \n      and handle task dependencies.\n    name: a\n    version: 1.0.0\n"),
    ("single-quoted folded", Some(true), "apiVersion: v1\nentries:\n  a:\n  - description: 'It''s a chart: with a colon, and it is long enough to be wrapped by\n      the emitter onto a second line'\n    name: a\n    version: 1.0.0\n"),
    ("double-quoted escapes", Some(true), "apiVersion: v1\nentries:\n  a:\n  - description: \"tab\\there \\\"q\\\" \\u00e9\\x41 \\\\ and a very long line that the emitter\n      folds \\\n      \\ joined\\n\n\n      after blank\"\n    name: a\n    version: 1.0.0\n"),
    ("literal block", Some(true), "apiVersion: v1\nentries:\n  a:\n  - description: |\n      line one\n        indented\n\n      # not a comment\n    name: a\n    version: 1.0.0\n    annotations:\n      artifacthub.io/changes: |-\n        - kind: added\n          description: x: y\n      artifacthub.io/images: |+\n        - name: img\n\n    home: h\n"),
    ("folded block", Some(true), "apiVersion: v1\nentries:\n  a:\n  - description: >\n      folded\n      text\n\n      para\n    name: a\n    version: 1.0.0\n"),
    ("quoted keys and urls", Some(true), "apiVersion: v1\nentries:\n  \"quoted-name\":\n  - name: quoted-name\n    'version': 1.0.0\n    urls:\n    - \"https://x/a b.tgz\"\n    - 'c.tgz'\n"),
    ("legacy keys", Some(true), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    checksum: abc\n    engine: gotpl\n    tillerVersion: '>=2.0.0'\n    url: https://x/a.tgz\n"),
    ("server info, public keys, annotations", Some(true), "serverInfo:\n  contextPath: /v1/helm\n  nested:\n    list:\n    - 1\n    - x: y\napiVersion: v1\npublicKeys:\n- key1\nannotations:\n  a: b\n  nn: 1\nentries: {}\n"),
    ("indentless vs indented sequences", Some(true), "apiVersion: v1\nentries:\n  a:\n    - name: a\n      version: 1.0.0\n      keywords:\n        - k\n      maintainers:\n      - name: m\n        email: e\n      -   name: n\n  b:\n  -   name: b\n      version: 0.1.0\n"),
    ("maintainers and dependencies", Some(true), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    maintainers:\n    - name: ' Ann '\n      email: a@x\n      url: u\n    - {}\n    dependencies:\n    - name: d\n      version: ~1\n      repository: https://r\n      condition: d.enabled\n      tags:\n      - t\n      enabled: true\n      alias: dd\n"),
    ("unicode", Some(true), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    description: Ünïcödé — chart 日本\n"),
    ("timestamps", Some(true), "apiVersion: v1\ngenerated: 2016-10-06T16:23:20.499029981-06:00\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    created: 2016-10-06T16:23:20.499814565-06:00\n"),
    ("flow sequence", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    urls: [a.tgz]\n"),
    ("anchors and aliases", Some(false), "apiVersion: v1\nentries:\n  a:\n  - &e\n    name: a\n    version: 1.0.0\n  b:\n  - *e\n"),
    ("merge key", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    annotations:\n      <<: {x: y}\n"),
    ("no apiVersion", Some(false), "entries:\n  a:\n  - name: a\n    version: 1.0.0\n"),
    ("unknown field", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    bogus: 1\n"),
    ("differently cased field", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    Version: 1.0.0\n"),
    ("duplicate key", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    version: 1.0.1\n"),
    ("duplicate chart", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n  a: []\n"),
    ("non-string digest", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    digest: 12\n"),
    ("tab", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version:\t1.0.0\n"),
    ("import-values", Some(true), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    dependencies:\n    - name: d\n      import-values:\n      - data\n      - child: c\n        parent: p\n    - name: e\n      import-values: []\n"),
    ("import-values that are numbers", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    dependencies:\n    - name: d\n      import-values:\n      - 1\n"),
    ("bad indentation", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a\n     version: 1.0.0\n"),
    ("two documents", Some(false), "apiVersion: v1\nentries: {}\n---\napiVersion: v2\n"),
    ("json", Some(false), "{\"apiVersion\": \"v1\", \"entries\": {\"a\": [{\"name\": \"a\", \"version\": \"1.0.0\"}, null]}}"),
    ("json-like flow yaml", Some(false), "{apiVersion: v1, entries: {}}\n"),
    ("top-level list", Some(false), "- a\n"),
    ("scalar document", Some(false), "hello\n"),
    ("only a comment", Some(false), "# nothing\n"),
    ("mapping value error", Some(false), "apiVersion: v1\nentries:\n  a:\n  - name: a: b\n"),
    ("no trailing newline", Some(true), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    description: |\n      last"),
    ("entry item scalar", Some(false), "apiVersion: v1\nentries:\n  a:\n  - just text\n"),
    ("block scalar chomping keep at end", Some(true), "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    description: |+\n      kept\n\n\n"),
];

#[test]
fn tricky_indexes_read_alike() {
    let mut wrong = Vec::new();
    for (label, expect, text) in TRICKY {
        for (variant, data) in [
            ("LF", text.as_bytes().to_vec()),
            ("CRLF", crlf(text.as_bytes())),
        ] {
            let fast = compare(&format!("{label} ({variant})"), &data);
            if let Some(e) = expect {
                if fast != *e {
                    wrong.push(format!(
                        "{label} ({variant}): fast path {fast}, expected {e}"
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
