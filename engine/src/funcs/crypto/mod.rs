//! sprig v3.3.0's crypto functions (crypto.go): `bcrypt`, `htpasswd`, `genPrivateKey`,
//! `derivePassword`, `buildCustomCert`, `genCA`, `genCAWithKey`, `genSelfSignedCert`,
//! `genSelfSignedCertWithKey`, `genSignedCert`, `genSignedCertWithKey`, `encryptAES`,
//! `decryptAES`, `randBytes`, `uuidv4`. (The hash sums live with the string functions.)

pub mod cert;
pub mod der;
pub mod keys;
pub mod pem;
mod ifma;
mod mont;
mod prime;
pub(crate) use prime::Noted;

/// Starts finding the primes of `keys` RSA-2048 keys (what `genCA`, `genSelfSignedCert` and
/// `genSignedCert` make) in the background; see `prime::prefetch`.
pub fn prefetch_rsa_2048(keys: usize) {
    prime::prefetch(1024, 2 * keys);
}

/// Whether primes are being searched for in the background (see [`prefetch_rsa_2048`]).
pub fn searching_primes() -> bool {
    prime::searching()
}

/// The primes the speculative execution that just ended on this thread used (see
/// [`crate::speculate`]): back to the pool when dropped, unless kept.
pub(crate) fn take_noted_primes() -> Noted {
    prime::take_noted()
}

use std::any::Any;
use std::sync::Arc;

use rand::RngCore;

use super::util::*;
use super::{FuncError, FuncMap, FuncResult};
use crate::value::{GoType, Member, Object, UintKind, Value};

use cert::{Parent, Template};
use keys::PrivKey;

/// sprig's `certificate` struct: `{Cert, Key string}`, both PEM.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Object for Certificate {
    fn go_type(&self) -> GoType {
        cert_type()
    }

    fn member(&self, name: &str) -> Option<Member> {
        match name {
            "Cert" => Some(Member::Field(Value::string(self.cert.as_str()))),
            "Key" => Some(Member::Field(Value::string(self.key.as_str()))),
            _ => None,
        }
    }

    fn format_v(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }

    /// `{Cert, Key}` with no JSON tags: `toJson` gives `{"Cert":...,"Key":...}` as Go does.
    fn json_form(&self) -> Option<crate::json::JsonForm> {
        Some(crate::json::JsonForm::Fields(vec![
            (Arc::from("Cert"), Value::string(self.cert.as_str())),
            (Arc::from("Key"), Value::string(self.key.as_str())),
        ]))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn cert_type() -> GoType {
    GoType::Named(Arc::from("sprig.certificate"))
}

fn cert_value(c: Certificate) -> Value {
    Value::Object(Arc::new(c))
}

fn as_cert(v: &Value) -> Certificate {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<Certificate>().cloned().unwrap_or(Certificate { cert: String::new(), key: String::new() }),
        _ => Certificate { cert: String::new(), key: String::new() },
    }
}

fn bcrypt_hash(input: &str) -> String {
    if input.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes".into();
    }
    match bcrypt::hash_with_result(input.as_bytes(), 10) {
        Ok(h) => h.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

fn htpasswd(user: &str, password: &str) -> String {
    if user.contains(':') {
        return format!("invalid username: {user}");
    }
    format!("{user}:{}", bcrypt_hash(password))
}

fn rand_bytes(count: i64) -> FuncResult {
    if count < 0 {
        return err("runtime error: makeslice: len out of range");
    }
    let mut buf = vec![0u8; count as usize];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    use base64::Engine;
    ok(Value::string(base64::engine::general_purpose::STANDARD.encode(&buf)))
}

fn uuidv4() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn password_templates(typ: &str) -> Option<&'static [&'static str]> {
    Some(match typ {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno", "CvccnoCvcvCvcv", "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno", "CvcvnoCvccCvcv", "CvcvCvccnoCvcv", "CvcvCvccCvcvno", "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc", "CvcvCvcvCvccno", "CvccnoCvccCvcv", "CvccCvccnoCvcv", "CvccCvccCvcvno",
            "CvcvnoCvccCvcc", "CvcvCvccnoCvcc", "CvcvCvccCvccno", "CvccnoCvcvCvcc", "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        b'x' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
        _ => b"",
    }
}

/// sprig `derivePassword`: the Master Password algorithm (scrypt N=32768, r=8, p=2).
pub fn derive_password(counter: u32, typ: &str, password: &str, user: &str, site: &str) -> String {
    let Some(templates) = password_templates(typ) else {
        return format!("cannot find password template {typ}");
    };
    const SEED: &[u8] = b"com.lyndir.masterpassword";
    let mut salt = SEED.to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let params = scrypt::Params::new(15, 8, 2, 64).expect("valid scrypt parameters");
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return format!("failed to derive password: {e}");
    }
    let mut msg = SEED.to_vec();
    msg.extend_from_slice(&(site.len() as u32).to_be_bytes());
    msg.extend_from_slice(site.as_bytes());
    msg.extend_from_slice(&counter.to_be_bytes());
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&key).expect("hmac takes any key");
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let temp = templates[seed[0] as usize % templates.len()].as_bytes();
    temp.iter()
        .enumerate()
        .map(|(i, c)| {
            let chars = template_chars(*c);
            chars[seed[i + 1] as usize % chars.len()] as char
        })
        .collect()
}

