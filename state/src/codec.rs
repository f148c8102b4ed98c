//! Helm's record encoding (pkg/storage/driver/util.go): JSON → gzip (best compression) →
//! standard padded base64. Decoding accepts legacy records that are base64 of plain JSON.

use std::io::{Read, Write};

use base64::Engine as _;
use flate2::{read::GzDecoder, write::GzEncoder, Compression};

use crate::release::Release;
use crate::Error;

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// JSON of a release with Go's `encoding/json` string escaping (`<`, `>`, `&`, U+2028 and
/// U+2029 as `\uXXXX`), so a record reads the same as one Helm wrote.
pub fn to_json(rls: &Release) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    serde::Serialize::serialize(rls, &mut ser).map_err(|e| Error::Encode(e.to_string()))?;
    Ok(out)
}

/// Parses release JSON.
pub fn from_json(bytes: &[u8]) -> Result<Release, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Decode(e.to_string()))
}

/// Encodes a release as Helm stores it: base64(gzip(json)).
pub fn encode(rls: &Release) -> Result<String, Error> {
    let json = to_json(rls)?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&json)
        .map_err(|e| Error::Encode(e.to_string()))?;
    let zipped = gz.finish().map_err(|e| Error::Encode(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(zipped))
}

/// The JSON bytes inside a stored payload (base64, then gunzip when it starts with the gzip
/// magic `1f 8b 08` and is longer than 3 bytes, otherwise legacy plain JSON).
pub fn decode_json(data: &[u8]) -> Result<Vec<u8>, Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| Error::Decode(format!("illegal base64 data: {e}")))?;
    if bytes.len() > 3 && bytes[..3] == GZIP_MAGIC {
        let mut out = Vec::new();
        GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Decodes a stored payload into a release.
pub fn decode(data: &[u8]) -> Result<Release, Error> {
    from_json(&decode_json(data)?)
}

/// serde_json's compact output plus Go's HTML-safe escaping and Go's float format.
struct GoFormatter;

/// Go `encoding/json`'s float64 text: shortest round-trip digits, fixed notation unless the
/// magnitude is below 1e-6 or at least 1e21, then `e` notation with a sign and at least two
/// exponent digits (`1e+21`), `e-07` shortened to `e-7`.
pub fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        // Rust's Display is the shortest round-trip text in fixed notation ("-0" for -0.0).
        return format!("{f}");
    }
    let sci = format!("{f:e}"); // e.g. "1.2345e23", "1e-7"
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    let digits = exp.unsigned_abs();
    if exp < 0 && digits < 10 {
        format!("{mant}e{sign}{digits}")
    } else {
        format!("{mant}e{sign}{digits:02}")
    }
}

impl serde_json::ser::Formatter for GoFormatter {
    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> std::io::Result<()> {
        w.write_all(go_float(value).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            w.write_all(&fragment.as_bytes()[start..i])?;
            w.write_all(esc.as_bytes())?;
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaped_like_go() {
        let rls = Release {
            name: "a".into(),
            manifest: "<x> & \u{2028}".into(),
            ..Default::default()
        };
        let json = String::from_utf8(to_json(&rls).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"name":"a","manifest":"\u003cx\u003e \u0026 \u2028"}"#
        );
    }

    #[test]
    fn legacy_plain_json_and_gzip() {
        let legacy =
            base64::engine::general_purpose::STANDARD.encode(br#"{"name":"x","version":2}"#);
        let r = decode(legacy.as_bytes()).unwrap();
        assert_eq!((r.name.as_str(), r.version), ("x", 2));
        let again = decode(encode(&r).unwrap().as_bytes()).unwrap();
        assert_eq!(again, r);
        assert!(decode(b"!!!").is_err());
    }
}
