//! X.509 certificates as sprig makes them with Go's `x509.CreateCertificate`, and the little of
//! `x509.ParseCertificate` that sprig relies on (a signer's subject, key and key identifier).

use rand::RngCore;
use sha2::Digest;

use super::der::{self, *};
use super::keys::{PrivKey, PubKey};

const OID_CN: &[u64] = &[2, 5, 4, 3];
const OID_KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const OID_EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const OID_BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const OID_SUBJECT_KEY_ID: &[u64] = &[2, 5, 29, 14];
const OID_AUTHORITY_KEY_ID: &[u64] = &[2, 5, 29, 35];
const OID_SAN: &[u64] = &[2, 5, 29, 17];
const OID_SERVER_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 1];
const OID_CLIENT_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 2];

/// sprig's `getBaseCertTemplate` result (plus the CA overrides).
pub struct Template {
    pub cn: String,
    /// IP addresses as Go stores them after `net.ParseIP` (4 or 16 bytes).
    pub ips: Vec<Vec<u8>>,
    pub dns: Vec<String>,
    pub days: i64,
    pub is_ca: bool,
}

/// What `CreateCertificate` needs of the parent certificate when it is not the template itself.
pub struct Parent {
    pub raw_subject: Vec<u8>,
    pub subject_key_id: Vec<u8>,
    /// The parent's SubjectPublicKeyInfo algorithm OID and key bits.
    pub public_key: (Vec<u64>, Vec<u8>),
}

fn is_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || (b'\''..=b')').contains(&b) || (b'+'..=b'/').contains(&b) || matches!(b, b' ' | b':' | b'=' | b'?')
}

/// `asn1.Marshal(pkix.Name{CommonName: cn}.ToRDNSequence())`.
fn name_der(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return seq(&[]);
    }
    let tag = if cn.bytes().all(is_printable) { PRINTABLE_STRING } else { UTF8_STRING };
    let atv = seq(&[&oid(OID_CN), &tlv(tag, cn.as_bytes())]);
    seq(&[&cons(SET, &[&atv])])
}

/// Civil date from days since the Unix epoch.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Go's asn1 time encoding: UTCTime for 1950..2049, GeneralizedTime otherwise.
fn time_der(unix_secs: i64) -> Result<Vec<u8>, String> {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    let rest = format!("{:02}{:02}{:02}{:02}{:02}Z", m, d, secs / 3600, secs / 60 % 60, secs % 60);
    if (1950..2050).contains(&y) {
        Ok(tlv(UTC_TIME, format!("{:02}{rest}", y % 100).as_bytes()))
    } else if (0..=9999).contains(&y) {
        Ok(tlv(GENERALIZED_TIME, format!("{y:04}{rest}").as_bytes()))
    } else {
        Err("asn1: structure error: cannot represent time as GeneralizedTime".into())
    }
}

fn extension(id: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    if critical {
        seq(&[&oid(id), &tlv(BOOLEAN, &[0xff]), &octets(value)])
    } else {
        seq(&[&oid(id), &octets(value)])
    }
}

/// Go's `x509.CreateCertificate` for sprig's templates. `parent` is `None` for a self-signed
/// certificate (the template is its own parent). Returns the DER.
pub fn create(t: &Template, signee: &PubKey, parent: Option<&Parent>, signer: &PrivKey) -> Result<Vec<u8>, String> {
    if !signer.is_signer() {
        return Err("x509: certificate private key does not implement crypto.Signer".into());
    }
    let mut serial = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut serial);
    let sig_alg = signer.signature_algorithm();

    let subject = name_der(&t.cn);
    let issuer = match parent {
        Some(p) => p.raw_subject.clone(),
        None => subject.clone(),
    };
    let mut authority_key_id = Vec::new();
    if let Some(p) = parent {
        if issuer != subject && !p.subject_key_id.is_empty() {
            authority_key_id = p.subject_key_id.clone();
        }
    }
    let mut subject_key_id = Vec::new();
    if t.is_ca {
        subject_key_id = sha2::Sha256::digest(&signee.bits)[..20].to_vec();
    }
    if let Some(p) = parent {
        let sp = signer.public()?;
        let alg = der::expect(&sp.algorithm, SEQUENCE)
            .and_then(|(s, _)| der::read(s.content))
            .and_then(|(o, _)| der::oid_arcs(&o))
            .unwrap_or_default();
        if alg != p.public_key.0 || sp.bits != p.public_key.1 {
            return Err("x509: provided PrivateKey doesn't match parent's PublicKey".into());
        }
    }

    // Extensions, in Go's order.
    let mut exts: Vec<Vec<u8>> = Vec::new();
    let ku: u8 = if t.is_ca { 0x80 | 0x20 | 0x04 } else { 0x80 | 0x20 };
    let unused = ku.trailing_zeros() as u8;
    exts.push(extension(OID_KEY_USAGE, true, &tlv(BIT_STRING, &[unused, ku])));
    exts.push(extension(OID_EXT_KEY_USAGE, false, &seq(&[&oid(OID_SERVER_AUTH), &oid(OID_CLIENT_AUTH)])));
    let bc = if t.is_ca { seq(&[&tlv(BOOLEAN, &[0xff])]) } else { seq(&[]) };
    exts.push(extension(OID_BASIC_CONSTRAINTS, true, &bc));
    if !subject_key_id.is_empty() {
        exts.push(extension(OID_SUBJECT_KEY_ID, false, &octets(&subject_key_id)));
    }
    if !authority_key_id.is_empty() {
        exts.push(extension(OID_AUTHORITY_KEY_ID, false, &seq(&[&tlv(0x80, &authority_key_id)])));
    }
    if !t.dns.is_empty() || !t.ips.is_empty() {
        let mut names: Vec<Vec<u8>> = Vec::new();
        for d in &t.dns {
            if !d.is_ascii() {
                return Err(format!("x509: {} cannot be encoded as an IA5String", crate::print::quote(d)));
            }
            names.push(tlv(0x82, d.as_bytes()));
        }
        for ip in &t.ips {
            let v4 = if ip.len() == 16 && ip[..10].iter().all(|b| *b == 0) && ip[10] == 0xff && ip[11] == 0xff {
                ip[12..].to_vec()
            } else {
                ip.clone()
            };
            names.push(tlv(0x87, &v4));
        }
        let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        exts.push(extension(OID_SAN, subject == seq(&[]), &seq(&refs)));
    }
    let ext_refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    let valid_for = (24 * 3_600_000_000_000i64).wrapping_mul(t.days);
    let not_after = now.wrapping_add(valid_for);
    let validity = seq(&[&time_der(now.div_euclid(1_000_000_000))?, &time_der(not_after.div_euclid(1_000_000_000))?]);

    let tbs = seq(&[
        &cons(0xa0, &[&small_int(2)]),
        &uint_be(&serial),
        &sig_alg,
        &issuer,
        &validity,
        &subject,
        &signee.spki(),
        &cons(0xa3, &[&seq(&ext_refs)]),
    ]);
    let signature = signer.sign(&tbs)?;
    Ok(seq(&[&tbs, &sig_alg, &bit_string(&signature)]))
}

