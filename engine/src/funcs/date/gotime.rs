//! Go's `time` package as sprig and Helm use it: `time.Duration` (`String`, `ParseDuration`,
//! `Round`, `Truncate`), locations read from the system's TZif files (with the POSIX TZ rule for
//! times past the last transition, as Go's `tzset`), `time.Time` with its civil-date arithmetic,
//! the `Format`/`Parse` layout language (reference time `Mon Jan 2 15:04:05 MST 2006`) and Go's
//! exact parse error messages.

use std::sync::{Arc, OnceLock};

pub const NANOSECOND: i64 = 1;
pub const MICROSECOND: i64 = 1000;
pub const MILLISECOND: i64 = 1_000_000;
pub const SECOND: i64 = 1_000_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;

// --- Duration ---------------------------------------------------------------------------------

fn fmt_frac(buf: &mut Vec<u8>, mut v: u64, prec: usize) -> u64 {
    let mut print = false;
    for _ in 0..prec {
        let digit = v % 10;
        print = print || digit != 0;
        if print {
            buf.push(b'0' + digit as u8);
        }
        v /= 10;
    }
    if print {
        buf.push(b'.');
    }
    v
}

fn fmt_int(buf: &mut Vec<u8>, mut v: u64) {
    if v == 0 {
        buf.push(b'0');
        return;
    }
    while v > 0 {
        buf.push(b'0' + (v % 10) as u8);
        v /= 10;
    }
}

/// Go: `Duration.String()` (`1h2m3.5s`, `1.5ms`, `0s`).
pub fn duration_string(d: i64) -> String {
    // Built in reverse, like Go's buffer.
    let mut b: Vec<u8> = Vec::with_capacity(32);
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    if u < SECOND as u64 {
        b.push(b's');
        let prec;
        if u == 0 {
            return "0s".into();
        } else if u < MICROSECOND as u64 {
            prec = 0;
            b.push(b'n');
        } else if u < MILLISECOND as u64 {
            prec = 3;
            // "µ" reversed byte order
            b.push(0xB5);
            b.push(0xC2);
        } else {
            prec = 6;
            b.push(b'm');
        }
        u = fmt_frac(&mut b, u, prec);
        fmt_int(&mut b, u);
    } else {
        b.push(b's');
        u = fmt_frac(&mut b, u, 9);
        fmt_int(&mut b, u % 60);
        u /= 60;
        if u > 0 {
            b.push(b'm');
            fmt_int(&mut b, u % 60);
            u /= 60;
            if u > 0 {
                b.push(b'h');
                fmt_int(&mut b, u);
            }
        }
    }
    if neg {
        b.push(b'-');
    }
    b.reverse();
    String::from_utf8_lossy(&b).into_owned()
}

/// Go's time-package `quote` (non-ASCII and control bytes as `\x..`).
pub fn time_quote(s: &[u8]) -> String {
    let mut out = String::from("\"");
    let text = String::from_utf8_lossy(s);
    let valid = std::str::from_utf8(s).is_ok();
    if valid {
        for c in text.chars() {
            if (c as u32) >= 0x80 || c < ' ' {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            } else {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    } else {
        for &byte in s {
            if !(b' '..0x80).contains(&byte) {
                out.push_str(&format!("\\x{byte:02x}"));
            } else {
                if byte == b'"' || byte == b'\\' {
                    out.push('\\');
                }
                out.push(byte as char);
            }
        }
    }
    out.push('"');
    out
}

fn leading_int(s: &[u8]) -> Result<(u64, &[u8]), ()> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if !c.is_ascii_digit() {
            break;
        }
        if x > (1u64 << 63) / 10 {
            return Err(());
        }
        x = x * 10 + (c - b'0') as u64;
        if x > 1u64 << 63 {
            return Err(());
        }
        i += 1;
    }
    Ok((x, &s[i..]))
}

fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let mut i = 0;
    let mut x: u64 = 0;
    let mut scale = 1.0;
    let mut overflow = false;
    while i < s.len() {
        let c = s[i];
        if !c.is_ascii_digit() {
            break;
        }
        i += 1;
        if overflow {
            continue;
        }
        if x > ((1u64 << 63) - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + (c - b'0') as u64;
        if y > 1u64 << 63 {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[i..])
}

/// Go: `time.ParseDuration`, with its error messages.
pub fn parse_duration(orig: &str) -> Result<i64, String> {
    let bad = |msg: &str| Err(format!("time: {msg} {}", time_quote(orig.as_bytes())));
    let mut s = orig.as_bytes();
    let mut d: u64 = 0;
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return bad("invalid duration");
    }
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return bad("invalid duration");
        }
        let pl = s.len();
        let (mut v, rest) = match leading_int(s) {
            Ok(r) => r,
            Err(()) => return bad("invalid duration"),
        };
        s = rest;
        let pre = pl != s.len();
        let mut post = false;
        let (mut f, mut scale) = (0u64, 1.0f64);
        if !s.is_empty() && s[0] == b'.' {
            s = &s[1..];
            let pl = s.len();
            let (ff, sc, rest) = leading_fraction(s);
            f = ff;
            scale = sc;
            s = rest;
            post = pl != s.len();
        }
        if !pre && !post {
            return bad("invalid duration");
        }
        let mut i = 0;
        while i < s.len() {
            let c = s[i];
            if c == b'.' || c.is_ascii_digit() {
                break;
            }
            i += 1;
        }
        if i == 0 {
            return bad("missing unit in duration");
        }
        let u = &s[..i];
        s = &s[i..];
        let unit: u64 = match u {
            b"ns" => 1,
            b"us" | [0xC2, 0xB5, b's'] | [0xCE, 0xBC, b's'] => MICROSECOND as u64,
            b"ms" => MILLISECOND as u64,
            b"s" => SECOND as u64,
            b"m" => MINUTE as u64,
            b"h" => HOUR as u64,
            _ => return bad(&format!("unknown unit {} in duration", time_quote(u))),
        };
        if v > (1u64 << 63) / unit {
            return bad("invalid duration");
        }
        v *= unit;
        if f > 0 {
            v = v.wrapping_add((f as f64 * (unit as f64 / scale)) as u64);
            if v > 1u64 << 63 {
                return bad("invalid duration");
            }
        }
        d = d.wrapping_add(v);
        if d > 1u64 << 63 {
            return bad("invalid duration");
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > (1u64 << 63) - 1 {
        return bad("invalid duration");
    }
    Ok(d as i64)
}

/// Go: `Duration.Round(m)`.
pub fn duration_round(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let mut r = d % m;
    let less_than_half = |x: i64, y: i64| (x as u64).wrapping_add(x as u64) < y as u64;
    if d < 0 {
        r = -r;
        if less_than_half(r, m) {
            return d + r;
        }
        let d1 = d.wrapping_sub(m).wrapping_add(r);
        if d1 < d {
            return d1;
        }
        return i64::MIN;
    }
    if less_than_half(r, m) {
        return d - r;
    }
    let d1 = d.wrapping_add(m).wrapping_sub(r);
    if d1 > d {
        return d1;
    }
    i64::MAX
}

/// Go: `Duration.Truncate(m)`.
pub fn duration_truncate(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    d - d % m
}

/// Go: `Duration.Seconds()`.
pub fn duration_seconds(d: i64) -> f64 {
    (d / SECOND) as f64 + (d % SECOND) as f64 / 1e9
}

/// Go: `Duration.Minutes()`.
pub fn duration_minutes(d: i64) -> f64 {
    (d / MINUTE) as f64 + (d % MINUTE) as f64 / (60.0 * 1e9)
}

/// Go: `Duration.Hours()`.
pub fn duration_hours(d: i64) -> f64 {
    (d / HOUR) as f64 + (d % HOUR) as f64 / (60.0 * 60.0 * 1e9)
}

// --- Civil calendar ---------------------------------------------------------------------------

pub fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

const DAYS_BEFORE: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