fn aes_key(password: &str) -> aes::Aes256 {
    use aes::cipher::KeyInit;
    let mut key = [0u8; 32];
    let p = password.as_bytes();
    let n = p.len().min(32);
    key[..n].copy_from_slice(&p[..n]);
    aes::Aes256::new(&key.into())
}

fn encrypt_aes(password: &str, plaintext: &str) -> FuncResult {
    use aes::cipher::BlockEncrypt;
    if plaintext.is_empty() {
        return ok(Value::string(""));
    }
    let cipher = aes_key(password);
    let mut content = plaintext.as_bytes().to_vec();
    let pad = 16 - content.len() % 16;
    content.extend(std::iter::repeat_n(pad as u8, pad));
    let mut out = vec![0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut out);
    let mut prev: [u8; 16] = out[..16].try_into().unwrap();
    for chunk in content.chunks(16) {
        let mut block = [0u8; 16];
        for i in 0..16 {
            block[i] = chunk[i] ^ prev[i];
        }
        let mut b = block.into();
        cipher.encrypt_block(&mut b);
        prev = b.into();
        out.extend_from_slice(&prev);
    }
    use base64::Engine;
    ok(Value::string(base64::engine::general_purpose::STANDARD.encode(&out)))
}

fn decrypt_aes(password: &str, crypt64: &str) -> FuncResult {
    use aes::cipher::BlockDecrypt;
    if crypt64.is_empty() {
        return ok(Value::string(""));
    }
    let crypt = match pem::b64_decode(crypt64.as_bytes()) {
        Ok(c) => c,
        Err(i) => return err(format!("illegal base64 data at input byte {i}")),
    };
    if crypt.len() < 16 {
        let cap = crypt64.len() / 4 * 3;
        if cap < 16 {
            return err(format!("runtime error: slice bounds out of range [:16] with capacity {cap}"));
        }
    }
    let (iv, body) = if crypt.len() >= 16 { crypt.split_at(16) } else { (&crypt[..], &crypt[..0]) };
    if crypt.len() < 16 {
        // Go re-slices within the capacity: the IV runs into unwritten (zero) bytes and the
        // ciphertext starts beyond the length, which panics when taken.
        return err(format!("runtime error: slice bounds out of range [16:{}]", crypt.len()));
    }
    if body.len() % 16 != 0 {
        return err("crypto/cipher: input not full blocks");
    }
    if body.is_empty() {
        return err("runtime error: index out of range [-1]");
    }
    let cipher = aes_key(password);
    let mut prev: [u8; 16] = iv.try_into().unwrap();
    let mut plain = Vec::with_capacity(body.len());
    for chunk in body.chunks(16) {
        let cur: [u8; 16] = chunk.try_into().unwrap();
        let mut b = cur.into();
        cipher.decrypt_block(&mut b);
        let b: [u8; 16] = b.into();
        for i in 0..16 {
            plain.push(b[i] ^ prev[i]);
        }
        prev = cur;
    }
    let pad = *plain.last().unwrap() as usize;
    if pad > plain.len() {
        return err(format!("runtime error: slice bounds out of range [:{}]", plain.len() as i64 - pad as i64));
    }
    plain.truncate(plain.len() - pad);
    ok(Value::string(String::from_utf8_lossy(&plain).into_owned()))
}

fn gen_private_key(typ: &str) -> String {
    match PrivKey::generate(typ) {
        Ok(k) => k.to_pem(),
        Err(e) => e,
    }
}

