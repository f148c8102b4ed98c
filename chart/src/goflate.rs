//! A deflate compressor that emits exactly the bytes Go's compress/flate (Go 1.26, the toolchain
//! Helm v4.3.1 is built with) emits at levels 2–9, so `rudder package` archives are byte-identical
//! to `helm package`'s (level 6 through gzip's default).
//!
//! Every choice that shapes the output is Go's: hash chains over 4-byte hashes (17 bits),
//! lazy matching with the level's good/lazy/nice/chain limits, blocks of at most 16384 tokens,
//! a per-block choice between stored, fixed and dynamic Huffman coding by computed size, Go's
//! length-limited Huffman construction (`bitCounts`) and its code-length RLE. Output also
//! depends on how the input arrives (the window slides when a write finds it full), so callers
//! feed [`Deflater::write`] the same chunks Go's writers would.

const WINDOW_SIZE: usize = 1 << 15;
const WINDOW_MASK: usize = WINDOW_SIZE - 1;
const BASE_MATCH_LENGTH: usize = 3;
const MIN_MATCH_LENGTH: usize = 4;
const MAX_MATCH_LENGTH: usize = 258;
const BASE_MATCH_OFFSET: usize = 1;
const MAX_FLATE_BLOCK_TOKENS: usize = 1 << 14;
const MAX_STORE_BLOCK_SIZE: usize = 65535;
const HASH_BITS: u32 = 17;
const HASH_SIZE: usize = 1 << HASH_BITS;
const HASH_MASK: u32 = (1 << HASH_BITS) - 1;
const MAX_HASH_OFFSET: i64 = 1 << 24;
const SKIP_NEVER: i64 = i32::MAX as i64;

const MAX_NUM_LIT: usize = 286;
const OFFSET_CODE_COUNT: usize = 30;
const END_BLOCK_MARKER: u32 = 256;
const LENGTH_CODES_START: usize = 257;
const CODEGEN_CODE_COUNT: usize = 19;
const BAD_CODE: u8 = 255;
const BUFFER_FLUSH_SIZE: usize = 240;
const BUFFER_SIZE: usize = BUFFER_FLUSH_SIZE + 8;

const LENGTH_SHIFT: u32 = 22;
const OFFSET_MASK: u32 = (1 << LENGTH_SHIFT) - 1;
const MATCH_TYPE: u32 = 1 << 30;

/// (good, lazy, nice, chain, fastSkipHashing) for levels 2..=9.
const LEVELS: [(usize, usize, usize, usize, i64); 8] = [
    (4, 0, 16, 8, 5),
    (4, 0, 32, 32, 6),
    (4, 4, 16, 16, SKIP_NEVER),
    (8, 16, 32, 32, SKIP_NEVER),
    (8, 16, 128, 128, SKIP_NEVER),
    (8, 32, 128, 256, SKIP_NEVER),
    (32, 128, 258, 1024, SKIP_NEVER),
    (32, 258, 258, 4096, SKIP_NEVER),
];

fn length_code(len: u32) -> u32 {
    // Go's lengthCodes table, computed: codes 0..=28 over lengths 0..=255.
    const BASE: [u32; 29] = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 255,
    ];
    let mut code = 0;
    for (i, b) in BASE.iter().enumerate() {
        if len >= *b {
            code = i as u32;
        }
    }
    code
}

fn offset_code_small(off: u32) -> u32 {
    // Go's offsetCodes table for 0..=255.
    const BASE: [u32; 16] = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192];
    let mut code = 0;
    for (i, b) in BASE.iter().enumerate() {
        if off >= *b {
            code = i as u32;
        }
    }
    code
}

fn offset_code(off: u32) -> u32 {
    if off < 256 {
        return offset_code_small(off);
    }
    if off >> 7 < 256 {
        return offset_code_small(off >> 7) + 14;
    }
    offset_code_small(off >> 14) + 28
}

