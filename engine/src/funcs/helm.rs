//! Helm v4.3.1's own template functions (pkg/engine funcs.go and engine.go): the serialisers
//! that replace sprig's (`toJson`, `mustToJson`, `fromJson`, `fromJsonArray`, `toToml`,
//! `mustToToml`, `fromToml`), the late-bound `include` and `tpl`, `required` and `fail` with
//! Helm's error delimiters, the offline `lookup`, and `getHostByName` without DNS.
//! (`toYaml` and its family come from funcs/helm_yaml.rs; the duration helpers from
//! funcs/duration.rs.)

use std::collections::BTreeMap;

use super::util::{add, any, list_t, map_t, str_t};
use super::{CallContext, Func, FuncError, FuncMap, Signature};
use crate::json::{self, Target};
use crate::value::{Str, Value};

/// Helm's `recursionMaxNums`: how deep one template name may be `include`d in itself.
pub const RECURSION_MAX_NUMS: usize = 1000;

/// Helm's `warnWrap` delimiters around `required`/`fail` messages.
pub const WARN_START: &str = "HELM_ERR_START";
pub const WARN_END: &str = "HELM_ERR_END";

fn warn_wrap(msg: &str) -> FuncError {
    FuncError(format!("{WARN_START}{msg}{WARN_END}"))
}

/// Adds this family's functions to `map`.
pub fn register(m: &mut FuncMap) {
    // Serialisers (funcs.go). Helm's toJson swallows errors; mustToJson panics with the error.
    add(m, "toJson", vec![any()], str_t(), |a| Ok(Value::string(json::to_json(&a[0]).unwrap_or_default())));
    add(m, "mustToJson", vec![any()], str_t(), |a| json::to_json(&a[0]).map(Value::string).map_err(FuncError));
    add(m, "fromJson", vec![str_t()], map_t(), |a| {
        let (v, e) = json::unmarshal(a[0].as_str().unwrap_or(""), Target::Map);
        Ok(with_error_key(v, e))
    });
    add(m, "fromJsonArray", vec![str_t()], list_t(), |a| {
        let (v, e) = json::unmarshal(a[0].as_str().unwrap_or(""), Target::Slice);
        Ok(match e {
            Some(e) => Value::list(vec![Value::string(e)]),
            None => v,
        })
    });
    // toToml returns the encoder's error text as its output; mustToToml panics with it.
    // A nil argument makes the encoder panic inside reflect before any TOML error is possible.
    add(m, "toToml", vec![any()], str_t(), |a| {
        nil_toml(&a[0])?;
        Ok(Value::string(crate::toml::to_toml(&a[0]).unwrap_or_else(|e| e)))
    });
    add(m, "mustToToml", vec![any()], str_t(), |a| {
        nil_toml(&a[0])?;
        crate::toml::to_toml(&a[0]).map(Value::string).map_err(FuncError)
    });
    add(m, "fromToml", vec![str_t()], map_t(), |a| {
        Ok(match crate::toml::from_toml(a[0].as_str().unwrap_or("")) {
            Ok(v) => v,
            Err(e) => with_error_key(Value::empty_map(), Some(e)),
        })
    });

    // include and tpl (engine.go includeFun/tplFun), bound to the running template set.
    m.insert(
        "include",
        Func::new(Signature::new(vec![str_t(), any()], str_t()).with_error(), |ctx: &mut dyn CallContext, a: &[Value]| {
            let name = a[0].as_str().unwrap_or("");
            {
                let count = ctx.include_count(name);
                if *count > RECURSION_MAX_NUMS {
                    return Err(FuncError(format!(
                        "rendering template has a nested reference name: {name}: unable to execute template"
                    )));
                }
                *count += 1;
            }
            let r = ctx.execute_template_value(name, &a[1]);
            let count = ctx.include_count(name);
            *count = count.saturating_sub(1);
            r
        }),
    );
    m.insert(
        "tpl",
        Func::new(Signature::new(vec![str_t(), any()], str_t()).with_error(), |ctx: &mut dyn CallContext, a: &[Value]| {
            ctx.execute_text(a[0].as_str().unwrap_or(""), &a[1]).map(Value::string)
        }),
    );

    // required and fail (engine.go initFunMap, not in lint mode).
    m.insert(
        "required",
        Func::pure(Signature::new(vec![str_t(), any()], any()).with_error(), |a| {
            let warn = a[0].as_str().unwrap_or("");
            match &a[1] {
                Value::Nil | Value::Missing => Err(warn_wrap(warn)),
                Value::String(s) if s.is_empty() => Err(warn_wrap(warn)),
                v => Ok(v.clone()),
            }
        }),
    );
    m.insert(
        "fail",
        Func::pure(Signature::new(vec![str_t()], str_t()).with_error(), |a| Err(warn_wrap(a[0].as_str().unwrap_or("")))),
    );

    // lookup without a cluster connection: an empty map.
    m.insert(
        "lookup",
        Func::pure(Signature::new(vec![str_t(), str_t(), str_t(), str_t()], map_t()).with_error(), |_| {
            Ok(Value::empty_map())
        }),
    );

    // Without --enable-dns Helm replaces sprig's getHostByName with one returning "".
    add(m, "getHostByName", vec![str_t()], str_t(), |_| Ok(Value::string("")));
}

/// Helm's `m["Error"] = err.Error()` on the map an unmarshal left behind.
fn with_error_key(v: Value, e: Option<String>) -> Value {
    let Some(e) = e else { return v };
    match &v {
        Value::Map(m) => {
            m.write().insert(Str::from("Error"), Value::string(e));
            v
        }
        _ => {
            let mut entries = BTreeMap::new();
            entries.insert(Str::from("Error"), Value::string(e));
            Value::map(entries)
        }
    }
}

fn nil_toml(v: &Value) -> Result<(), FuncError> {
    match v {
        Value::Nil | Value::Missing => Err(FuncError("reflect: call of reflect.Value.Type on zero Value".into())),
        _ => Ok(()),
    }
}
