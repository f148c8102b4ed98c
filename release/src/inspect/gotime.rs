//! Go's `time.Time` as Helm prints release times: parsed from the RFC 3339 text in a record
//! (`time.Time.UnmarshalJSON`), printed with `String()`, `Format(time.ANSIC)`, `Format(layout)`
//! for `--time-format`, and `MarshalJSON` (RFC 3339 with nanoseconds).
//!
//! Go gives a parsed time the local zone when its offset matches the local one, otherwise a
//! nameless fixed zone (printed as `+0200` where `MST` asks for a name). Rudder takes the local
//! zone to be UTC (named `UTC`), which is what Helm sees on a machine whose TZ is UTC; on other
//! machines a zero-offset time still prints `UTC` where Go would print the local name.

/// A time: Unix seconds, nanoseconds, the zone offset in seconds and the zone name
/// ("" for a fixed zone without a name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoTime {
    pub secs: i64,
    pub nanos: u32,
    pub offset: i32,
    pub zone: String,
}

/// Seconds from 0001-01-01 to 1970-01-01 (Go's zero time is year 1).
const ZERO_UNIX: i64 = -62_135_596_800;

impl GoTime {
    /// Go's zero `time.Time` (January 1, year 1, 00:00:00 UTC).
    pub fn zero() -> Self {
        GoTime { secs: ZERO_UNIX, nanos: 0, offset: 0, zone: "UTC".into() }
    }

    pub fn is_zero(&self) -> bool {
        self.secs == ZERO_UNIX && self.nanos == 0
    }