/// sprig `getNetIPs`.
fn net_ips(v: &Value) -> Result<Vec<Vec<u8>>, String> {
    let items = match v {
        Value::List(l) => l.items.clone(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for ip in &items {
        let Value::String(s) = ip else {
            return Err(format!("error parsing ip: {} is not a string", crate::print::format_v(ip)));
        };
        match parse_ip(s) {
            Some(b) => out.push(b),
            None => return Err(format!("error parsing ip: {s}")),
        }
    }
    Ok(out)
}

/// Go's `net.ParseIP` (16-byte form).
fn parse_ip(s: &str) -> Option<Vec<u8>> {
    if s.contains('.') && !s.contains(':') {
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() != 4 {
            return None;
        }
        let mut b = vec![0u8; 10];
        b.extend_from_slice(&[0xff, 0xff]);
        for p in parts {
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) || (p.len() > 1 && p.starts_with('0')) {
                return None;
            }
            let n: u32 = p.parse().ok()?;
            if n > 255 {
                return None;
            }
            b.push(n as u8);
        }
        return Some(b);
    }
    if s.contains('%') {
        return None;
    }
    s.parse::<std::net::Ipv6Addr>().ok().map(|a| a.octets().to_vec())
}

/// sprig `getAlternateDNSStrs`.
fn dns_names(v: &Value) -> Result<Vec<String>, String> {
    let items = match v {
        Value::List(l) => l.items.clone(),
        _ => Vec::new(),
    };
    items
        .iter()
        .map(|d| match d {
            Value::String(s) => Ok(s.to_string()),
            d => Err(format!("error processing alternate dns name: {} is not a string", crate::print::format_v(d))),
        })
        .collect()
}

fn base_template(cn: &str, ips: &Value, dns: &Value, days: i64) -> Result<Template, String> {
    Ok(Template { cn: cn.to_string(), ips: net_ips(ips)?, dns: dns_names(dns)?, days, is_ca: false })
}

/// sprig `getCertAndKey`: returns the certificate with the signee's key.
fn cert_and_key(t: &Template, signee: &PrivKey, parent: Option<&Parent>, signer: &PrivKey) -> Result<Certificate, String> {
    let pubkey = signee.public();
    // Go: getPublicKey never fails for the key types sprig parses; marshalPublicKey (inside
    // CreateCertificate) refuses DSA after the signer check.
    if !signer.is_signer() {
        return Err("error creating certificate: x509: certificate private key does not implement crypto.Signer".into());
    }
    let pubkey = pubkey.map_err(|e| format!("error creating certificate: {e}"))?;
    let der = cert::create(t, &pubkey, parent, signer).map_err(|e| format!("error creating certificate: {e}"))?;
    Ok(Certificate { cert: pem::encode("CERTIFICATE", &der), key: signee.to_pem() })
}

fn rsa2048() -> Result<PrivKey, String> {
    PrivKey::rsa(2048).map_err(|e| format!("error generating rsa key: {}", e.trim_start_matches("failed to generate private key: ")))
}

fn gen_ca(cn: &str, days: i64, key: PrivKey) -> Result<Certificate, String> {
    let mut t = base_template(cn, &Value::Nil, &Value::Nil, days)?;
    t.is_ca = true;
    cert_and_key(&t, &key, None, &key)
}

fn gen_self_signed(cn: &str, ips: &Value, dns: &Value, days: i64, key: PrivKey) -> Result<Certificate, String> {
    let t = base_template(cn, ips, dns, days)?;
    cert_and_key(&t, &key, None, &key)
}

fn gen_signed(cn: &str, ips: &Value, dns: &Value, days: i64, ca: &Certificate, key: PrivKey) -> Result<Certificate, String> {
    let Some(block) = pem::decode(ca.cert.as_bytes()) else {
        return Err("unable to decode certificate".into());
    };
    let parent = cert::parse(&block.bytes).map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))?;
    let signer = keys::parse_pem(&ca.key).map_err(|e| format!("error parsing private key: {e}"))?;
    let t = base_template(cn, ips, dns, days)?;
    cert_and_key(&t, &key, Some(&parent), &signer)
}

fn with_key(pem_text: &str) -> Result<PrivKey, String> {
    keys::parse_pem(pem_text).map_err(|e| format!("parsing private key: {e}"))
}