const LENGTH_EXTRA_BITS: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const LENGTH_BASE: [u32; 29] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 255,
];
const OFFSET_EXTRA_BITS: [u8; 30] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const OFFSET_BASE: [u32; 30] = [
    0x000000, 0x000001, 0x000002, 0x000003, 0x000004, 0x000006, 0x000008, 0x00000c, 0x000010, 0x000018, 0x000020, 0x000030,
    0x000040, 0x000060, 0x000080, 0x0000c0, 0x000100, 0x000180, 0x000200, 0x000300, 0x000400, 0x000600, 0x000800, 0x000c00,
    0x001000, 0x001800, 0x002000, 0x003000, 0x004000, 0x006000,
];
const CODEGEN_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

#[derive(Clone, Copy, Default)]
struct HCode {
    code: u16,
    len: u16,
}

fn reverse_bits(number: u16, bit_length: u8) -> u16 {
    (number << (16 - bit_length as u32)).reverse_bits()
}

#[derive(Clone, Copy)]
struct LiteralNode {
    literal: u16,
    freq: i32,
}

#[derive(Clone, Copy, Default)]
struct LevelInfo {
    level: i32,
    last_freq: i32,
    next_char_freq: i32,
    next_pair_freq: i32,
    needed: i32,
}

struct HuffmanEncoder {
    codes: Vec<HCode>,
}

impl HuffmanEncoder {
    fn new(size: usize) -> Self {
        HuffmanEncoder { codes: vec![HCode::default(); size] }
    }

    fn fixed_literal() -> Self {
        let mut h = HuffmanEncoder::new(MAX_NUM_LIT);
        for ch in 0..MAX_NUM_LIT as u16 {
            let (bits, size) = match ch {
                0..=143 => (ch + 48, 8),
                144..=255 => (ch + 400 - 144, 9),
                256..=279 => (ch - 256, 7),
                _ => (ch + 192 - 280, 8),
            };
            h.codes[ch as usize] = HCode { code: reverse_bits(bits, size as u8), len: size };
        }
        h
    }

    fn fixed_offset() -> Self {
        let mut h = HuffmanEncoder::new(30);
        for ch in 0..30u16 {
            h.codes[ch as usize] = HCode { code: reverse_bits(ch, 5), len: 5 };
        }
        h
    }

    fn bit_length(&self, freq: &[i32]) -> i64 {
        freq.iter()
            .enumerate()
            .filter(|(_, f)| **f != 0)
            .map(|(i, f)| *f as i64 * self.codes[i].len as i64)
            .sum()
    }

    /// Go's `bitCounts`: how many literals get each code length (length-limited Huffman).
    fn bit_counts(list: &[LiteralNode], mut max_bits: i32) -> Vec<i32> {
        let n = list.len() as i32;
        let mut list = list.to_vec();
        list.push(LiteralNode { literal: u16::MAX, freq: i32::MAX });
        if max_bits > n - 1 {
            max_bits = n - 1;
        }
        let mut levels = [LevelInfo::default(); 17];
        let mut leaf_counts = [[0i32; 17]; 17];
        for level in 1..=max_bits {
            levels[level as usize] = LevelInfo {
                level,
                last_freq: list[1].freq,
                next_char_freq: list[2].freq,
                next_pair_freq: list[0].freq + list[1].freq,
                needed: 0,
            };
            leaf_counts[level as usize][level as usize] = 2;
            if level == 1 {
                levels[level as usize].next_pair_freq = i32::MAX;
            }
        }
        levels[max_bits as usize].needed = 2 * n - 4;
        let mut level = max_bits as usize;
        loop {
            if levels[level].next_pair_freq == i32::MAX && levels[level].next_char_freq == i32::MAX {
                levels[level].needed = 0;
                levels[level + 1].next_pair_freq = i32::MAX;
                level += 1;
                continue;
            }
            let prev_freq = levels[level].last_freq;
            if levels[level].next_char_freq < levels[level].next_pair_freq {
                let nn = leaf_counts[level][level] + 1;
                levels[level].last_freq = levels[level].next_char_freq;
                leaf_counts[level][level] = nn;
                levels[level].next_char_freq = list[nn as usize].freq;
            } else {
                levels[level].last_freq = levels[level].next_pair_freq;
                let (lower, upper) = leaf_counts.split_at_mut(level);
                upper[0][..level].copy_from_slice(&lower[level - 1][..level]);
                let l = levels[level].level as usize;
                levels[l - 1].needed = 2;
            }
            levels[level].needed -= 1;
            if levels[level].needed == 0 {
                let l = levels[level].level;
                if l == max_bits {
                    break;
                }
                levels[l as usize + 1].next_pair_freq = prev_freq + levels[level].last_freq;
                level += 1;
            } else {
                while levels[level - 1].needed > 0 {
                    level -= 1;
                }
            }
        }
        let mut bit_count = vec![0i32; max_bits as usize + 1];
        let mut bits = 1;
        let counts = &leaf_counts[max_bits as usize];
        let mut level = max_bits as usize;
        while level > 0 {
            bit_count[bits] = counts[level] - counts[level - 1];
            bits += 1;
            level -= 1;
        }
        bit_count
    }

