//! A small DER writer and reader: enough ASN.1 for the keys and certificates sprig builds, encoded
//! the way Go's `encoding/asn1` and `crypto/x509` encode them.

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const BOOLEAN: u8 = 0x01;
pub const UTF8_STRING: u8 = 0x0c;
pub const PRINTABLE_STRING: u8 = 0x13;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;

/// One TLV: tag byte, definite minimal length, contents.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A constructed value made of already-encoded parts.
pub fn cons(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    cons(SEQUENCE, parts)
}

/// An INTEGER from big-endian unsigned magnitude bytes (minimal, with a leading zero if the top
/// bit is set, as Go's `big.Int` marshals a non-negative number).
pub fn uint_be(mag: &[u8]) -> Vec<u8> {
    let skip = mag.iter().take_while(|b| **b == 0).count();
    let m = &mag[skip..];
    let mut c = Vec::with_capacity(m.len() + 1);
    if m.is_empty() || m[0] & 0x80 != 0 {
        c.push(0);
    }
    c.extend_from_slice(m);
    tlv(INTEGER, &c)
}

pub fn small_int(i: i64) -> Vec<u8> {
    let bytes = i.to_be_bytes();
    // minimal two's complement
    let mut start = 0;
    while start < 7 {
        let b = bytes[start];
        let next = bytes[start + 1];
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    tlv(INTEGER, &bytes[start..])
}

/// An OBJECT IDENTIFIER from its arcs.
pub fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut c = Vec::new();
    let push = |mut v: u64, c: &mut Vec<u8>| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        tmp.reverse();
        c.extend_from_slice(&tmp);
    };
    push(arcs[0] * 40 + arcs[1], &mut c);
    for a in &arcs[2..] {
        push(*a, &mut c);
    }
    tlv(OID, &c)
}

/// A BIT STRING with whole bytes (no unused bits).
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(bytes.len() + 1);
    c.push(0);
    c.extend_from_slice(bytes);
    tlv(BIT_STRING, &c)
}

pub fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, bytes)
}

/// A parsed TLV.
#[derive(Clone, Copy, Debug)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    /// The whole encoding (tag, length and content).
    pub raw: &'a [u8],
}

/// Reads one DER TLV from the front of `data`, returning it and the rest.
pub fn read(data: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    if data.len() < 2 {
        return None;
    }
    let tag = data[0];
    if tag & 0x1f == 0x1f {
        return None;
    }
    let l0 = data[1];
    let (len, hdr) = if l0 < 0x80 {
        (l0 as usize, 2)
    } else {
        let n = (l0 & 0x7f) as usize;
        if n == 0 || n > 4 || data.len() < 2 + n {
            return None;
        }
        let mut len = 0usize;
        for b in &data[2..2 + n] {
            len = (len << 8) | *b as usize;
        }
        if len < 0x80 || data[2] == 0 {
            return None; // not minimal
        }
        (len, 2 + n)
    };
    if data.len() - hdr < len {
        return None;
    }
    let raw = &data[..hdr + len];
    Some((Tlv { tag, content: &data[hdr..hdr + len], raw }, &data[hdr + len..]))
}

/// Reads a TLV of the expected tag.
pub fn expect(data: &[u8], tag: u8) -> Option<(Tlv<'_>, &[u8])> {
    let (t, rest) = read(data)?;
    if t.tag != tag {
        return None;
    }
    Some((t, rest))
}

/// All TLVs inside a constructed value.
pub fn children(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (t, r) = read(rest)?;
        out.push(t);
        rest = r;
    }
    Some(out)
}

/// The magnitude bytes of a non-negative INTEGER (leading zero removed).
pub fn uint_content(t: &Tlv<'_>) -> Option<Vec<u8>> {
    if t.tag != INTEGER || t.content.is_empty() || t.content[0] & 0x80 != 0 {
        return None;
    }
    let skip = t.content.iter().take_while(|b| **b == 0).count();
    Some(t.content[skip..].to_vec())
}

/// The value of a small INTEGER.
pub fn int_value(t: &Tlv<'_>) -> Option<i64> {
    if t.tag != INTEGER || t.content.is_empty() || t.content.len() > 8 {
        return None;
    }
    let mut v: i64 = if t.content[0] & 0x80 != 0 { -1 } else { 0 };
    for b in t.content {
        v = (v << 8) | *b as i64;
    }
    Some(v)
}

