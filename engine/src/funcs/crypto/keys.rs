//! Private keys as sprig handles them: generation (`genPrivateKey`), PEM encoding as sprig's
//! `pemBlockForKey` writes it, parsing as `parsePrivateKeyPEM` reads it, public-key encoding as Go's
//! `x509.marshalPublicKey` writes it, and signing as `x509.CreateCertificate` signs.

use rand::rngs::OsRng;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::BigUint;

use super::der::{self, *};
use super::pem;

pub const OID_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
pub const OID_SHA256_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
pub const OID_EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10045, 2, 1];
pub const OID_ECDSA_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
pub const OID_P256: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
pub const OID_P224: &[u64] = &[1, 3, 132, 0, 33];
pub const OID_P384: &[u64] = &[1, 3, 132, 0, 34];
pub const OID_P521: &[u64] = &[1, 3, 132, 0, 35];
pub const OID_ED25519: &[u64] = &[1, 3, 101, 112];
pub const OID_X25519: &[u64] = &[1, 3, 101, 110];

/// A private key of one of the types sprig produces or accepts.
pub enum PrivKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::SecretKey),
    Ed25519(ed25519_dalek::SigningKey),
    Dsa(Box<dsa::SigningKey>),
}

/// A public key as `x509.marshalPublicKey` sees it: the algorithm identifier and the key bits.
/// `None` for key types Go cannot put in a certificate (DSA).
pub struct PubKey {
    pub algorithm: Vec<u8>,
    pub bits: Vec<u8>,
}

impl PubKey {
    pub fn spki(&self) -> Vec<u8> {
        seq(&[&self.algorithm, &bit_string(&self.bits)])
    }
}

fn big(b: &BigUint) -> Vec<u8> {
    uint_be(&b.to_bytes_be())
}

fn dsa_big(b: &dsa::BigUint) -> Vec<u8> {
    uint_be(&b.to_bytes_be())
}