    fn assign_encoding_and_size(&mut self, bit_count: &[i32], list: &[LiteralNode]) {
        let mut code: u16 = 0;
        let mut list = list.to_vec();
        for (n, bits) in bit_count.iter().enumerate() {
            code = code.wrapping_shl(1);
            if n == 0 || *bits == 0 {
                continue;
            }
            let split = list.len() - *bits as usize;
            let mut chunk = list[split..].to_vec();
            chunk.sort_by_key(|c| c.literal);
            for node in chunk {
                self.codes[node.literal as usize] = HCode { code: reverse_bits(code, n as u8), len: n as u16 };
                code = code.wrapping_add(1);
            }
            list.truncate(split);
        }
    }

    fn generate(&mut self, freq: &[i32], max_bits: i32) {
        let mut list = Vec::with_capacity(freq.len() + 1);
        for (i, f) in freq.iter().enumerate() {
            if *f != 0 {
                list.push(LiteralNode { literal: i as u16, freq: *f });
            } else {
                self.codes[i].len = 0;
            }
        }
        if list.len() <= 2 {
            for (i, node) in list.iter().enumerate() {
                self.codes[node.literal as usize] = HCode { code: i as u16, len: 1 };
            }
            return;
        }
        list.sort_by(|a, b| a.freq.cmp(&b.freq).then(a.literal.cmp(&b.literal)));
        let bit_count = Self::bit_counts(&list, max_bits);
        self.assign_encoding_and_size(&bit_count, &list);
    }
}

/// Which literal/offset encoding a block uses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Enc {
    Fixed,
    Dynamic,
}

struct BitWriter {
    out: Vec<u8>,
    bits: u64,
    nbits: u32,
    bytes: [u8; BUFFER_SIZE],
    nbytes: usize,
    codegen_freq: [i32; CODEGEN_CODE_COUNT],
    literal_freq: Vec<i32>,
    offset_freq: Vec<i32>,
    codegen: Vec<u8>,
    literal_encoding: HuffmanEncoder,
    offset_encoding: HuffmanEncoder,
    codegen_encoding: HuffmanEncoder,
    fixed_literal: HuffmanEncoder,
    fixed_offset: HuffmanEncoder,
}

impl BitWriter {
    fn new() -> Self {
        BitWriter {
            out: Vec::new(),
            bits: 0,
            nbits: 0,
            bytes: [0; BUFFER_SIZE],
            nbytes: 0,
            codegen_freq: [0; CODEGEN_CODE_COUNT],
            literal_freq: vec![0; MAX_NUM_LIT],
            offset_freq: vec![0; OFFSET_CODE_COUNT],
            codegen: vec![0; MAX_NUM_LIT + OFFSET_CODE_COUNT + 1],
            literal_encoding: HuffmanEncoder::new(MAX_NUM_LIT),
            offset_encoding: HuffmanEncoder::new(OFFSET_CODE_COUNT),
            codegen_encoding: HuffmanEncoder::new(CODEGEN_CODE_COUNT),
            fixed_literal: HuffmanEncoder::fixed_literal(),
            fixed_offset: HuffmanEncoder::fixed_offset(),
        }
    }

    fn flush(&mut self) {
        let mut n = self.nbytes;
        while self.nbits != 0 {
            self.bytes[n] = self.bits as u8;
            self.bits >>= 8;
            self.nbits = self.nbits.saturating_sub(8);
            n += 1;
        }
        self.bits = 0;
        self.out.extend_from_slice(&self.bytes[..n]);
        self.nbytes = 0;
    }

