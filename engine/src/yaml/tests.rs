//! Unit tests for the Rust-side API (multi-document reading, limits, native values). Go's
//! behaviour itself is checked differentially in conformance/cases/engine/yaml-*.cases.

use super::*;
use crate::value::Value;

fn get(v: &Value, k: &str) -> Value {
    match v {
        Value::Map(m) => m.get(k).unwrap_or(Value::Missing),
        _ => Value::Missing,
    }
}

#[test]
fn split_documents_at_separator_lines() {
    let docs = split_documents("a: 1\n---\nb: 2\n--- # comment\nc: 3").unwrap();
    assert_eq!(docs, vec!["a: 1\n", "b: 2\n", "c: 3\n"]);
}

#[test]
fn split_documents_skips_empty_and_leading_separators() {
    let docs = split_documents("---\n---\na: 1\n---\n---   \n").unwrap();
    assert_eq!(docs, vec!["a: 1\n"]);
    assert!(split_documents("").unwrap().is_empty());
}

#[test]
fn split_documents_keeps_comment_only_documents_and_normalises_crlf() {
    let docs = split_documents("# only a comment\r\n---\r\nx: y\r\n").unwrap();
    assert_eq!(docs, vec!["# only a comment\n", "x: y\n"]);
}

#[test]
fn split_documents_separator_must_start_the_line() {
    let docs = split_documents("a: |\n  ---\n  text\n").unwrap();
    assert_eq!(docs.len(), 1);
}

#[test]
fn split_documents_rejects_text_after_separator() {
    let e = split_documents("a: 1\n--- b: 2\n").unwrap_err();
    assert_eq!(e, "invalid Yaml document separator: b: 2");
}

#[test]
fn from_yaml_documents_reads_each() {
    let vals = from_yaml_documents("a: 1\n---\n- x\n---\n# nothing\n").unwrap();
    assert_eq!(vals.len(), 3);
    assert_eq!(get(&vals[0], "a"), Value::float(1.0));
    assert!(matches!(&vals[1], Value::List(l) if l.items == vec![Value::string("x")]));
    assert_eq!(vals[2], Value::Nil);
}

#[test]
fn from_yaml_documents_reports_the_failing_document() {
    let e = from_yaml_documents("a: 1\n---\nb: [\n").unwrap_err();
    assert!(e.starts_with("error converting YAML to JSON: yaml: "), "{e}");
}

#[test]
fn from_yaml_reads_only_the_first_document() {
    let v = from_yaml("a: 1\n---\nb: 2\n").unwrap();
    assert_eq!(get(&v, "a"), Value::float(1.0));
    assert_eq!(get(&v, "b"), Value::Missing);
}

#[test]
fn load_values_merges_documents() {
    // (`y` would be the YAML 1.1 boolean true as a key.)
    let v = load_values("a:\n  p: 1\n  q: 2\nl: [1]\n---\na:\n  q: 3\nl: [2, 3]\n---\n").unwrap();
    let a = get(&v, "a");
    assert_eq!(get(&a, "p"), Value::float(1.0));
    assert_eq!(get(&a, "q"), Value::float(3.0));
    assert!(matches!(get(&v, "l"), Value::List(l) if l.items.len() == 2));
}

#[test]
fn load_values_errors() {
    let e = load_values("a: 1\n---\n- x\n").unwrap_err();
    assert!(e.starts_with("cannot unmarshal yaml document: error unmarshaling JSON"), "{e}");
    let e = load_values("a: 1\n---x\n").unwrap_err();
    assert_eq!(e, "error reading yaml document: invalid Yaml document separator: x");
    assert_eq!(load_values("").unwrap(), Value::empty_map());
}

#[test]
fn native_values_keep_go_types() {
    let n = from_yaml_native("i: 1\nf: 1.5\nu: 18446744073709551615\nb: yes\ns: '1'\nz: ~\n").unwrap();
    let Native::Map(entries) = &n else { panic!("not a map") };
    let find = |k: &str| entries.iter().find(|(kk, _)| *kk == Native::Str(k.into())).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(find("i"), Native::Int(1));
    assert_eq!(find("f"), Native::Float(1.5));
    assert_eq!(find("u"), Native::Uint(u64::MAX));
    assert_eq!(find("b"), Native::Bool(true));
    assert_eq!(find("s"), Native::Str("1".into()));
    assert_eq!(find("z"), Native::Nil);
}

