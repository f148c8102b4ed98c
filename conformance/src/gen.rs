//! Generated template cases: random but reproducible templates over a fixed data set, built from
//! a small grammar of Go's template language and a table of functions with plausible argument
//! kinds. Go's `text/template` (through `gotmpl-oracle`) decides what each should print or which
//! error it should raise; the generator only has to produce varied, mostly well-typed input.
//!
//! The same seed always yields the same cases (names `gen-<seed>-<n>`), so a failing case can be
//! named in a known-differences list and reproduced with `engine-diff --generated`.

use std::path::PathBuf;

use crate::cases::Case;

/// The data every generated case runs on: one of each kind a chart's values can hold.
pub const DATA: &str = r#"{"i": 3, "f": 1.5, "big": 1000000, "neg": -2, "z": 0, "s": "hello", "e": "", "sp": "  padded  ", "u": "Ünïcödé ✓", "num": "42", "b": true, "no": false, "n": null, "l": [1, "two", 3.5, null, true], "sl": ["b", "a", "c"], "nl": [3, 1, 2], "el": [], "m": {"a": 1, "b": "x", "c": {"d": [1, 2], "e": "deep"}}, "em": {}, "ver": "1.2.3", "csv": "a,b,,c", "url": "https://user:pw@example.com:8080/p/a?q=1&r=x#frag"}"#;

/// splitmix64: tiny, fast and good enough to drive a grammar.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What kind of value an argument position wants.
#[derive(Clone, Copy, PartialEq, Eq)]
enum K {
    Any,
    Str,
    Int,
    Num,
    List,
    Map,
    Bool,
}