    fn spill(&mut self) {
        if self.nbits >= 48 {
            let bits = self.bits;
            self.bits >>= 48;
            self.nbits -= 48;
            let n = self.nbytes;
            for k in 0..6 {
                self.bytes[n + k] = (bits >> (8 * k)) as u8;
            }
            let n = n + 6;
            if n >= BUFFER_FLUSH_SIZE {
                self.out.extend_from_slice(&self.bytes[..n]);
                self.nbytes = 0;
            } else {
                self.nbytes = n;
            }
        }
    }

    fn write_bits(&mut self, b: i32, nb: u32) {
        self.bits |= (b as u32 as u64) << self.nbits;
        self.nbits += nb;
        self.spill();
    }

    fn write_code(&mut self, c: HCode) {
        self.bits |= (c.code as u64) << self.nbits;
        self.nbits += c.len as u32;
        self.spill();
    }

    fn write_bytes(&mut self, bytes: &[u8]) {
        let mut n = self.nbytes;
        while self.nbits != 0 {
            self.bytes[n] = self.bits as u8;
            self.bits >>= 8;
            self.nbits -= 8;
            n += 1;
        }
        self.out.extend_from_slice(&self.bytes[..n]);
        self.nbytes = 0;
        self.out.extend_from_slice(bytes);
    }

    fn generate_codegen(&mut self, num_literals: usize, num_offsets: usize, lit_dynamic: bool) {
        self.codegen_freq = [0; CODEGEN_CODE_COUNT];
        for i in 0..num_literals {
            self.codegen[i] = if lit_dynamic { self.literal_encoding.codes[i].len as u8 } else { 0 };
        }
        for i in 0..num_offsets {
            self.codegen[num_literals + i] = self.offset_encoding.codes[i].len as u8;
        }
        self.codegen[num_literals + num_offsets] = BAD_CODE;
        let codegen = &mut self.codegen;
        let freq = &mut self.codegen_freq;
        let mut size = codegen[0];
        let mut count: i32 = 1;
        let mut out_index = 0;
        let mut in_index = 1;
        while size != BAD_CODE {
            let next_size = codegen[in_index];
            if next_size == size {
                count += 1;
                in_index += 1;
                continue;
            }
            if size != 0 {
                codegen[out_index] = size;
                out_index += 1;
                freq[size as usize] += 1;
                count -= 1;
                while count >= 3 {
                    let n = count.min(6);
                    codegen[out_index] = 16;
                    out_index += 1;
                    codegen[out_index] = (n - 3) as u8;
                    out_index += 1;
                    freq[16] += 1;
                    count -= n;
                }
            } else {
                while count >= 11 {
                    let n = count.min(138);
                    codegen[out_index] = 18;
                    out_index += 1;
                    codegen[out_index] = (n - 11) as u8;
                    out_index += 1;
                    freq[18] += 1;
                    count -= n;
                }
                if count >= 3 {
                    codegen[out_index] = 17;
                    out_index += 1;
                    codegen[out_index] = (count - 3) as u8;
                    out_index += 1;
                    freq[17] += 1;
                    count = 0;
                }
            }
            count -= 1;
            while count >= 0 {
                codegen[out_index] = size;
                out_index += 1;
                freq[size as usize] += 1;
                count -= 1;
            }
            size = next_size;
            count = 1;
            in_index += 1;
        }
        codegen[out_index] = BAD_CODE;
    }

    fn dynamic_size(&self, extra_bits: i64) -> (i64, usize) {
        let mut num_codegens = self.codegen_freq.len();
        while num_codegens > 4 && self.codegen_freq[CODEGEN_ORDER[num_codegens - 1]] == 0 {
            num_codegens -= 1;
        }
        let header = 3 + 5 + 5 + 4 + (3 * num_codegens as i64)
            + self.codegen_encoding.bit_length(&self.codegen_freq)
            + self.codegen_freq[16] as i64 * 2
            + self.codegen_freq[17] as i64 * 3
            + self.codegen_freq[18] as i64 * 7;
        let size = header
            + self.literal_encoding.bit_length(&self.literal_freq)
            + self.offset_encoding.bit_length(&self.offset_freq)
            + extra_bits;
        (size, num_codegens)
    }