pub fn days_in(month: i64, year: i64) -> i64 {
    if month == 2 && is_leap(year) {
        return 29;
    }
    DAYS_BEFORE[month as usize] - DAYS_BEFORE[month as usize - 1]
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    // Wrapping arithmetic: absurd years (from `AddDate` with huge numbers) must not panic; Go's
    // own arithmetic wraps there too.
    let y = if m <= 2 { y.wrapping_sub(1) } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era.wrapping_mul(146097).wrapping_add(doe).wrapping_sub(719468)
}

/// The date of a day count since 1970-01-01: (year, month 1..12, day 1..31).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z.wrapping_add(719468);
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub const MONTH_NAMES: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
pub const DAY_NAMES: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

// --- Locations --------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct Zone {
    pub name: String,
    pub offset: i64,
    pub is_dst: bool,
}

#[derive(Clone, Debug)]
struct Trans {
    when: i64,
    index: usize,
}

const ALPHA: i64 = i64::MIN;
const OMEGA: i64 = i64::MAX;

/// A Go `*time.Location`.
#[derive(Clone, Debug)]
pub struct Location {
    pub name: String,
    zones: Vec<Zone>,
    tx: Vec<Trans>,
    extend: String,
    utc: bool,
}

pub struct Lookup {
    pub name: String,
    pub offset: i64,
    pub start: i64,
    pub end: i64,
    pub is_dst: bool,
}

impl Location {
    pub fn utc() -> Arc<Location> {
        static U: OnceLock<Arc<Location>> = OnceLock::new();
        U.get_or_init(|| Arc::new(Location { name: "UTC".into(), zones: vec![], tx: vec![], extend: String::new(), utc: true }))
            .clone()
    }

    /// Go: `time.FixedZone`.
    pub fn fixed(name: &str, offset: i64) -> Arc<Location> {
        Arc::new(Location {
            name: name.into(),
            zones: vec![Zone { name: name.into(), offset, is_dst: false }],
            tx: vec![Trans { when: ALPHA, index: 0 }],
            extend: String::new(),
            utc: false,
        })
    }

    pub fn is_utc(&self) -> bool {
        self.utc
    }

    /// Go: `time.Local` (from `$TZ` or `/etc/localtime`).
    pub fn local() -> Arc<Location> {
        static L: OnceLock<Arc<Location>> = OnceLock::new();
        L.get_or_init(|| {
            let fallback = || Arc::new(Location { name: "UTC".into(), zones: vec![], tx: vec![], extend: String::new(), utc: false });
            match std::env::var_os("TZ") {
                None => match std::fs::read("/etc/localtime").ok().and_then(|d| Location::from_tzdata("Local", &d)) {
                    Some(l) => Arc::new(l),
                    None => fallback(),
                },
                Some(tz) => {
                    let tz = tz.to_string_lossy().into_owned();
                    let tz = tz.strip_prefix(':').unwrap_or(&tz).to_string();
                    if tz.starts_with('/') {
                        if let Some(mut l) = std::fs::read(&tz).ok().and_then(|d| Location::from_tzdata(&tz, &d)) {
                            if tz == "/etc/localtime" {
                                l.name = "Local".into();
                            }
                            return Arc::new(l);
                        }
                    } else if !tz.is_empty() && tz != "UTC" {
                        if let Some(l) = load_from_sources(&tz) {
                            return Arc::new(l);
                        }
                    }
                    fallback()
                }
            }
        })
        .clone()
    }

    /// Go: `time.LoadLocation`. The error text is not needed by callers (sprig falls back to
    /// UTC), so any failure is `None`.
    pub fn load(name: &str) -> Option<Arc<Location>> {
        if name.is_empty() || name == "UTC" {
            return Some(Location::utc());
        }
        if name == "Local" {
            return Some(Location::local());
        }
        if name.split(['/', '\\']).any(|p| p == "..") || name.starts_with('/') || name.starts_with('\\') {
            return None;
        }
        if let Some(dir) = std::env::var_os("ZONEINFO").filter(|d| !d.is_empty()) {
            let p = std::path::Path::new(&dir).join(name);
            if let Some(l) = std::fs::read(p).ok().and_then(|d| Location::from_tzdata(name, &d)) {
                return Some(Arc::new(l));
            }
        }
        // Go reads the file on every call; the zone files do not change during a render, so
        // loaded zones are kept.
        static CACHE: OnceLock<std::sync::Mutex<std::collections::HashMap<String, Arc<Location>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(l) = cache.lock().ok().and_then(|c| c.get(name).cloned()) {
            return Some(l);
        }
        let l = load_from_sources(name).map(Arc::new)?;
        if let Ok(mut c) = cache.lock() {
            c.insert(name.to_string(), l.clone());
        }
        Some(l)
    }

    /// Go: `time.LoadLocationFromTZData`.
    pub fn from_tzdata(name: &str, data: &[u8]) -> Option<Location> {
        let mut d = Reader { data, pos: 0 };
        if d.read(4)? != b"TZif" {
            return None;
        }
        let p = d.read(16)?;
        let version = match p[0] {
            0 => 1,
            b'2' => 2,
            b'3' => 3,
            _ => return None,
        };
        let mut n = [0usize; 6];
        for x in n.iter_mut() {
            *x = d.big4()? as usize;
        }
        let (nutc, nstd, nleap, ntime, nzone, nchar) = (0, 1, 2, 3, 4, 5);
        let mut is64 = false;
        if version > 1 {
            let skip = n[ntime] * 4 + n[ntime] + n[nzone] * 6 + n[nchar] + n[nleap] * 8 + n[nstd] + n[nutc];
            d.read(skip + 4 + 16)?;
            is64 = true;
            for x in n.iter_mut() {
                *x = d.big4()? as usize;
            }
        }
        let size = if is64 { 8 } else { 4 };
        let txtimes = d.read(n[ntime] * size)?;
        let txzones = d.read(n[ntime])?;
        let zonedata = d.read(n[nzone] * 6)?;
        let abbrev = d.read(n[nchar])?;
        d.read(n[nleap] * (size + 4))?;
        d.read(n[nstd])?;
        d.read(n[nutc])?;
        let rest = &data[d.pos..];
        let extend = if rest.len() > 2 && rest[0] == b'\n' && rest[rest.len() - 1] == b'\n' {
            String::from_utf8_lossy(&rest[1..rest.len() - 1]).into_owned()
        } else {
            String::new()
        };
        if n[nzone] == 0 {
            return None;
        }
        let mut zones = Vec::with_capacity(n[nzone]);
        for i in 0..n[nzone] {
            let z = &zonedata[i * 6..i * 6 + 6];
            let offset = i32::from_be_bytes([z[0], z[1], z[2], z[3]]) as i64;
            let is_dst = z[4] != 0;
            let ai = z[5] as usize;
            if ai >= abbrev.len() {
                return None;
            }
            let end = abbrev[ai..].iter().position(|&b| b == 0).map(|p| ai + p).unwrap_or(abbrev.len());
            zones.push(Zone { name: String::from_utf8_lossy(&abbrev[ai..end]).into_owned(), offset, is_dst });
        }
        let mut tx = Vec::with_capacity(n[ntime]);
        for i in 0..n[ntime] {
            let when = if is64 {
                i64::from_be_bytes(txtimes[i * 8..i * 8 + 8].try_into().ok()?)
            } else {
                i32::from_be_bytes(txtimes[i * 4..i * 4 + 4].try_into().ok()?) as i64
            };
            let index = txzones[i] as usize;
            if index >= zones.len() {
                return None;
            }
            tx.push(Trans { when, index });
        }
        if tx.is_empty() {
            tx.push(Trans { when: ALPHA, index: 0 });
        }
        Some(Location { name: name.into(), zones, tx, extend, utc: false })
    }

