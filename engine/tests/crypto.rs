//! Checks of sprig's crypto functions beyond the differential cases: the certificates Rudder makes
//! are parsed by an independent X.509 parser (`x509-parser`), their signatures are verified against
//! the issuer's key, their fields are what Go's `x509.CreateCertificate` writes for sprig's
//! templates, `openssl verify` accepts the chains (when openssl is installed), Go itself (the
//! gotmpl-oracle, when built) parses Rudder's certificates and keys and signs with them, and bcrypt
//! hashes verify.

use std::path::PathBuf;
use std::process::Command;

use rudder_engine::{funcs, TemplateSet, Value};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::*;

fn render_with(tpl: &str, data: serde_json::Value) -> Result<String, String> {
    let mut set = TemplateSet::new(funcs::sprig());
    set.parse("t", tpl).map_err(|e| e.message)?;
    let mut out = String::new();
    set.execute_to("t", &Value::from_json(&data), &mut out).map_err(|e| e.message)?;
    Ok(out)
}

fn render(tpl: &str) -> String {
    render_with(tpl, serde_json::json!({})).unwrap()
}

/// Renders a template printing a certificate object as `CERT|KEY`.
fn cert_pair(tpl: &str, data: serde_json::Value) -> (String, String) {
    let out = render_with(tpl, data).unwrap();
    let (c, k) = out.split_once('|').unwrap();
    (c.to_string(), k.to_string())
}

fn der_of(pem_text: &str) -> Vec<u8> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem_text.as_bytes()).expect("PEM");
    assert_eq!(pem.label, "CERTIFICATE");
    pem.contents
}

fn cn<'a>(name: &'a X509Name<'a>) -> Option<&'a str> {
    name.iter_common_name().next().map(|a| a.as_str().unwrap())
}

/// Verifies `cert`'s signature with the issuer's SubjectPublicKeyInfo.
fn verify_signed_by(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) {
    let tbs: &[u8] = cert.tbs_certificate.as_ref();
    let sig: &[u8] = &cert.signature_value.data;
    let spki = issuer.public_key();
    let key_bits: &[u8] = &spki.subject_public_key.data;
    let alg = cert.signature_algorithm.algorithm.to_id_string();
    match alg.as_str() {
        "1.2.840.113549.1.1.11" => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            let pk = rsa::RsaPublicKey::from_pkcs1_der(key_bits).expect("rsa public key");
            let digest = <sha2::Sha256 as sha2::Digest>::digest(tbs);
            pk.verify(rsa::Pkcs1v15Sign::new_unprefixed(), &digest, sig)
                .map(|_| panic!("an unprefixed signature must not verify"))
                .ok();
            let prefixed = rsa::Pkcs1v15Sign {
                hash_len: Some(32),
                prefix: Box::new([0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]),
            };
            pk.verify(prefixed, &digest, sig).expect("RSA signature verifies");
        }
        "1.2.840.10045.4.3.2" => {
            use p256::ecdsa::signature::Verifier;
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bits).expect("p256 key");
            let s = p256::ecdsa::Signature::from_der(sig).expect("DER ECDSA signature");
            vk.verify(tbs, &s).expect("ECDSA signature verifies");
        }
        "1.2.840.10045.4.3.3" => {
            use p384::ecdsa::signature::Verifier;
            let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bits).expect("p384 key");
            let s = p384::ecdsa::Signature::from_der(sig).expect("DER ECDSA signature");
            vk.verify(tbs, &s).expect("ECDSA P-384 signature verifies");
        }
        "1.3.101.112" => {
            use ed25519_dalek::Verifier;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(key_bits.try_into().unwrap()).unwrap();
            let s = ed25519_dalek::Signature::from_slice(sig).unwrap();
            vk.verify(tbs, &s).expect("Ed25519 signature verifies");
        }
        other => panic!("unexpected signature algorithm {other}"),
    }
}

fn skid(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
        _ => None,
    })
}

fn akid(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| k.0.to_vec()),
        _ => None,
    })
}

fn ext_oids(cert: &X509Certificate<'_>) -> Vec<(String, bool)> {
    cert.extensions().iter().map(|e| (e.oid.to_id_string(), e.critical)).collect()
}