/// Functions the generator calls, with the kinds of their arguments. Only deterministic ones.
const FUNCS: &[(&str, &[K], K)] = &[
    // Go's built-ins
    ("len", &[K::Any], K::Int),
    ("index", &[K::List, K::Int], K::Any),
    ("index", &[K::Map, K::Str], K::Any),
    ("print", &[K::Any, K::Any], K::Str),
    ("println", &[K::Any], K::Str),
    ("html", &[K::Str], K::Str),
    ("js", &[K::Str], K::Str),
    ("urlquery", &[K::Str], K::Str),
    ("eq", &[K::Any, K::Any], K::Bool),
    ("eq", &[K::Num, K::Num, K::Num], K::Bool),
    ("ne", &[K::Any, K::Any], K::Bool),
    ("lt", &[K::Num, K::Num], K::Bool),
    ("le", &[K::Str, K::Str], K::Bool),
    ("gt", &[K::Int, K::Int], K::Bool),
    ("ge", &[K::Num, K::Num], K::Bool),
    ("and", &[K::Any, K::Any], K::Any),
    ("or", &[K::Any, K::Any], K::Any),
    ("not", &[K::Any], K::Bool),
    // sprig strings
    ("upper", &[K::Str], K::Str),
    ("lower", &[K::Str], K::Str),
    ("title", &[K::Str], K::Str),
    ("trim", &[K::Str], K::Str),
    ("trimPrefix", &[K::Str, K::Str], K::Str),
    ("trimSuffix", &[K::Str, K::Str], K::Str),
    ("quote", &[K::Any], K::Str),
    ("squote", &[K::Any], K::Str),
    ("repeat", &[K::Int, K::Str], K::Str),
    ("contains", &[K::Str, K::Str], K::Bool),
    ("hasPrefix", &[K::Str, K::Str], K::Bool),
    ("replace", &[K::Str, K::Str, K::Str], K::Str),
    ("trunc", &[K::Int, K::Str], K::Str),
    ("abbrev", &[K::Int, K::Str], K::Str),
    ("indent", &[K::Int, K::Str], K::Str),
    ("nindent", &[K::Int, K::Str], K::Str),
    ("cat", &[K::Any, K::Any], K::Str),
    ("toString", &[K::Any], K::Str),
    ("snakecase", &[K::Str], K::Str),
    ("camelcase", &[K::Str], K::Str),
    ("kebabcase", &[K::Str], K::Str),
    ("split", &[K::Str, K::Str], K::Map),
    ("splitList", &[K::Str, K::Str], K::List),
    ("join", &[K::Str, K::List], K::Str),
    ("sortAlpha", &[K::List], K::List),
    ("sha256sum", &[K::Str], K::Str),
    ("b64enc", &[K::Str], K::Str),
    ("plural", &[K::Str, K::Str, K::Int], K::Str),
    // conversion and math
    ("int", &[K::Any], K::Int),
    ("int64", &[K::Any], K::Int),
    ("float64", &[K::Any], K::Num),
    ("atoi", &[K::Str], K::Int),
    ("add", &[K::Num, K::Num], K::Int),
    ("add1", &[K::Num], K::Int),
    ("sub", &[K::Num, K::Num], K::Int),
    ("mul", &[K::Num, K::Num], K::Int),
    ("div", &[K::Num, K::Num], K::Int),
    ("mod", &[K::Int, K::Int], K::Int),
    ("max", &[K::Num, K::Num, K::Num], K::Int),
    ("min", &[K::Num, K::Num], K::Int),
    ("addf", &[K::Num, K::Num], K::Num),
    ("mulf", &[K::Num, K::Num], K::Num),
    ("floor", &[K::Num], K::Num),
    ("ceil", &[K::Num], K::Num),
    ("round", &[K::Num, K::Int], K::Num),
    ("until", &[K::Int], K::List),
    ("seq", &[K::Int, K::Int], K::Str),
    // lists and dicts
    ("list", &[K::Any, K::Any, K::Any], K::List),
    ("first", &[K::List], K::Any),
    ("last", &[K::List], K::Any),
    ("rest", &[K::List], K::List),
    ("initial", &[K::List], K::List),
    ("reverse", &[K::List], K::List),
    ("uniq", &[K::List], K::List),
    ("compact", &[K::List], K::List),
    ("append", &[K::List, K::Any], K::List),
    ("prepend", &[K::List, K::Any], K::List),
    ("has", &[K::Any, K::List], K::Bool),
    ("without", &[K::List, K::Any], K::List),
    ("concat", &[K::List, K::List], K::List),
    ("dict", &[K::Str, K::Any, K::Str, K::Any], K::Map),
    ("get", &[K::Map, K::Str], K::Any),
    ("hasKey", &[K::Map, K::Str], K::Bool),
    // `keys` and `values` follow Go's random map order: only sorted.
    ("pick", &[K::Map, K::Str], K::Map),
    ("omit", &[K::Map, K::Str], K::Map),
    ("dig", &[K::Str, K::Str, K::Any, K::Map], K::Any),
    ("merge", &[K::Map, K::Map], K::Map),
    ("deepCopy", &[K::Any], K::Any),
    // defaults, logic, reflection
    ("default", &[K::Any, K::Any], K::Any),
    ("empty", &[K::Any], K::Bool),
    ("coalesce", &[K::Any, K::Any, K::Any], K::Any),
    ("ternary", &[K::Any, K::Any, K::Bool], K::Any),
    ("all", &[K::Any, K::Any], K::Bool),
    ("any", &[K::Any, K::Any], K::Bool),
    ("typeOf", &[K::Any], K::Str),
    ("kindOf", &[K::Any], K::Str),
    ("kindIs", &[K::Str, K::Any], K::Bool),
    ("deepEqual", &[K::Any, K::Any], K::Bool),
    // serialisation
    ("toJson", &[K::Any], K::Str),
    ("toPrettyJson", &[K::Any], K::Str),
    ("toYaml", &[K::Any], K::Str),
    ("fromJson", &[K::Str], K::Map),
    ("fromYaml", &[K::Str], K::Map),
    // regex, semver, encoding
    ("regexMatch", &[K::Str, K::Str], K::Bool),
    ("regexReplaceAll", &[K::Str, K::Str, K::Str], K::Str),
    ("regexFindAll", &[K::Str, K::Str, K::Int], K::List),
    ("semverCompare", &[K::Str, K::Str], K::Bool),
    ("b64dec", &[K::Str], K::Str),
    ("base", &[K::Str], K::Str),
    ("ext", &[K::Str], K::Str),
];

