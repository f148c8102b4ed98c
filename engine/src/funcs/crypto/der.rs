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