fn build_custom_cert(b64cert: &str, b64key: &str) -> Result<Certificate, String> {
    let cert = pem::b64_decode(b64cert.as_bytes()).map_err(|_| "unable to decode base64 certificate".to_string())?;
    let key = pem::b64_decode(b64key.as_bytes()).map_err(|_| "unable to decode base64 private key".to_string())?;
    let Some(block) = pem::decode(&cert) else {
        return Err("unable to decode certificate".into());
    };
    cert::parse(&block.bytes).map_err(|e| format!("error parsing certificate: decodedCert.Bytes: {e}"))?;
    let key_text = String::from_utf8_lossy(&key).into_owned();
    keys::parse_pem(&key_text).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok(Certificate { cert: String::from_utf8_lossy(&cert).into_owned(), key: key_text })
}

fn cert_result(r: Result<Certificate, String>) -> FuncResult {
    match r {
        Ok(c) => Ok(cert_value(c)),
        Err(e) => Err(FuncError::new(e)),
    }
}

/// Adds this family's functions to `map`.
pub fn register(m: &mut FuncMap) {
    let s = str_t;
    add(m, "bcrypt", vec![s()], s(), |a| ok(Value::string(bcrypt_hash(arg_str(&a[0])))));
    add(m, "htpasswd", vec![s(), s()], s(), |a| ok(Value::string(htpasswd(arg_str(&a[0]), arg_str(&a[1])))));
    add(m, "genPrivateKey", vec![s()], s(), |a| ok(Value::string(gen_private_key(arg_str(&a[0])))));
    add(m, "derivePassword", vec![GoType::Uint(UintKind::Uint32), s(), s(), s(), s()], s(), |a| {
        let counter = match &a[0] {
            Value::Uint(u, _) => *u as u32,
            v => arg_int(v) as u32,
        };
        ok(Value::string(derive_password(counter, arg_str(&a[1]), arg_str(&a[2]), arg_str(&a[3]), arg_str(&a[4]))))
    });
    add_err(m, "buildCustomCert", vec![s(), s()], cert_type(), false, |a| cert_result(build_custom_cert(arg_str(&a[0]), arg_str(&a[1]))));
    add_err(m, "genCA", vec![s(), int_t()], cert_type(), false, |a| {
        cert_result(rsa2048().and_then(|k| gen_ca(arg_str(&a[0]), arg_int(&a[1]), k)))
    });
    add_err(m, "genCAWithKey", vec![s(), int_t(), s()], cert_type(), false, |a| {
        cert_result(with_key(arg_str(&a[2])).and_then(|k| gen_ca(arg_str(&a[0]), arg_int(&a[1]), k)))
    });
    add_err(m, "genSelfSignedCert", vec![s(), list_t(), list_t(), int_t()], cert_type(), false, |a| {
        cert_result(rsa2048().and_then(|k| gen_self_signed(arg_str(&a[0]), &a[1], &a[2], arg_int(&a[3]), k)))
    });
    add_err(m, "genSelfSignedCertWithKey", vec![s(), list_t(), list_t(), int_t(), s()], cert_type(), false, |a| {
        cert_result(with_key(arg_str(&a[4])).and_then(|k| gen_self_signed(arg_str(&a[0]), &a[1], &a[2], arg_int(&a[3]), k)))
    });
    add_err(m, "genSignedCert", vec![s(), list_t(), list_t(), int_t(), cert_type()], cert_type(), false, |a| {
        cert_result(rsa2048().and_then(|k| gen_signed(arg_str(&a[0]), &a[1], &a[2], arg_int(&a[3]), &as_cert(&a[4]), k)))
    });
    add_err(m, "genSignedCertWithKey", vec![s(), list_t(), list_t(), int_t(), cert_type(), s()], cert_type(), false, |a| {
        cert_result(with_key(arg_str(&a[5])).and_then(|k| gen_signed(arg_str(&a[0]), &a[1], &a[2], arg_int(&a[3]), &as_cert(&a[4]), k)))
    });
    add_err(m, "encryptAES", vec![s(), s()], s(), false, |a| encrypt_aes(arg_str(&a[0]), arg_str(&a[1])));
    add_err(m, "decryptAES", vec![s(), s()], s(), false, |a| decrypt_aes(arg_str(&a[0]), arg_str(&a[1])));
    add_err(m, "randBytes", vec![int_t()], s(), false, |a| rand_bytes(arg_int(&a[0])));
    add(m, "uuidv4", vec![], s(), |_| ok(Value::string(uuidv4())));
}
