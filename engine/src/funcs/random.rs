//! sprig's random string functions (strings.go `randAlphaNum`, `randAlpha`, `randAscii`,
//! `randNumeric`), with Masterminds/goutils v1.1.1 `CryptoRandom*` semantics: characters drawn
//! uniformly from ' '..'z' (letters and/or digits only) or, for `randAscii`, from 32..126; a
//! negative length is goutils' error, which sprig drops, so the result is "".

use rand::Rng;

use super::util::*;
use super::FuncMap;
use crate::value::Value;

const DIGITS: &str = "0123456789";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";

/// A string of `count` characters drawn uniformly from `set` ("" for `count <= 0`).
fn random_from(count: i64, set: &[u8]) -> String {
    if count <= 0 {
        return String::new();
    }
    // A CSPRNG seeded from the OS once per thread (as goutils reads crypto/rand), rather than
    // one getrandom call per character.
    let mut rng = rand::thread_rng();
    (0..count).map(|_| set[rng.gen_range(0..set.len())] as char).collect()
}

fn alnum() -> Vec<u8> {
    format!("{DIGITS}{UPPER}{LOWER}").into_bytes()
}

fn alpha() -> Vec<u8> {
    format!("{UPPER}{LOWER}").into_bytes()
}

fn ascii() -> Vec<u8> {
    (32u8..127).collect()
}

/// Adds this family's functions to `map`.
pub fn register(m: &mut FuncMap) {
    add(m, "randAlphaNum", vec![int_t()], str_t(), |a| ok(Value::string(random_from(arg_int(&a[0]), &alnum()))));
    add(m, "randAlpha", vec![int_t()], str_t(), |a| ok(Value::string(random_from(arg_int(&a[0]), &alpha()))));
    add(m, "randAscii", vec![int_t()], str_t(), |a| ok(Value::string(random_from(arg_int(&a[0]), &ascii()))));
    add(m, "randNumeric", vec![int_t()], str_t(), |a| ok(Value::string(random_from(arg_int(&a[0]), DIGITS.as_bytes()))));
}
