//! sprig's date functions (sprig: date.go, functions.go): `now`, `date`, `dateInZone`,
//! `htmlDate`, `htmlDateInZone`, `dateModify`, `mustDateModify`, `toDate`, `mustToDate`,
//! `unixEpoch`, `ago`, `duration`, `durationRound`, on Go's `time` package (`date/gotime.rs`).
//! `time.Time`, `time.Duration`, `time.Month`, `time.Weekday` and `*time.Location` values are
//! objects with Go's methods.

pub mod gotime;

use std::any::Any;
use std::sync::Arc;

use gotime::{Location, Time};

use super::util::*;
use super::{Func, FuncError, FuncMap, Signature};
use crate::value::{GoType, IntKind, Member, Object, Value};

pub const TIME_TYPE: &str = "time.Time";
pub const DURATION_TYPE: &str = "time.Duration";

pub fn time_t() -> GoType {
    GoType::Named(TIME_TYPE.into())
}

pub fn duration_t() -> GoType {
    GoType::Named(DURATION_TYPE.into())
}

/// A Go `time.Time` value.
#[derive(Debug)]
pub struct TimeObj(pub Time);

/// A Go `time.Duration` value (nanoseconds).
#[derive(Debug)]
pub struct DurationObj(pub i64);

/// Go's `time.Month` (1..12) or `time.Weekday` (0 = Sunday): named ints that print their names.
#[derive(Debug)]
pub struct CalendarObj {
    pub value: i64,
    pub weekday: bool,
}

/// A Go `*time.Location`.
#[derive(Debug)]
pub struct LocationObj(pub Arc<Location>);

pub fn time_value(t: Time) -> Value {
    Value::Object(Arc::new(TimeObj(t)))
}

pub fn duration_value(d: i64) -> Value {
    Value::Object(Arc::new(DurationObj(d)))
}

/// The `time.Time` inside a value.
pub fn time_of(v: &Value) -> Option<Time> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<TimeObj>().map(|t| t.0.clone()),
        _ => None,
    }
}

/// The `time.Duration` inside a value.
pub fn duration_of(v: &Value) -> Option<i64> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<DurationObj>().map(|d| d.0),
        _ => None,
    }
}

/// The integer of a `time.Month` or `time.Weekday` object (spf13/cast converts them to int).
pub fn month_or_weekday(o: &dyn Object) -> Option<i64> {
    o.as_any().downcast_ref::<CalendarObj>().map(|c| c.value)
}

fn m0(result: GoType, f: impl Fn() -> Value + Send + Sync + 'static) -> Member {
    Member::Method(Func::pure(Signature::new(vec![], result), move |_| Ok(f())))
}

fn m1(param: GoType, result: GoType, f: impl Fn(&Value) -> Result<Value, FuncError> + Send + Sync + 'static) -> Member {
    Member::Method(Func::pure(Signature::new(vec![param], result), move |a| f(&a[0])))
}

impl Object for TimeObj {
    fn go_type(&self) -> GoType {
        time_t()
    }