    fn lookup_first_zone(&self) -> usize {
        if !self.tx.iter().any(|t| t.index == 0) {
            return 0;
        }
        if let Some(t0) = self.tx.first() {
            if self.zones[t0.index].is_dst {
                for zi in (0..t0.index).rev() {
                    if !self.zones[zi].is_dst {
                        return zi;
                    }
                }
            }
        }
        self.zones.iter().position(|z| !z.is_dst).unwrap_or(0)
    }

    /// Go: `Location.lookup(sec)`.
    pub fn lookup(&self, sec: i64) -> Lookup {
        if self.zones.is_empty() {
            return Lookup { name: "UTC".into(), offset: 0, start: ALPHA, end: OMEGA, is_dst: false };
        }
        if self.tx.is_empty() || sec < self.tx[0].when {
            let z = &self.zones[self.lookup_first_zone()];
            let end = self.tx.first().map(|t| t.when).unwrap_or(OMEGA);
            return Lookup { name: z.name.clone(), offset: z.offset, start: ALPHA, end, is_dst: z.is_dst };
        }
        let tx = &self.tx;
        let mut end = OMEGA;
        let (mut lo, mut hi) = (0usize, tx.len());
        while hi - lo > 1 {
            let m = (lo + hi) / 2;
            let lim = tx[m].when;
            if sec < lim {
                end = lim;
                hi = m;
            } else {
                lo = m;
            }
        }
        let z = &self.zones[tx[lo].index];
        let start = tx[lo].when;
        if lo == tx.len() - 1 && !self.extend.is_empty() {
            if let Some(l) = tzset(&self.extend, start, sec) {
                return l;
            }
        }
        Lookup { name: z.name.clone(), offset: z.offset, start, end, is_dst: z.is_dst }
    }

    /// Go: `Location.lookupName`.
    pub fn lookup_name(&self, name: &str, unix: i64) -> Option<i64> {
        for z in &self.zones {
            if z.name == name {
                let l = self.lookup(unix - z.offset);
                if l.name == z.name {
                    return Some(l.offset);
                }
            }
        }
        self.zones.iter().find(|z| z.name == name).map(|z| z.offset)
    }
}

