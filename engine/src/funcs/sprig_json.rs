//! sprig v3.3.0's JSON functions (defaults.go): `toJson`, `mustToJson`, `toPrettyJson`,
//! `mustToPrettyJson`, `toRawJson`, `mustToRawJson`, `fromJson`, `mustFromJson`. Helm replaces
//! some of them in its own table (funcs/helm.rs).

use super::util::{add, add_err, any, str_t};
use super::{FuncError, FuncMap};
use crate::json::{self, Target};
use crate::value::Value;

/// Adds sprig's JSON functions to `map`.
pub fn register(m: &mut FuncMap) {
    // toJson: errors are swallowed (`output, _ := json.Marshal(v)`: nil output, "").
    add(m, "toJson", vec![any()], str_t(), |a| Ok(Value::string(json::to_json(&a[0]).unwrap_or_default())));
    add_err(m, "mustToJson", vec![any()], str_t(), false, |a| {
        json::to_json(&a[0]).map(Value::string).map_err(FuncError)
    });
    add(m, "toPrettyJson", vec![any()], str_t(), |a| {
        Ok(Value::string(json::to_json_indent(&a[0], "", "  ").unwrap_or_default()))
    });
    add_err(m, "mustToPrettyJson", vec![any()], str_t(), false, |a| {
        json::to_json_indent(&a[0], "", "  ").map(Value::string).map_err(FuncError)
    });
    // toRawJson panics on error; text/template turns the panic into the call's error.
    add(m, "toRawJson", vec![any()], str_t(), |a| json::to_json_raw(&a[0]).map(Value::string).map_err(FuncError));
    add_err(m, "mustToRawJson", vec![any()], str_t(), false, |a| {
        json::to_json_raw(&a[0]).map(Value::string).map_err(FuncError)
    });
    add(m, "fromJson", vec![str_t()], any(), |a| Ok(json::unmarshal(a[0].as_str().unwrap_or(""), Target::Any).0));
    add_err(m, "mustFromJson", vec![str_t()], any(), false, |a| {
        let (v, e) = json::unmarshal(a[0].as_str().unwrap_or(""), Target::Any);
        match e {
            Some(e) => Err(FuncError(e)),
            None => Ok(v),
        }
    });
}
