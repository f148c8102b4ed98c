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
    Ec(EcKey),
    Ed25519(ed25519_dalek::SigningKey),
    /// A DSA key as sprig's `DSAKeyFormat` DER (Go can neither sign with it nor certify it).
    Dsa(Vec<u8>),
    /// An X25519 key (`*ecdh.PrivateKey`): parsed from PKCS#8, never usable in a certificate.
    X25519([u8; 32]),
}

/// An ECDSA key on one of the NIST curves Go's x509 supports (P-224 aside).
#[derive(Clone)]
pub enum EcKey {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
}

macro_rules! each_curve {
    ($e:expr, $k:ident => $body:expr) => {
        match $e {
            EcKey::P256($k) => $body,
            EcKey::P384($k) => $body,
            EcKey::P521($k) => $body,
        }
    };
}

impl EcKey {
    fn curve_oid(&self) -> &'static [u64] {
        match self {
            EcKey::P256(_) => OID_P256,
            EcKey::P384(_) => OID_P384,
            EcKey::P521(_) => OID_P521,
        }
    }

    fn scalar(&self) -> Vec<u8> {
        each_curve!(self, k => k.to_bytes().to_vec())
    }

    fn point(&self) -> Vec<u8> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        each_curve!(self, k => k.public_key().to_encoded_point(false).as_bytes().to_vec())
    }

    /// Go: ECDSA with SHA-256/384/512 for P-256/384/521.
    fn sig_oid(&self) -> &'static [u64] {
        match self {
            EcKey::P256(_) => &[1, 2, 840, 10045, 4, 3, 2],
            EcKey::P384(_) => &[1, 2, 840, 10045, 4, 3, 3],
            EcKey::P521(_) => &[1, 2, 840, 10045, 4, 3, 4],
        }
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, String> {
        use p256::ecdsa::signature::RandomizedSigner;
        let bad = |_| "rudder: invalid EC key".to_string();
        Ok(match self {
            EcKey::P256(k) => {
                let sk = p256::ecdsa::SigningKey::from_bytes(&k.to_bytes()).map_err(bad)?;
                let sig: p256::ecdsa::Signature = sk.sign_with_rng(&mut OsRng, msg);
                sig.to_der().as_bytes().to_vec()
            }
            EcKey::P384(k) => {
                let sk = p384::ecdsa::SigningKey::from_bytes(&k.to_bytes()).map_err(bad)?;
                let sig: p384::ecdsa::Signature = sk.sign_with_rng(&mut OsRng, msg);
                sig.to_der().as_bytes().to_vec()
            }
            EcKey::P521(k) => {
                let sk = p521::ecdsa::SigningKey::from_bytes(&k.to_bytes()).map_err(bad)?;
                let sig: p521::ecdsa::Signature = sk.sign_with_rng(&mut OsRng, msg);
                sig.to_der().as_bytes().to_vec()
            }
        })
    }

    /// Go's `x509.MarshalECPrivateKey`.
    fn to_der(&self) -> Vec<u8> {
        seq(&[
            &small_int(1),
            &octets(&self.scalar()),
            &cons(0xa0, &[&oid(self.curve_oid())]),
            &cons(0xa1, &[&bit_string(&self.point())]),
        ])
    }
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
                let k = dsa::SigningKey::generate(&mut OsRng, comps);
                let vk = k.verifying_key();
                let c = vk.components();
                Ok(PrivKey::Dsa(seq(&[
                    &small_int(0),
                    &dsa_big(c.p()),
                    &dsa_big(c.q()),
                    &dsa_big(c.g()),
                    &dsa_big(vk.y()),
                    &dsa_big(k.x()),
                ])))
            }
            "ecdsa" => Ok(PrivKey::Ec(EcKey::P256(p256::SecretKey::random(&mut OsRng)))),
            "ed25519" => Ok(PrivKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng))),
            _ => Err(format!("Unknown type {typ}")),
        }
    }

    /// An RSA key of `bits` bits with e = 65537, as Go's `rsa.GenerateKey`. Prime search
    /// dominates the time (see [`super::prime`]): primes found ahead of need are used first
    /// ([`super::prime::prefetch`]), and two still to be found are searched for on two threads.
    pub fn rsa(bits: usize) -> Result<PrivKey, String> {
        use super::prime::{take, take_or_search};
        loop {
            let half = bits / 2;
            let (p, q) = match (take(half), take(bits - half)) {
                (Some(p), Some(q)) => (p, q),
                (Some(p), None) => (p, take_or_search(bits - half)),
                (None, Some(q)) => (take_or_search(half), q),
                (None, None) => {
                    let other = std::thread::spawn(move || take_or_search(bits - half));
                    let p = take_or_search(half);
                    match other.join() {
                        Ok(q) => (p, q),
                        Err(_) => return Err("failed to generate private key: prime search failed".into()),
                    }
                }
            };
            if p == q || (&p * &q).bits() != bits {
                continue;
            }
            super::prime::note_used(half, &p);
            super::prime::note_used(bits - half, &q);
            match rsa::RsaPrivateKey::from_p_q(p, q, BigUint::from(65_537u32)) {
                Ok(k) => return Ok(PrivKey::Rsa(Box::new(k))),
                // Both primes avoid p ≡ 1 (mod e), so this is not expected; draw again if it is.
                Err(_) => continue,
            }
        }
    }

    /// Go's `%T` of the key (for messages).
    pub fn go_type(&self) -> &'static str {
        match self {
            PrivKey::Rsa(_) => "*rsa.PrivateKey",
            PrivKey::Ec(_) => "*ecdsa.PrivateKey",
            PrivKey::Ed25519(_) => "ed25519.PrivateKey",
            PrivKey::Dsa(_) => "*dsa.PrivateKey",
            PrivKey::X25519(_) => "*ecdh.PrivateKey",
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
            PrivKey::Ec(k) => pem::encode("EC PRIVATE KEY", &k.to_der()),
            PrivKey::X25519(k) => {
                let body = seq(&[&small_int(0), &seq(&[&oid(OID_X25519)]), &octets(&octets(k))]);
                pem::encode("PRIVATE KEY", &body)
            }
            PrivKey::Ed25519(k) => {
                let body = seq(&[&small_int(0), &seq(&[&oid(OID_ED25519)]), &octets(&octets(&k.to_bytes()))]);
                pem::encode("PRIVATE KEY", &body)
            }
            PrivKey::Dsa(der) => pem::encode("DSA PRIVATE KEY", der),
        }
    }

    /// Go's `x509.marshalPublicKey` of the key's public half.
    pub fn public(&self) -> Result<PubKey, String> {
        match self {
            PrivKey::Rsa(k) => Ok(PubKey {
                algorithm: seq(&[&oid(OID_RSA), &tlv(NULL, &[])]),
                bits: seq(&[&big(k.n()), &big(k.e())]),
            }),
            PrivKey::Ec(k) => Ok(PubKey {
                algorithm: seq(&[&oid(OID_EC_PUBLIC_KEY), &oid(k.curve_oid())]),
                bits: k.point(),
            }),
            PrivKey::X25519(_) => Err("x509: unsupported public key type: *ecdh.PublicKey".into()),
            PrivKey::Ed25519(k) => Ok(PubKey {
                algorithm: seq(&[&oid(OID_ED25519)]),
                bits: k.verifying_key().to_bytes().to_vec(),
            }),
            PrivKey::Dsa(_) => Err("x509: unsupported public key type: *dsa.PublicKey".into()),
        }
    }

    /// Whether the key is a `crypto.Signer` (Go's DSA keys are not).
    pub fn is_signer(&self) -> bool {
        !matches!(self, PrivKey::Dsa(_) | PrivKey::X25519(_))
    }

    /// The signature algorithm identifier Go picks for the key (`signingParamsForKey`).
    pub fn signature_algorithm(&self) -> Vec<u8> {
        match self {
            PrivKey::Rsa(_) => seq(&[&oid(OID_SHA256_RSA), &tlv(NULL, &[])]),
            PrivKey::Ec(k) => seq(&[&oid(k.sig_oid())]),
            PrivKey::Ed25519(_) | PrivKey::Dsa(_) | PrivKey::X25519(_) => seq(&[&oid(OID_ED25519)]),
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
            PrivKey::Ec(k) => k.sign(msg),
            PrivKey::Ed25519(k) => {
                use ed25519_dalek::Signer;
                Ok(k.sign(msg).to_bytes().to_vec())
            }
            PrivKey::Dsa(_) | PrivKey::X25519(_) => Err("x509: certificate private key does not implement crypto.Signer".into()),
        }
    }
}