    fn fixed_size(&self, extra_bits: i64) -> i64 {
        3 + self.fixed_literal.bit_length(&self.literal_freq) + self.fixed_offset.bit_length(&self.offset_freq) + extra_bits
    }

    fn write_dynamic_header(&mut self, num_literals: usize, num_offsets: usize, num_codegens: usize, eof: bool) {
        self.write_bits(if eof { 5 } else { 4 }, 3);
        self.write_bits(num_literals as i32 - 257, 5);
        self.write_bits(num_offsets as i32 - 1, 5);
        self.write_bits(num_codegens as i32 - 4, 4);
        for i in 0..num_codegens {
            let value = self.codegen_encoding.codes[CODEGEN_ORDER[i]].len as i32;
            self.write_bits(value, 3);
        }
        let mut i = 0;
        loop {
            let code_word = self.codegen[i];
            i += 1;
            if code_word == BAD_CODE {
                break;
            }
            let c = self.codegen_encoding.codes[code_word as usize];
            self.write_code(c);
            let extra = match code_word {
                16 => Some(2),
                17 => Some(3),
                18 => Some(7),
                _ => None,
            };
            if let Some(nb) = extra {
                let v = self.codegen[i] as i32;
                self.write_bits(v, nb);
                i += 1;
            }
        }
    }

    fn write_stored_header(&mut self, length: usize, eof: bool) {
        self.write_bits(if eof { 1 } else { 0 }, 3);
        self.flush();
        self.write_bits(length as i32, 16);
        self.write_bits(!(length as u16) as i32, 16);
    }

    fn write_fixed_header(&mut self, eof: bool) {
        self.write_bits(if eof { 3 } else { 2 }, 3);
    }

    fn index_tokens(&mut self, tokens: &[u32]) -> (usize, usize) {
        self.literal_freq.iter_mut().for_each(|f| *f = 0);
        self.offset_freq.iter_mut().for_each(|f| *f = 0);
        for &t in tokens {
            if t < MATCH_TYPE {
                self.literal_freq[t as usize] += 1;
                continue;
            }
            let length = (t - MATCH_TYPE) >> LENGTH_SHIFT;
            let offset = t & OFFSET_MASK;
            self.literal_freq[LENGTH_CODES_START + length_code(length) as usize] += 1;
            self.offset_freq[offset_code(offset) as usize] += 1;
        }
        let mut num_literals = self.literal_freq.len();
        while self.literal_freq[num_literals - 1] == 0 {
            num_literals -= 1;
        }
        let mut num_offsets = self.offset_freq.len();
        while num_offsets > 0 && self.offset_freq[num_offsets - 1] == 0 {
            num_offsets -= 1;
        }
        if num_offsets == 0 {
            self.offset_freq[0] = 1;
            num_offsets = 1;
        }
        let lf = self.literal_freq.clone();
        self.literal_encoding.generate(&lf, 15);
        let of = self.offset_freq.clone();
        self.offset_encoding.generate(&of, 15);
        (num_literals, num_offsets)
    }

    fn write_tokens(&mut self, tokens: &[u32], enc: Enc) {
        for &t in tokens {
            let (le, oe) = match enc {
                Enc::Fixed => (&self.fixed_literal, &self.fixed_offset),
                Enc::Dynamic => (&self.literal_encoding, &self.offset_encoding),
            };
            if t < MATCH_TYPE {
                let c = le.codes[t as usize];
                self.write_code(c);
                continue;
            }
            let length = (t - MATCH_TYPE) >> LENGTH_SHIFT;
            let lc = length_code(length) as usize;
            let c = le.codes[lc + LENGTH_CODES_START];
            let offset = t & OFFSET_MASK;
            let oc = offset_code(offset) as usize;
            let oc_code = oe.codes[oc];
            self.write_code(c);
            let extra_length_bits = LENGTH_EXTRA_BITS[lc] as u32;
            if extra_length_bits > 0 {
                self.write_bits((length - LENGTH_BASE[lc]) as i32, extra_length_bits);
            }
            self.write_code(oc_code);
            let extra_offset_bits = OFFSET_EXTRA_BITS[oc] as u32;
            if extra_offset_bits > 0 {
                self.write_bits((offset - OFFSET_BASE[oc]) as i32, extra_offset_bits);
            }
        }
    }

