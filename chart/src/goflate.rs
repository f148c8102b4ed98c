//! The deflate stream inside `helm package` archives.
//!
//! Go's compress/flate (level 6) and miniz_oxide choose matches and Huffman blocks
//! differently, so the compressed bytes differ from Helm's even though the tar stream and the
//! gzip header are identical. Until Go's compressor is ported this uses flate2 at the same
//! level; see conformance/known-differences/chart_tools.txt.

use std::io::Write;

/// A raw deflate stream of `data` at `level`.
pub fn compress(data: &[u8], level: u32) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}