/// Parses the parts of a DER certificate that sprig needs, with Go's first error for data that
/// is not a certificate.
pub fn parse(data: &[u8]) -> Result<Parent, String> {
    let malformed = || "x509: malformed certificate".to_string();
    let (outer, rest) = der::expect(data, SEQUENCE).ok_or_else(malformed)?;
    let (tbs_tlv, after_tbs) = der::expect(outer.content, SEQUENCE).ok_or_else(|| "x509: malformed tbs certificate".to_string())?;
    let tbs = children(tbs_tlv.content).ok_or_else(|| "x509: malformed tbs certificate".to_string())?;
    let mut i = 0;
    if tbs.first().map(|t| t.tag) == Some(0xa0) {
        let v = der::expect(tbs[0].content, INTEGER).and_then(|(t, r)| if r.is_empty() { der::int_value(&t) } else { None });
        match v {
            None => return Err("x509: malformed version".into()),
            Some(v) if !(0..=2).contains(&v) => return Err("x509: invalid version".into()),
            _ => {}
        }
        i = 1;
    }
    let tag_at = |k: usize| tbs.get(k).map(|t| t.tag);
    if tag_at(i) != Some(INTEGER) {
        return Err("x509: malformed serial number".into());
    }
    if tbs[i].content.first().is_some_and(|b| b & 0x80 != 0) {
        return Err("x509: negative serial number".into());
    }
    if tag_at(i + 1) != Some(SEQUENCE) {
        return Err("x509: malformed signature algorithm identifier".into());
    }
    let Some((outer_ai, after_ai)) = der::expect(after_tbs, SEQUENCE) else {
        return Err("x509: malformed algorithm identifier".into());
    };
    if outer_ai.raw != tbs[i + 1].raw {
        return Err("x509: inner and outer signature algorithm identifiers don't match".into());
    }
    if tag_at(i + 2) != Some(SEQUENCE) {
        return Err("x509: malformed issuer".into());
    }
    if tag_at(i + 3) != Some(SEQUENCE) {
        return Err("x509: malformed validity".into());
    }
    if tag_at(i + 4) != Some(SEQUENCE) {
        return Err("x509: malformed issuer".into());
    }
    if tag_at(i + 5) != Some(SEQUENCE) {
        return Err("x509: malformed spki".into());
    }
    if der::expect(after_ai, BIT_STRING).is_none() {
        return Err("x509: malformed signature".into());
    }
    if !rest.is_empty() {
        return Err("x509: trailing data".into());
    }
    let spki = tbs[i + 5];
    let spki_parts = (spki.tag == SEQUENCE).then(|| children(spki.content)).flatten().ok_or_else(|| "x509: malformed spki".to_string())?;
    if spki_parts.len() != 2 || spki_parts[1].tag != BIT_STRING || spki_parts[1].content.is_empty() {
        return Err("x509: malformed spki".into());
    }
    let alg_oid = der::expect(spki_parts[0].content, OID)
        .and_then(|(o, _)| der::oid_arcs(&o))
        .ok_or_else(|| "x509: malformed public key algorithm identifier".to_string())?;
    let key_bits = spki_parts[1].content[1..].to_vec();
    let mut skid = Vec::new();
    for t in &tbs[i + 6..] {
        if t.tag != 0xa3 {
            continue;
        }
        let exts = der::expect(t.content, SEQUENCE)
            .and_then(|(s, _)| children(s.content))
            .ok_or_else(|| "x509: malformed extensions".to_string())?;
        for e in exts {
            let fields = children(e.content).ok_or_else(|| "x509: malformed extension".to_string())?;
            if fields.len() < 2 {
                return Err("x509: malformed extension".into());
            }
            if der::oid_arcs(&fields[0]).as_deref() == Some(OID_SUBJECT_KEY_ID) {
                let val = fields.last().unwrap();
                if let Some((k, _)) = der::expect(val.content, OCTET_STRING) {
                    skid = k.content.to_vec();
                } else {
                    return Err("x509: invalid subject key identifier".into());
                }
            }
        }
    }
    Ok(Parent { raw_subject: tbs[i + 4].raw.to_vec(), subject_key_id: skid, public_key: (alg_oid, key_bits) })
}