#[test]
fn scalar_for_string_field_formats_like_sigs_yaml() {
    assert_eq!(scalar_for_string_field(&Native::Float(1.0)).as_deref(), Some("1"));
    assert_eq!(scalar_for_string_field(&Native::Float(0.1)).as_deref(), Some("0.1"));
    assert_eq!(scalar_for_string_field(&Native::Int(3)).as_deref(), Some("3"));
    assert_eq!(scalar_for_string_field(&Native::Bool(false)).as_deref(), Some("false"));
    assert_eq!(scalar_for_string_field(&Native::Nil), None);
}

/// Runs `f` on a thread with a main-thread-sized stack: `Value`'s own drop is recursive (value.rs),
/// and test threads get only 2 MiB.
fn big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(16 << 20).spawn(f).unwrap().join().unwrap();
}

#[test]
fn deep_flow_nesting_is_bounded_without_stack_overflow() {
    big_stack(deep_flow);
}

fn deep_flow() {
    let ok = format!("a: {}{}", "[".repeat(9999), "]".repeat(9999));
    assert!(from_yaml(&ok).is_ok());
    let deep = format!("a: {}{}", "[".repeat(200_000), "]".repeat(200_000));
    assert_eq!(from_yaml(&deep).unwrap_err(), "error converting YAML to JSON: yaml: exceeded max depth of 10000");
}

#[test]
fn deep_block_nesting_is_bounded_without_stack_overflow() {
    big_stack(deep_block);
}

fn deep_block() {
    let ok = format!("{}x\n", "- ".repeat(9998));
    let v = from_yaml(&ok).unwrap();
    // Writing it back goes through JSON and go-yaml's reader again: deeper than its flow limit.
    assert!(to_yaml(&v).is_ok() || to_yaml(&v).is_err());
    let deep = format!("{}x\n", "- ".repeat(50_000));
    assert!(from_yaml(&deep).unwrap_err().contains("exceeded max depth of 10000"));
}

#[test]
fn alias_bombs_are_refused() {
    let mut s = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    let mut prev = 'a';
    for n in "bcdefghijk".chars() {
        s.push_str(&format!("{n}: &{n} [{}]\n", vec![format!("*{prev}"); 10].join(",")));
        prev = n;
    }
    assert_eq!(from_yaml(&s).unwrap_err(), "error converting YAML to JSON: yaml: document contains excessive aliasing");
}

#[test]
fn garbage_never_panics() {
    for s in ["\u{0}", "[", "{", "- [", "? ", ": ", "&", "*", "!", "!<", "%", "'", "\"", "|", ">", "a: |\n\t", "\u{feff}", "\r", "- - -\n  - :"] {
        let _ = from_yaml(s);
        let _ = from_yaml_native(s);
    }
}

#[test]
fn to_yaml_round_trips_values() {
    let v = from_yaml("b: [1, 2.5, x]\na: {c: null, d: 'yes'}\n").unwrap();
    let out = to_yaml(&v).unwrap();
    assert_eq!(from_yaml(&out).unwrap(), v);
    let pretty = to_yaml_pretty(&v).unwrap();
    assert_eq!(from_yaml(&pretty).unwrap(), v);
}


#[test]
fn large_documents_parse_in_linear_time() {
    let mut s = String::new();
    for i in 0..2_000 {
        s.push_str(&format!("key{i}:\n  name: value {i}\n  list: [a, b, {{c: d}}]\n  text: |\n    line one\n    line two\n"));
    }
    let t = std::time::Instant::now();
    let v = from_yaml(&s).unwrap();
    let out = to_yaml(&v).unwrap();
    assert!(out.len() > s.len() / 2);
    assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
}