    fn member(&self, name: &str) -> Option<Member> {
        let t = self.0.clone();
        let other = |v: &Value| time_of(v).unwrap_or_else(Time::zero);
        Some(match name {
            "String" => m0(str_t(), move || Value::string(t.string())),
            "MarshalJSON" | "MarshalText" => {
                let json = name == "MarshalJSON";
                Member::Method(Func::pure(Signature::new(vec![], GoType::slice_of(GoType::Uint(crate::value::UintKind::Uint8))).with_error(), move |_| {
                    marshal_time(&t, json)
                }))
            }
            "Format" => m1(str_t(), str_t(), move |l| Ok(Value::string(t.format(arg_str(l))))),
            "Year" => m0(int_t(), move || Value::int(t.year())),
            "Month" => m0(GoType::Named("time.Month".into()), move || {
                Value::Object(Arc::new(CalendarObj { value: t.month(), weekday: false }))
            }),
            "Day" => m0(int_t(), move || Value::int(t.day())),
            "Hour" => m0(int_t(), move || Value::int(t.hour())),
            "Minute" => m0(int_t(), move || Value::int(t.minute())),
            "Second" => m0(int_t(), move || Value::int(t.second())),
            "Nanosecond" => m0(int_t(), move || Value::int(t.nsec)),
            "YearDay" => m0(int_t(), move || Value::int(t.year_day())),
            "Weekday" => m0(GoType::Named("time.Weekday".into()), move || {
                Value::Object(Arc::new(CalendarObj { value: t.weekday(), weekday: true }))
            }),
            "Unix" => m0(i64_t(), move || Value::int64(t.sec)),
            "UnixMilli" => m0(i64_t(), move || Value::int64(t.sec.wrapping_mul(1000).wrapping_add(t.nsec / 1_000_000))),
            "UnixMicro" => m0(i64_t(), move || Value::int64(t.sec.wrapping_mul(1_000_000).wrapping_add(t.nsec / 1000))),
            "UnixNano" => m0(i64_t(), move || Value::int64(t.sec.wrapping_mul(1_000_000_000).wrapping_add(t.nsec))),
            "IsZero" => m0(bool_t(), move || Value::Bool(t.is_zero())),
            "IsDST" => m0(bool_t(), move || Value::Bool(t.loc.lookup(t.sec).is_dst)),
            "UTC" => m0(time_t(), move || time_value(t.in_loc(Location::utc()))),
            "Local" => m0(time_t(), move || time_value(t.in_loc(Location::local()))),
            "Location" => m0(GoType::Named("*time.Location".into()), move || {
                Value::Object(Arc::new(LocationObj(t.loc.clone())))
            }),
            "Add" => m1(duration_t(), time_t(), move |d| Ok(time_value(t.add(duration_of(d).unwrap_or(0))))),
            "AddDate" => Member::Method(Func::pure(Signature::new(vec![int_t(), int_t(), int_t()], time_t()), move |a| {
                Ok(time_value(t.add_date(arg_int(&a[0]), arg_int(&a[1]), arg_int(&a[2]))))
            })),
            "Round" => m1(duration_t(), time_t(), move |d| Ok(time_value(t.round(duration_of(d).unwrap_or(0))))),
            "Truncate" => m1(duration_t(), time_t(), move |d| Ok(time_value(t.truncate(duration_of(d).unwrap_or(0))))),
            "In" => m1(GoType::Named("*time.Location".into()), time_t(), move |l| match l {
                Value::Object(o) => match o.as_any().downcast_ref::<LocationObj>() {
                    Some(loc) => Ok(time_value(t.in_loc(loc.0.clone()))),
                    None => Err(FuncError::new("time: missing Location in call to Time.In")),
                },
                _ => Err(FuncError::new("time: missing Location in call to Time.In")),
            }),
            "Sub" => m1(time_t(), duration_t(), move |u| Ok(duration_value(t.sub(&other(u))))),
            "After" => m1(time_t(), bool_t(), move |u| Ok(Value::Bool(t.after(&other(u))))),
            "Before" => m1(time_t(), bool_t(), move |u| Ok(Value::Bool(t.before(&other(u))))),
            "Equal" => m1(time_t(), bool_t(), move |u| Ok(Value::Bool(t.equal(&other(u))))),
            "Compare" => m1(time_t(), int_t(), move |u| {
                let u = other(u);
                Ok(Value::int(if t.before(&u) {
                    -1
                } else if t.after(&u) {
                    1
                } else {
                    0
                }))
            }),
            _ => return None,
        })
    }