    /// Go's `writeBlock`; `input` is `None` when the block's bytes are no longer in the window.
    fn write_block(&mut self, tokens: &[u32], eof: bool, input: Option<&[u8]>) {
        let mut tokens = tokens.to_vec();
        tokens.push(END_BLOCK_MARKER);
        let (num_literals, num_offsets) = self.index_tokens(&tokens);
        let mut extra_bits: i64 = 0;
        let stored = input.filter(|i| i.len() <= MAX_STORE_BLOCK_SIZE).map(|i| (i.len() as i64 + 5) * 8);
        if stored.is_some() {
            for lc in LENGTH_CODES_START + 8..num_literals {
                extra_bits += self.literal_freq[lc] as i64 * LENGTH_EXTRA_BITS[lc - LENGTH_CODES_START] as i64;
            }
            for oc in 4..num_offsets {
                extra_bits += self.offset_freq[oc] as i64 * OFFSET_EXTRA_BITS[oc] as i64;
            }
        }
        let mut enc = Enc::Fixed;
        let mut size = self.fixed_size(extra_bits);
        self.generate_codegen(num_literals, num_offsets, true);
        let cf = self.codegen_freq;
        self.codegen_encoding.generate(&cf, 7);
        let (dynamic_size, num_codegens) = self.dynamic_size(extra_bits);
        if dynamic_size < size {
            size = dynamic_size;
            enc = Enc::Dynamic;
        }
        if let (Some(ss), Some(inp)) = (stored, input) {
            if ss < size {
                self.write_stored_header(inp.len(), eof);
                self.write_bytes(inp);
                return;
            }
        }
        if enc == Enc::Fixed {
            self.write_fixed_header(eof);
        } else {
            self.write_dynamic_header(num_literals, num_offsets, num_codegens, eof);
        }
        self.write_tokens(&tokens, enc);
    }
}

fn hash4(b: &[u8]) -> u32 {
    let v = (b[3] as u32) | (b[2] as u32) << 8 | (b[1] as u32) << 16 | (b[0] as u32) << 24;
    v.wrapping_mul(0x1e35a7bd) >> (32 - HASH_BITS)
}

fn match_len(a: &[u8], b: &[u8], max: usize) -> usize {
    for i in 0..max {
        if a[i] != b[i] {
            return i;
        }
    }
    max
}

/// Go's `compressor` for levels 2–9.
pub struct Deflater {
    good: usize,
    lazy: usize,
    nice: usize,
    chain: usize,
    fast_skip_hashing: i64,
    w: BitWriter,
    index: usize,
    window: Vec<u8>,
    window_end: usize,
    block_start: usize,
    byte_available: bool,
    sync: bool,
    tokens: Vec<u32>,
    length: usize,
    offset: usize,
    max_insert_index: usize,
    chain_head: i64,
    hash_head: Vec<u32>,
    hash_prev: Vec<u32>,
    hash_offset: i64,
}

const BLOCK_START_NONE: usize = i32::MAX as usize;

impl Deflater {
    /// A compressor at `level` (2..=9; anything else is taken as 6, Go's default).
    pub fn new(level: u32) -> Deflater {
        let idx = if (2..=9).contains(&level) { level as usize - 2 } else { 4 };
        let (good, lazy, nice, chain, fast) = LEVELS[idx];
        Deflater {
            good,
            lazy,
            nice,
            chain,
            fast_skip_hashing: fast,
            w: BitWriter::new(),
            index: 0,
            window: vec![0; 2 * WINDOW_SIZE],
            window_end: 0,
            block_start: 0,
            byte_available: false,
            sync: false,
            tokens: Vec::with_capacity(MAX_FLATE_BLOCK_TOKENS + 1),
            length: MIN_MATCH_LENGTH - 1,
            offset: 0,
            max_insert_index: 0,
            chain_head: -1,
            hash_head: vec![0; HASH_SIZE],
            hash_prev: vec![0; WINDOW_SIZE],
            hash_offset: 1,
        }
    }

