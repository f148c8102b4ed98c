//! SOPS files encrypted by the real `sops` v3.13.3 with real age keys (Debian's `age-keygen`),
//! decrypted by Rudder without sops: the text must equal `sops -d`'s byte for byte, and bad keys
//! or tampered files must fail with sops' messages. Also vals references and helmfile
//! environment secrets. Fixtures are generated per test in a temporary directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use rudder_helmfile::secrets::{self, decrypt_file_env};

/// Tests that change the process environment take this lock.
static ENV_LOCK: Mutex<()> = Mutex::new(());

fn sops_bin() -> PathBuf {
    let p = rudder_conformance::testbed::oracle("sops");
    assert!(p.exists(), "the real sops binary is missing at {}", p.display());
    p
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hfsecrets-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Key {
    file: PathBuf,
    recipient: String,
    secret: String,
}

/// A fresh age key pair from the real `age-keygen`.
fn keygen(dir: &Path, name: &str) -> Key {
    let file = dir.join(format!("{name}.txt"));
    let out = Command::new("age-keygen").arg("-o").arg(&file).output().expect("run age-keygen");
    assert!(out.status.success(), "age-keygen: {}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    let recipient = text.lines().find_map(|l| l.strip_prefix("# public key: ")).unwrap().to_string();
    let secret = text.lines().find(|l| l.starts_with("AGE-SECRET-KEY-")).unwrap().to_string();
    Key { file, recipient, secret }
}

/// `sops` with a clean environment (HOME in `dir`, so no user keys are found).
fn sops(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> (bool, String, String) {
    let mut c = Command::new(sops_bin());
    c.current_dir(dir).args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", dir.join("home"));
    for (k, v) in envs {
        c.env(k, v);
    }
    let out = c.output().expect("run sops");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Writes `plain` as `name` and encrypts it with the real sops; returns the encrypted file.
fn encrypt(dir: &Path, name: &str, plain: &str, extra: &[&str], recipients: &[&Key]) -> PathBuf {
    std::fs::write(dir.join(name), plain).unwrap();
    let rs: Vec<&str> = recipients.iter().map(|k| k.recipient.as_str()).collect();
    let rs = rs.join(",");
    // Global flags (--config) come before the subcommand.
    let mut args: Vec<&str> = Vec::new();
    let mut rest: Vec<&str> = Vec::new();
    let mut it = extra.iter();
    while let Some(a) = it.next() {
        if *a == "--config" {
            args.push(a);
            args.push(it.next().unwrap());
        } else {
            rest.push(a);
        }
    }
    args.extend(["encrypt", "--age", rs.as_str()]);
    args.extend(rest);
    args.push(name);
    let (ok, out, err) = sops(dir, &args, &[]);
    assert!(ok, "sops encrypt {name}: {err}");
    let enc = dir.join(format!("enc.{name}"));
    std::fs::write(&enc, out).unwrap();
    enc
}

/// The real `sops -d` output with the key given by `SOPS_AGE_KEY_FILE`.
fn sops_decrypt(dir: &Path, file: &Path, key: &Key) -> Result<String, String> {
    let (ok, out, err) = sops(dir, &["decrypt", file.to_str().unwrap()], &[("SOPS_AGE_KEY_FILE", key.file.to_str().unwrap())]);
    if ok {
        Ok(out)
    } else {
        Err(err)
    }
}

/// An environment for Rudder's key lookups: only these variables (HOME in `dir`).
fn env_with(dir: &Path, vars: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
    let mut m: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    m.entry("HOME".into()).or_insert_with(|| dir.join("home").display().to_string());
    move |k: &str| m.get(k).cloned()
}

fn key_file_env(dir: &Path, k: &Key) -> impl Fn(&str) -> Option<String> {
    env_with(dir, &[("SOPS_AGE_KEY_FILE", k.file.display().to_string())])
}

/// Encrypts with sops, decrypts with both, and asserts identical text.
fn roundtrip(dir: &Path, name: &str, plain: &str, extra: &[&str], recipients: &[&Key]) -> String {
    let enc = encrypt(dir, name, plain, extra, recipients);
    let want = sops_decrypt(dir, &enc, recipients[0]).expect("sops -d");
    let got = decrypt_file_env(&enc, &key_file_env(dir, recipients[0])).unwrap_or_else(|e| panic!("rudder: {e}"));
    assert_eq!(got, want, "{name}: rudder's decryption differs from sops -d\n--- encrypted\n{}", std::fs::read_to_string(&enc).unwrap());
    got
}

const VALUES_YAML: &str = r#"# top comment
name: demo
password: s3cr3t
port: 8080
negative: -42
ratio: 0.5
big: 1e6
small: 1.5e-7
enabled: true
"off": false
empty: ""
nothing: null
multi: |
  line one
  line two
strip: |-
  no trailing
  newline
folded: >
  folded text
  here
leading: "  spaced\nsecond"
nested:
  # a nested comment
  deep:
    key: value # inline note
    list:
      - a
      - 1
      - true
      - 2.5
  items:
    - name: x
      val: "quoted: yes"
      sub:
        k: v
    - name: y
      val: 'single'
  ml_in_list:
    - |
      alpha
      beta
    - plain
  empty_map: {}
  empty_list: []
  lists_of_lists:
    - - a
      - b
    - - c
public_unencrypted: visible
special: "yes"
colon: "a: b"
hash: "a # b"
unicode: "héllo wörld ✓"
date: 2024-01-02
long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
# trailing comment
"#;

#[test]
fn yaml_values_match_sops_byte_for_byte() {
    let dir = tmpdir("yaml");
    let k1 = keygen(&dir, "k1");
    let k2 = keygen(&dir, "k2");
    let got = roundtrip(&dir, "values.yaml", VALUES_YAML, &[], &[&k1, &k2]);
    assert!(got.contains("password: s3cr3t\n"), "{got}");
    assert!(got.contains("# a nested comment"), "{got}");
}

#[test]
fn every_key_source_and_recipient() {
    let dir = tmpdir("sources");
    let k1 = keygen(&dir, "k1");
    let k2 = keygen(&dir, "k2");
    let enc = encrypt(&dir, "s.yaml", "a: 1\nb:\n    c: two\n", &[], &[&k1, &k2]);
    let want = sops_decrypt(&dir, &enc, &k2).unwrap();
    // SOPS_AGE_KEY_FILE, for each recipient.
    for k in [&k1, &k2] {
        assert_eq!(decrypt_file_env(&enc, &key_file_env(&dir, k)).unwrap(), want);
    }
    // SOPS_AGE_KEY with the second key only (several keys per line allowed).
    let e = env_with(&dir, &[("SOPS_AGE_KEY", format!("# comment\n{}", k2.secret))]);
    assert_eq!(decrypt_file_env(&enc, &e).unwrap(), want);
    let wrong = keygen(&dir, "wrong");
    let e = env_with(&dir, &[("SOPS_AGE_KEY", format!("{} {}", wrong.secret, k1.secret))]);
    assert_eq!(decrypt_file_env(&enc, &e).unwrap(), want);
    // SOPS_AGE_KEY_CMD: the command's output, as sops runs it.
    let cmd = format!("cat {}", k1.file.display());
    let (ok, out, err) = sops(&dir, &["decrypt", enc.to_str().unwrap()], &[("SOPS_AGE_KEY_CMD", cmd.as_str())]);
    assert!(ok, "sops with SOPS_AGE_KEY_CMD: {err}");
    assert_eq!(decrypt_file_env(&enc, &env_with(&dir, &[("SOPS_AGE_KEY_CMD", cmd.clone()), ("PATH", std::env::var("PATH").unwrap())])).unwrap(), out);
    // $XDG_CONFIG_HOME/sops/age/keys.txt
    let xdg = dir.join("xdg");
    std::fs::create_dir_all(xdg.join("sops/age")).unwrap();
    std::fs::copy(&k1.file, xdg.join("sops/age/keys.txt")).unwrap();
    let e = env_with(&dir, &[("XDG_CONFIG_HOME", xdg.display().to_string())]);
    assert_eq!(decrypt_file_env(&enc, &e).unwrap(), want);
    // ~/.config/sops/age/keys.txt, and sops agrees it finds the key there.
    let home = dir.join("home");
    std::fs::create_dir_all(home.join(".config/sops/age")).unwrap();
    std::fs::copy(&k2.file, home.join(".config/sops/age/keys.txt")).unwrap();
    let (ok, out, err) = sops(&dir, &["decrypt", enc.to_str().unwrap()], &[]);
    assert!(ok, "sops with the default key file: {err}");
    assert_eq!(decrypt_file_env(&enc, &env_with(&dir, &[])).unwrap(), out);
}

#[test]
fn process_environment_is_read() {
    let _g = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmpdir("procenv");
    let k1 = keygen(&dir, "k1");
    let enc = encrypt(&dir, "p.yaml", "token: abc\n", &[], &[&k1]);
    std::env::set_var("SOPS_AGE_KEY_FILE", &k1.file);
    let got = secrets::decrypt_file(&enc);
    std::env::remove_var("SOPS_AGE_KEY_FILE");
    assert_eq!(got.unwrap(), sops_decrypt(&dir, &enc, &k1).unwrap());
}

#[test]
fn encryption_rules() {
    let dir = tmpdir("rules");
    let k1 = keygen(&dir, "k1");
    let plain = "user: admin\npassword: hunter2\ndb:\n    host: localhost\n    port: 5432\n    password: pw\n    list:\n        - a\n        - b\nplain_clear: keep\n";
    let out = roundtrip(&dir, "regex.yaml", plain, &["--encrypted-regex", "^(password|list)$"], &[&k1]);
    assert!(out.contains("password: hunter2"));
    roundtrip(&dir, "unregex.yaml", plain, &["--unencrypted-regex", "^(user|host)$"], &[&k1]);
    roundtrip(&dir, "suffix.yaml", plain, &["--unencrypted-suffix", "_clear"], &[&k1]);
    // Unencrypted values keep go-yaml v3's types (a plain date is a time.Time in the MAC).
    roundtrip(&dir, "types.yaml", "when_unencrypted: 2024-01-02\nstamp_unencrypted: 2001-12-14T21:59:43.10-05:00\nq_unencrypted: \"2024-01-02\"\nlist_unencrypted:\n    - 2020-02-02\n    - x\nn_unencrypted: 12\nf_unencrypted: 1.5\nb_unencrypted: true\nsecret: 2024-03-04\n", &[], &[&k1]);
    roundtrip(&dir, "encsuffix.yaml", "a_secret: x\nb: y\nnested_secret:\n    c: z\n", &["--encrypted-suffix", "_secret"], &[&k1]);
    // mac_only_encrypted comes from a creation rule of a .sops.yaml.
    std::fs::write(dir.join("maconly.sops.yaml"), "creation_rules:\n  - encrypted_regex: ^password$\n    mac_only_encrypted: true\n").unwrap();
    let enc = roundtrip(&dir, "maconly.yaml", plain, &["--config", "maconly.sops.yaml"], &[&k1]);
    let _ = enc;
}

#[test]
fn json_and_binary_match_sops() {
    let dir = tmpdir("json");
    let k1 = keygen(&dir, "k1");
    let json = r#"{"name": "demo", "port": 8080, "ratio": 0.25, "big": 12345678901234, "f": 1e21, "ok": true, "none": null,
"nested": {"list": [1, "two", false, {"x": "<&>"}], "empty": {}, "emptylist": []}, "multi": "a\nb", "uni": "\u00e9\u2028"}"#;
    roundtrip(&dir, "doc.json", json, &[], &[&k1]);
    roundtrip(&dir, "blob.txt", "raw bytes\nsecond line\n", &[], &[&k1]);
    roundtrip(&dir, "app.env", "# a comment\nUSER=admin\nPASSWORD=p@ss=word\nMULTI=a\\nb\nEMPTY=\nSECRET_unencrypted=clear\n", &[], &[&k1]);
}

#[test]
fn multi_document_yaml() {
    let dir = tmpdir("multidoc");
    let k1 = keygen(&dir, "k1");
    roundtrip(&dir, "multi.yaml", "a: 1\nb: two\n---\nc: three\nd:\n  - x\n", &[], &[&k1]);
}

#[test]
fn wrong_key_fails_like_sops() {
    let dir = tmpdir("wrongkey");
    let k1 = keygen(&dir, "k1");
    let wrong = keygen(&dir, "wrong");
    let enc = encrypt(&dir, "w.yaml", "a: secret\n", &[], &[&k1]);
    let want = sops_decrypt(&dir, &enc, &wrong).unwrap_err();
    let e = decrypt_file_env(&enc, &key_file_env(&dir, &wrong)).unwrap_err();
    assert_eq!(e.path, enc);
    assert!(e.message.starts_with("Failed to get the data key required to decrypt the SOPS file."), "{e}");
    assert!(e.message.contains(&format!("{}: FAILED", k1.recipient)), "{e}");
    assert!(e.message.contains("identity did not match any of the recipients"), "{e}");
    // sops' whole message: groups, keys, wrapped causes, key locations tried, trailer.
    assert_eq!(e.message, want.trim_end());
    // No key anywhere, and a key file that does not exist.
    let (_, _, want) = sops(&dir, &["decrypt", enc.to_str().unwrap()], &[]);
    let e = decrypt_file_env(&enc, &env_with(&dir, &[])).unwrap_err();
    assert!(e.message.contains("failed to load age identities"), "{e}");
    assert_eq!(e.message, want.trim_end());
    let missing = dir.join("nope.txt");
    let (_, _, want) = sops(&dir, &["decrypt", enc.to_str().unwrap()], &[("SOPS_AGE_KEY_FILE", missing.to_str().unwrap())]);
    let e = decrypt_file_env(&enc, &env_with(&dir, &[("SOPS_AGE_KEY_FILE", missing.display().to_string())])).unwrap_err();
    assert_eq!(e.message, want.trim_end());
}

#[test]
fn tampered_files_fail_like_sops() {
    let dir = tmpdir("tamper");
    let k1 = keygen(&dir, "k1");
    let enc = encrypt(&dir, "t.yaml", "secret: value\npublic_unencrypted: visible\nport: 1234\n", &[], &[&k1]);
    let text = std::fs::read_to_string(&enc).unwrap();
    // A changed ciphertext: the value's GCM tag fails.
    let i = text.find("secret: ENC[AES256_GCM,data:").unwrap() + "secret: ENC[AES256_GCM,data:".len();
    let mut t1 = text.clone();
    let c = if &t1[i..i + 1] == "A" { "B" } else { "A" };
    t1.replace_range(i..i + 1, c);
    // A changed unencrypted value: only the MAC notices.
    let t2 = text.replace("public_unencrypted: visible", "public_unencrypted: changed");
    // A value moved under another key: the additional data no longer matches.
    let t3 = text.replacen("secret:", "moved:", 1);
    for (n, t) in [("t1", t1), ("t2", t2), ("t3", t3)] {
        let f = dir.join(format!("{n}.yaml"));
        std::fs::write(&f, t).unwrap();
        let want = sops_decrypt(&dir, &f, &k1).unwrap_err();
        let e = decrypt_file_env(&f, &key_file_env(&dir, &k1)).unwrap_err();
        assert_eq!(e.message, want.trim_end(), "{n}");
    }
}

#[test]
fn unsupported_key_types_are_named() {
    let dir = tmpdir("pgp");
    let k1 = keygen(&dir, "k1");
    let enc = encrypt(&dir, "p.yaml", "a: b\n", &[], &[&k1]);
    let text = std::fs::read_to_string(&enc).unwrap();
    // The same file as if only a PGP key held the data key.
    let start = text.find("    age:\n").unwrap();
    let end = text.find("    lastmodified:").unwrap();
    let pgp = "    pgp:\n        - created_at: \"2024-01-01T00:00:00Z\"\n          enc: |\n            -----BEGIN PGP MESSAGE-----\n            -----END PGP MESSAGE-----\n          fp: 0123456789ABCDEF\n";
    let t = format!("{}{pgp}{}", &text[..start], &text[end..]);
    let f = dir.join("pgp.yaml");
    std::fs::write(&f, t).unwrap();
    let e = decrypt_file_env(&f, &key_file_env(&dir, &k1)).unwrap_err();
    assert!(e.to_string().contains("unsupported key type") && e.to_string().contains("PGP") && e.to_string().contains("pgp.yaml"), "{e}");
    // Not a SOPS file at all.
    std::fs::write(dir.join("plain.yaml"), "a: b\n").unwrap();
    let e = decrypt_file_env(&dir.join("plain.yaml"), &key_file_env(&dir, &k1)).unwrap_err();
    assert_eq!(e.message, "sops metadata not found");
}

#[test]
fn vals_references() {
    let _g = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    use rudder_engine::Value;
    use rudder_helmfile::secrets::vals::eval;
    let dir = tmpdir("vals");
    std::fs::write(dir.join("creds.yaml"), "db:\n  password: pw1\n  port: 5432\ntoken: t0k\n").unwrap();
    std::fs::write(dir.join("raw.txt"), "raw-text").unwrap();
    std::env::set_var("HFSECRETS_TEST_VAR", "from-env");
    let yaml = "a: ref+file://creds.yaml#/db/password\nb: ref+file://raw.txt\nc: ref+env://HFSECRETS_TEST_VAR\nd: ref+envsubst://$HFSECRETS_TEST_VAR\ne: prefix-ref+env://HFSECRETS_TEST_VAR+-suffix\nf: ref+file://creds.yaml#/db/port\ng: [ref+echo://hello]\nh: ref+envsubst://${HFSECRETS_UNSET_VAR:-dflt}\n";
    let v = rudder_engine::funcs::helmfile::native_to_value(&rudder_engine::yaml::from_yaml_native(yaml).unwrap());
    let out = eval(&v, &dir).unwrap();
    let get = |k: &str| match &out {
        Value::Map(m) => m.get(k).unwrap(),
        _ => panic!(),
    };
    assert_eq!(get("a"), Value::string("pw1"));
    assert_eq!(get("b"), Value::string("raw-text"));
    assert_eq!(get("c"), Value::string("from-env"));
    assert_eq!(get("d"), Value::string("from-env"));
    assert_eq!(get("e"), Value::string("prefix-from-env-suffix"));
    assert_eq!(get("f"), Value::int(5432));
    assert_eq!(get("g"), Value::list(vec![Value::string("hello")]));
    assert_eq!(get("h"), Value::string("dflt"));
    std::env::remove_var("HFSECRETS_TEST_VAR");
    let e = eval(&Value::string("ref+vault://secret/data/x#/y"), &dir).unwrap_err();
    assert!(e.contains("unsupported backend \"vault\"") && e.contains("ref+vault://secret/data/x#/y"), "{e}");
    let e = eval(&Value::string("ref+file://missing.yaml"), &dir).unwrap_err();
    assert!(e.contains("missing.yaml") && e.contains("no such file or directory"), "{e}");
}

/// The real helmfile (without helm-secrets) cannot read `secrets:`; its result with the
/// `sops -d` output given as a plain values file is what Rudder must resolve natively.
#[test]
fn helmfile_environment_secrets() {
    let _g = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmpdir("helmfile");
    let k1 = keygen(&dir, "k1");
    let enc = encrypt(&dir, "secrets.yaml", "db:\n  password: s3cr3t\n  port: 5432\nshared: from-secrets\nlist:\n  - x\n", &[], &[&k1]);
    std::fs::rename(&enc, dir.join("secrets.yaml")).unwrap();
    std::fs::write(dir.join("values.yaml"), "shared: from-values\ndb:\n  host: localhost\nother: 1\n").unwrap();
    let state = "environments:\n  default:\n    values:\n      - values.yaml\n    secrets:\n      - secrets.yaml\n---\nreleases:\n  - name: app\n    chart: ./chart\n    values:\n      - password: {{ .Values.db.password }}\n";
    std::fs::write(dir.join("helmfile.yaml.gotmpl"), state).unwrap();
    // The reference: sops -d output as an ordinary values file, after the values (secrets win).
    let plain = sops_decrypt(&dir, &dir.join("secrets.yaml"), &k1).unwrap();
    let ref_dir = dir.join("ref");
    std::fs::create_dir_all(&ref_dir).unwrap();
    std::fs::write(ref_dir.join("values.yaml"), std::fs::read(dir.join("values.yaml")).unwrap()).unwrap();
    std::fs::write(ref_dir.join("dec.yaml"), plain).unwrap();
    std::fs::write(ref_dir.join("helmfile.yaml.gotmpl"), state.replace("    secrets:\n      - secrets.yaml\n", "").replace("      - values.yaml\n", "      - values.yaml\n      - dec.yaml\n")).unwrap();
    let hf = rudder_conformance::testbed::oracle("helmfile");
    // helmfile runs `helm version`: the real helm sits beside it.
    let path = format!("{}:{}", hf.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(&hf)
        .current_dir(&ref_dir)
        .env("PATH", path)
        .args(["-f", "helmfile.yaml.gotmpl", "build"])
        .env("HELMFILE_UPDATE_CHECK", "false")
        .env("HELMFILE_UPGRADE_NOTICE_DISABLED", "true")
        .output()
        .expect("run helmfile");
    assert!(out.status.success(), "helmfile build: {}", String::from_utf8_lossy(&out.stderr));
    let want = String::from_utf8_lossy(&out.stdout).into_owned();
    std::env::set_var("SOPS_AGE_KEY_FILE", &k1.file);
    let st = rudder_helmfile::load("helmfile.yaml.gotmpl", &dir, &rudder_helmfile::LoadOptions::default());
    std::env::remove_var("SOPS_AGE_KEY_FILE");
    let got = st.unwrap_or_else(|e| panic!("rudder: {e}")).build_yaml().unwrap();
    let tail = |s: &str| s[s.find("renderedvalues:").expect("renderedvalues")..].to_string();
    assert_eq!(tail(&got), tail(&want));
    let rel = |s: &str| s[s.find("releases:").unwrap()..s.find("renderedvalues:").unwrap()].to_string();
    assert_eq!(rel(&got), rel(&want));
    // A wrong key: a clear error naming the file, nothing loaded.
    let wrong = keygen(&dir, "wrong");
    std::env::set_var("SOPS_AGE_KEY_FILE", &wrong.file);
    let st = rudder_helmfile::load("helmfile.yaml.gotmpl", &dir, &rudder_helmfile::LoadOptions::default());
    std::env::remove_var("SOPS_AGE_KEY_FILE");
    let e = st.err().expect("a wrong key must fail");
    assert!(e.contains("failed to load environment secrets file \"secrets.yaml\"") && e.contains("Failed to get the data key"), "{e}");
}

/// The corpus charts' values.yaml files (real-world YAML: comments everywhere, long strings,
/// nested lists) encrypted by sops and decrypted by both.
#[test]
fn corpus_values_files_match_sops() {
    let dir = tmpdir("corpus");
    let k1 = keygen(&dir, "k1");
    let root = Path::new("/work/shared/corpus/charts");
    let mut charts: Vec<PathBuf> = std::fs::read_dir(root).unwrap().flatten().map(|e| e.path()).filter(|p| p.join("values.yaml").exists()).collect();
    charts.sort();
    let (mut same, mut total, mut sops_kept_encrypted, mut diffs) = (0, 0, 0, Vec::new());
    for c in &charts {
        let name = format!("{}.yaml", c.file_name().unwrap().to_string_lossy());
        let plain = std::fs::read_to_string(c.join("values.yaml")).unwrap();
        std::fs::write(dir.join(&name), &plain).unwrap();
        let rs = k1.recipient.clone();
        let (ok, out, err) = sops(&dir, &["encrypt", "--age", &rs, &name], &[]);
        if !ok {
            eprintln!("  {name}: sops cannot encrypt it: {}", err.trim());
            continue;
        }
        total += 1;
        let enc = dir.join(format!("enc.{name}"));
        std::fs::write(&enc, out).unwrap();
        let want = sops_decrypt(&dir, &enc, &k1).expect("sops -d");
        let strip = |s: &str| s.lines().filter(|l| !l.trim_start().starts_with('#')).map(|l| format!("{l}\n")).collect::<String>();
        match decrypt_file_env(&enc, &key_file_env(&dir, &k1)) {
            Ok(got) if got == want => same += 1,
            // sops reads some foot comments of its own output back onto another node, cannot
            // decrypt them there and prints them still encrypted, elsewhere; Rudder prints
            // them decrypted where they stood. The values must still be identical.
            Ok(got) if want.contains("#ENC[AES256_GCM") && strip(&got) == strip(&want) => {
                sops_kept_encrypted += 1;
            }
            Ok(got) => {
                let line = got.lines().zip(want.lines()).position(|(a, b)| a != b).unwrap_or(0);
                diffs.push(format!("{name}: first difference at line {}:\n  rudder: {:?}\n  sops:   {:?}", line + 1, got.lines().nth(line), want.lines().nth(line)));
            }
            Err(e) => diffs.push(format!("{name}: rudder failed: {e}")),
        }
    }
    eprintln!(
        "corpus values files: {same}/{total} decrypted identically to sops -d; {sops_kept_encrypted} differ only in comments sops leaves encrypted"
    );
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert!(total >= 20, "only {total} corpus files were encrypted");
}

/// Missing secrets files follow `missingFileHandler` as helmfile resolves them (before it
/// would call helm-secrets): the whole `build` output, or the error, equals the real helmfile's.
#[test]
fn helmfile_missing_secrets_files() {
    let dir = tmpdir("missing");
    let hf = rudder_conformance::testbed::oracle("helmfile");
    let path = format!("{}:{}", hf.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    for (name, handler) in [("error", ""), ("warn", "    missingFileHandler: Warn\n")] {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        let state = format!("environments:\n  default:\n{handler}    values:\n      - a: 1\n    secrets:\n      - missing.yaml\n---\nreleases:\n  - name: app\n    chart: ./chart\n");
        std::fs::write(d.join("helmfile.yaml"), state).unwrap();
        let out = Command::new(&hf)
            .current_dir(&d)
            .args(["-f", "helmfile.yaml", "build"])
            .env("PATH", &path)
            .env("HELMFILE_UPDATE_CHECK", "false")
            .env("HELMFILE_UPGRADE_NOTICE_DISABLED", "true")
            .output()
            .expect("run helmfile");
        let mine = rudder_helmfile::load("helmfile.yaml", &d, &rudder_helmfile::LoadOptions::default()).and_then(|s| s.build_yaml());
        if out.status.success() {
            assert_eq!(mine.unwrap_or_else(|e| panic!("{name}: rudder failed: {e}")), String::from_utf8_lossy(&out.stdout), "{name}");
        } else {
            let want = String::from_utf8_lossy(&out.stderr);
            let e = mine.expect_err("helmfile failed, so must rudder");
            assert_eq!(format!("in ./helmfile.yaml: {e}"), want.trim(), "{name}");
        }
    }
}

/// The template functions built on the same resolver.
#[test]
fn vals_template_functions() {
    let _g = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmpdir("valsfuncs");
    std::fs::write(dir.join("c.yaml"), "k: from-file\nm:\n  x: 1\n").unwrap();
    std::env::set_var("HFSECRETS_T2", "subst");
    let mut funcs = rudder_engine::funcs::sprig();
    rudder_helmfile::secrets::vals::register_template_funcs(&mut funcs, dir.clone());
    let mut t = rudder_engine::TemplateSet::new(funcs).with_name("t");
    t.parse("t", r#"{{ fetchSecretValue "ref+file://c.yaml#/k" }} {{ fetchSecretValue "ref+envsubst://$HFSECRETS_T2" }} {{ (expandSecretRefs (dict "a" "ref+echo://ee" "b" "plain")).a }}"#).unwrap();
    let out = t.execute("t", &rudder_engine::Value::Nil);
    std::env::remove_var("HFSECRETS_T2");
    assert_eq!(out.unwrap(), "from-file subst ee");
    let mut funcs = rudder_engine::funcs::sprig();
    rudder_helmfile::secrets::vals::register_template_funcs(&mut funcs, dir.clone());
    let mut t = rudder_engine::TemplateSet::new(funcs).with_name("t");
    t.parse("t", r#"{{ fetchSecretValue "ref+file://c.yaml#/m" }}"#).unwrap();
    let e = t.execute("t", &rudder_engine::Value::Nil).unwrap_err().to_string();
    assert!(e.contains("expected map[x:1] to be string"), "{e}");
}

/// Scalars whose printing depends on go-yaml v3's style choices (quoting, block scalars,
/// special floats, keys that need quotes), encrypted and left in the clear.
#[test]
fn tricky_scalars_match_sops() {
    let dir = tmpdir("tricky");
    let k1 = keygen(&dir, "k1");
    let body = r##"s1: "123"
s2: "1.5"
s3: "true"
s4: "null"
s5: "~"
s6: ""
s7: " leading space"
s8: "trailing space "
s9: "tab\there"
s10: "- dash"
s11: ": colon"
s12: "[bracket"
s13: "{brace"
s14: "@at"
s15: "`tick"
s16: "it's"
s17: "quote \" inside"
s18: "back\\slash"
s19: "line1\nline2\n\n"
s20: "\n\nleading newlines"
s21: "trailing\n"
s22: "emoji 🚀"
s23: "0x1F"
s24: "1e3"
s25: ".inf"
s26: "-.inf"
s27: ".nan"
s28: "0777"
s29: "y"
s30: "NO"
s31: "2020-01-01"
s32: "*star"
s33: "&amp"
s34: "!bang"
s35: "%pct"
s36: "a: b: c"
s37: "#hash"
s38: "key=value,other=1"
s39: "\u00a0nbsp"
s40: "ctrl\u0001char"
f1: 0.1
f2: 100.0
f3: 1.0e+20
f4: -0.0
f5: .inf
f6: -.inf
f7: 3.14159265358979
i1: 0
i2: 9223372036854775807
i3: -9223372036854775808
b1: false
n1: ~
"key with space": v
"key:colon": v
"123": numeric key
"true": bool key
'quoted''key': v
list:
    - ""
    - null
    - "yes"
    - 1.0
    - []
    - {}
    - - nested
clear_unencrypted:
    a: "123"
    b: "line1\nline2"
    c: yes
    d: 0.5
    e: ~
    f: 0o17
    g: +12
    h: 1_000
    i: .5
    j: 0x1F
    k: 1:20
    l: 0b101
    m: 012
    n: 1e3
    o: 6.02E+23
    p: .NaN
    q: -.Inf
    r: Null
    s: TRUE
    t: 2001-12-14 21:59:43.10
"##;
    roundtrip(&dir, "tricky.yaml", body, &[], &[&k1]);
}

/// Damaged files (bytes changed, lines cut) give errors, never panics.
#[test]
fn damaged_files_never_panic() {
    let dir = tmpdir("damaged");
    let k1 = keygen(&dir, "k1");
    let enc = encrypt(&dir, "d.yaml", VALUES_YAML, &[], &[&k1]);
    let enc_json = encrypt(&dir, "d.json", r#"{"a": {"b": [1, "x", true]}, "c": 1.5}"#, &[], &[&k1]);
    let env = key_file_env(&dir, &k1);
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (file, format) in [(&enc, secrets::Format::Yaml), (&enc_json, secrets::Format::Json)] {
        let text = std::fs::read_to_string(file).unwrap();
        let chars: Vec<char> = text.chars().collect();
        for round in 0..300 {
            let mut c = chars.clone();
            match round % 3 {
                0 => {
                    let i = (next() as usize) % c.len();
                    c[i] = ['A', ':', '-', ' ', '\n', '"', '#', '{', ']', 'é'][(next() % 10) as usize];
                }
                1 => {
                    let i = (next() as usize) % c.len();
                    c.truncate(i);
                }
                _ => {
                    let i = (next() as usize) % c.len();
                    let n = ((next() % 40) as usize).min(c.len() - i);
                    c.drain(i..i + n);
                }
            }
            let t: String = c.into_iter().collect();
            let r = std::panic::catch_unwind(|| secrets::decrypt_str(&t, format, Path::new("damaged"), &env));
            assert!(r.is_ok(), "panic on damaged input (round {round}):\n{t}");
        }
    }
}

/// `releases[].secrets`: a values file encrypted by the real sops is decrypted natively and
/// given to the chart after the plain values, so `helmfile template` renders exactly what the
/// real helmfile renders with the `sops -d` output as an ordinary values file.
#[test]
fn release_secrets_render_as_decrypted_values() {
    let _g = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmpdir("release-secrets");
    let k1 = keygen(&dir, "k1");
    let enc = encrypt(&dir, "secrets.yaml", "db:\n  password: s3cr3t\n  port: 5432\nshared: from-secrets\n", &[], &[&k1]);
    std::fs::rename(&enc, dir.join("secrets.yaml")).unwrap();
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: app\nversion: 0.1.0\n").unwrap();
    std::fs::write(chart.join("values.yaml"), "shared: from-chart\ndb:\n  host: db\n").unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  password: {{ .Values.db.password | quote }}\n  port: {{ .Values.db.port | quote }}\n  host: {{ .Values.db.host | quote }}\n  shared: {{ .Values.shared | quote }}\n",
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "shared: from-values\n").unwrap();
    let state = "releases:\n  - name: app\n    namespace: hfsecrets\n    chart: ./chart\n    values:\n      - values.yaml\n    secrets:\n      - secrets.yaml\n";
    std::fs::write(dir.join("helmfile.yaml"), state).unwrap();

    // The reference: the real helmfile with `sops -d`'s output listed after the values.
    let ref_dir = dir.join("ref");
    std::fs::create_dir_all(&ref_dir).unwrap();
    std::fs::write(ref_dir.join("dec.yaml"), sops_decrypt(&dir, &dir.join("secrets.yaml"), &k1).unwrap()).unwrap();
    std::fs::write(ref_dir.join("values.yaml"), "shared: from-values\n").unwrap();
    std::os::unix::fs::symlink(&chart, ref_dir.join("chart")).unwrap();
    std::fs::write(ref_dir.join("helmfile.yaml"), state.replace("    secrets:\n      - secrets.yaml\n", "      - dec.yaml\n")).unwrap();
    let hf = rudder_conformance::testbed::oracle("helmfile");
    let path = format!("{}:{}", hf.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let home = dir.join("helm-home");
    let out = Command::new(&hf)
        .current_dir(&ref_dir)
        .env("PATH", path)
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELMFILE_UPGRADE_NOTICE_DISABLED", "true")
        .args(["template", "--skip-deps"])
        .output()
        .expect("run helmfile");
    assert!(out.status.success(), "helmfile template: {}", String::from_utf8_lossy(&out.stderr));
    let want = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(want.contains("password: \"s3cr3t\""), "{want}");

    let cwd = std::env::current_dir().unwrap();
    std::env::set_current_dir(&dir).unwrap();
    std::env::set_var("SOPS_AGE_KEY_FILE", &k1.file);
    let got = rudder_helmfile::cli::run(&["template".to_string(), "--skip-deps".to_string()]);
    // A wrong key: a clear error naming the file, nothing rendered.
    let wrong = keygen(&dir, "wrong");
    std::env::set_var("SOPS_AGE_KEY_FILE", &wrong.file);
    let bad = rudder_helmfile::cli::run(&["template".to_string(), "--skip-deps".to_string()]);
    std::env::remove_var("SOPS_AGE_KEY_FILE");
    std::env::set_current_dir(cwd).unwrap();
    assert_eq!(got.code, 0, "rudder template: {}", got.stderr);
    assert_eq!(got.stdout, want);
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(bad.stdout.is_empty(), "{}", bad.stdout);
    assert!(bad.stderr.contains("failed to decrypt") && bad.stderr.contains("secrets.yaml"), "{}", bad.stderr);
}