/// `toYaml`'s direct read-back of the JSON must give what the literal route (JSON text parsed by
/// the YAML reader) gives, including where it declines and falls back.
#[test]
fn marshal_v2_direct_matches_literal() {
    use crate::value::{FloatKind, Str, Value};
    use std::collections::BTreeMap;
    let map = |pairs: Vec<(&str, Value)>| Value::map(pairs.into_iter().map(|(k, v)| (Str::from(k), v)).collect::<BTreeMap<_, _>>());
    let f = |x: f64| Value::Float(x, FloatKind::Float64);
    let long_key = "k".repeat(200);
    let cases = vec![
        Value::Nil,
        Value::Missing,
        Value::Bool(true),
        Value::int(-7),
        Value::Uint(u64::MAX, crate::value::UintKind::Uint64),
        f(3.0),
        f(-0.0),
        f(1e6),
        f(1.5),
        f(1e21),
        f(1e-7),
        f(9.1e15),
        f(f64::NAN),
        Value::Float(123456789.0, FloatKind::Float32),
        Value::Float(0.1, FloatKind::Float32),
        Value::string(""),
        Value::string("true"),
        Value::string("a: b\n- c\t\"q\" <&> \u{2028} \u{85} \u{7f} \u{9f} \u{fffe} é"),
        Value::string("1e3"),
        Value::string("\u{85}"),
        Value::string("a\u{85}b"),
        Value::string("\u{feff}x"),
        Value::string("\u{9f}"),
        Value::string("\u{a0}\u{2029}"),
        Value::list(vec![]),
        Value::empty_map(),
        Value::list(vec![Value::int(1), Value::string("x"), Value::Nil, Value::empty_map()]),
        map(vec![
            ("b10", f(1.0)),
            ("b9", f(2.0)),
            ("A", Value::string("no")),
            ("~", Value::list(vec![f(0.5)])),
            ("nested", map(vec![("x", Value::string("0x1F")), ("y", Value::Bool(false))])),
        ]),
        map(vec![(long_key.as_str(), Value::int(1))]),
        map(vec![("\u{7f}", Value::int(1))]),
        map(vec![("k\u{85}", Value::string("\u{85}"))]),
    ];
    for v in cases {
        assert_eq!(super::encode::marshal_v2(&v), super::encode::marshal_v2_literal(&v), "{v:?}");
    }
}

/// The head shortcut agrees with the full decode wherever it answers, and never answers for a
/// document the full decode rejects.
#[test]
fn top_level_shortcut_agrees_with_the_full_decode() {
    let keys = ["apiVersion", "kind", "metadata"];
    let docs = [
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: {a: '1', b: \"2\"}\ndata:\n  k: v\n",
        "kind: A\nspec:\n  versions: [{name: v1, served: true}]\n  n: 3\n  f: 1.5e3\n  list:\n  - a\n  - {b: [1, 2, null]}\n",
        "metadata:\n  name: 007\n  labels: {yes: no, on: off}\nkind: K\nkind: L\n",
        "apiVersion: v1\nspec: {x: .inf}\n",
        "apiVersion: v1\nspec: {x: -.Inf}\n",
        "apiVersion: v1\nspec: {x: .NaN}\n",
        "apiVersion: v1\nspec: {x: '.inf'}\n",
        "apiVersion: v1\nspec:\n  ~: null-key\n",
        "apiVersion: v1\nspec:\n  18446744073709551615: big\n",
        "apiVersion: v1\nspec:\n  1: one\n  1.5: f\n  true: t\n",
        "apiVersion: v1\nbase: &b {x: 1}\nspec: *b\n",
        "apiVersion: v1\nspec:\n  <<: {x: 1}\n",
        "apiVersion: !!str v1\nkind: K\n",
        "apiVersion: v1\nspec: !!binary aGVsbG8=\n",
        "apiVersion: v1\nspec: !!binary '###'\n",
        "apiVersion: v1\nspec: {a: 1\n",
        "apiVersion: v1\n  bad: indent\n",
        "apiVersion: v1\nkind: [a, b]\nmetadata: 5\n",
        "- a\n- b\n",
        "just a string\n",
        "# comment only\n",
        "apiVersion: v1\n---\nkind: second\n",
        "apiVersion: v1\nspec:\n  ? [complex]\n  : key\n",
        "apiVersion: v1\nspec:\n  x: \"\\xff\\u00e9\"\n",
    ];
    let mut answered = 0;
    for doc in docs {
        let full = from_yaml(doc);
        let Some(short) = from_yaml_top_level(doc, &keys) else { continue };
        answered += 1;
        let full = full.unwrap_or_else(|e| panic!("shortcut answered for a document the full decode rejects ({e}):\n{doc}"));
        for k in keys {
            assert_eq!(get(&short, k), get(&full, k), "key {k} of:\n{doc}");
        }
        let Value::Map(m) = &short else { panic!("not a map: {doc}") };
        assert!(m.read().keys().all(|k| keys.contains(&k.as_ref())), "extra keys from:\n{doc}");
    }
    assert!(answered >= 5, "the shortcut answered only {answered} times");
}