    /// Parses RFC 3339 (`time.RFC3339` layout, fraction optional) as Go's `UnmarshalJSON`.
    /// `None` for text Go would reject.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = b.get(r)?;
            if part.iter().all(u8::is_ascii_digit) {
                std::str::from_utf8(part).ok()?.parse().ok()
            } else {
                None
            }
        };
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || min > 59 || sec > 59 {
            return None;
        }
        let mut i = 19;
        let mut nanos: u32 = 0;
        if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j == start {
                return None;
            }
            let digits = &s[start..j.min(start + 9)];
            nanos = format!("{digits:0<9}").parse().ok()?;
            i = j;
        }
        let rest = &s[i..];
        let (offset, zone) = if rest == "Z" || rest == "z" {
            (0, "UTC".to_string())
        } else {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let h: i32 = rest[1..3].parse().ok()?;
            let m: i32 = rest[4..6].parse().ok()?;
            if h > 23 || m > 59 {
                return None;
            }
            let off = (h * 3600 + m * 60) * if rb[0] == b'-' { -1 } else { 1 };
            // The local zone (UTC) has offset 0: a "+00:00" time gets it, with its name.
            (off, if off == 0 { "UTC".to_string() } else { String::new() })
        };
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + min * 60 + sec - i64::from(offset);
        Some(GoTime { secs, nanos, offset, zone })
    }

    /// The time of a record field: zero when absent or unparsable (Helm fails to decode such a
    /// record; Rudder shows it as zero).
    pub fn from_field(s: Option<&str>) -> Self {
        s.and_then(Self::parse_rfc3339).unwrap_or_else(Self::zero)
    }

    /// `t.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`.
    pub fn string(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }

    /// `t.Format(time.ANSIC)`.
    pub fn ansic(&self) -> String {
        self.format("Mon Jan _2 15:04:05 2006")
    }

    /// `t.Format(time.RFC3339)`.
    pub fn rfc3339(&self) -> String {
        self.format("2006-01-02T15:04:05Z07:00")
    }

    /// `t.MarshalJSON()` text without the quotes (`time.RFC3339Nano`).
    pub fn rfc3339_nano(&self) -> String {
        self.format("2006-01-02T15:04:05.999999999Z07:00")
    }

    /// `t.Format(layout)` with Go's reference-time layout elements.
    pub fn format(&self, layout: &str) -> String {
        let local = self.secs + i64::from(self.offset);
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let (hour, min, sec) = (rem / 3600, rem % 3600 / 60, rem % 60);
        let weekday = (days + 4).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
        let yday = days - days_from_civil(year, 1, 1) + 1;
        let mut out = String::new();
        let mut rest = layout;
        while !rest.is_empty() {
            let (prefix, chunk, after) = next_chunk(rest);
            out.push_str(prefix);
            let Some(chunk) = chunk else { break };
            rest = after;
            match chunk {
                Chunk::LongMonth => out.push_str(LONG_MONTHS[(month - 1) as usize]),
                Chunk::Month => out.push_str(&LONG_MONTHS[(month - 1) as usize][..3]),
                Chunk::NumMonth => out.push_str(&month.to_string()),
                Chunk::ZeroMonth => out.push_str(&format!("{month:02}")),
                Chunk::LongWeekDay => out.push_str(LONG_DAYS[weekday]),
                Chunk::WeekDay => out.push_str(&LONG_DAYS[weekday][..3]),
                Chunk::Day => out.push_str(&day.to_string()),
                Chunk::UnderDay => out.push_str(&format!("{day:>2}")),
                Chunk::ZeroDay => out.push_str(&format!("{day:02}")),
                Chunk::UnderYearDay => out.push_str(&format!("{yday:>3}")),
                Chunk::ZeroYearDay => out.push_str(&format!("{yday:03}")),
                Chunk::Hour => out.push_str(&format!("{hour:02}")),
                Chunk::Hour12 => out.push_str(&hour12(hour).to_string()),
                Chunk::ZeroHour12 => out.push_str(&format!("{:02}", hour12(hour))),
                Chunk::Minute => out.push_str(&min.to_string()),
                Chunk::ZeroMinute => out.push_str(&format!("{min:02}")),
                Chunk::Second => out.push_str(&sec.to_string()),
                Chunk::ZeroSecond => out.push_str(&format!("{sec:02}")),
                Chunk::LongYear => {
                    if year < 0 {
                        out.push_str(&format!("-{:04}", -year));
                    } else {
                        out.push_str(&format!("{year:04}"));
                    }
                }
                Chunk::Year => out.push_str(&format!("{:02}", year.rem_euclid(100))),
                Chunk::PM => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
                Chunk::Pm => out.push_str(if hour >= 12 { "pm" } else { "am" }),
                Chunk::TzName => {
                    if !self.zone.is_empty() {
                        out.push_str(&self.zone);
                    } else {
                        let m = self.offset / 60;
                        let (sign, m) = if m < 0 { ('-', -m) } else { ('+', m) };
                        out.push(sign);
                        out.push_str(&format!("{:02}", m / 60));
                        out.push_str(&format!("{:02}", m % 60));
                    }
                }
                Chunk::Offset { z, colon, secs, hours_only } => {
                    if z && self.offset == 0 {
                        out.push('Z');
                        continue;
                    }
                    let (sign, abs) = if self.offset < 0 { ('-', -self.offset) } else { ('+', self.offset) };
                    out.push(sign);
                    out.push_str(&format!("{:02}", abs / 3600));
                    if !hours_only {
                        if colon {
                            out.push(':');
                        }
                        out.push_str(&format!("{:02}", abs / 60 % 60));
                    }
                    if secs {
                        if colon {
                            out.push(':');
                        }
                        out.push_str(&format!("{:02}", abs % 60));
                    }
                }
                Chunk::Frac { sep, digits, trim } => {
                    let all = format!("{:09}", self.nanos);
                    if trim {
                        let t = all[..digits].trim_end_matches('0');
                        if !t.is_empty() {
                            out.push(sep);
                            out.push_str(t);
                        }
                    } else {
                        out.push(sep);
                        out.push_str(&all[..digits]);
                    }
                }
            }
        }
        out
    }
}

const LONG_MONTHS: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December",
];
const LONG_DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