impl PrivKey {
    /// sprig `genPrivateKey`'s generation. `Err` is the text sprig returns.
    pub fn generate(typ: &str) -> Result<PrivKey, String> {
        match typ {
            "" | "rsa" => Self::rsa(4096),
            "dsa" => {
                let comps = dsa::Components::generate(&mut OsRng, dsa::KeySize::DSA_2048_256);
                Ok(PrivKey::Dsa(Box::new(dsa::SigningKey::generate(&mut OsRng, comps))))
            }
            "ecdsa" => Ok(PrivKey::P256(p256::SecretKey::random(&mut OsRng))),
            "ed25519" => Ok(PrivKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng))),
            _ => Err(format!("Unknown type {typ}")),
        }
    }

    pub fn rsa(bits: usize) -> Result<PrivKey, String> {
        rsa::RsaPrivateKey::new(&mut OsRng, bits)
            .map(|k| PrivKey::Rsa(Box::new(k)))
            .map_err(|e| format!("failed to generate private key: {e}"))
    }

    /// Go's `%T` of the key (for messages).
    pub fn go_type(&self) -> &'static str {
        match self {
            PrivKey::Rsa(_) => "*rsa.PrivateKey",
            PrivKey::P256(_) => "*ecdsa.PrivateKey",
            PrivKey::Ed25519(_) => "ed25519.PrivateKey",
            PrivKey::Dsa(_) => "*dsa.PrivateKey",
        }
    }

    /// sprig `pemBlockForKey`, encoded.
    pub fn to_pem(&self) -> String {
        match self {
            PrivKey::Rsa(k) => {
                let primes = k.primes();
                let (p, q) = (&primes[0], &primes[1]);
                let one = BigUint::from(1u32);
                let d = k.d();
                let dp = d % (p - &one);
                let dq = d % (q - &one);
                let qinv = mod_inverse(q, p);
                let body = seq(&[
                    &small_int(0),
                    &big(k.n()),
                    &big(k.e()),
                    &big(d),
                    &big(p),
                    &big(q),
                    &big(&dp),
                    &big(&dq),
                    &big(&qinv),
                ]);
                pem::encode("RSA PRIVATE KEY", &body)
            }
            PrivKey::P256(k) => pem::encode("EC PRIVATE KEY", &ec_private_der(k)),
            PrivKey::Ed25519(k) => {
                let body = seq(&[&small_int(0), &seq(&[&oid(OID_ED25519)]), &octets(&octets(&k.to_bytes()))]);
                pem::encode("PRIVATE KEY", &body)
            }
            PrivKey::Dsa(k) => {
                let vk = k.verifying_key();
                let c = vk.components();
                let body = seq(&[
                    &small_int(0),
                    &dsa_big(c.p()),
                    &dsa_big(c.q()),
                    &dsa_big(c.g()),
                    &dsa_big(vk.y()),
                    &dsa_big(k.x()),
                ]);
                pem::encode("DSA PRIVATE KEY", &body)
            }
        }
    }

    /// Go's `x509.marshalPublicKey` of the key's public half.
    pub fn public(&self) -> Result<PubKey, String> {
        match self {
            PrivKey::Rsa(k) => Ok(PubKey {
                algorithm: seq(&[&oid(OID_RSA), &tlv(NULL, &[])]),
                bits: seq(&[&big(k.n()), &big(k.e())]),
            }),
            PrivKey::P256(k) => Ok(PubKey {
                algorithm: seq(&[&oid(OID_EC_PUBLIC_KEY), &oid(OID_P256)]),
                bits: ec_point(k),
            }),
            PrivKey::Ed25519(k) => Ok(PubKey {
                algorithm: seq(&[&oid(OID_ED25519)]),
                bits: k.verifying_key().to_bytes().to_vec(),
            }),
            PrivKey::Dsa(_) => Err("x509: unsupported public key type: *dsa.PublicKey".into()),
        }
    }

    /// Whether the key is a `crypto.Signer` (Go's DSA keys are not).
    pub fn is_signer(&self) -> bool {
        !matches!(self, PrivKey::Dsa(_))
    }

    /// The signature algorithm identifier Go picks for the key (`signingParamsForKey`).
    pub fn signature_algorithm(&self) -> Vec<u8> {
        match self {
            PrivKey::Rsa(_) => seq(&[&oid(OID_SHA256_RSA), &tlv(NULL, &[])]),
            PrivKey::P256(_) => seq(&[&oid(OID_ECDSA_SHA256)]),
            PrivKey::Ed25519(_) | PrivKey::Dsa(_) => seq(&[&oid(OID_ED25519)]),
        }
    }

    /// Signs `msg` as Go's `signTBS` does for the key's default algorithm.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, String> {
        use sha2::Digest;
        match self {
            PrivKey::Rsa(k) => {
                let digest = sha2::Sha256::digest(msg);
                let scheme = rsa::Pkcs1v15Sign {
                    hash_len: Some(32),
                    prefix: Box::new([0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]),
                };
                k.sign(scheme, &digest).map_err(|e| e.to_string())
            }
            PrivKey::P256(k) => {
                use p256::ecdsa::signature::RandomizedSigner;
                let sk = p256::ecdsa::SigningKey::from(k.clone());
                let sig: p256::ecdsa::Signature = sk.sign_with_rng(&mut OsRng, msg);
                Ok(sig.to_der().as_bytes().to_vec())
            }
            PrivKey::Ed25519(k) => {
                use ed25519_dalek::Signer;
                Ok(k.sign(msg).to_bytes().to_vec())
            }
            PrivKey::Dsa(_) => Err("x509: certificate private key does not implement crypto.Signer".into()),
        }
    }
}

fn mod_inverse(a: &BigUint, m: &BigUint) -> BigUint {
    // m is prime here (an RSA prime): a^(m-2) mod m.
    let two = BigUint::from(2u32);
    a.modpow(&(m - &two), m)
}

fn ec_point(k: &p256::SecretKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    k.public_key().to_encoded_point(false).as_bytes().to_vec()
}

/// Go's `x509.MarshalECPrivateKey` for a P-256 key.
fn ec_private_der(k: &p256::SecretKey) -> Vec<u8> {
    let d = k.to_bytes();
    seq(&[
        &small_int(1),
        &octets(&d),
        &cons(0xa0, &[&oid(OID_P256)]),
        &cons(0xa1, &[&bit_string(&ec_point(k))]),
    ])
}

/// sprig `parsePrivateKeyPEM`.
pub fn parse_pem(text: &str) -> Result<PrivKey, String> {
    let Some(block) = pem::decode(text.as_bytes()) else {
        return Err("no PEM data in input".into());
    };
    if block.typ == "PRIVATE KEY" {
        return parse_pkcs8(&block.bytes).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
    }
    let Some(kind) = block.typ.strip_suffix(" PRIVATE KEY") else {
        return Err(format!("no private key data in PEM block of type {}", block.typ));
    };
    match kind {
        "RSA" => parse_pkcs1(&block.bytes).map_err(|e| format!("parsing RSA private key from PEM: {e}")),
        "EC" => parse_ec(&block.bytes, None).map_err(|e| format!("parsing EC private key from PEM: {e}")),
        "DSA" => parse_dsa(&block.bytes).map_err(|e| format!("parsing DSA private key from PEM: {e}")),
        _ => Err(format!("invalid private key type {}", block.typ)),
    }
}