fn mod_inverse(a: &BigUint, m: &BigUint) -> BigUint {
    // m is prime here (an RSA prime): a^(m-2) mod m.
    let two = BigUint::from(2u32);
    a.modpow(&(m - &two), m)
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

fn hint_ec() -> String {
    "x509: failed to parse private key (use ParseECPrivateKey instead for this key format)".into()
}
fn hint_pkcs1() -> String {
    "x509: failed to parse private key (use ParsePKCS1PrivateKey instead for this key format)".into()
}
fn hint_pkcs8() -> String {
    "x509: failed to parse private key (use ParsePKCS8PrivateKey instead for this key format)".into()
}
fn is_ec(d: &[u8]) -> bool {
    der::go_unmarshal(d, "ecPrivateKey", EC_PRIVATE_KEY).is_ok()
}
fn is_pkcs1(d: &[u8]) -> bool {
    der::go_unmarshal(d, "pkcs1PrivateKey", PKCS1_PRIVATE_KEY).is_ok()
}
fn is_pkcs8(d: &[u8]) -> bool {
    der::go_unmarshal(d, "pkcs8", PKCS8).is_ok()
}

/// The elements of the outer SEQUENCE (already checked by `go_unmarshal`).
fn elements(data: &[u8]) -> Vec<Tlv<'_>> {
    der::read(data).and_then(|(t, _)| children(t.content)).unwrap_or_default()
}

