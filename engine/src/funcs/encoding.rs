//! sprig's base64/base32 functions (sprig: strings.go `base64encode` ...), on Go's
//! `encoding/base64` and `encoding/base32` standard encodings. Decoding errors are returned as
//! the string, as sprig does (`illegal base64 data at input byte N`).

use super::util::*;
use super::FuncMap;
use crate::value::Value;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn decode_map(alphabet: &[u8]) -> [u8; 256] {
    let mut m = [0xFFu8; 256];
    for (i, &c) in alphabet.iter().enumerate() {
        m[c as usize] = i as u8;
    }
    m
}

pub fn b64_encode(src: &[u8]) -> String {
    let mut out = String::with_capacity(src.len().div_ceil(3) * 4);
    for chunk in src.chunks(3) {
        let v = (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((v >> (18 - 6 * i)) & 0x3F) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base64.StdEncoding.DecodeString` (newlines ignored, padding required).
pub fn b64_decode(s: &str) -> Result<Vec<u8>, String> {
    let map = decode_map(B64);
    let src = s.as_bytes();
    let corrupt = |at: usize| Err(format!("illegal base64 data at input byte {at}"));
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0usize;
    while si < src.len() {
        // One quantum (Go's decodeQuantum).
        let mut dbuf = [0u8; 4];
        let mut dlen = 4;
        let mut j = 0;
        let mut trailing: Option<usize> = None;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return corrupt(si - j);
            }
            let c = src[si];
            si += 1;
            let v = map[c as usize];
            if v != 0xFF {
                dbuf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return corrupt(si - 1);
            }
            match j {
                0 | 1 => return corrupt(si - 1),
                2 => {
                    while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                        si += 1;
                    }
                    if si == src.len() {
                        return corrupt(src.len());
                    }
                    if src[si] != b'=' {
                        return corrupt(si - 1);
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                si += 1;
            }
            if si < src.len() {
                trailing = Some(si);
            }
            dlen = j;
            break;
        }
        let val = (dbuf[0] as u32) << 18 | (dbuf[1] as u32) << 12 | (dbuf[2] as u32) << 6 | dbuf[3] as u32;
        let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if let Some(at) = trailing {
            return corrupt(at);
        }
    }
    Ok(out)
}

pub fn b32_encode(src: &[u8]) -> String {
    let mut out = String::with_capacity(src.len().div_ceil(5) * 8);
    for chunk in src.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let v = buf.iter().fold(0u64, |acc, &b| acc << 8 | b as u64);
        // Characters carrying data: 2, 4, 5, 7, 8 for 1..5 bytes.
        let used = [0, 2, 4, 5, 7, 8][chunk.len()];
        for i in 0..8 {
            if i < used {
                out.push(B32[((v >> (35 - 5 * i)) & 0x1F) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base32.StdEncoding.DecodeString` (newlines stripped first, padding required).
pub fn b32_decode(s: &str) -> Result<Vec<u8>, String> {
    let map = decode_map(B32);
    let src: Vec<u8> = s.bytes().filter(|&b| b != b'\r' && b != b'\n').collect();
    let olen = src.len();
    let corrupt = |at: usize| Err(format!("illegal base32 data at input byte {at}"));
    let mut out = Vec::with_capacity(olen / 8 * 5);
    let mut rest: &[u8] = &src;
    let mut end = false;
    while !rest.is_empty() && !end {
        let mut dbuf = [0u8; 8];
        let mut dlen = 8;
        let mut j = 0;
        while j < 8 {
            if rest.is_empty() {
                return corrupt(olen - j);
            }
            let c = rest[0];
            rest = &rest[1..];
            if c == b'=' && j >= 2 && rest.len() < 8 {
                if rest.len() + j < 7 {
                    return corrupt(olen);
                }
                for k in 0..7 - j {
                    if rest.len() > k && rest[k] != b'=' {
                        return corrupt(olen - rest.len() + k - 1);
                    }
                }
                dlen = j;
                end = true;
                if matches!(dlen, 1 | 3 | 6) {
                    return corrupt(olen - rest.len() - 1);
                }
                break;
            }
            dbuf[j] = map[c as usize];
            if dbuf[j] == 0xFF {
                return corrupt(olen - rest.len() - 1);
            }
            j += 1;
        }
        let d = &dbuf;
        let bytes = [
            d[0] << 3 | d[1] >> 2,
            d[1] << 6 | d[2] << 1 | d[3] >> 4,
            d[3] << 4 | d[4] >> 1,
            d[4] << 7 | d[5] << 2 | d[6] >> 3,
            d[6] << 5 | d[7],
        ];
        let n = match dlen {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => 0,
        };
        out.extend_from_slice(&bytes[..n]);
    }
    Ok(out)
}

/// A decoded `[]byte` converted to a Go string (invalid UTF-8 cannot be kept; see the report).
fn bytes_to_string(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

pub fn register(m: &mut FuncMap) {
    add(m, "b64enc", vec![str_t()], str_t(), |a| ok(Value::string(b64_encode(arg_str(&a[0]).as_bytes()))));
    add(m, "b64dec", vec![str_t()], str_t(), |a| ok(Value::string(b64_decode(arg_str(&a[0])).map(bytes_to_string).unwrap_or_else(|e| e))));
    add(m, "b32enc", vec![str_t()], str_t(), |a| ok(Value::string(b32_encode(arg_str(&a[0]).as_bytes()))));
    add(m, "b32dec", vec![str_t()], str_t(), |a| ok(Value::string(b32_decode(arg_str(&a[0])).map(bytes_to_string).unwrap_or_else(|e| e))));
}