fn hour12(h: i64) -> i64 {
    match h % 12 {
        0 => 12,
        x => x,
    }
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[derive(Debug, Clone, Copy)]
enum Chunk {
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
    Offset { z: bool, colon: bool, secs: bool, hours_only: bool },
    Frac { sep: char, digits: usize, trim: bool },
}

/// Go's `nextStdChunk`: the text before the first layout element, the element, the rest.
fn next_chunk(layout: &str) -> (&str, Option<Chunk>, &str) {
    let b = layout.as_bytes();
    let starts = |i: usize, p: &str| layout[i..].starts_with(p);
    for i in 0..b.len() {
        if !layout.is_char_boundary(i) {
            continue;
        }
        let hit = |n: usize, c: Chunk| Some((&layout[..i], Some(c), &layout[i + n..]));
        let found: Option<(&str, Option<Chunk>, &str)> = match b[i] {
            b'J' if starts(i, "Jan") => {
                if starts(i, "January") {
                    hit(7, Chunk::LongMonth)
                } else if !starts_with_lower(&layout[i + 3..]) {
                    hit(3, Chunk::Month)
                } else {
                    None
                }
            }
            b'M' if starts(i, "Mon") => {
                if starts(i, "Monday") {
                    hit(6, Chunk::LongWeekDay)
                } else if !starts_with_lower(&layout[i + 3..]) {
                    hit(3, Chunk::WeekDay)
                } else {
                    None
                }
            }
            b'M' if starts(i, "MST") => hit(3, Chunk::TzName),
            b'0' if i + 1 < b.len() && (b'1'..=b'6').contains(&b[i + 1]) => {
                let c = match b[i + 1] {
                    b'1' => Chunk::ZeroMonth,
                    b'2' => Chunk::ZeroDay,
                    b'3' => Chunk::ZeroHour12,
                    b'4' => Chunk::ZeroMinute,
                    b'5' => Chunk::ZeroSecond,
                    _ => Chunk::Year,
                };
                hit(2, c)
            }
            b'0' if starts(i, "002") => hit(3, Chunk::ZeroYearDay),
            b'1' if starts(i, "15") => hit(2, Chunk::Hour),
            b'1' => hit(1, Chunk::NumMonth),
            b'2' if starts(i, "2006") => hit(4, Chunk::LongYear),
            b'2' => hit(1, Chunk::Day),
            b'_' if starts(i, "_2") => {
                if starts(i, "_2006") {
                    // `_` then the year, as Go reads it.
                    Some((&layout[..i + 1], Some(Chunk::LongYear), &layout[i + 5..]))
                } else {
                    hit(2, Chunk::UnderDay)
                }
            }
            b'_' if starts(i, "__2") => hit(3, Chunk::UnderYearDay),
            b'3' => hit(1, Chunk::Hour12),
            b'4' => hit(1, Chunk::Minute),
            b'5' => hit(1, Chunk::Second),
            b'P' if starts(i, "PM") => hit(2, Chunk::PM),
            b'p' if starts(i, "pm") => hit(2, Chunk::Pm),
            b'-' | b'Z' => {
                let z = b[i] == b'Z';
                let p = if z { "Z" } else { "-" };
                let table: [(&str, bool, bool, bool); 5] = [
                    ("070000", false, true, false),
                    ("07:00:00", true, true, false),
                    ("0700", false, false, false),
                    ("07:00", true, false, false),
                    ("07", false, false, true),
                ];
                table.iter().find(|(s, ..)| starts(i, &format!("{p}{s}"))).and_then(|(s, colon, secs, hours_only)| {
                    hit(1 + s.len(), Chunk::Offset { z, colon: *colon, secs: *secs, hours_only: *hours_only })
                })
            }
            b'.' | b',' if i + 1 < b.len() && matches!(b[i + 1], b'0' | b'9') => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == ch {
                    j += 1;
                }
                // A fraction only when not followed by another digit.
                if j < b.len() && b[j].is_ascii_digit() {
                    None
                } else {
                    hit(j - i, Chunk::Frac { sep: b[i] as char, digits: (j - i - 1).min(9), trim: ch == b'9' })
                }
            }
            _ => None,
        };
        if found.is_some() {
            return found.unwrap_or((layout, None, ""));
        }
    }
    (layout, None, "")
}

fn starts_with_lower(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        let t = GoTime::parse_rfc3339("2026-12-01T21:43:39.361493026Z").unwrap();
        assert_eq!(t.string(), "2026-12-01 21:43:39.361493026 +0000 UTC");
        assert_eq!(t.ansic(), "Tue Dec  1 21:43:39 2026");
        assert_eq!(t.rfc3339(), "2026-12-01T21:43:39Z");
        assert_eq!(t.rfc3339_nano(), "2026-12-01T21:43:39.361493026Z");
        assert_eq!(t.format("2006-01-02 15:04:05Z0700"), "2026-12-01 21:43:39Z");
        let f = GoTime::parse_rfc3339("2026-12-01T21:43:39.5+02:00").unwrap();
        assert_eq!(f.string(), "2026-12-01 21:43:39.5 +0200 +0200");
        assert_eq!(f.rfc3339_nano(), "2026-12-01T21:43:39.5+02:00");
        assert_eq!(GoTime::zero().ansic(), "Mon Jan  1 00:00:00 0001");
        assert_eq!(t.format("Monday January 2 3:4:5 PM .000 __2"), "Tuesday December 1 9:43:39 PM .361 335");
    }
}