    fn fill(&mut self, b: &[u8]) -> usize {
        if self.index >= 2 * WINDOW_SIZE - (MIN_MATCH_LENGTH + MAX_MATCH_LENGTH) {
            self.window.copy_within(WINDOW_SIZE..2 * WINDOW_SIZE, 0);
            self.index -= WINDOW_SIZE;
            self.window_end -= WINDOW_SIZE;
            if self.block_start >= WINDOW_SIZE && self.block_start != BLOCK_START_NONE {
                self.block_start -= WINDOW_SIZE;
            } else {
                self.block_start = BLOCK_START_NONE;
            }
            self.hash_offset += WINDOW_SIZE as i64;
            if self.hash_offset > MAX_HASH_OFFSET {
                let delta = self.hash_offset - 1;
                self.hash_offset -= delta;
                self.chain_head -= delta;
                for v in self.hash_prev.iter_mut().chain(self.hash_head.iter_mut()) {
                    *v = if *v as i64 > delta { (*v as i64 - delta) as u32 } else { 0 };
                }
            }
        }
        let n = b.len().min(self.window.len() - self.window_end);
        self.window[self.window_end..self.window_end + n].copy_from_slice(&b[..n]);
        self.window_end += n;
        n
    }

    fn write_block(&mut self, index: usize) {
        if index > 0 {
            let input = if self.block_start <= index { Some(self.block_start..index) } else { None };
            self.block_start = index;
            let tokens = std::mem::take(&mut self.tokens);
            let window = &self.window;
            self.w.write_block(&tokens, false, input.map(|r| &window[r]));
            self.tokens = tokens;
        }
    }

    fn find_match(&self, pos: usize, prev_head: i64, prev_length: usize, lookahead: usize) -> Option<(usize, usize)> {
        let min_match_look = MAX_MATCH_LENGTH.min(lookahead);
        let win = &self.window[..pos + min_match_look];
        let nice = (win.len() - pos).min(self.nice);
        let mut tries = self.chain;
        let mut length = prev_length;
        if length >= self.good {
            tries >>= 2;
        }
        let mut w_end = win[pos + length];
        let w_pos = &win[pos..];
        let min_index = pos as i64 - WINDOW_SIZE as i64;
        let mut found = None;
        let mut i = prev_head;
        while tries > 0 {
            let iu = i as usize;
            if w_end == win[iu + length] {
                let n = match_len(&win[iu..], w_pos, min_match_look);
                if n > length && (n > MIN_MATCH_LENGTH || pos - iu <= 4096) {
                    length = n;
                    found = Some((n, pos - iu));
                    if n >= nice {
                        break;
                    }
                    w_end = win[pos + n];
                }
            }
            if i == min_index {
                break;
            }
            i = self.hash_prev[iu & WINDOW_MASK] as i64 - self.hash_offset;
            if i < min_index || i < 0 {
                break;
            }
            tries -= 1;
        }
        found
    }

    fn insert_hash(&mut self, index: usize) {
        let hash = hash4(&self.window[index..index + MIN_MATCH_LENGTH]);
        let hh = &mut self.hash_head[(hash & HASH_MASK) as usize];
        self.hash_prev[index & WINDOW_MASK] = *hh;
        *hh = (index as i64 + self.hash_offset) as u32;
    }