/// Go's `x509.ParsePKCS1PrivateKey`.
fn parse_pkcs1(data: &[u8]) -> Result<PrivKey, String> {
    match der::go_unmarshal(data, "pkcs1PrivateKey", PKCS1_PRIVATE_KEY) {
        Ok(n) if n < data.len() => return Err("asn1: syntax error: trailing data".into()),
        Ok(_) => {}
        Err(e) => {
            if is_ec(data) {
                return Err(hint_ec());
            }
            if is_pkcs8(data) {
                return Err(hint_pkcs8());
            }
            return Err(e);
        }
    }
    let items = elements(data);
    if der::int_value(&items[0]).unwrap_or(0) > 1 {
        return Err("x509: unsupported private key version".into());
    }
    let positive = |t: &Tlv<'_>| uint_content(t).is_some_and(|v| !v.is_empty());
    // N, D, P, Q must be positive; Dp, Dq, Qinv too when present.
    if [1, 3, 4, 5].iter().any(|i| !positive(&items[*i])) || items.iter().skip(6).take(3).filter(|t| t.tag == INTEGER).any(|t| !positive(t)) {
        return Err("x509: private key contains zero or negative value".into());
    }
    let big_at = |i: usize| BigUint::from_bytes_be(&uint_content(&items[i]).unwrap_or_default());
    let e = match uint_content(&items[2]) {
        Some(v) if !v.is_empty() => BigUint::from_bytes_be(&v),
        _ => return Err("crypto/rsa: invalid public exponent".into()),
    };
    let key = rsa::RsaPrivateKey::from_components(big_at(1), e, big_at(3), vec![big_at(4), big_at(5)])
        .map_err(|_| "crypto/rsa: invalid private key".to_string())?;
    key.validate().map_err(|_| "crypto/rsa: invalid private key".to_string())?;
    Ok(PrivKey::Rsa(Box::new(key)))
}