const STR_LITS: &[&str] = &[
    r#""""#, r#""a""#, r#""hello""#, r#""Hello World""#, r#""a,b,c""#, r#"",""#, r#""x-y_z""#, r#""  sp  ""#,
    r#""\t\n""#, r#""ünï""#, r#""42""#, r#""3.5""#, r#""true""#, r#""yes""#, r#""{\"a\":1}""#, r#""a: [1, 2]""#,
    r#""^h.*o$""#, r#""[aeiou]""#, r#""(l+)""#, r#""${1}X""#, r#""1.2.x""#, r#"">=1.0.0""#, r#""~1.2""#,
    "`raw\\n`", r#""aGVsbG8=""#, r#""/a/b/c.txt""#, r#""%v-%d""#, r#""null""#, r#""0x1F""#, r#""  ""#,
];
const INT_LITS: &[&str] = &["0", "1", "2", "3", "-1", "10", "100", "0x10", "1_000", "07", "'a'", "-7", "1000000"];
const FLOAT_LITS: &[&str] = &["1.5", "0.1", "-2.25", "1e6", "1e21", "3.0", "0.000001", "2.5e-3", "123456.0"];
const FIELDS_ANY: &[&str] = &[
    ".i", ".f", ".big", ".neg", ".z", ".s", ".e", ".b", ".no", ".n", ".l", ".sl", ".m", ".em", ".el", ".m.a", ".m.b",
    ".m.c", ".m.c.d", ".nope", ".u", ".sp", "$.s", ".num", ".m.zz", ".ver",
];
const FIELDS_STR: &[&str] = &[".s", ".e", ".u", ".sp", ".num", ".m.b", ".m.c.e", ".ver", ".csv", ".url"];
const FIELDS_NUM: &[&str] = &[".i", ".f", ".big", ".neg", ".z", ".m.a"];
const FIELDS_LIST: &[&str] = &[".l", ".sl", ".nl", ".el", ".m.c.d"];
const FIELDS_MAP: &[&str] = &[".m", ".em", ".m.c", "$"];
const PRINTF_FORMATS: &[&str] = &[
    r#""%v""#, r#""%d""#, r#""%s""#, r#""%q""#, r#""%T""#, r#""%5.2f""#, r#""%-6s|""#, r#""%05d""#, r#""%x""#, r#""%+v""#,
    r#""%v %v""#, r#""%e""#, r#""%g""#, r#""%t""#, r#""%#v""#, r#""%%""#, r#""%6.1e""#, r#""%X""#, r#""%c""#,
];

struct Gen {
    rng: Rng,
    /// Variables in scope (besides `$`).
    vars: Vec<String>,
    next_var: usize,
    /// Inside a range: `break`/`continue` allowed.
    in_range: usize,
    /// Generating the body of the `define`d helper.
    in_define: bool,
    /// Inside range/with: `.` is no longer the data.
    dot_moved: usize,
}

impl Gen {
    fn atom(&mut self, k: K) -> String {
        let a = self.atom_raw(k);
        // A defined template's dot (and `$`) is whatever it was called with: mostly literals.
        if self.in_define && (a.starts_with('.') || a.starts_with('$')) && a.len() > 1 {
            return if self.rng.chance(40) { ".".into() } else { self.rng.pick(STR_LITS).to_string() };
        }
        // Inside range/with the dot has moved: reach the data through `$` most of the time.
        if self.dot_moved > 0 && a.starts_with('.') && a.len() > 1 && self.rng.chance(95) {
            format!("${a}")
        } else {
            a
        }
    }

    fn atom_raw(&mut self, k: K) -> String {
        let r = &mut self.rng;
        // Now and then a value of the wrong kind, so that Go's type errors are exercised too.
        let k = if r.chance(4) { *r.pick(&[K::Any, K::Str, K::Int, K::Num, K::List, K::Map, K::Bool]) } else { k };
        match k {
            K::Str => {
                if r.chance(50) {
                    r.pick(STR_LITS).to_string()
                } else {
                    r.pick(FIELDS_STR).to_string()
                }
            }
            K::Int => {
                if r.chance(92) {
                    r.pick(INT_LITS).to_string()
                } else {
                    r.pick(&[".i", ".z", ".neg", ".big"]).to_string()
                }
            }
            K::Num => match r.below(3) {
                0 => r.pick(INT_LITS).to_string(),
                1 => r.pick(FLOAT_LITS).to_string(),
                _ => r.pick(FIELDS_NUM).to_string(),
            },
            K::List => r.pick(FIELDS_LIST).to_string(),
            K::Map => r.pick(FIELDS_MAP).to_string(),
            K::Bool => r.pick(&["true", "false", ".b", ".no"]).to_string(),
            K::Any => {
                if !self.vars.is_empty() && r.chance(20) {
                    let v = r.pick(&self.vars).clone();
                    return v;
                }
                match r.below(6) {
                    0 => r.pick(STR_LITS).to_string(),
                    1 => r.pick(INT_LITS).to_string(),
                    2 => r.pick(FLOAT_LITS).to_string(),
                    3 => r.pick(&["true", "false", "nil", "."]).to_string(),
                    _ => r.pick(FIELDS_ANY).to_string(),
                }
            }
        }
    }