    fn deflate(&mut self) {
        if self.window_end - self.index < MIN_MATCH_LENGTH + MAX_MATCH_LENGTH && !self.sync {
            return;
        }
        self.max_insert_index = self.window_end.saturating_sub(MIN_MATCH_LENGTH - 1);
        loop {
            let lookahead = self.window_end - self.index;
            if lookahead < MIN_MATCH_LENGTH + MAX_MATCH_LENGTH {
                if !self.sync {
                    break;
                }
                if lookahead == 0 {
                    if self.byte_available {
                        self.tokens.push(self.window[self.index - 1] as u32);
                        self.byte_available = false;
                    }
                    if !self.tokens.is_empty() {
                        self.write_block(self.index);
                        self.tokens.clear();
                    }
                    break;
                }
            }
            if self.index < self.max_insert_index {
                let hash = hash4(&self.window[self.index..self.index + MIN_MATCH_LENGTH]);
                let hh = &mut self.hash_head[(hash & HASH_MASK) as usize];
                self.chain_head = *hh as i64;
                self.hash_prev[self.index & WINDOW_MASK] = self.chain_head as u32;
                *hh = (self.index as i64 + self.hash_offset) as u32;
            }
            let prev_length = self.length;
            let prev_offset = self.offset;
            self.length = MIN_MATCH_LENGTH - 1;
            self.offset = 0;
            let min_index = (self.index as i64 - WINDOW_SIZE as i64).max(0);
            let skip_never = self.fast_skip_hashing == SKIP_NEVER;
            if self.chain_head - self.hash_offset >= min_index
                && (!skip_never && lookahead > MIN_MATCH_LENGTH - 1
                    || skip_never && lookahead > prev_length && prev_length < self.lazy)
            {
                if let Some((l, o)) =
                    self.find_match(self.index, self.chain_head - self.hash_offset, MIN_MATCH_LENGTH - 1, lookahead)
                {
                    self.length = l;
                    self.offset = o;
                }
            }
            if !skip_never && self.length >= MIN_MATCH_LENGTH
                || skip_never && prev_length >= MIN_MATCH_LENGTH && self.length <= prev_length
            {
                let t = if !skip_never {
                    MATCH_TYPE + (((self.length - BASE_MATCH_LENGTH) as u32) << LENGTH_SHIFT) + (self.offset - BASE_MATCH_OFFSET) as u32
                } else {
                    MATCH_TYPE + (((prev_length - BASE_MATCH_LENGTH) as u32) << LENGTH_SHIFT) + (prev_offset - BASE_MATCH_OFFSET) as u32
                };
                self.tokens.push(t);
                if (self.length as i64) <= self.fast_skip_hashing {
                    let new_index = if !skip_never { self.index + self.length } else { self.index + prev_length - 1 };
                    let mut index = self.index + 1;
                    while index < new_index {
                        if index < self.max_insert_index {
                            self.insert_hash(index);
                        }
                        index += 1;
                    }
                    self.index = index;
                    if skip_never {
                        self.byte_available = false;
                        self.length = MIN_MATCH_LENGTH - 1;
                    }
                } else {
                    self.index += self.length;
                }
                if self.tokens.len() == MAX_FLATE_BLOCK_TOKENS {
                    self.write_block(self.index);
                    self.tokens.clear();
                }
            } else {
                if !skip_never || self.byte_available {
                    let i = if !skip_never { self.index } else { self.index - 1 };
                    self.tokens.push(self.window[i] as u32);
                    if self.tokens.len() == MAX_FLATE_BLOCK_TOKENS {
                        self.write_block(i + 1);
                        self.tokens.clear();
                    }
                }
                self.index += 1;
                if skip_never {
                    self.byte_available = true;
                }
            }
        }
    }

    /// `Writer.Write`: one write call of Go's, with its exact chunk.
    pub fn write(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            self.deflate();
            let n = self.fill(b);
            b = &b[n..];
        }
    }

    /// `Writer.Close`: the final blocks and the empty stored end block; returns the stream.
    pub fn finish(mut self) -> Vec<u8> {
        self.sync = true;
        self.deflate();
        self.w.write_stored_header(0, true);
        self.w.flush();
        self.w.out
    }
}

/// A raw deflate stream of `data` written in one call at `level`.
pub fn compress(data: &[u8], level: u32) -> Vec<u8> {
    let mut d = Deflater::new(level);
    d.write(data);
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn inflate(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(b).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn round_trips() {
        let mut data = Vec::new();
        for i in 0..200_000u32 {
            data.extend_from_slice(format!("line {} {}\n", i % 977, i * 7 % 13).as_bytes());
        }
        for chunk in [&b""[..], b"a", b"abcabcabcabcabcabc", &data[..]] {
            assert_eq!(inflate(&compress(chunk, 6)), chunk);
        }
    }
}