/// Go's `x509.parseECPrivateKey`.
fn parse_ec(data: &[u8], named_curve: Option<Vec<u64>>) -> Result<PrivKey, String> {
    if let Err(e) = der::go_unmarshal(data, "ecPrivateKey", EC_PRIVATE_KEY) {
        if is_pkcs8(data) {
            return Err(hint_pkcs8());
        }
        if is_pkcs1(data) {
            return Err(hint_pkcs1());
        }
        return Err(format!("x509: failed to parse EC private key: {e}"));
    }
    let items = elements(data);
    let version = der::int_value(&items[0]).unwrap_or(-1);
    if version != 1 {
        return Err(format!("x509: unknown EC private key version {version}"));
    }
    let mut curve = named_curve;
    if curve.is_none() {
        for it in &items[2..] {
            if it.tag == 0xa0 {
                if let Some((o, _)) = der::expect(it.content, OID) {
                    curve = der::oid_arcs(&o);
                }
            }
        }
    }
    let Some(curve) = curve else {
        return Err("x509: unknown elliptic curve".into());
    };
    let size = if curve == OID_P256 {
        32
    } else if curve == OID_P384 {
        48
    } else if curve == OID_P521 {
        66
    } else if curve == OID_P224 {
        return Err("rudder: P-224 EC keys are not supported".into());
    } else {
        return Err("x509: unknown elliptic curve".into());
    };
    let d = items[1].content;
    if d.len() > size {
        return Err("x509: invalid private key length".into());
    }
    let mut buf = vec![0u8; size];
    buf[size - d.len()..].copy_from_slice(d);
    let invalid = |_| "x509: invalid elliptic curve private key value".to_string();
    let key = if size == 32 {
        EcKey::P256(p256::SecretKey::from_slice(&buf).map_err(invalid)?)
    } else if size == 48 {
        EcKey::P384(p384::SecretKey::from_slice(&buf).map_err(invalid)?)
    } else {
        EcKey::P521(p521::SecretKey::from_slice(&buf).map_err(invalid)?)
    };
    Ok(PrivKey::Ec(key))
}

/// Go's `x509.ParsePKCS8PrivateKey`.
fn parse_pkcs8(data: &[u8]) -> Result<PrivKey, String> {
    if let Err(e) = der::go_unmarshal(data, "pkcs8", PKCS8) {
        if is_ec(data) {
            return Err(hint_ec());
        }
        if is_pkcs1(data) {
            return Err(hint_pkcs1());
        }
        return Err(e);
    }
    let items = elements(data);
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
    if alg_oid == OID_X25519 {
        if alg.len() > 1 {
            return Err("x509: invalid X25519 private key parameters".into());
        }
        let Some((k, _)) = der::expect(inner, OCTET_STRING) else {
            return Err("x509: invalid X25519 private key: asn1: structure error".into());
        };
        let Ok(k) = <[u8; 32]>::try_from(k.content) else {
            return Err("crypto/ecdh: invalid private key size".into());
        };
        return Ok(PrivKey::X25519(k));
    }
    Err(format!("x509: PKCS#8 wrapping contained private key with unknown algorithm: {}", der::oid_string(&alg_oid)))
}

/// sprig's DSA format: SEQUENCE { version, P, Q, G, Y, X }.
fn parse_dsa(data: &[u8]) -> Result<PrivKey, String> {
    let n = der::go_unmarshal(data, "DSAKeyFormat", DSA_KEY_FORMAT)?;
    Ok(PrivKey::Dsa(data[..n].to_vec()))
}