const MALFORMED: &str = "asn1: structure error: tags don't match";

fn syntax_trailing() -> String {
    "asn1: syntax error: trailing data".into()
}

/// Go's `x509.ParsePKCS1PrivateKey`.
fn parse_pkcs1(data: &[u8]) -> Result<PrivKey, String> {
    let Some((outer, rest)) = der::read(data) else {
        return Err(der_error(data));
    };
    if !rest.is_empty() {
        return Err(syntax_trailing());
    }
    let items = (outer.tag == SEQUENCE).then(|| children(outer.content)).flatten();
    let ints: Option<Vec<Vec<u8>>> = items.as_ref().and_then(|items| {
        if items.len() < 9 {
            return None;
        }
        items[..9].iter().map(uint_content).collect()
    });
    let Some(ints) = ints else {
        if parse_ec_structure(data) {
            return Err("x509: failed to parse private key (use ParseECPrivateKey instead for this key format)".into());
        }
        if pkcs8_structure(data) {
            return Err("x509: failed to parse private key (use ParsePKCS8PrivateKey instead for this key format)".into());
        }
        return Err(MALFORMED.into());
    };
    let version = der::int_value(&items.as_ref().unwrap()[0]).unwrap_or(0);
    if version > 1 {
        return Err("x509: unsupported private key version".into());
    }
    if ints[1..6].iter().any(|i| i.is_empty()) || ints[6..9].iter().any(|i| i.is_empty()) {
        return Err("x509: private key contains zero or negative value".into());
    }
    let n = BigUint::from_bytes_be(&ints[1]);
    let e = BigUint::from_bytes_be(&ints[2]);
    let d = BigUint::from_bytes_be(&ints[3]);
    let p = BigUint::from_bytes_be(&ints[4]);
    let q = BigUint::from_bytes_be(&ints[5]);
    let key = rsa::RsaPrivateKey::from_components(n, e, d, vec![p, q]).map_err(|_| "crypto/rsa: invalid private key".to_string())?;
    key.validate().map_err(|_| "crypto/rsa: invalid private key".to_string())?;
    Ok(PrivKey::Rsa(Box::new(key)))
}

fn parse_ec_structure(data: &[u8]) -> bool {
    let Some((outer, _)) = der::expect(data, SEQUENCE) else { return false };
    let Some(items) = children(outer.content) else { return false };
    items.len() >= 2 && items[0].tag == INTEGER && items[1].tag == OCTET_STRING
}

fn pkcs8_structure(data: &[u8]) -> bool {
    let Some((outer, _)) = der::expect(data, SEQUENCE) else { return false };
    let Some(items) = children(outer.content) else { return false };
    items.len() >= 3 && items[0].tag == INTEGER && items[1].tag == SEQUENCE && items[2].tag == OCTET_STRING
}

/// A rough rendition of Go's `asn1` error for data that is not DER at all.
fn der_error(data: &[u8]) -> String {
    if data.is_empty() {
        return "asn1: syntax error: sequence truncated".into();
    }
    if data.len() < 2 {
        return "asn1: syntax error: data truncated".into();
    }
    MALFORMED.into()
}

/// Go's `x509.parseECPrivateKey` (P-256 only: the curve sprig's `genPrivateKey` produces).
fn parse_ec(data: &[u8], named_curve: Option<Vec<u64>>) -> Result<PrivKey, String> {
    let parsed = der::expect(data, SEQUENCE).and_then(|(outer, _)| children(outer.content));
    let Some(items) = parsed.filter(|i| i.len() >= 2 && i[0].tag == INTEGER && i[1].tag == OCTET_STRING) else {
        if pkcs8_structure(data) {
            return Err("x509: failed to parse private key (use ParsePKCS8PrivateKey instead for this key format)".into());
        }
        return Err("x509: failed to parse EC private key: ".to_string() + &der_error(data));
    };
    let version = der::int_value(&items[0]).unwrap_or(-1);
    if version != 1 {
        return Err(format!("x509: unknown EC private key version {version}"));
    }
    let mut curve = named_curve;
    for it in &items[2..] {
        if it.tag == 0xa0 {
            if let Some((o, _)) = der::expect(it.content, OID) {
                curve = der::oid_arcs(&o);
            }
        }
    }
    let Some(curve) = curve else {
        return Err("x509: unknown elliptic curve".into());
    };
    if curve != OID_P256 {
        if curve == OID_P224 || curve == OID_P384 || curve == OID_P521 {
            return Err("rudder: only P-256 EC keys are supported".into());
        }
        return Err("x509: unknown elliptic curve".into());
    }
    let d = items[1].content;
    if d.len() > 32 {
        return Err("x509: invalid private key length".into());
    }
    let mut buf = [0u8; 32];
    buf[32 - d.len()..].copy_from_slice(d);
    let k = p256::SecretKey::from_slice(&buf).map_err(|_| "x509: invalid elliptic curve private key value".to_string())?;
    Ok(PrivKey::P256(k))
}