    /// An argument: an atom or, with some depth left, a parenthesized call.
    fn arg(&mut self, k: K, depth: usize) -> String {
        if depth > 0 && self.rng.chance(30) {
            format!("({})", self.pipeline(depth - 1))
        } else {
            self.atom(k)
        }
    }

    fn call(&mut self, depth: usize) -> String {
        if self.rng.chance(8) {
            let f = self.rng.pick(PRINTF_FORMATS).to_string();
            let n = self.rng.below(3);
            let mut s = format!("printf {f}");
            for _ in 0..n {
                s.push(' ');
                s.push_str(&self.arg(K::Any, depth));
            }
            return s;
        }
        let (name, kinds, _) = *self.rng.pick(FUNCS);
        if name == "merge" {
            // merge writes into its first argument: a fresh dict, so that the data never comes to
            // contain itself (Go overflows its stack printing such a map).
            let dst = self.rng.pick(&["(dict)", "(dict \"a\" 0)", "(dict \"x\" (dict \"y\" 1))"]).to_string();
            let src = self.rng.pick(FIELDS_MAP).to_string();
            return format!("merge {dst} {src}");
        }
        let mut s = name.to_string();
        // Occasionally one argument too few or too many.
        let n = match self.rng.below(20) {
            0 if !kinds.is_empty() && self.rng.chance(40) => kinds.len() - 1,
            1 if self.rng.chance(40) => kinds.len() + 1,
            _ => kinds.len(),
        };
        for i in 0..n {
            let k = kinds.get(i).copied().unwrap_or(K::Any);
            s.push(' ');
            s.push_str(&self.arg(k, depth));
        }
        s
    }

    /// A pipeline: a call or an operand, maybe piped into calls whose last parameter accepts
    /// what flows in (mostly: a wrong fit now and then exercises Go's type errors).
    fn pipeline(&mut self, depth: usize) -> String {
        let (mut s, mut flowing) = if self.rng.chance(60) {
            let c = self.call(depth);
            let name = c.split(' ').next().unwrap_or("");
            let k = FUNCS.iter().find(|f| f.0 == name).map(|f| f.2).unwrap_or(K::Str);
            (c, k)
        } else {
            let mut a = self.atom(K::Any);
            if a == "nil" {
                a = "$".into();
            }
            (a, K::Any)
        };
        let stages = if self.rng.chance(35) { 1 + self.rng.below(2) } else { 0 };
        for _ in 0..stages {
            let fits: Vec<&(&str, &[K], K)> = FUNCS
                .iter()
                .filter(|f| f.1.last().is_some_and(|&k| k == K::Any || k == flowing || (k == K::Num && flowing == K::Int)))
                .collect();
            let (name, kinds, result) = if fits.is_empty() || self.rng.chance(5) { *self.rng.pick(FUNCS) } else { **self.rng.pick(&fits) };
            s.push_str(" | ");
            s.push_str(name);
            for i in 0..kinds.len().saturating_sub(1) {
                s.push(' ');
                s.push_str(&self.atom(kinds[i]));
            }
            flowing = result;
        }
        s
    }

    fn action(&mut self, depth: usize) -> String {
        let (l, r) = match self.rng.below(8) {
            0 => ("{{- ", " -}}"),
            1 => ("{{- ", " }}"),
            2 => ("{{ ", " -}}"),
            _ => ("{{ ", " }}"),
        };
        format!("{l}{}{r}", self.pipeline(depth))
    }

    fn text(&mut self) -> String {
        self.rng.pick(&["", " ", "\n", "x", " | ", "\n  ", "a=", ";", "  \n"]).to_string()
    }

    fn block(&mut self, depth: usize, items: usize) -> String {
        // Variables declared inside a block end with it, as in Go.
        let saved = self.vars.len();
        let mut s = String::new();
        for _ in 0..items {
            s.push_str(&self.text());
            s.push_str(&self.statement(depth));
        }
        s.push_str(&self.text());
        self.vars.truncate(saved);
        s
    }

    /// What the helper template is called with.
    fn helper_arg(&mut self) -> String {
        if self.rng.chance(40) {
            self.rng.pick(&["$", ".", "$.s", "$.m"]).to_string()
        } else {
            self.arg(K::Any, 1)
        }
    }

    fn new_var(&mut self) -> String {
        self.next_var += 1;
        format!("$v{}", self.next_var)
    }