/// The arcs of an OBJECT IDENTIFIER.
pub fn oid_arcs(t: &Tlv<'_>) -> Option<Vec<u64>> {
    if t.tag != OID || t.content.is_empty() {
        return None;
    }
    let mut vals = Vec::new();
    let mut v: u64 = 0;
    for (i, b) in t.content.iter().enumerate() {
        if v > (u64::MAX >> 7) {
            return None;
        }
        v = (v << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            vals.push(v);
            v = 0;
        } else if i == t.content.len() - 1 {
            return None;
        }
    }
    let first = vals[0];
    let mut arcs = if first < 80 { vec![first / 40, first % 40] } else { vec![2, first - 80] };
    arcs.extend_from_slice(&vals[1..]);
    Some(arcs)
}

/// Go's `asn1.ObjectIdentifier.String()`.
pub fn oid_string(arcs: &[u64]) -> String {
    arcs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(".")
}

/// How Go's `encoding/asn1` sees one struct field (enough for the key structs x509 and sprig
/// unmarshal).
#[derive(Clone, Copy)]
pub enum Kind {
    /// Go `int` (parsed as int64).
    Int,
    /// `*big.Int`.
    BigInt,
    /// `[]byte` (OCTET STRING).
    Octets,
    /// `asn1.ObjectIdentifier`.
    Oid,
    /// `asn1.BitString`.
    BitString,
    /// `asn1.RawValue` (any tag).
    Any,
    /// A nested struct (SEQUENCE) with its Go type name.
    Struct(&'static str, &'static [Field]),
}

#[derive(Clone, Copy)]
pub struct Field {
    pub kind: Kind,
    pub optional: bool,
    /// `explicit,tag:N`.
    pub explicit: Option<u8>,
}

pub const fn req(kind: Kind) -> Field {
    Field { kind, optional: false, explicit: None }
}

pub const fn opt(kind: Kind) -> Field {
    Field { kind, optional: true, explicit: None }
}

pub const fn opt_explicit(kind: Kind, tag: u8) -> Field {
    Field { kind, optional: true, explicit: Some(tag) }
}

const DEFAULT_PARAMS: &str = "{optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false}";

struct TagLen {
    class: u8,
    tag: u32,
    compound: bool,
    length: usize,
}

fn syntax(msg: &str) -> String {
    format!("asn1: syntax error: {msg}")
}

fn structural(msg: &str) -> String {
    format!("asn1: structure error: {msg}")
}

/// Go's `asn1.parseTagAndLength`.
fn tag_and_length(b: &[u8], mut off: usize) -> Result<(TagLen, usize), String> {
    let first = b[off];
    off += 1;
    let class = first >> 6;
    let compound = first & 0x20 != 0;
    let mut tag = (first & 0x1f) as u32;
    if tag == 0x1f {
        let mut v: u32 = 0;
        let mut shifted = 0;
        loop {
            if off >= b.len() {
                return Err(syntax("truncated base 128 integer"));
            }
            if shifted == 4 {
                return Err(structural("base 128 integer too large"));
            }
            let c = b[off];
            off += 1;
            if shifted == 0 && c == 0x80 {
                return Err(syntax("integer is not minimally encoded"));
            }
            v = (v << 7) | (c & 0x7f) as u32;
            shifted += 1;
            if c & 0x80 == 0 {
                break;
            }
        }
        if v > i32::MAX as u32 {
            return Err(structural("base 128 integer too large"));
        }
        tag = v;
        if tag < 0x1f {
            return Err(syntax("non-minimal tag"));
        }
    }
    if off >= b.len() {
        return Err(syntax("truncated tag or length"));
    }
    let l = b[off];
    off += 1;
    let length = if l & 0x80 == 0 {
        (l & 0x7f) as usize
    } else {
        let n = (l & 0x7f) as usize;
        if n == 0 {
            return Err(syntax("indefinite length found (not DER)"));
        }
        let mut len = 0usize;
        for _ in 0..n {
            if off >= b.len() {
                return Err(syntax("truncated tag or length"));
            }
            let c = b[off];
            off += 1;
            if len >= 1 << 23 {
                return Err(structural("length too large"));
            }
            len = (len << 8) | c as usize;
            if len == 0 {
                return Err(structural("superfluous leading zeros in length"));
            }
        }
        if len < 0x80 {
            return Err(structural("non-minimal length"));
        }
        len
    };
    Ok((TagLen { class, tag, compound, length }, off))
}

fn check_integer(c: &[u8]) -> Result<(), String> {
    if c.is_empty() {
        return Err(structural("empty integer"));
    }
    if c.len() > 1 && ((c[0] == 0 && c[1] & 0x80 == 0) || (c[0] == 0xff && c[1] & 0x80 != 0)) {
        return Err(structural("integer not minimally-encoded"));
    }
    Ok(())
}