/// Go's `x509.ParsePKCS8PrivateKey`.
fn parse_pkcs8(data: &[u8]) -> Result<PrivKey, String> {
    let parsed = der::expect(data, SEQUENCE).and_then(|(outer, _)| children(outer.content));
    let Some(items) = parsed.filter(|i| i.len() >= 3 && i[0].tag == INTEGER && i[1].tag == SEQUENCE && i[2].tag == OCTET_STRING) else {
        if parse_ec_structure(data) {
            return Err("x509: failed to parse private key (use ParseECPrivateKey instead for this key format)".into());
        }
        let rsa_like = der::expect(data, SEQUENCE)
            .and_then(|(o, _)| children(o.content))
            .map(|i| i.len() >= 9 && i.iter().take(9).all(|t| t.tag == INTEGER))
            .unwrap_or(false);
        if rsa_like {
            return Err("x509: failed to parse private key (use ParsePKCS1PrivateKey instead for this key format)".into());
        }
        return Err(der_error(data));
    };
    let alg = children(items[1].content).unwrap_or_default();
    let alg_oid = alg.first().and_then(der::oid_arcs).unwrap_or_default();
    let inner = items[2].content;
    if alg_oid == OID_RSA {
        return parse_pkcs1(inner).map_err(|e| format!("x509: failed to parse RSA private key embedded in PKCS#8: {e}"));
    }
    if alg_oid == OID_EC_PUBLIC_KEY {
        let curve = alg.get(1).and_then(der::oid_arcs);
        if curve.is_none() {
            return Err("x509: failed to parse EC private key embedded in PKCS#8: x509: unknown elliptic curve".into());
        }
        return parse_ec(inner, curve).map_err(|e| format!("x509: failed to parse EC private key embedded in PKCS#8: {e}"));
    }
    if alg_oid == OID_ED25519 {
        if alg.len() > 1 {
            return Err("x509: invalid Ed25519 private key parameters".into());
        }
        let Some((seed, _)) = der::expect(inner, OCTET_STRING) else {
            return Err("x509: invalid Ed25519 private key: asn1: structure error".into());
        };
        let Ok(seed) = <[u8; 32]>::try_from(seed.content) else {
            return Err(format!("x509: invalid Ed25519 private key length: {}", seed.content.len()));
        };
        return Ok(PrivKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)));
    }
    Err(format!("x509: PKCS#8 wrapping contained private key with unknown algorithm: {}", der::oid_string(&alg_oid)))
}

/// sprig's DSA format: SEQUENCE { version, P, Q, G, Y, X }.
fn parse_dsa(data: &[u8]) -> Result<PrivKey, String> {
    let parsed = der::expect(data, SEQUENCE).and_then(|(outer, _)| children(outer.content));
    let Some(items) = parsed.filter(|i| i.len() >= 6 && i.iter().take(6).all(|t| t.tag == INTEGER)) else {
        return Err(der_error(data));
    };
    let v: Vec<dsa::BigUint> = items[1..6]
        .iter()
        .map(|t| dsa::BigUint::from_bytes_be(&uint_content(t).unwrap_or_default()))
        .collect();
    let comps = dsa::Components::from_components(v[0].clone(), v[1].clone(), v[2].clone())
        .map_err(|_| "rudder: invalid DSA parameters".to_string())?;
    let vk = dsa::VerifyingKey::from_components(comps, v[3].clone()).map_err(|_| "rudder: invalid DSA public key".to_string())?;
    let sk = dsa::SigningKey::from_components(vk, v[4].clone()).map_err(|_| "rudder: invalid DSA private key".to_string())?;
    Ok(PrivKey::Dsa(Box::new(sk)))
}