    fn statement(&mut self, depth: usize) -> String {
        let choice = if depth == 0 { self.rng.below(3) } else { self.rng.below(12) };
        match choice {
            0 | 1 => self.action(2),
            2 => {
                if self.rng.chance(50) {
                    let v = self.new_var();
                    let s = format!("{{{{ {v} := {} }}}}{{{{ {v} }}}}", self.pipeline(1));
                    self.vars.push(v);
                    s
                } else if let Some(v) = self.vars.last().cloned() {
                    format!("{{{{ {v} = {} }}}}{{{{ {v} }}}}", self.pipeline(1))
                } else {
                    format!("{{{{/* {} */}}}}", self.rng.pick(&["c", "comment", ""]))
                }
            }
            3 | 4 => {
                let mut s = format!("{{{{ if {} }}}}{}", self.pipeline(1), self.block(depth - 1, 1));
                if self.rng.chance(30) {
                    s.push_str(&format!("{{{{ else if {} }}}}{}", self.pipeline(1), self.block(depth - 1, 1)));
                }
                if self.rng.chance(50) {
                    s.push_str(&format!("{{{{ else }}}}{}", self.block(depth - 1, 1)));
                }
                s.push_str("{{ end }}");
                s
            }
            5 | 6 => {
                let over = match self.rng.below(5) {
                    0 => self.rng.pick(&["3", "0", "2", "-1"]).to_string(),
                    1 => self.rng.pick(FIELDS_MAP).to_string(),
                    2 => format!("({})", self.pipeline(1)),
                    _ => self.rng.pick(FIELDS_LIST).to_string(),
                };
                let saved = self.vars.len();
                let over_int = over.parse::<i64>().is_ok();
                let head = match if over_int { self.rng.below(2) } else { self.rng.below(3) } {
                    0 => String::new(),
                    1 => {
                        let v = self.new_var();
                        self.vars.push(v.clone());
                        format!("{v} := ")
                    }
                    _ => {
                        let k = self.new_var();
                        let v = self.new_var();
                        self.vars.push(k.clone());
                        self.vars.push(v.clone());
                        format!("{k}, {v} := ")
                    }
                };
                self.in_range += 1;
                self.dot_moved += 1;
                let body = self.block(depth - 1, 2);
                self.dot_moved -= 1;
                self.in_range -= 1;
                self.vars.truncate(saved);
                let mut s = format!("{{{{ range {head}{over} }}}}{body}");
                if self.rng.chance(30) {
                    s.push_str(&format!("{{{{ else }}}}{}", self.block(depth - 1, 1)));
                }
                s.push_str("{{ end }}");
                s
            }
            7 | 8 => {
                let head = self.pipeline(1);
                self.dot_moved += 1;
                let mut s = format!("{{{{ with {head} }}}}{}", self.block(depth - 1, 1));
                self.dot_moved -= 1;
                if self.rng.chance(25) {
                    s.push_str(&format!("{{{{ else with {} }}}}{}", self.pipeline(1), self.block(depth - 1, 1)));
                }
                if self.rng.chance(40) {
                    s.push_str(&format!("{{{{ else }}}}{}", self.block(depth - 1, 1)));
                }
                s.push_str("{{ end }}");
                s
            }
            9 if self.in_range > 0 => {
                let kw = self.rng.pick(&["break", "continue"]);
                format!("{{{{ if {} }}}}{{{{ {kw} }}}}{{{{ end }}}}", self.pipeline(1))
            }
            10 => format!("{{{{ template \"g\" {} }}}}", self.helper_arg()),
            _ => format!("{{{{ include \"g\" {} | {} }}}}", self.helper_arg(), self.rng.pick(&["upper", "quote", "trim", "len"])),
        }
    }
}

/// `count` cases from `seed`. Every case defines a helper template `g` and runs on [`DATA`].
pub fn generate(seed: u64, count: usize) -> Vec<Case> {
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        let mut g = Gen {
            rng: Rng(seed.wrapping_mul(1_000_003).wrapping_add(n as u64)),
            vars: Vec::new(),
            next_var: 0,
            in_range: 0,
            dot_moved: 0,
            in_define: true,
        };
        let define = format!("{{{{ define \"g\" }}}}[{}]{{{{ end }}}}", g.action(1));
        g.in_define = false;
        let items = 1 + g.rng.below(2);
        let body = g.block(2, items);
        let option = if g.rng.chance(15) { "missingkey=zero" } else { "" };
        out.push(Case {
            name: format!("gen-{seed}-{n}"),
            file: PathBuf::from(format!("<generated seed {seed}>")),
            line: n,
            template: format!("{define}{body}"),
            data: DATA.to_string(),
            option: option.to_string(),
        });
    }
    out
}