fn load_from_sources(name: &str) -> Option<Location> {
    for src in ["/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/", "/etc/zoneinfo"] {
        let p = std::path::Path::new(src).join(name);
        if let Ok(d) = std::fs::read(p) {
            if let Some(l) = Location::from_tzdata(name, &d) {
                return Some(l);
            }
        }
    }
    None
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn read(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.data.len() - self.pos < n {
            return None;
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Some(s)
    }
    fn big4(&mut self) -> Option<u32> {
        let b = self.read(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

// POSIX TZ rules (Go: tzset and helpers).

fn tzset_name(s: &str) -> Option<(&str, &str)> {
    if s.is_empty() {
        return None;
    }
    if !s.starts_with('<') {
        for (i, c) in s.char_indices() {
            if matches!(c, '0'..='9' | ',' | '-' | '+') {
                if i < 3 {
                    return None;
                }
                return Some((&s[..i], &s[i..]));
            }
        }
        if s.len() < 3 {
            return None;
        }
        Some((s, ""))
    } else {
        let i = s.find('>')?;
        Some((&s[1..i], &s[i + 1..]))
    }
}

fn tzset_num(s: &str, min: i64, max: i64) -> Option<(i64, &str)> {
    if s.is_empty() {
        return None;
    }
    let mut num = 0;
    for (i, c) in s.char_indices() {
        if !c.is_ascii_digit() {
            if i == 0 || num < min {
                return None;
            }
            return Some((num, &s[i..]));
        }
        num = num * 10 + (c as i64 - '0' as i64);
        if num > max {
            return None;
        }
    }
    if num < min {
        return None;
    }
    Some((num, ""))
}

fn tzset_offset(s: &str) -> Option<(i64, &str)> {
    if s.is_empty() {
        return None;
    }
    let (neg, s) = match s.as_bytes()[0] {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let (hours, s) = tzset_num(s, 0, 24 * 7)?;
    let mut off = hours * 3600;
    let sign = |o: i64| if neg { -o } else { o };
    if !s.starts_with(':') {
        return Some((sign(off), s));
    }
    let (mins, s) = tzset_num(&s[1..], 0, 59)?;
    off += mins * 60;
    if !s.starts_with(':') {
        return Some((sign(off), s));
    }
    let (secs, s) = tzset_num(&s[1..], 0, 59)?;
    off += secs;
    Some((sign(off), s))
}

#[derive(Clone, Copy)]
enum RuleKind {
    Julian,
    Doy,
    MonthWeekDay,
}

#[derive(Clone, Copy)]
struct Rule {
    kind: RuleKind,
    day: i64,
    week: i64,
    mon: i64,
    time: i64,
}

fn tzset_rule(s: &str) -> Option<(Rule, &str)> {
    if s.is_empty() {
        return None;
    }
    let mut r = Rule { kind: RuleKind::Doy, day: 0, week: 0, mon: 0, time: 0 };
    let mut s = s;
    if let Some(rest) = s.strip_prefix('J') {
        let (jday, rest) = tzset_num(rest, 1, 365)?;
        r.kind = RuleKind::Julian;
        r.day = jday;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('M') {
        let (mon, rest) = tzset_num(rest, 1, 12)?;
        let rest = rest.strip_prefix('.')?;
        let (week, rest) = tzset_num(rest, 1, 5)?;
        let rest = rest.strip_prefix('.')?;
        let (day, rest) = tzset_num(rest, 0, 6)?;
        r.kind = RuleKind::MonthWeekDay;
        r.day = day;
        r.week = week;
        r.mon = mon;
        s = rest;
    } else {
        let (day, rest) = tzset_num(s, 0, 365)?;
        r.day = day;
        s = rest;
    }
    if !s.starts_with('/') {
        r.time = 2 * 3600;
        return Some((r, s));
    }
    let (offset, s) = tzset_offset(&s[1..])?;
    r.time = offset;
    Some((r, s))
}

fn tzrule_time(year: i64, r: Rule, off: i64) -> i64 {
    let s = match r.kind {
        RuleKind::Julian => {
            let mut s = (r.day - 1) * 86400;
            if is_leap(year) && r.day >= 60 {
                s += 86400;
            }
            s
        }
        RuleKind::Doy => r.day * 86400,
        RuleKind::MonthWeekDay => {
            let m1 = (r.mon + 9) % 12 + 1;
            let mut yy0 = year;
            if r.mon <= 2 {
                yy0 -= 1;
            }
            let yy1 = yy0 / 100;
            let yy2 = yy0 % 100;
            let mut dow = ((26 * m1 - 2) / 10 + 1 + yy2 + yy2 / 4 + yy1 / 4 - 2 * yy1) % 7;
            if dow < 0 {
                dow += 7;
            }
            let mut d = r.day - dow;
            if d < 0 {
                d += 7;
            }
            for _ in 1..r.week {
                if d + 7 >= days_in(r.mon, year) {
                    break;
                }
                d += 7;
            }
            d += DAYS_BEFORE[r.mon as usize - 1];
            if is_leap(year) && r.mon > 2 {
                d += 1;
            }
            d * 86400
        }
    };
    s + r.time - off
}

fn tzset(s: &str, last_tx_sec: i64, sec: i64) -> Option<Lookup> {
    let (std_name, s) = tzset_name(s)?;
    let (std_offset, s) = tzset_offset(s)?;
    let mut std_offset = -std_offset;
    let mut std_name = std_name.to_string();
    if s.is_empty() || s.starts_with(',') {
        return Some(Lookup { name: std_name, offset: std_offset, start: last_tx_sec, end: OMEGA, is_dst: false });
    }
    let (dst_name, mut s) = tzset_name(s)?;
    let mut dst_name = dst_name.to_string();
    let mut dst_offset;
    if s.is_empty() || s.starts_with(',') {
        dst_offset = std_offset + 3600;
    } else {
        let (o, rest) = tzset_offset(s)?;
        dst_offset = -o;
        s = rest;
    }
    let s = if s.is_empty() { ",M3.2.0,M11.1.0" } else { s };
    if !s.starts_with(',') && !s.starts_with(';') {
        return None;
    }
    let (start_rule, s) = tzset_rule(&s[1..])?;
    let s = s.strip_prefix(',')?;
    let (end_rule, s) = tzset_rule(s)?;
    if !s.is_empty() {
        return None;
    }
    let days = sec.div_euclid(86400);
    let (year, _, _) = civil_from_days(days);
    let yday = days.wrapping_sub(days_from_civil(year, 1, 1)).wrapping_add(1);
    let ysec = (yday - 1).wrapping_mul(86400).wrapping_add(sec % 86400);
    let ystart = sec.wrapping_sub(ysec);
    let mut start_sec = tzrule_time(year, start_rule, std_offset);
    let mut end_sec = tzrule_time(year, end_rule, dst_offset);
    let (mut dst_is_dst, mut std_is_dst) = (true, false);
    if end_sec < start_sec {
        std::mem::swap(&mut start_sec, &mut end_sec);
        std::mem::swap(&mut std_name, &mut dst_name);
        std::mem::swap(&mut std_offset, &mut dst_offset);
        std::mem::swap(&mut std_is_dst, &mut dst_is_dst);
    }
    let at = |x: i64| ystart.wrapping_add(x);
    Some(if ysec < start_sec {
        Lookup { name: std_name, offset: std_offset, start: ystart, end: at(start_sec), is_dst: std_is_dst }
    } else if ysec >= end_sec {
        Lookup { name: std_name, offset: std_offset, start: at(end_sec), end: at(365 * 86400), is_dst: std_is_dst }
    } else {
        Lookup { name: dst_name, offset: dst_offset, start: at(start_sec), end: at(end_sec), is_dst: dst_is_dst }
    })
}

// --- Time -------------------------------------------------------------------------------------

fn process_start() -> std::time::Instant {
    static S: OnceLock<std::time::Instant> = OnceLock::new();
    *S.get_or_init(std::time::Instant::now)
}

/// A Go `time.Time`: Unix seconds and nanoseconds, a location, and (for `time.Now()` and
/// times derived from it by `Add`) a monotonic clock reading in nanoseconds since process start.
#[derive(Clone, Debug)]
pub struct Time {
    pub sec: i64,
    pub nsec: i64,
    pub loc: Arc<Location>,
    pub mono: Option<i64>,
}

/// Seconds from 0001-01-01 to 1970-01-01 (Go's zero `Time` is year 1).
pub const ZERO_UNIX: i64 = -62135596800;

impl Time {
    /// Go's zero `time.Time{}` (UTC, year 1).
    pub fn zero() -> Time {
        Time { sec: ZERO_UNIX, nsec: 0, loc: Location::utc(), mono: None }
    }

    /// Go: `time.Now()` (local time with a monotonic reading).
    pub fn now() -> Time {
        let start = process_start();
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let mono = start.elapsed().as_nanos() as i64 + 1;
        Time { sec: d.as_secs() as i64, nsec: d.subsec_nanos() as i64, loc: Location::local(), mono: Some(mono) }
    }

    /// Go: `time.Unix(sec, nsec)` (local time).
    pub fn unix(sec: i64, nsec: i64) -> Time {
        let (mut sec, mut nsec) = (sec, nsec);
        if !(0..1_000_000_000).contains(&nsec) {
            let n = nsec / 1_000_000_000;
            sec = sec.wrapping_add(n);
            nsec -= n * 1_000_000_000;
            if nsec < 0 {
                nsec += 1_000_000_000;
                sec = sec.wrapping_sub(1);
            }
        }
        Time { sec, nsec, loc: Location::local(), mono: None }
    }

    /// Go: `time.Date(...)` with its normalisation of out-of-range fields.
    #[allow(clippy::too_many_arguments)]
    pub fn date(year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64, nsec: i64, loc: Arc<Location>) -> Time {
        fn norm(hi: i64, lo: i64, base: i64) -> (i64, i64) {
            (hi.wrapping_add(lo.div_euclid(base)), lo.rem_euclid(base))
        }
        let (year, m) = norm(year, month - 1, 12);
        let month = m + 1;
        let (sec, nsec) = norm(sec, nsec, 1_000_000_000);
        let (min, sec) = norm(min, sec, 60);
        let (hour, min) = norm(hour, min, 60);
        let (day, hour) = norm(day, hour, 24);
        let days = days_from_civil(year, month, 1).wrapping_add(day).wrapping_sub(1);
        let mut unix = days.wrapping_mul(86400).wrapping_add(hour * 3600 + min * 60 + sec);
        let l = loc.lookup(unix);
        if l.offset != 0 {
            let utc = unix.wrapping_sub(l.offset);
            let offset = if utc < l.start || utc >= l.end { loc.lookup(utc).offset } else { l.offset };
            unix = unix.wrapping_sub(offset);
        }
        Time { sec: unix, nsec, loc, mono: None }
    }

    /// Zone name, offset and the local seconds since the Unix epoch.
    pub fn locabs(&self) -> (String, i64, i64) {
        if self.loc.is_utc() {
            return ("UTC".into(), 0, self.sec);
        }
        let l = self.loc.lookup(self.sec);
        (l.name, l.offset, self.sec.wrapping_add(l.offset))
    }

    fn local_parts(&self) -> (i64, i64, i64, i64, i64, i64, i64) {
        let (_, _, abs) = self.locabs();
        let days = abs.div_euclid(86400);
        let secs = abs.rem_euclid(86400);
        let (y, m, d) = civil_from_days(days);
        (y, m, d, secs / 3600, secs % 3600 / 60, secs % 60, days)
    }

    pub fn year(&self) -> i64 {
        self.local_parts().0
    }
    pub fn month(&self) -> i64 {
        self.local_parts().1
    }
    pub fn day(&self) -> i64 {
        self.local_parts().2
    }
    pub fn hour(&self) -> i64 {
        self.local_parts().3
    }
    pub fn minute(&self) -> i64 {
        self.local_parts().4
    }
    pub fn second(&self) -> i64 {
        self.local_parts().5
    }
    /// 0 = Sunday.
    pub fn weekday(&self) -> i64 {
        (self.local_parts().6.rem_euclid(7) + 4).rem_euclid(7)
    }
    pub fn year_day(&self) -> i64 {
        let (y, _, _, _, _, _, days) = self.local_parts();
        days.wrapping_sub(days_from_civil(y, 1, 1)).wrapping_add(1)
    }

    /// Go: `t.In(loc)` / `t.UTC()` / `t.Local()` (drops the monotonic reading).
    pub fn in_loc(&self, loc: Arc<Location>) -> Time {
        Time { sec: self.sec, nsec: self.nsec, loc, mono: None }
    }

    /// Go: `t.Add(d)`.
    pub fn add(&self, d: i64) -> Time {
        let mut dsec = d / 1_000_000_000;
        let mut nsec = self.nsec + d % 1_000_000_000;
        if nsec >= 1_000_000_000 {
            dsec += 1;
            nsec -= 1_000_000_000;
        } else if nsec < 0 {
            dsec -= 1;
            nsec += 1_000_000_000;
        }
        let mono = self.mono.and_then(|m| m.checked_add(d));
        Time { sec: self.sec.wrapping_add(dsec), nsec, loc: self.loc.clone(), mono }
    }

    /// Go: `t.Sub(u)` (saturating).
    pub fn sub(&self, u: &Time) -> i64 {
        if let (Some(a), Some(b)) = (self.mono, u.mono) {
            return a.saturating_sub(b);
        }
        let ds = (self.sec as i128 - u.sec as i128) * 1_000_000_000 + (self.nsec - u.nsec) as i128;
        ds.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    pub fn equal(&self, u: &Time) -> bool {
        self.sec == u.sec && self.nsec == u.nsec
    }
    pub fn before(&self, u: &Time) -> bool {
        (self.sec, self.nsec) < (u.sec, u.nsec)
    }
    pub fn after(&self, u: &Time) -> bool {
        (self.sec, self.nsec) > (u.sec, u.nsec)
    }
    pub fn is_zero(&self) -> bool {
        self.sec == ZERO_UNIX && self.nsec == 0
    }

    /// The remainder of the time since Go's zero time (year 1) divided by `d` (Go: `div`).
    fn rem_since_zero(&self, d: i64) -> i64 {
        let total = (self.sec as i128 - ZERO_UNIX as i128) * 1_000_000_000 + self.nsec as i128;
        total.rem_euclid(d as i128) as i64
    }

    /// Go: `t.Truncate(d)` (drops the monotonic reading).
    pub fn truncate(&self, d: i64) -> Time {
        let mut t = self.clone();
        t.mono = None;
        if d <= 0 {
            return t;
        }
        let r = t.rem_since_zero(d);
        t.add(-r)
    }

    /// Go: `t.Round(d)`: halfway values round up (drops the monotonic reading).
    pub fn round(&self, d: i64) -> Time {
        let mut t = self.clone();
        t.mono = None;
        if d <= 0 {
            return t;
        }
        let r = t.rem_since_zero(d);
        if (r as u64).wrapping_add(r as u64) < d as u64 {
            return t.add(-r);
        }
        t.add(d - r)
    }

    /// Go: `t.AddDate(years, months, days)`.
    pub fn add_date(&self, years: i64, months: i64, days: i64) -> Time {
        let (y, m, d, h, mi, s, _) = self.local_parts();
        Time::date(y.wrapping_add(years), m.wrapping_add(months), d.wrapping_add(days), h, mi, s, self.nsec, self.loc.clone())
    }

    /// Go: `t.String()`.
    pub fn string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.mono {
            let sign = if m < 0 { '-' } else { '+' };
            let m2 = m.unsigned_abs();
            let (m1, m2) = (m2 / 1_000_000_000, m2 % 1_000_000_000);
            let (m0, m1) = (m1 / 1_000_000_000, m1 % 1_000_000_000);
            s.push_str(" m=");
            s.push(sign);
            if m0 != 0 {
                s.push_str(&format!("{m0}{m1:09}"));
            } else {
                s.push_str(&m1.to_string());
            }
            s.push_str(&format!(".{m2:09}"));
        }
        s
    }

    /// Go: `t.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        let (name, offset, _) = self.locabs();
        let (year, month, day, hour, min, sec, _) = self.local_parts();
        let yday = self.year_day();
        let weekday = self.weekday();
        let mut b: Vec<u8> = Vec::with_capacity(layout.len() + 10);
        let mut layout = layout.as_bytes();
        while !layout.is_empty() {
            let (prefix, std, suffix) = next_std_chunk(layout);
            b.extend_from_slice(prefix);
            if std == Std::None {
                break;
            }
            layout = suffix;
            match std {
                Std::None => {}
                Std::Year => append_int(&mut b, (year % 100).abs(), 2),
                Std::LongYear => append_int(&mut b, year, 4),
                Std::Month => b.extend_from_slice(&MONTH_NAMES[month as usize - 1].as_bytes()[..3]),
                Std::LongMonth => b.extend_from_slice(MONTH_NAMES[month as usize - 1].as_bytes()),
                Std::NumMonth => append_int(&mut b, month, 0),
                Std::ZeroMonth => append_int(&mut b, month, 2),
                Std::WeekDay => b.extend_from_slice(&DAY_NAMES[weekday as usize].as_bytes()[..3]),
                Std::LongWeekDay => b.extend_from_slice(DAY_NAMES[weekday as usize].as_bytes()),
                Std::Day => append_int(&mut b, day, 0),
                Std::UnderDay => {
                    if day < 10 {
                        b.push(b' ');
                    }
                    append_int(&mut b, day, 0);
                }
                Std::ZeroDay => append_int(&mut b, day, 2),
                Std::UnderYearDay => {
                    if yday < 100 {
                        b.push(b' ');
                        if yday < 10 {
                            b.push(b' ');
                        }
                    }
                    append_int(&mut b, yday, 0);
                }
                Std::ZeroYearDay => append_int(&mut b, yday, 3),
                Std::Hour => append_int(&mut b, hour, 2),
                Std::Hour12 | Std::ZeroHour12 => {
                    let mut hr = hour % 12;
                    if hr == 0 {
                        hr = 12;
                    }
                    append_int(&mut b, hr, if std == Std::Hour12 { 0 } else { 2 });
                }
                Std::Minute => append_int(&mut b, min, 0),
                Std::ZeroMinute => append_int(&mut b, min, 2),
                Std::Second => append_int(&mut b, sec, 0),
                Std::ZeroSecond => append_int(&mut b, sec, 2),
                Std::PM => b.extend_from_slice(if hour >= 12 { b"PM" } else { b"AM" }),
                Std::Pm => b.extend_from_slice(if hour >= 12 { b"pm" } else { b"am" }),
                Std::Tz(kind) => {
                    if offset == 0 && kind.iso {
                        b.push(b'Z');
                        continue;
                    }
                    let mut zone = offset / 60;
                    let mut absoffset = offset;
                    if zone < 0 {
                        b.push(b'-');
                        zone = -zone;
                        absoffset = -absoffset;
                    } else {
                        b.push(b'+');
                    }
                    append_int(&mut b, zone / 60, 2);
                    if kind.colon {
                        b.push(b':');
                    }
                    if !kind.short {
                        append_int(&mut b, zone % 60, 2);
                    }
                    if kind.seconds {
                        if kind.colon {
                            b.push(b':');
                        }
                        append_int(&mut b, absoffset % 60, 2);
                    }
                }
                Std::TzName => {
                    if !name.is_empty() {
                        b.extend_from_slice(name.as_bytes());
                        continue;
                    }
                    let mut zone = offset / 60;
                    if zone < 0 {
                        b.push(b'-');
                        zone = -zone;
                    } else {
                        b.push(b'+');
                    }
                    append_int(&mut b, zone / 60, 2);
                    append_int(&mut b, zone % 60, 2);
                }
                Std::Frac { nines, digits, sep } => append_nano(&mut b, self.nsec, nines, digits, sep),
            }
        }
        String::from_utf8_lossy(&b).into_owned()
    }
}

fn append_int(b: &mut Vec<u8>, x: i64, width: usize) {
    if x < 0 {
        b.push(b'-');
    }
    let s = x.unsigned_abs().to_string();
    for _ in s.len()..width {
        b.push(b'0');
    }
    b.extend_from_slice(s.as_bytes());
}

fn append_nano(b: &mut Vec<u8>, nsec: i64, trim: bool, n: usize, sep: u8) {
    if trim && (n == 0 || nsec == 0) {
        return;
    }
    let start = b.len();
    b.push(sep);
    append_int(b, nsec, 9);
    if n < 9 {
        b.truncate(b.len() - 9 + n);
    }
    if trim {
        while b.len() > start && b.last() == Some(&b'0') {
            b.pop();
        }
        if b.len() > start && b.last() == Some(&sep) {
            b.pop();
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TzKind {
    iso: bool,
    colon: bool,
    short: bool,
    seconds: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Std {
    None,
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TzName,
    Tz(TzKind),
    Frac { nines: bool, digits: usize, sep: u8 },
}

const fn tz(iso: bool, colon: bool, short: bool, seconds: bool) -> Std {
    Std::Tz(TzKind { iso, colon, short, seconds })
}

fn starts_with_lower(s: &[u8]) -> bool {
    s.first().is_some_and(|c| c.is_ascii_lowercase())
}

/// Go: `nextStdChunk` (kept in Go's shape, hence the nested ifs).
#[allow(clippy::collapsible_match)]
fn next_std_chunk(layout: &[u8]) -> (&[u8], Std, &[u8]) {
    let l = layout;
    let at = |i: usize, s: &str| l.len() >= i + s.len() && &l[i..i + s.len()] == s.as_bytes();
    for i in 0..l.len() {
        match l[i] {
            b'J' => {
                if at(i, "Jan") {
                    if at(i, "January") {
                        return (&l[..i], Std::LongMonth, &l[i + 7..]);
                    }
                    if !starts_with_lower(&l[i + 3..]) {
                        return (&l[..i], Std::Month, &l[i + 3..]);
                    }
                }
            }
            b'M' => {
                if l.len() >= i + 3 {
                    if at(i, "Mon") {
                        if at(i, "Monday") {
                            return (&l[..i], Std::LongWeekDay, &l[i + 6..]);
                        }
                        if !starts_with_lower(&l[i + 3..]) {
                            return (&l[..i], Std::WeekDay, &l[i + 3..]);
                        }
                    }
                    if at(i, "MST") {
                        return (&l[..i], Std::TzName, &l[i + 3..]);
                    }
                }
            }
            b'0' => {
                if l.len() >= i + 2 && (b'1'..=b'6').contains(&l[i + 1]) {
                    let std = [Std::ZeroMonth, Std::ZeroDay, Std::ZeroHour12, Std::ZeroMinute, Std::ZeroSecond, Std::Year]
                        [(l[i + 1] - b'1') as usize];
                    return (&l[..i], std, &l[i + 2..]);
                }
                if l.len() >= i + 3 && l[i + 1] == b'0' && l[i + 2] == b'2' {
                    return (&l[..i], Std::ZeroYearDay, &l[i + 3..]);
                }
            }
            b'1' => {
                if l.len() >= i + 2 && l[i + 1] == b'5' {
                    return (&l[..i], Std::Hour, &l[i + 2..]);
                }
                return (&l[..i], Std::NumMonth, &l[i + 1..]);
            }
            b'2' => {
                if at(i, "2006") {
                    return (&l[..i], Std::LongYear, &l[i + 4..]);
                }
                return (&l[..i], Std::Day, &l[i + 1..]);
            }
            b'_' => {
                if l.len() >= i + 2 && l[i + 1] == b'2' {
                    if at(i + 1, "2006") {
                        return (&l[..i + 1], Std::LongYear, &l[i + 5..]);
                    }
                    return (&l[..i], Std::UnderDay, &l[i + 2..]);
                }
                if l.len() >= i + 3 && l[i + 1] == b'_' && l[i + 2] == b'2' {
                    return (&l[..i], Std::UnderYearDay, &l[i + 3..]);
                }
            }
            b'3' => return (&l[..i], Std::Hour12, &l[i + 1..]),
            b'4' => return (&l[..i], Std::Minute, &l[i + 1..]),
            b'5' => return (&l[..i], Std::Second, &l[i + 1..]),
            b'P' => {
                if l.len() >= i + 2 && l[i + 1] == b'M' {
                    return (&l[..i], Std::PM, &l[i + 2..]);
                }
            }
            b'p' => {
                if l.len() >= i + 2 && l[i + 1] == b'm' {
                    return (&l[..i], Std::Pm, &l[i + 2..]);
                }
            }
            b'-' => {
                if at(i, "-070000") {
                    return (&l[..i], tz(false, false, false, true), &l[i + 7..]);
                }
                if at(i, "-07:00:00") {
                    return (&l[..i], tz(false, true, false, true), &l[i + 9..]);
                }
                if at(i, "-0700") {
                    return (&l[..i], tz(false, false, false, false), &l[i + 5..]);
                }
                if at(i, "-07:00") {
                    return (&l[..i], tz(false, true, false, false), &l[i + 6..]);
                }
                if at(i, "-07") {
                    return (&l[..i], tz(false, false, true, false), &l[i + 3..]);
                }
            }
            b'Z' => {
                if at(i, "Z070000") {
                    return (&l[..i], tz(true, false, false, true), &l[i + 7..]);
                }
                if at(i, "Z07:00:00") {
                    return (&l[..i], tz(true, true, false, true), &l[i + 9..]);
                }
                if at(i, "Z0700") {
                    return (&l[..i], tz(true, false, false, false), &l[i + 5..]);
                }
                if at(i, "Z07:00") {
                    return (&l[..i], tz(true, true, false, false), &l[i + 6..]);
                }
                if at(i, "Z07") {
                    return (&l[..i], tz(true, false, true, false), &l[i + 3..]);
                }
            }
            c @ (b'.' | b',') => {
                if i + 1 < l.len() && (l[i + 1] == b'0' || l[i + 1] == b'9') {
                    let ch = l[i + 1];
                    let mut j = i + 1;
                    while j < l.len() && l[j] == ch {
                        j += 1;
                    }
                    if !(j < l.len() && l[j].is_ascii_digit()) {
                        let std = Std::Frac { nines: ch == b'9', digits: (j - (i + 1)) & 0xfff, sep: c };
                        return (&l[..i], std, &l[j..]);
                    }
                }
            }
            _ => {}
        }
    }
    (l, Std::None, &[])
}

// --- Parse ------------------------------------------------------------------------------------

fn is_digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(|c| c.is_ascii_digit())
}

fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    if !is_digit(s, 0) {
        return None;
    }
    if !is_digit(s, 1) {
        if fixed {
            return None;
        }
        return Some(((s[0] - b'0') as i64, &s[1..]));
    }
    Some((((s[0] - b'0') * 10 + (s[1] - b'0')) as i64, &s[2..]))
}

fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let mut n = 0i64;
    let mut i = 0;
    while i < 3 && is_digit(s, i) {
        n = n * 10 + (s[i] - b'0') as i64;
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, &s[i..]))
}

fn cutspace(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b' ').count();
    &s[n..]
}

fn skip<'a>(value: &'a [u8], prefix: &[u8]) -> Result<&'a [u8], &'a [u8]> {
    let (mut value, mut prefix) = (value, prefix);
    while !prefix.is_empty() {
        if prefix[0] == b' ' {
            if !value.is_empty() && value[0] != b' ' {
                return Err(value);
            }
            prefix = cutspace(prefix);
            value = cutspace(value);
            continue;
        }
        if value.is_empty() || value[0] != prefix[0] {
            return Err(value);
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Ok(value)
}

fn name_match(s1: &[u8], s2: &[u8]) -> bool {
    for i in 0..s1.len() {
        let (mut c1, mut c2) = (s1[i], s2[i]);
        if c1 != c2 {
            c1 |= b'a' - b'A';
            c2 |= b'a' - b'A';
            if c1 != c2 || !c1.is_ascii_lowercase() {
                return false;
            }
        }
    }
    true
}

fn lookup_name<'a>(tab: &[&str], val: &'a [u8]) -> Option<(i64, &'a [u8])> {
    for (i, v) in tab.iter().enumerate() {
        let v = v.as_bytes();
        if val.len() >= v.len() && name_match(&val[..v.len()], v) {
            return Some((i as i64, &val[v.len()..]));
        }
    }
    None
}

fn time_atoi(s: &[u8]) -> Option<i64> {
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (q, rem) = leading_int(s).ok()?;
    if !rem.is_empty() {
        return None;
    }
    let x = q as i64;
    Some(if neg { x.wrapping_neg() } else { x })
}

fn parse_nanoseconds(value: &[u8], nbytes: usize) -> Result<(i64, Option<&'static str>), ()> {
    if !(value[0] == b'.' || value[0] == b',') {
        return Err(());
    }
    let nbytes = nbytes.min(10);
    let value = &value[..nbytes.min(value.len())];
    let mut ns = time_atoi(&value[1..nbytes]).ok_or(())?;
    if ns < 0 {
        return Ok((0, Some("fractional second")));
    }
    for _ in 0..(10 - nbytes) {
        ns *= 10;
    }
    Ok((ns, None))
}

fn parse_signed_offset(value: &[u8]) -> usize {
    let sign = value[0];
    if sign != b'-' && sign != b'+' {
        return 0;
    }
    let Ok((x, rem)) = leading_int(&value[1..]) else { return 0 };
    if value.len() - 1 == rem.len() {
        return 0;
    }
    if x > 23 {
        return 0;
    }
    value.len() - rem.len()
}

fn parse_time_zone(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.len() >= 4 && (&value[..4] == b"ChST" || &value[..4] == b"MeST") {
        return Some(4);
    }
    if &value[..3] == b"GMT" {
        let rest = &value[3..];
        if rest.is_empty() {
            return Some(3);
        }
        return Some(3 + parse_signed_offset(rest));
    }
    if value[0] == b'+' || value[0] == b'-' {
        let n = parse_signed_offset(value);
        return if n > 0 { Some(n) } else { None };
    }
    let mut n_upper = 0;
    while n_upper < 6 {
        if n_upper >= value.len() || !value[n_upper].is_ascii_uppercase() {
            break;
        }
        n_upper += 1;
    }
    match n_upper {
        5 if value[4] == b'T' => Some(5),
        4 if value[3] == b'T' || &value[..4] == b"WITA" => Some(4),
        3 => Some(3),
        _ => None,
    }
}

fn parse_error(layout: &[u8], value: &[u8], layout_elem: &[u8], value_elem: &[u8], message: &str) -> String {
    if message.is_empty() {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            time_quote(value),
            time_quote(layout),
            time_quote(value_elem),
            time_quote(layout_elem)
        )
    } else {
        format!("parsing time {}{message}", time_quote(value))
    }
}

/// Sign, hours, minutes, seconds and the rest of the value of a numeric zone offset.
type TzParts<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8], &'a [u8]);

const SHORT_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const SHORT_MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Go: `time.ParseInLocation(layout, value, loc)` (and `time.Parse` with `loc` = UTC and
/// `local` = Local).
pub fn parse(layout_s: &str, value_s: &str, default_loc: Arc<Location>, local: Arc<Location>) -> Result<Time, String> {
    let alayout = layout_s.as_bytes();
    let avalue = value_s.as_bytes();
    let mut layout = alayout;
    let mut value = avalue;
    let mut range_err: Option<&'static str> = None;
    let (mut am_set, mut pm_set) = (false, false);
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let mut z: Option<Arc<Location>> = None;
    let mut zone_offset: i64 = -1;
    let mut zone_name: Vec<u8> = Vec::new();

    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        let stdstr = &layout[prefix.len()..layout.len() - suffix.len()];
        value = match skip(value, prefix) {
            Ok(v) => v,
            Err(v) => return Err(parse_error(alayout, avalue, prefix, v, "")),
        };
        if std == Std::None {
            if !value.is_empty() {
                return Err(parse_error(alayout, avalue, b"", value, &format!(": extra text: {}", time_quote(value))));
            }
            break;
        }
        layout = suffix;
        let hold = value;
        let mut ok = true;
        match std {
            Std::Year => {
                if value.len() < 2 {
                    ok = false;
                } else {
                    let p = &value[..2];
                    value = &value[2..];
                    match time_atoi(p) {
                        Some(y) => year = if y >= 69 { y + 1900 } else { y + 2000 },
                        None => ok = false,
                    }
                }
            }
            Std::LongYear => {
                if value.len() < 4 || !is_digit(value, 0) {
                    ok = false;
                } else {
                    let p = &value[..4];
                    value = &value[4..];
                    match time_atoi(p) {
                        Some(y) => year = y,
                        None => ok = false,
                    }
                }
            }
            Std::Month | Std::LongMonth => {
                let tab: &[&str] = if std == Std::Month { &SHORT_MONTHS } else { &MONTH_NAMES };
                match lookup_name(tab, value) {
                    Some((m, rest)) => {
                        month = m + 1;
                        value = rest;
                    }
                    None => {
                        ok = false;
                    }
                }
            }
            Std::NumMonth | Std::ZeroMonth => match getnum(value, std == Std::ZeroMonth) {
                Some((m, rest)) => {
                    month = m;
                    value = rest;
                    if month <= 0 || 12 < month {
                        range_err = Some("month");
                    }
                }
                None => ok = false,
            },
            Std::WeekDay | Std::LongWeekDay => {
                let tab: &[&str] = if std == Std::WeekDay { &SHORT_DAYS } else { &DAY_NAMES };
                match lookup_name(tab, value) {
                    Some((_, rest)) => value = rest,
                    None => ok = false,
                }
            }
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                if std == Std::UnderDay && value.first() == Some(&b' ') {
                    value = &value[1..];
                }
                match getnum(value, std == Std::ZeroDay) {
                    Some((d, rest)) => {
                        day = d;
                        value = rest;
                    }
                    None => ok = false,
                }
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                for _ in 0..2 {
                    if std == Std::UnderYearDay && value.first() == Some(&b' ') {
                        value = &value[1..];
                    }
                }
                match getnum3(value, std == Std::ZeroYearDay) {
                    Some((d, rest)) => {
                        yday = d;
                        value = rest;
                    }
                    None => ok = false,
                }
            }
            Std::Hour => match getnum(value, false) {
                Some((h, rest)) => {
                    hour = h;
                    value = rest;
                    if !(0..24).contains(&hour) {
                        range_err = Some("hour");
                    }
                }
                None => ok = false,
            },
            Std::Hour12 | Std::ZeroHour12 => match getnum(value, std == Std::ZeroHour12) {
                Some((h, rest)) => {
                    hour = h;
                    value = rest;
                    if !(0..=12).contains(&hour) {
                        range_err = Some("hour");
                    }
                }
                None => ok = false,
            },
            Std::Minute | Std::ZeroMinute => match getnum(value, std == Std::ZeroMinute) {
                Some((m, rest)) => {
                    min = m;
                    value = rest;
                    if !(0..60).contains(&min) {
                        range_err = Some("minute");
                    }
                }
                None => ok = false,
            },
            Std::Second | Std::ZeroSecond => match getnum(value, std == Std::ZeroSecond) {
                Some((s, rest)) => {
                    sec = s;
                    value = rest;
                    if !(0..60).contains(&sec) {
                        range_err = Some("second");
                    } else if value.len() >= 2 && (value[0] == b'.' || value[0] == b',') && is_digit(value, 1) {
                        let (_, next, _) = next_std_chunk(layout);
                        if !matches!(next, Std::Frac { .. }) {
                            let mut n = 2;
                            while n < value.len() && is_digit(value, n) {
                                n += 1;
                            }
                            match parse_nanoseconds(value, n) {
                                Ok((ns, re)) => {
                                    nsec = ns;
                                    range_err = re;
                                }
                                Err(()) => ok = false,
                            }
                            value = &value[n..];
                        }
                    }
                }
                None => ok = false,
            },
            Std::PM | Std::Pm => {
                if value.len() < 2 {
                    ok = false;
                } else {
                    let p = &value[..2];
                    value = &value[2..];
                    let (pm, am): (&[u8], &[u8]) = if std == Std::PM { (b"PM", b"AM") } else { (b"pm", b"am") };
                    if p == pm {
                        pm_set = true;
                    } else if p == am {
                        am_set = true;
                    } else {
                        ok = false;
                    }
                }
            }
            Std::Tz(kind) => {
                if kind.iso && value.first() == Some(&b'Z') {
                    value = &value[1..];
                    z = Some(Location::utc());
                } else {
                    let parts: Option<TzParts> = if kind.colon && !kind.seconds {
                        if value.len() < 6 || value[3] != b':' {
                            None
                        } else {
                            Some((&value[0..1], &value[1..3], &value[4..6], b"00", &value[6..]))
                        }
                    } else if kind.short {
                        if value.len() < 3 {
                            None
                        } else {
                            Some((&value[0..1], &value[1..3], b"00", b"00", &value[3..]))
                        }
                    } else if kind.colon && kind.seconds {
                        if value.len() < 9 || value[3] != b':' || value[6] != b':' {
                            None
                        } else {
                            Some((&value[0..1], &value[1..3], &value[4..6], &value[7..9], &value[9..]))
                        }
                    } else if kind.seconds {
                        if value.len() < 7 {
                            None
                        } else {
                            Some((&value[0..1], &value[1..3], &value[3..5], &value[5..7], &value[7..]))
                        }
                    } else if value.len() < 5 {
                        None
                    } else {
                        Some((&value[0..1], &value[1..3], &value[3..5], b"00", &value[5..]))
                    };
                    match parts {
                        None => ok = false,
                        Some((sign, h, m, s, rest)) => {
                            value = rest;
                            let hr = getnum(h, true).map(|x| x.0);
                            let mm = getnum(m, true).map(|x| x.0);
                            let ss = getnum(s, true).map(|x| x.0);
                            let (hr, mm, ss) = match (hr, mm, ss) {
                                (Some(a), Some(b), Some(c)) => (a, b, c),
                                (a, b, _) => {
                                    ok = false;
                                    (a.unwrap_or(0), b.unwrap_or(0), 0)
                                }
                            };
                            if hr > 24 {
                                range_err = Some("time zone offset hour");
                            }
                            if mm > 60 {
                                range_err = Some("time zone offset minute");
                            }
                            if ss > 60 {
                                range_err = Some("time zone offset second");
                            }
                            zone_offset = (hr * 60 + mm) * 60 + ss;
                            match sign[0] {
                                b'+' => {}
                                b'-' => zone_offset = -zone_offset,
                                _ => ok = false,
                            }
                        }
                    }
                }
            }
            Std::TzName => {
                if value.len() >= 3 && &value[..3] == b"UTC" {
                    z = Some(Location::utc());
                    value = &value[3..];
                } else {
                    match parse_time_zone(value) {
                        Some(n) => {
                            zone_name = value[..n].to_vec();
                            value = &value[n..];
                        }
                        None => ok = false,
                    }
                }
            }
            Std::Frac { nines: false, digits, .. } => {
                let ndigit = 1 + digits;
                if value.len() < ndigit {
                    ok = false;
                } else {
                    match parse_nanoseconds(value, ndigit) {
                        Ok((ns, re)) => {
                            nsec = ns;
                            range_err = re;
                        }
                        Err(()) => ok = false,
                    }
                    value = &value[ndigit..];
                }
            }
            Std::Frac { nines: true, .. } => {
                if value.len() < 2 || !(value[0] == b'.' || value[0] == b',') || !value[1].is_ascii_digit() {
                    // omitted
                } else {
                    let mut i = 0;
                    while i + 1 < value.len() && value[i + 1].is_ascii_digit() {
                        i += 1;
                    }
                    match parse_nanoseconds(value, 1 + i) {
                        Ok((ns, re)) => {
                            nsec = ns;
                            range_err = re;
                        }
                        Err(()) => ok = false,
                    }
                    value = &value[1 + i..];
                }
            }
            Std::None => {}
        }
        if let Some(re) = range_err {
            return Err(parse_error(alayout, avalue, stdstr, value, &format!(": {re} out of range")));
        }
        if !ok {
            return Err(parse_error(alayout, avalue, stdstr, hold, ""));
        }
    }
    if pm_set && hour < 12 {
        hour += 12;
    } else if am_set && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let mut d = 0;
        let mut m = 0;
        if is_leap(year) {
            if yday == 31 + 29 {
                m = 2;
                d = 29;
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(parse_error(alayout, avalue, b"", value, ": day-of-year out of range"));
        }
        if m == 0 {
            m = (yday - 1) / 31 + 1;
            if DAYS_BEFORE[m as usize] < yday {
                m += 1;
            }
            d = yday - DAYS_BEFORE[m as usize - 1];
        }
        if month >= 0 && month != m {
            return Err(parse_error(alayout, avalue, b"", value, ": day-of-year does not match month"));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(parse_error(alayout, avalue, b"", value, ": day-of-year does not match day"));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(parse_error(alayout, avalue, b"", value, ": day out of range"));
    }
    if let Some(z) = z {
        return Ok(Time::date(year, month, day, hour, min, sec, nsec, z));
    }
    if zone_offset != -1 {
        let mut t = Time::date(year, month, day, hour, min, sec, nsec, Location::utc());
        t.sec -= zone_offset;
        let l = local.lookup(t.sec);
        if l.offset == zone_offset && (zone_name.is_empty() || l.name.as_bytes() == zone_name.as_slice()) {
            t.loc = local;
            return Ok(t);
        }
        t.loc = Location::fixed(&String::from_utf8_lossy(&zone_name), zone_offset);
        return Ok(t);
    }
    if !zone_name.is_empty() {
        let mut t = Time::date(year, month, day, hour, min, sec, nsec, Location::utc());
        let zn = String::from_utf8_lossy(&zone_name).into_owned();
        if let Some(offset) = local.lookup_name(&zn, t.sec) {
            t.sec -= offset;
            t.loc = local;
            return Ok(t);
        }
        let mut offset = 0;
        if zn.len() > 3 && zn.starts_with("GMT") {
            offset = time_atoi(&zone_name[3..]).unwrap_or(0) * 3600;
        }
        t.loc = Location::fixed(&zn, offset);
        return Ok(t);
    }
    Ok(Time::date(year, month, day, hour, min, sec, nsec, default_loc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(1500 * MILLISECOND), "1.5s");
        assert_eq!(duration_string(HOUR + 2 * MINUTE + 3 * SECOND), "1h2m3s");
        assert_eq!(duration_string(1500), "1.5µs");
        assert_eq!(duration_string(-2 * HOUR), "-2h0m0s");
        assert_eq!(duration_string(i64::MIN), "-2562047h47m16.854775808s");
        assert_eq!(parse_duration("1h30m"), Ok(90 * MINUTE));
        assert_eq!(parse_duration("-1.5s"), Ok(-1500 * MILLISECOND));
        assert_eq!(parse_duration("1"), Err("time: missing unit in duration \"1\"".into()));
        assert_eq!(parse_duration("1x"), Err("time: unknown unit \"x\" in duration \"1x\"".into()));
        assert_eq!(duration_round(1499 * MILLISECOND, SECOND), SECOND);
        assert_eq!(duration_round(-1500 * MILLISECOND, SECOND), -2 * SECOND);
    }

    #[test]
    fn civil() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(civil_from_days(days_from_civil(1, 1, 1)), (1, 1, 1));
    }

    #[test]
    fn format_utc() {
        let t = Time::date(2006, 1, 2, 15, 4, 5, 123456789, Location::utc());
        assert_eq!(t.format("2006-01-02T15:04:05.000Z07:00 Mon Jan _2 3PM MST"), "2006-01-02T15:04:05.123Z Mon Jan  2 3PM UTC");
        assert_eq!(t.string(), "2006-01-02 15:04:05.123456789 +0000 UTC");
        assert_eq!(Time::zero().string(), "0001-01-01 00:00:00 +0000 UTC");
    }

    #[test]
    fn extremes_do_not_panic() {
        let ny = Location::load("America/New_York").unwrap_or_else(Location::utc);
        for sec in [i64::MAX, i64::MIN, i64::MAX - 1, i64::MIN + 1] {
            let t = Time { sec, nsec: 0, loc: ny.clone(), mono: None };
            let _ = t.string();
            let _ = t.add_date(i64::MAX, i64::MIN, i64::MAX).string();
            let _ = t.add(i64::MAX).sub(&Time::zero());
        }
        let _ = Time::date(i64::MAX, i64::MAX, i64::MIN, i64::MAX, i64::MIN, i64::MAX, i64::MIN, ny);
    }

    #[test]
    fn parse_basic() {
        let t = parse("2006-01-02T15:04:05Z07:00", "2021-03-04T05:06:07+02:00", Location::utc(), Location::utc()).unwrap();
        assert_eq!(t.string(), "2021-03-04 05:06:07 +0200 +0200");
        let e = parse("2006-01-02", "2021-13-01", Location::utc(), Location::utc()).unwrap_err();
        assert_eq!(e, "parsing time \"2021-13-01\": month out of range");
    }
}