fn sans(cert: &X509Certificate<'_>) -> (Vec<String>, Vec<Vec<u8>>) {
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(ip) => ips.push(ip.to_vec()),
                other => panic!("unexpected SAN {other:?}"),
            }
        }
    }
    (dns, ips)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn ca_is_a_valid_self_signed_ca() {
    let (c, k) = cert_pair(r#"{{ $ca := genCA "Rudder Test CA" 365 }}{{ $ca.Cert }}|{{ $ca.Key }}"#, serde_json::json!({}));
    assert!(k.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let der = der_of(&c);
    let (rest, cert) = X509Certificate::from_der(&der).expect("parses");
    assert!(rest.is_empty());
    assert_eq!(cert.version(), X509Version::V3);
    assert_eq!(cn(cert.subject()), Some("Rudder Test CA"));
    assert_eq!(cert.subject().as_raw(), cert.issuer().as_raw());
    let serial = cert.raw_serial();
    assert!(serial.len() <= 17 && serial[0] & 0x80 == 0);
    let nb = cert.validity().not_before.timestamp();
    let na = cert.validity().not_after.timestamp();
    assert!((nb - now()).abs() < 120);
    assert_eq!(na - nb, 365 * 86_400);
    let bc = cert.basic_constraints().unwrap().expect("basic constraints");
    assert!(bc.critical && bc.value.ca && bc.value.path_len_constraint.is_none());
    let ku = cert.key_usage().unwrap().expect("key usage");
    assert!(ku.critical && ku.value.digital_signature() && ku.value.key_encipherment() && ku.value.key_cert_sign());
    assert_eq!(ku.value.flags, 0b10_0101);
    let eku = cert.extended_key_usage().unwrap().expect("eku");
    assert!(!eku.critical && eku.value.server_auth && eku.value.client_auth && eku.value.other.is_empty());
    // Go 1.25+: SubjectKeyId is the leftmost 160 bits of SHA-256 of the public key bits.
    let want = <sha2::Sha256 as sha2::Digest>::digest(&cert.public_key().subject_public_key.data)[..20].to_vec();
    assert_eq!(skid(&cert), Some(want));
    assert_eq!(akid(&cert), None);
    assert_eq!(
        ext_oids(&cert),
        vec![
            ("2.5.29.15".to_string(), true),
            ("2.5.29.37".to_string(), false),
            ("2.5.29.19".to_string(), true),
            ("2.5.29.14".to_string(), false),
        ]
    );
    assert_eq!(cert.public_key().algorithm.algorithm.to_id_string(), "1.2.840.113549.1.1.1");
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::traits::PublicKeyParts;
    let pk = rsa::RsaPublicKey::from_pkcs1_der(&cert.public_key().subject_public_key.data).unwrap();
    assert_eq!(pk.n().bits(), 2048);
    verify_signed_by(&cert, &cert);
    // The key in the PEM is the certificate's key.
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let priv_key = rsa::RsaPrivateKey::from_pkcs1_pem(&k).expect("PKCS#1 key parses");
    assert_eq!(rsa::RsaPublicKey::from(&priv_key), pk);
}

#[test]
fn signed_cert_carries_sans_and_chains_to_ca() {
    let data = serde_json::json!({"ips": ["10.0.0.1", "::1", "::ffff:192.168.1.2"], "dns": ["leaf.example", "*.leaf.example"]});
    let out = render_with(
        r#"{{ $ca := genCAWithKey "chain-ca" 30 (genPrivateKey "ecdsa") }}{{ $leaf := genSignedCert "leaf" .ips .dns 10 $ca }}{{ $ca.Cert }}|{{ $leaf.Cert }}|{{ $leaf.Key }}"#,
        data,
    )
    .unwrap();
    let parts: Vec<&str> = out.split('|').collect();
    let (ca_der, leaf_der) = (der_of(parts[0]), der_of(parts[1]));
    let (_, ca) = X509Certificate::from_der(&ca_der).unwrap();
    let (_, leaf) = X509Certificate::from_der(&leaf_der).unwrap();
    assert!(parts[2].starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert_eq!(cn(leaf.subject()), Some("leaf"));
    assert_eq!(leaf.issuer().as_raw(), ca.subject().as_raw());
    assert_eq!(cn(leaf.issuer()), Some("chain-ca"));
    verify_signed_by(&ca, &ca);
    verify_signed_by(&leaf, &ca);
    let (dns, ips) = sans(&leaf);
    assert_eq!(dns, vec!["leaf.example", "*.leaf.example"]);
    let mut v6 = vec![0u8; 16];
    v6[15] = 1;
    assert_eq!(ips, vec![vec![10, 0, 0, 1], v6, vec![192, 168, 1, 2]]);
    let bc = leaf.basic_constraints().unwrap().expect("basic constraints");
    assert!(bc.critical && !bc.value.ca);
    assert_eq!(leaf.key_usage().unwrap().unwrap().value.flags, 0b101);
    assert_eq!(akid(&leaf), skid(&ca));
    assert!(skid(&leaf).is_none());
    assert_eq!(
        ext_oids(&leaf),
        vec![
            ("2.5.29.15".to_string(), true),
            ("2.5.29.37".to_string(), false),
            ("2.5.29.19".to_string(), true),
            ("2.5.29.35".to_string(), false),
            ("2.5.29.17".to_string(), false),
        ]
    );
    let na = leaf.validity().not_after.timestamp();
    let nb = leaf.validity().not_before.timestamp();
    assert_eq!(na - nb, 10 * 86_400);
    openssl_verify(parts[0], parts[1]);
}

#[test]
fn ed25519_chain_and_empty_subject() {
    let out = render_with(
        r#"{{ $ca := genCAWithKey "" 1 (genPrivateKey "ed25519") }}{{ $leaf := genSelfSignedCertWithKey "" nil .dns 1 (genPrivateKey "ed25519") }}{{ $ca.Cert }}|{{ $leaf.Cert }}|{{ $leaf.Key }}"#,
        serde_json::json!({"dns": ["only.example"]}),
    )
    .unwrap();
    let parts: Vec<&str> = out.split('|').collect();
    let ca_der = der_of(parts[0]);
    let (_, ca) = X509Certificate::from_der(&ca_der).unwrap();
    assert_eq!(ca.subject().as_raw(), &[0x30, 0x00]);
    verify_signed_by(&ca, &ca);
    let leaf_der = der_of(parts[1]);
    let (_, leaf) = X509Certificate::from_der(&leaf_der).unwrap();
    verify_signed_by(&leaf, &leaf);
    // RFC 5280: with an empty subject the SAN extension is critical (Go marks it so).
    let san = leaf.extensions().iter().find(|e| e.oid.to_id_string() == "2.5.29.17").unwrap();
    assert!(san.critical);
    assert!(parts[2].starts_with("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"));
}

#[test]
fn keys_parse_with_independent_decoders() {
    use p256::pkcs8::DecodePrivateKey;
    let ec = render(r#"{{ genPrivateKey "ecdsa" }}"#);
    p256::SecretKey::from_sec1_pem(&ec).expect("SEC1 EC key parses");
    let ed = render(r#"{{ genPrivateKey "ed25519" }}"#);
    ed25519_dalek::SigningKey::from_pkcs8_pem(&ed).expect("PKCS#8 Ed25519 key parses");
    let (_, pem) = x509_parser::pem::parse_x509_pem(ed.as_bytes()).unwrap();
    assert_eq!(pem.label, "PRIVATE KEY");
}

#[test]
fn bcrypt_hashes_verify() {
    let h = render(r#"{{ bcrypt "correct horse" }}"#);
    assert!(h.starts_with("$2a$10$") && h.len() == 60);
    assert!(bcrypt::verify("correct horse", &h).unwrap());
    assert!(!bcrypt::verify("wrong horse", &h).unwrap());
    let hp = render(r#"{{ htpasswd "admin" "pässwörd" }}"#);
    let (user, hash) = hp.split_once(':').unwrap();
    assert_eq!(user, "admin");
    assert!(bcrypt::verify("pässwörd", hash).unwrap());
}

#[test]
fn aes_matches_cbc_with_zero_padded_key() {
    // Decrypt Rudder's ciphertext independently: AES-256-CBC, key = password zero-padded to 32
    // bytes, IV first, PKCS#7 padding.
    use aes::cipher::{BlockDecrypt, KeyInit};
    use base64::Engine;
    let ct = render(r#"{{ encryptAES "pw" "attack at dawn, bring snacks" }}"#);
    let raw = base64::engine::general_purpose::STANDARD.decode(ct.trim()).unwrap();
    let mut key = [0u8; 32];
    key[..2].copy_from_slice(b"pw");
    let cipher = aes::Aes256::new(&key.into());
    let mut prev: [u8; 16] = raw[..16].try_into().unwrap();
    let mut plain = Vec::new();
    for chunk in raw[16..].chunks(16) {
        let mut b: aes::Block = <[u8; 16]>::try_from(chunk).unwrap().into();
        cipher.decrypt_block(&mut b);
        plain.extend(b.iter().zip(prev.iter()).map(|(x, y)| x ^ y));
        prev = chunk.try_into().unwrap();
    }
    let pad = *plain.last().unwrap() as usize;
    assert!((1..=16).contains(&pad) && plain[plain.len() - pad..].iter().all(|b| *b as usize == pad));
    plain.truncate(plain.len() - pad);
    assert_eq!(plain, b"attack at dawn, bring snacks");
}

fn openssl_verify(ca: &str, leaf: &str) {
    // A missing component fails the test loudly; it never skips.
    assert!(
        Command::new("openssl").arg("version").output().is_ok(),
        "openssl is required for this test (Debian package `openssl`)"
    );
    // One directory per call: the tests of this file run on parallel threads of one process,
    // and a shared directory let one test's CA overwrite another's before openssl read it.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rudder-crypto-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), ca).unwrap();
    std::fs::write(dir.join("leaf.pem"), leaf).unwrap();
    let out = Command::new("openssl")
        .args(["verify", "-purpose", "sslserver", "-CAfile"])
        .arg(dir.join("ca.pem"))
        .arg(dir.join("leaf.pem"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "openssl verify failed: {text}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn oracle() -> Option<PathBuf> {
    let dir = std::env::var_os("RUDDER_ORACLES_BIN").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/oracles/bin")
    });
    let p = dir.join("gotmpl-oracle");
    assert!(p.exists(), "the real Go oracle is not built ({} is missing): run `conformance/oracles gotmpl-oracle`", p.display());
    Some(p)
}

/// Runs a template through Go (text/template + sprig) and returns (output, error).
fn go(template: &str, data: serde_json::Value) -> (String, String) {
    use std::io::Write;
    let bin = oracle().unwrap();
    let line = serde_json::json!({"name": "t", "template": template, "data": data.to_string(), "option": ""});
    let mut child = Command::new(bin)
        .arg("batch")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{line}").unwrap();
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (v["output"].as_str().unwrap().to_string(), v["error"].as_str().unwrap().to_string())
}

#[test]
fn go_parses_rudder_certificates_and_keys() {
    oracle();
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for key_type in ["ecdsa", "ed25519", "rsa2048", "rsa"] {
        let key_expr = if key_type == "rsa2048" { String::new() } else { format!(r#"(genPrivateKey "{key_type}")"#) };
        let tpl = if key_type == "rsa2048" {
            r#"{{ $ca := genCA "rudder-ca" 30 }}{{ $ca.Cert }}|{{ $ca.Key }}"#.to_string()
        } else {
            format!(r#"{{{{ $ca := genCAWithKey "rudder-ca" 30 {key_expr} }}}}{{{{ $ca.Cert }}}}|{{{{ $ca.Key }}}}"#)
        };
        let (c, k) = cert_pair(&tpl, serde_json::json!({}));
        // Go's x509.ParseCertificate and sprig's key parser accept them (buildCustomCert), and Go
        // signs a leaf with Rudder's CA (x509.CreateCertificate checks the key matches the CA).
        let data = serde_json::json!({"c": b64(&c), "k": b64(&k), "key": k});
        let (out, err) = go(
            r#"{{ $ca := buildCustomCert .c .k }}{{ $leaf := genSignedCert "go-leaf" nil (list "go.example") 5 $ca }}{{ eq $ca.Key .key }}|{{ $leaf.Cert }}"#,
            data,
        );
        assert_eq!(err, "", "{key_type}: Go rejected Rudder's CA");
        let (same_key, leaf) = out.split_once('|').unwrap();
        assert_eq!(same_key, "true", "{key_type}: Go re-encodes Rudder's key identically");
        // And the Go-made leaf verifies against Rudder's CA.
        let ca_der = der_of(&c);
        let (_, ca) = X509Certificate::from_der(&ca_der).unwrap();
        let leaf_der = der_of(leaf);
        let (_, leaf_cert) = X509Certificate::from_der(&leaf_der).unwrap();
        verify_signed_by(&leaf_cert, &ca);
        assert_eq!(akid(&leaf_cert), skid(&ca));
        // A Rudder leaf signed by the CA is accepted by Go too.
        let (lc, lk) = cert_pair(
            r#"{{ $ca := buildCustomCert .c .k }}{{ $l := genSignedCertWithKey "r-leaf" .ips nil 5 $ca (genPrivateKey "ecdsa") }}{{ $l.Cert }}|{{ $l.Key }}"#,
            serde_json::json!({"c": b64(&c), "k": b64(&k), "ips": ["10.1.1.1"]}),
        );
        let (_, err) = go(r#"{{ buildCustomCert .c .k }}"#, serde_json::json!({"c": b64(&lc), "k": b64(&lk)}));
        assert_eq!(err, "", "{key_type}: Go rejected Rudder's leaf");
        openssl_verify(&c, &lc);
    }
}

#[test]
fn derive_password_is_deterministic_and_matches_go() {
    let tpl = r#"{{ derivePassword 1 "long" "pw" "user" "site.example" }}"#;
    let a = render(tpl);
    assert_eq!(a, render(tpl));
    if oracle().is_some() {
        assert_eq!(go(tpl, serde_json::json!({})).0, a);
    }
}

/// A P-384 key made by openssl (test input).
const P384_KEY: &str = "-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDCEvFI2bMwixulZm9ctfeGgAYTZZIGOQ+Amn8ghyKGIrTDbLMIjv1gL
9XrUE61j9cSgBwYFK4EEACKhZANiAATAr5Ml+JSmEFUDgDpZRB5ZNByBg+ez4SHO
Uowf1Kqkp20V2ZbPe7A94+S9/x1EG7FpSAMwMYLyrqm1jXJDodhZjiQ+M+Viycl2
+NU4hoXCCYkTf90WDBuHZ3CTpsgtaiU=
-----END EC PRIVATE KEY-----
";

#[test]
fn p384_ca_signs_with_sha384() {
    let out = render_with(
        r#"{{ $ca := genCAWithKey "p384" 5 .k }}{{ $leaf := genSignedCertWithKey "leaf" nil .dns 5 $ca (genPrivateKey "ed25519") }}{{ $ca.Cert }}|{{ $leaf.Cert }}|{{ eq $ca.Key .k }}"#,
        serde_json::json!({"k": P384_KEY, "dns": ["p384.example"]}),
    )
    .unwrap();
    let parts: Vec<&str> = out.split('|').collect();
    assert_eq!(parts[2], "true");
    let ca_der = der_of(parts[0]);
    let (_, ca) = X509Certificate::from_der(&ca_der).unwrap();
    assert_eq!(ca.signature_algorithm.algorithm.to_id_string(), "1.2.840.10045.4.3.3");
    verify_signed_by(&ca, &ca);
    let leaf_der = der_of(parts[1]);
    let (_, leaf) = X509Certificate::from_der(&leaf_der).unwrap();
    verify_signed_by(&leaf, &ca);
    assert_eq!(leaf.public_key().algorithm.algorithm.to_id_string(), "1.3.101.112");
    openssl_verify(parts[0], parts[1]);
    if oracle().is_some() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let (_, err) = go(r#"{{ buildCustomCert .c .k }}"#, serde_json::json!({"c": b64(parts[0]), "k": b64(P384_KEY)}));
        assert_eq!(err, "");
    }
}

#[test]
fn dsa_key_is_sprig_format() {
    let k = render(r#"{{ genPrivateKey "dsa" }}"#);
    let (_, pem) = x509_parser::pem::parse_x509_pem(k.as_bytes()).unwrap();
    assert_eq!(pem.label, "DSA PRIVATE KEY");
    // SEQUENCE { version 0, P (2048 bits), Q (256 bits), G, Y, X } with g^x = y (mod p).
    let (rest, obj) = x509_parser::der_parser::parse_der(&pem.contents).unwrap();
    assert!(rest.is_empty());
    let items = obj.as_sequence().unwrap();
    assert_eq!(items.len(), 6);
    let n: Vec<rsa::BigUint> = items.iter().map(|i| rsa::BigUint::from_bytes_be(i.as_slice().unwrap())).collect();
    assert_eq!(n[0], rsa::BigUint::from(0u32));
    assert_eq!(n[1].bits(), 2048);
    assert_eq!(n[2].bits(), 256);
    assert_eq!(n[3].modpow(&n[5], &n[1]), n[4]);
    assert_eq!((&n[1] - 1u32) % &n[2], rsa::BigUint::from(0u32));
    if oracle().is_some() {
        // Go's sprig parses it (and refuses to sign with it, as DSA keys are no crypto.Signer).
        let (_, err) = go(r#"{{ genCAWithKey "x" 1 .k }}"#, serde_json::json!({"k": k}));
        assert!(err.ends_with("error creating certificate: x509: certificate private key does not implement crypto.Signer"), "{err}");
    }
}

#[test]
#[ignore = "timing probe"]
fn timing_probe() {
    for t in [r#"{{ len (genPrivateKey "rsa") }}"#, r#"{{ len (genCA "x" 1).Cert }}"#, r#"{{ len (genPrivateKey "dsa") }}"#, r#"{{ derivePassword 1 "long" "a" "b" "c" }}"#, r#"{{ bcrypt "x" }}"#] {
        let s = std::time::Instant::now();
        render(t);
        eprintln!("{t}: {:?}", s.elapsed());
    }
}

#[test]
fn get_host_by_name_sprig_resolves_helm_is_offline() {
    // sprig's function resolves (localhost comes from /etc/hosts, no DNS traffic) ...
    let mut set = TemplateSet::new(funcs::sprig());
    set.parse("t", r#"{{ getHostByName "localhost" }}|{{ getHostByName "127.0.0.1" }}"#).unwrap();
    let mut out = String::new();
    set.execute_to("t", &Value::from_json(&serde_json::json!({})), &mut out).unwrap();
    let (local, literal) = out.split_once('|').unwrap();
    assert!(local == "127.0.0.1" || local == "::1", "{local}");
    assert_eq!(literal, "127.0.0.1");
    // ... and panics in Go (rand.Intn(0)) when nothing resolves, which text/template reports.
    let mut set = TemplateSet::new(funcs::sprig());
    set.parse("t", r#"{{ getHostByName "" }}"#).unwrap();
    let err = set.execute_to("t", &Value::from_json(&serde_json::json!({})), &mut String::new()).unwrap_err();
    assert!(err.message.ends_with("error calling getHostByName: invalid argument to Intn"), "{}", err.message);
    // Helm replaces it with an offline stub unless DNS lookups are enabled.
    let mut set = TemplateSet::new(funcs::helm());
    set.parse("t", r#"[{{ getHostByName "localhost" }}]"#).unwrap();
    let mut out = String::new();
    set.execute_to("t", &Value::from_json(&serde_json::json!({})), &mut out).unwrap();
    assert_eq!(out, "[]");
}

/// Static test inputs made by openssl: an Ed25519 key, a P-256 key, and a self-signed Ed25519 CA
/// certificate for the Ed25519 key.
const ED_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIK48kuTLw6sAiZLpdg3Nt2U5bH3ZcCAgjNYNzG3lir6b\n-----END PRIVATE KEY-----\n";
const EC_KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEILD4ckXS4moegbOwl+xdKJI/fKlP8VpMmvXvwNN2tjZFoAoGCCqGSM49\nAwEHoUQDQgAE+m3O+w0zfaqHDTcKMWSI0jZsNbLV83EFT0Wc8Hhq1MwBgTabsA9A\nLdxxwVG2uGiTC8JHgaojf42kfozVaM/86Q==\n-----END EC PRIVATE KEY-----\n";
const ED_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBNDCB56ADAgECAhR+wIyGPstKCvhafXpAMWUuU7BN0TAFBgMrZXAwEDEOMAwG\nA1UEAwwFZWQgY2EwHhcNMjYxMjAxMTkzMDIyWhcNMzYxMTI4MTkzMDIyWjAQMQ4w\nDAYDVQQDDAVlZCBjYTAqMAUGAytlcAMhANONKhpY96MpyAs8epXBXI6uKatyvnYr\nln70M8KCRfrmo1MwUTAdBgNVHQ4EFgQUOqDN5mW3ifLOfQnJ82BRwLFhimcwHwYD\nVR0jBBgwFoAUOqDN5mW3ifLOfQnJ82BRwLFhimcwDwYDVR0TAQH/BAUwAwEB/zAF\nBgMrZXADQQBZ8I5bE2LzP+RSfEocq/lyyK637Xw+rQkm4eoKeF8szZ/ngxJ8sTkl\nmSOSlhepO0RyjT/EwbBrGeMIdqyd8J0M\n-----END CERTIFICATE-----\n";

/// The TBSCertificate's elements with the random parts (serial number, validity times) reduced
/// to what must agree (the time types and the validity length).
fn tbs_shape(cert_pem: &str) -> Vec<String> {
    use rudder_engine::funcs::crypto::der;
    let der_bytes = der_of(cert_pem);
    let (outer, _) = der::read(&der_bytes).unwrap();
    let parts = der::children(outer.content).unwrap();
    let tbs = der::children(parts[0].content).unwrap();
    let mut shape = Vec::new();
    for (i, t) in tbs.iter().enumerate() {
        match i {
            1 => shape.push(format!("serial tag {:02x}, {} bytes or fewer", t.tag, 17)),
            4 => {
                let times = der::children(t.content).unwrap();
                let (_, c) = X509Certificate::from_der(&der_bytes).unwrap();
                let len = c.validity().not_after.timestamp() - c.validity().not_before.timestamp();
                shape.push(format!("validity tags {:02x} {:02x}, {len} s", times[0].tag, times[1].tag));
            }
            _ => shape.push(t.raw.iter().map(|b| format!("{b:02x}")).collect()),
        }
    }
    shape.push(parts[1].raw.iter().map(|b| format!("{b:02x}")).collect());
    shape
}

#[test]
fn certificates_match_go_byte_for_byte_outside_random_fields() {
    oracle();
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let data = serde_json::json!({
        "ed": ED_KEY, "ec": EC_KEY, "ca64": b64(ED_CA), "key64": b64(ED_KEY),
        "ips": ["10.0.0.1", "::1", "::ffff:172.16.0.9", "2001:db8::42"],
        "dns": ["svc.example", "*.svc.example", "UPPER.example", "with space", ""],
    });
    let templates = [
        r#"{{ (genCAWithKey "Rudder CA" 365 .ed).Cert }}"#,
        r#"{{ (genCAWithKey "" 1 .ec).Cert }}"#,
        r#"{{ (genCAWithKey "a*b&c" 1 .ed).Cert }}"#,
        r#"{{ (genCAWithKey "ünïcødé ✓" 1 .ed).Cert }}"#,
        r#"{{ (genCAWithKey "long-lived" 20000 .ed).Cert }}"#,
        r#"{{ (genCAWithKey "expired" -3 .ed).Cert }}"#,
        r#"{{ (genCAWithKey "wraps" 200000 .ed).Cert }}"#,
        r#"{{ (genCAWithKey "wraps back" -200000 .ed).Cert }}"#,
        r#"{{ (genCAWithKey "zero" 0 .ed).Cert }}"#,
        r#"{{ (genSelfSignedCertWithKey "self" .ips .dns 30 .ec).Cert }}"#,
        r#"{{ (genSelfSignedCertWithKey "" nil .dns 30 .ed).Cert }}"#,
        r#"{{ (genSelfSignedCertWithKey "no-sans" nil nil 30 .ed).Cert }}"#,
        r#"{{ (genSignedCertWithKey "leaf" .ips .dns 30 (buildCustomCert .ca64 .key64) .ec).Cert }}"#,
        r#"{{ (genSignedCertWithKey "ed ca" nil nil 30 (buildCustomCert .ca64 .key64) .ec).Cert }}"#,
        r#"{{ $ca := genCAWithKey "mid" 9 .ec }}{{ (genSignedCertWithKey "leaf" nil .dns 30 $ca .ed).Cert }}"#,
    ];
    for t in templates {
        let (go_out, go_err) = go(t, data.clone());
        assert_eq!(go_err, "", "{t}");
        let ours = render_with(t, data.clone()).unwrap();
        assert_eq!(tbs_shape(&ours), tbs_shape(&go_out), "{t}");
    }
}
