//! Go's `time.Time` as Helm prints release times: parsed from the RFC 3339 text in a record
//! (`time.Time.UnmarshalJSON`), printed with `String()`, `Format(time.ANSIC)`, `Format(layout)`
//! for `--time-format`, and `MarshalJSON` (RFC 3339 with nanoseconds).
//!
//! Go gives a parsed time the local zone when its offset matches the local one, otherwise a
//! nameless fixed zone (printed as `+0200` where `MST` asks for a name). Rudder takes the local
//! zone to be UTC (named `UTC`), which is what Helm sees on a machine whose TZ is UTC; on other
//! machines a zero-offset time still prints `UTC` where Go would print the local name.

use rudder_engine::funcs::date::gotime::{days_from_civil, days_in, Location, Time, ZERO_UNIX};

/// A time: Unix seconds, nanoseconds, the zone offset in seconds and the zone name
/// ("" for a fixed zone without a name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoTime {
    pub secs: i64,
    pub nanos: u32,
    pub offset: i32,
    pub zone: String,
}

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
        if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) || hour > 23 || min > 59 || sec > 59 {
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

    /// `t.Format(layout)` with Go's reference-time layout elements (the engine's `Format`).
    pub fn format(&self, layout: &str) -> String {
        let loc = if self.zone == "UTC" && self.offset == 0 {
            Location::utc()
        } else {
            Location::fixed(&self.zone, i64::from(self.offset))
        };
        Time { sec: self.secs, nsec: i64::from(self.nanos), loc, mono: None }.format(layout)
    }
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
