//! Helm 4's duration functions (helm: pkg/engine/funcs.go): `mustToDuration`, `durationSeconds`,
//! `durationMilliseconds`, `durationMicroseconds`, `durationNanoseconds`, `durationMinutes`,
//! `durationHours`, `durationDays`, `durationWeeks`, `durationRoundTo`, `durationTruncateTo`.
//! Values are `time.Duration`s, Go duration strings (`"1h30m"`), numeric strings or numbers of
//! seconds.

use super::date::{duration_of, duration_t, duration_value, gotime, month_or_weekday};
use super::util::*;
use super::{FuncError, FuncMap};
use crate::value::Value;

const MAX_SECONDS: i64 = i64::MAX / gotime::SECOND;
const MIN_SECONDS: i64 = i64::MIN / gotime::SECOND;
const MAX_SECONDS_F: f64 = i64::MAX as f64 / gotime::SECOND as f64;
const MIN_SECONDS_F: f64 = i64::MIN as f64 / gotime::SECOND as f64;

fn fmt_float(f: f64) -> String {
    crate::print::float::format_v(f, false)
}

fn from_seconds_int(s: i64) -> Result<i64, String> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&s) {
        return Err(format!("duration seconds overflow: {s}"));
    }
    Ok(s * gotime::SECOND)
}

fn from_seconds_uint(s: u64) -> Result<i64, String> {
    if s > MAX_SECONDS as u64 {
        return Err(format!("duration seconds overflow: {s}"));
    }
    Ok(s as i64 * gotime::SECOND)
}

fn from_seconds_float(s: f64) -> Result<i64, String> {
    if s.is_nan() || s.is_infinite() {
        return Err(format!("invalid duration seconds: {}", fmt_float(s)));
    }
    if !(MIN_SECONDS_F..=MAX_SECONDS_F).contains(&s) {
        return Err(format!("duration seconds overflow: {}", fmt_float(s)));
    }
    let nanos = s * gotime::SECOND as f64;
    if nanos > i64::MAX as f64 || nanos < i64::MIN as f64 {
        return Err(format!("duration nanoseconds overflow: {}", fmt_float(nanos)));
    }
    Ok(super::numeric::go_f64_to_i64(nanos))
}

/// Go's `strings.TrimSpace`.
fn trim_space(s: &str) -> &str {
    s.trim_matches(super::strings::go_space)
}

/// Helm's `asDuration`.
fn as_duration(v: &Value) -> Result<i64, String> {
    if let Some(d) = duration_of(v) {
        return Ok(d);
    }
    match v {
        Value::String(x) => {
            let s = trim_space(x);
            if s.is_empty() {
                return Err("empty duration".into());
            }
            if let Ok(d) = gotime::parse_duration(s) {
                return Ok(d);
            }
            if let Some(f) = super::numeric::go_parse_float(s) {
                return from_seconds_float(f);
            }
            Err(format!("could not parse duration {}", crate::print::quote(x)))
        }
        Value::Nil | Value::Missing => Err("invalid duration".into()),
        Value::Int(i, _) => from_seconds_int(*i),
        Value::Uint(u, _) => from_seconds_uint(*u),
        Value::Float(f, _) => from_seconds_float(*f),
        Value::Object(o) => match month_or_weekday(o.as_ref()) {
            Some(i) => from_seconds_int(i),
            None => Err(format!("unsupported duration type {}", type_name(v))),
        },
        v => Err(format!("unsupported duration type {}", type_name(v))),
    }
}

type DurToFloat = fn(i64) -> f64;
type DurOp = fn(i64, i64) -> i64;

/// Adds this family's functions to `map`.
pub fn register(m: &mut FuncMap) {
    add(m, "mustToDuration", vec![any()], duration_t(), |a| {
        as_duration(&a[0]).map(duration_value).map_err(FuncError::new)
    });
    let float_fns: [(&str, DurToFloat); 5] = [
        ("durationSeconds", gotime::duration_seconds),
        ("durationMinutes", gotime::duration_minutes),
        ("durationHours", gotime::duration_hours),
        ("durationDays", |d| gotime::duration_hours(d) / 24.0),
        ("durationWeeks", |d| gotime::duration_hours(d) / 24.0 / 7.0),
    ];
    for (name, f) in float_fns {
        add(m, name, vec![any()], f64_t(), move |a| Ok(Value::float(as_duration(&a[0]).map(f).unwrap_or(0.0))));
    }
    let int_fns: [(&str, i64); 3] = [
        ("durationMilliseconds", gotime::MILLISECOND),
        ("durationMicroseconds", gotime::MICROSECOND),
        ("durationNanoseconds", gotime::NANOSECOND),
    ];
    for (name, unit) in int_fns {
        add(m, name, vec![any()], i64_t(), move |a| Ok(Value::int64(as_duration(&a[0]).map(|d| d / unit).unwrap_or(0))));
    }
    let round_fns: [(&str, DurOp); 2] =
        [("durationRoundTo", gotime::duration_round), ("durationTruncateTo", gotime::duration_truncate)];
    for (name, f) in round_fns {
        add(m, name, vec![any(), any()], duration_t(), move |a| {
            let Ok(d) = as_duration(&a[0]) else { return Ok(duration_value(0)) };
            Ok(duration_value(match as_duration(&a[1]) {
                Ok(mul) => f(d, mul),
                Err(_) => d,
            }))
        });
    }
}