    fn format_v(&self) -> String {
        self.0.string()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Object for DurationObj {
    fn go_type(&self) -> GoType {
        duration_t()
    }

    fn member(&self, name: &str) -> Option<Member> {
        let d = self.0;
        Some(match name {
            "String" => m0(str_t(), move || Value::string(gotime::duration_string(d))),
            "Hours" => m0(f64_t(), move || Value::float(gotime::duration_hours(d))),
            "Minutes" => m0(f64_t(), move || Value::float(gotime::duration_minutes(d))),
            "Seconds" => m0(f64_t(), move || Value::float(gotime::duration_seconds(d))),
            "Milliseconds" => m0(i64_t(), move || Value::int64(d / gotime::MILLISECOND)),
            "Microseconds" => m0(i64_t(), move || Value::int64(d / gotime::MICROSECOND)),
            "Nanoseconds" => m0(i64_t(), move || Value::int64(d)),
            "Abs" => m0(duration_t(), move || {
                duration_value(if d >= 0 {
                    d
                } else if d == i64::MIN {
                    i64::MAX
                } else {
                    -d
                })
            }),
            "Round" => m1(duration_t(), duration_t(), move |m| {
                Ok(duration_value(gotime::duration_round(d, duration_of(m).unwrap_or(0))))
            }),
            "Truncate" => m1(duration_t(), duration_t(), move |m| {
                Ok(duration_value(gotime::duration_truncate(d, duration_of(m).unwrap_or(0))))
            }),
            _ => return None,
        })
    }

    fn format_v(&self) -> String {
        gotime::duration_string(self.0)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl CalendarObj {
    fn name(&self) -> String {
        let table: &[&str] = if self.weekday { &gotime::DAY_NAMES } else { &gotime::MONTH_NAMES };
        let idx = if self.weekday { self.value } else { self.value - 1 };
        match table.get(idx as usize) {
            Some(n) if idx >= 0 => n.to_string(),
            _ => format!("%!{}({})", if self.weekday { "Weekday" } else { "Month" }, self.value),
        }
    }
}

impl Object for CalendarObj {
    fn go_type(&self) -> GoType {
        GoType::Named(if self.weekday { "time.Weekday" } else { "time.Month" }.into())
    }

    fn member(&self, name: &str) -> Option<Member> {
        match name {
            "String" => {
                let s = self.name();
                Some(m0(str_t(), move || Value::string(s.clone())))
            }
            _ => None,
        }
    }

    fn format_v(&self) -> String {
        self.name()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Object for LocationObj {
    fn go_type(&self) -> GoType {
        GoType::Named("*time.Location".into())
    }

    fn member(&self, name: &str) -> Option<Member> {
        match name {
            "String" => {
                let s = self.0.name.clone();
                Some(m0(str_t(), move || Value::string(s.clone())))
            }
            _ => None,
        }
    }

    fn format_v(&self) -> String {
        self.0.name.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// sprig `dateInZone`'s choice of time: a `time.Time`, or Unix seconds as `int`, `int32` or
/// `int64`; anything else is "now".
fn date_arg(v: &Value, allow_int32: bool) -> Time {
    if let Some(t) = time_of(v) {
        return t;
    }
    match v {
        Value::Int(i, IntKind::Int | IntKind::Int64) => Time::unix(*i, 0),
        Value::Int(i, IntKind::Int32) if allow_int32 => Time::unix(*i, 0),
        _ => Time::now(),
    }
}

fn date_in_zone(layout: &str, date: &Value, zone: &str) -> Value {
    let t = date_arg(date, true);
    let loc = Location::load(zone).unwrap_or_else(Location::utc);
    Value::string(t.in_loc(loc).format(layout))
}

/// Go's `strconv.ParseInt(s, 10, 64)` value when the error is ignored (clamped on overflow).
fn parse_int10_lossy(s: &str) -> i64 {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    match digits.parse::<u64>() {
        Ok(u) if !neg && u <= i64::MAX as u64 => u as i64,
        Ok(u) if neg && u <= 1u64 << 63 => (u as i64).wrapping_neg(),
        _ => {
            if neg {
                i64::MIN
            } else {
                i64::MAX
            }
        }
    }
}

fn duration_round_text(v: &Value) -> String {
    let d: i64 = if let Some(t) = time_of(v) {
        Time::now().sub(&t)
    } else {
        match v {
            Value::String(s) => gotime::parse_duration(s).unwrap_or(0),
            Value::Int(i, IntKind::Int64) => *i,
            _ => 0,
        }
    };
    let u = d.unsigned_abs();
    let hour = gotime::HOUR as u64;
    let (year, month, day) = (hour * 24 * 365, hour * 24 * 30, hour * 24);
    let (minute, second) = (gotime::MINUTE as u64, gotime::SECOND as u64);
    if u > year {
        format!("{}y", u / year)
    } else if u > month {
        format!("{}mo", u / month)
    } else if u > day {
        format!("{}d", u / day)
    } else if u > hour {
        format!("{}h", u / hour)
    } else if u > minute {
        format!("{}m", u / minute)
    } else if u > second {
        format!("{}s", u / second)
    } else {
        "0s".into()
    }
}

/// Go: `Time.MarshalJSON` / `MarshalText` (RFC 3339 with nanoseconds; years outside 0..=9999
/// are an error).
pub fn marshal_time(t: &Time, json: bool) -> Result<Value, FuncError> {
    let year = t.year();
    if !(0..=9999).contains(&year) {
        let which = if json { "Time.MarshalJSON" } else { "Time.MarshalText" };
        return Err(FuncError::new(format!("{which}: year outside of range [0,9999]")));
    }
    let s = t.format("2006-01-02T15:04:05.999999999Z07:00");
    let s = if json { format!("\"{s}\"") } else { s };
    Ok(Value::Bytes(Arc::from(s.into_bytes())))
}

fn arg_time(v: &Value) -> Time {
    time_of(v).unwrap_or_else(Time::zero)
}

/// Adds this family's functions to `map`.
pub fn register(m: &mut FuncMap) {
    add(m, "now", vec![], time_t(), |_| Ok(time_value(Time::now())));
    add(m, "date", vec![str_t(), any()], str_t(), |a| Ok(date_in_zone(arg_str(&a[0]), &a[1], "Local")));
    for name in ["dateInZone", "date_in_zone"] {
        add(m, name, vec![str_t(), any(), str_t()], str_t(), |a| Ok(date_in_zone(arg_str(&a[0]), &a[1], arg_str(&a[2]))));
    }
    add(m, "htmlDate", vec![any()], str_t(), |a| Ok(date_in_zone("2006-01-02", &a[0], "Local")));
    add(m, "htmlDateInZone", vec![any(), str_t()], str_t(), |a| Ok(date_in_zone("2006-01-02", &a[0], arg_str(&a[1]))));
    for name in ["dateModify", "date_modify"] {
        add(m, name, vec![str_t(), time_t()], time_t(), |a| {
            let t = arg_time(&a[1]);
            Ok(time_value(match gotime::parse_duration(arg_str(&a[0])) {
                Ok(d) => t.add(d),
                Err(_) => t,
            }))
        });
    }
    for name in ["mustDateModify", "must_date_modify"] {
        add_err(m, name, vec![str_t(), time_t()], time_t(), false, |a| {
            let t = arg_time(&a[1]);
            match gotime::parse_duration(arg_str(&a[0])) {
                Ok(d) => Ok(time_value(t.add(d))),
                Err(e) => err(e),
            }
        });
    }
    add(m, "toDate", vec![str_t(), str_t()], time_t(), |a| {
        let local = Location::local();
        Ok(time_value(gotime::parse(arg_str(&a[0]), arg_str(&a[1]), local.clone(), local).unwrap_or_else(|_| Time::zero())))
    });
    add_err(m, "mustToDate", vec![str_t(), str_t()], time_t(), false, |a| {
        let local = Location::local();
        gotime::parse(arg_str(&a[0]), arg_str(&a[1]), local.clone(), local).map(time_value).map_err(FuncError::new)
    });
    add(m, "unixEpoch", vec![time_t()], str_t(), |a| Ok(Value::string(arg_time(&a[0]).sec.to_string())));
    add(m, "ago", vec![any()], str_t(), |a| {
        let t = date_arg(&a[0], false);
        let d = gotime::duration_round(Time::now().sub(&t), gotime::SECOND);
        Ok(Value::string(gotime::duration_string(d)))
    });
    add(m, "duration", vec![any()], str_t(), |a| {
        let n = match &a[0] {
            Value::String(s) => parse_int10_lossy(s),
            Value::Int(i, IntKind::Int64) => *i,
            _ => 0,
        };
        Ok(Value::string(gotime::duration_string(n.wrapping_mul(gotime::SECOND))))
    });
    add(m, "durationRound", vec![any()], str_t(), |a| Ok(Value::string(duration_round_text(&a[0]))));
}