fn go_type_name(k: &Kind) -> &'static str {
    match k {
        Kind::Int => "int",
        Kind::BigInt | Kind::Octets => "",
        Kind::Oid => "ObjectIdentifier",
        Kind::BitString => "BitString",
        Kind::Any => "RawValue",
        Kind::Struct(n, _) => n,
    }
}

/// Go's `asn1.parseField` for one field at `off` in `b`; returns the next offset.
fn parse_field(b: &[u8], off: usize, f: &Field) -> Result<usize, String> {
    if off == b.len() {
        if f.optional {
            return Ok(off);
        }
        return Err(syntax("sequence truncated"));
    }
    let init = off;
    let (mut t, mut off) = tag_and_length(b, off)?;
    if let Some(want) = f.explicit {
        if t.class == 2 && t.tag == want as u32 && (t.length == 0 || t.compound) {
            if t.length == 0 {
                return Ok(off);
            }
            (t, off) = tag_and_length(b, off)?;
        } else if f.optional {
            return Ok(init);
        } else {
            return Err(structural("explicitly tagged member didn't match"));
        }
    }
    let (want_tag, want_compound) = match f.kind {
        Kind::Int | Kind::BigInt => (INTEGER as u32, false),
        Kind::Octets => (OCTET_STRING as u32, false),
        Kind::Oid => (OID as u32, false),
        Kind::BitString => (BIT_STRING as u32, false),
        Kind::Struct(..) => (16, true),
        Kind::Any => (t.tag, t.compound),
    };
    let match_any = matches!(f.kind, Kind::Any);
    if !match_any && (t.class != 0 || t.tag != want_tag || t.compound != want_compound) {
        if f.optional {
            return Ok(init);
        }
        return Err(structural(&format!(
            "tags don't match ({} vs {{class:{} tag:{} length:{} isCompound:{}}}) {} {} @{}",
            want_tag,
            t.class,
            t.tag,
            t.length,
            t.compound,
            DEFAULT_PARAMS,
            go_type_name(&f.kind),
            off
        )));
    }
    if off + t.length > b.len() {
        return Err(syntax("data truncated"));
    }
    let content = &b[off..off + t.length];
    match f.kind {
        Kind::Int => {
            if content.len() > 8 {
                return Err(structural("integer too large"));
            }
            check_integer(content)?;
        }
        Kind::BigInt => check_integer(content)?,
        Kind::Oid => {
            if content.is_empty() {
                return Err(syntax("zero length OBJECT IDENTIFIER"));
            }
            if content.last().is_some_and(|c| c & 0x80 != 0) {
                return Err(syntax("truncated base 128 integer"));
            }
        }
        Kind::BitString => {
            if content.is_empty() {
                return Err(syntax("zero length BIT STRING"));
            }
            let pad = content[0];
            if pad > 7 || (content.len() == 1 && pad > 0) || content.last().is_some_and(|l| l & ((1 << pad) - 1) != 0) {
                return Err(syntax("invalid padding bits in BIT STRING"));
            }
        }
        Kind::Struct(_, fields) => {
            let mut o = 0;
            for f in fields {
                o = parse_field(content, o, f)?;
            }
        }
        Kind::Octets | Kind::Any => {}
    }
    Ok(off + t.length)
}

/// Go's `asn1.Unmarshal(data, &T{})` outcome for a struct `T` named `name`: the number of bytes
/// used, or Go's error text.
pub fn go_unmarshal(data: &[u8], name: &'static str, fields: &'static [Field]) -> Result<usize, String> {
    parse_field(data, 0, &req(Kind::Struct(name, fields)))
}

pub const ALGORITHM_IDENTIFIER: Kind = Kind::Struct("AlgorithmIdentifier", &[req(Kind::Oid), opt(Kind::Any)]);

pub const PKCS1_PRIVATE_KEY: &[Field] = &[
    req(Kind::Int),
    req(Kind::BigInt),
    req(Kind::Int),
    req(Kind::BigInt),
    req(Kind::BigInt),
    req(Kind::BigInt),
    opt(Kind::BigInt),
    opt(Kind::BigInt),
    opt(Kind::BigInt),
];

pub const EC_PRIVATE_KEY: &[Field] = &[req(Kind::Int), req(Kind::Octets), opt_explicit(Kind::Oid, 0), opt_explicit(Kind::BitString, 1)];

pub const PKCS8: &[Field] = &[req(Kind::Int), req(ALGORITHM_IDENTIFIER), req(Kind::Octets)];

pub const DSA_KEY_FORMAT: &[Field] = &[
    req(Kind::Int),
    req(Kind::BigInt),
    req(Kind::BigInt),
    req(Kind::BigInt),
    req(Kind::BigInt),
    req(Kind::BigInt),
];
