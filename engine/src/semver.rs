//! Semantic versions and version constraints with the exact behaviour of Masterminds/semver v3.5.0
//! (the version Helm v4.3.1 links): `NewVersion`'s coercing parser (`v1`, `1.2` are accepted),
//! `StrictNewVersion`, comparison with SemVer 2 prerelease precedence, and `NewConstraint`'s
//! language: `||` groups, `,`/space AND, hyphen ranges `1.2 - 1.4`, `=`, `!=`, `>`, `<`, `>=`,
//! `=>`, `<=`, `=<`, `~`, `~>`, `^`, and `x`/`X`/`*` wildcards, with its error and validation
//! messages word for word.
//!
//! ```
//! use rudder_engine::semver::{Constraints, Version};
//! let c = Constraints::parse(">= 1.2, < 2.0.0-0 || ~3.1").unwrap();
//! assert!(c.check(&Version::parse("1.9.9").unwrap()));
//! assert!(!c.check(&Version::parse("3.2.0").unwrap()));
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

/// The longest version string `Version::parse` accepts (semver's `MaxVersionLen`).
pub const MAX_VERSION_LEN: usize = 256;
/// The longest constraint string `Constraints::parse` accepts (`MaxConstraintLen`).
pub const MAX_CONSTRAINT_LEN: usize = 512;
/// The most `||` groups a constraint may have (`MaxConstraintGroups`).
pub const MAX_CONSTRAINT_GROUPS: usize = 32;

/// A parse error; `Display` is the library's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// `ErrInvalidSemVer`
    InvalidSemVer,
    /// `ErrEmptyString`
    EmptyString,
    /// `ErrInvalidCharacters`
    InvalidCharacters,
    /// `ErrSegmentStartsZero`
    SegmentStartsZero,
    /// `ErrInvalidMetadata`
    InvalidMetadata,
    /// `ErrInvalidPrerelease`
    InvalidPrerelease,
    /// `ErrVersionTooLong`
    VersionTooLong,
    /// A number segment that does not fit in a `u64`; the text is Go's `strconv.ParseUint` error.
    /// `wrapped` says whether the parser prefixed it with "error parsing version segment: ".
    Segment { message: String, wrapped: bool },
    /// `ErrConstraintTooLong`
    ConstraintTooLong,
    /// `ErrTooManyConstraintGroups`
    TooManyConstraintGroups,
    /// `improper constraint: "<text>"`
    ImproperConstraint(String),
    /// A constraint whose version part is not a valid version (`constraint parser error`).
    ConstraintParser,
    /// An increment that would overflow (semver panics with this text).
    Overflow(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidSemVer => f.write_str("invalid semantic version"),
            Error::EmptyString => f.write_str("version string empty"),
            Error::InvalidCharacters => f.write_str("invalid characters in version"),
            Error::SegmentStartsZero => f.write_str("version segment starts with 0"),
            Error::InvalidMetadata => f.write_str("invalid metadata string"),
            Error::InvalidPrerelease => f.write_str("invalid prerelease string"),
            Error::VersionTooLong => write!(f, "version string is too long (max {MAX_VERSION_LEN} bytes)"),
            Error::Segment { message, wrapped } => {
                if *wrapped {
                    f.write_str("error parsing version segment: ")?;
                }
                f.write_str(message)
            }
            Error::ConstraintTooLong => write!(f, "constraint string is too long (max {MAX_CONSTRAINT_LEN} bytes)"),
            Error::TooManyConstraintGroups => write!(f, "too many constraint groups (max {MAX_CONSTRAINT_GROUPS})"),
            Error::ImproperConstraint(c) => write!(f, "improper constraint: {}", go_quote(c)),
            Error::ConstraintParser => f.write_str("constraint parser error"),
            Error::Overflow(what) => write!(f, "{what} version increment would overflow uint64"),
        }
    }
}

impl std::error::Error for Error {}

/// Go's `%q` of a string (`strconv.Quote`).
fn go_quote(s: &str) -> String {
    crate::print::quote(s)
}

/// Go's `strconv.ParseUint(s, 10, 64)` with its error text.
fn parse_uint(s: &str) -> Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.ParseUint: parsing {}: invalid syntax", go_quote(s)));
    }
    s.parse::<u64>().map_err(|_| format!("strconv.ParseUint: parsing {}: value out of range", go_quote(s)))
}

/// A semantic version (Go: `semver.Version`).
#[derive(Clone, Debug)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    metadata: String,
    original: String,
}

const S: &str = r"[\t\n\x0C\r ]";

fn loose_regex() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(concat!(
            r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?",
            r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?",
            r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$"
        ))
        .expect("semver regex")
    })
}

fn contains_only(s: &str, allowed_digits_only: bool) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || (!allowed_digits_only && (b.is_ascii_alphabetic() || b == b'-')))
}

fn validate_prerelease(p: &str) -> Result<(), Error> {
    for part in p.split('.') {
        if part.is_empty() {
            return Err(Error::InvalidPrerelease);
        } else if contains_only(part, true) {
            if part.len() > 1 && part.starts_with('0') {
                return Err(Error::SegmentStartsZero);
            }
        } else if !contains_only(part, false) {
            return Err(Error::InvalidPrerelease);
        }
    }
    Ok(())
}

fn validate_metadata(m: &str) -> Result<(), Error> {
    for part in m.split('.') {
        if part.is_empty() || !contains_only(part, false) {
            return Err(Error::InvalidMetadata);
        }
    }
    Ok(())
}

impl Version {
    /// Go: `semver.NewVersion` (with the default `CoerceNewVersion = true`): accepts `v1`, `1.2`,
    /// `1.2.3-beta.1+build`, leading zeros in number segments.
    pub fn parse(v: &str) -> Result<Version, Error> {
        if v.len() > MAX_VERSION_LEN {
            return Err(Error::VersionTooLong);
        }
        let caps = loose_regex().captures(v).ok_or(Error::InvalidSemVer)?;
        let get = |i: usize| caps.get(i).map(|m| m.as_str()).unwrap_or("");
        let seg = |s: &str| -> Result<u64, Error> {
            parse_uint(s).map_err(|message| Error::Segment { message, wrapped: true })
        };
        let major = seg(get(1))?;
        let minor = if get(2).is_empty() { 0 } else { seg(&get(2)[1..])? };
        let patch = if get(3).is_empty() { 0 } else { seg(&get(3)[1..])? };
        let pre = get(5).to_string();
        let metadata = get(8).to_string();
        if !pre.is_empty() {
            validate_prerelease(&pre)?;
        }
        if !metadata.is_empty() {
            validate_metadata(&metadata)?;
        }
        Ok(Version { major, minor, patch, pre, metadata, original: v.to_string() })
    }

    /// Go: `semver.StrictNewVersion`: exactly `MAJOR.MINOR.PATCH[-PRE][+META]`, no `v`, no
    /// leading zeros.
    pub fn parse_strict(v: &str) -> Result<Version, Error> {
        if v.is_empty() {
            return Err(Error::EmptyString);
        }
        if v.len() > MAX_VERSION_LEN {
            return Err(Error::VersionTooLong);
        }
        let mut parts: Vec<&str> = v.splitn(3, '.').collect();
        if parts.len() != 3 {
            return Err(Error::InvalidSemVer);
        }
        let mut metadata = String::new();
        let mut pre = String::new();
        if let Some((rest, meta)) = parts[2].split_once('+') {
            metadata = meta.to_string();
            parts[2] = rest;
            validate_metadata(&metadata)?;
        }
        if let Some((rest, p)) = parts[2].split_once('-') {
            pre = p.to_string();
            parts[2] = rest;
            validate_prerelease(&pre)?;
        }
        for p in &parts {
            if !contains_only(p, true) {
                return Err(Error::InvalidCharacters);
            }
            if p.len() > 1 && p.starts_with('0') {
                return Err(Error::SegmentStartsZero);
            }
        }
        let seg = |s: &str| parse_uint(s).map_err(|message| Error::Segment { message, wrapped: false });
        let major = seg(parts[0])?;
        let minor = seg(parts[1])?;
        let patch = seg(parts[2])?;
        Ok(Version { major, minor, patch, pre, metadata, original: v.to_string() })
    }

    /// Go: `semver.New` (prerelease and metadata are not validated).
    pub fn new(major: u64, minor: u64, patch: u64, pre: &str, metadata: &str) -> Version {
        let mut v = Version { major, minor, patch, pre: pre.into(), metadata: metadata.into(), original: String::new() };
        v.original = v.to_string();
        v
    }

    pub fn major(&self) -> u64 {
        self.major
    }
    pub fn minor(&self) -> u64 {
        self.minor
    }
    pub fn patch(&self) -> u64 {
        self.patch
    }
    /// The prerelease without its `-`.
    pub fn prerelease(&self) -> &str {
        &self.pre
    }
    /// The build metadata without its `+`.
    pub fn metadata(&self) -> &str {
        &self.metadata
    }
    /// The text the version was parsed from.
    pub fn original(&self) -> &str {
        &self.original
    }

    fn original_v_prefix(&self) -> &'static str {
        if self.original.starts_with('v') {
            "v"
        } else {
            ""
        }
    }

    fn with_original(mut self, prefix: &str) -> Version {
        self.original = format!("{prefix}{self}");
        self
    }

    /// Go: `IncPatch` (a prerelease version drops its prerelease instead of incrementing).
    pub fn inc_patch(&self) -> Result<Version, Error> {
        let mut n = self.clone();
        n.metadata.clear();
        n.pre.clear();
        if self.pre.is_empty() {
            n.patch = self.patch.checked_add(1).ok_or(Error::Overflow("patch"))?;
        }
        Ok(n.with_original(self.original_v_prefix()))
    }

    /// Go: `IncMinor`.
    pub fn inc_minor(&self) -> Result<Version, Error> {
        let mut n = self.clone();
        n.metadata.clear();
        n.pre.clear();
        n.patch = 0;
        n.minor = self.minor.checked_add(1).ok_or(Error::Overflow("minor"))?;
        Ok(n.with_original(self.original_v_prefix()))
    }

    /// Go: `IncMajor`.
    pub fn inc_major(&self) -> Result<Version, Error> {
        let mut n = self.clone();
        n.metadata.clear();
        n.pre.clear();
        n.patch = 0;
        n.minor = 0;
        n.major = self.major.checked_add(1).ok_or(Error::Overflow("major"))?;
        Ok(n.with_original(self.original_v_prefix()))
    }

    /// Go: `SetPrerelease` (on error Go also returns the unchanged copy).
    pub fn set_prerelease(&self, pre: &str) -> Result<Version, Error> {
        if !pre.is_empty() {
            validate_prerelease(pre)?;
        }
        let mut n = self.clone();
        n.pre = pre.to_string();
        Ok(n.with_original(self.original_v_prefix()))
    }

    /// Go: `SetMetadata`.
    pub fn set_metadata(&self, meta: &str) -> Result<Version, Error> {
        if !meta.is_empty() {
            validate_metadata(meta)?;
        }
        let mut n = self.clone();
        n.metadata = meta.to_string();
        Ok(n.with_original(self.original_v_prefix()))
    }

    /// Go: `Compare`: precedence by major, minor, patch, then prerelease (a release is greater
    /// than its prereleases); metadata is ignored.
    pub fn compare(&self, o: &Version) -> Ordering {
        self.major
            .cmp(&o.major)
            .then(self.minor.cmp(&o.minor))
            .then(self.patch.cmp(&o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &o.pre),
            })
    }

    pub fn less_than(&self, o: &Version) -> bool {
        self.compare(o) == Ordering::Less
    }
    pub fn greater_than(&self, o: &Version) -> bool {
        self.compare(o) == Ordering::Greater
    }
    /// Go: `Equal` (metadata ignored).
    pub fn equal(&self, o: &Version) -> bool {
        self.compare(o) == Ordering::Equal
    }
}

impl fmt::Display for Version {
    /// Go: `Version.String()`: `MAJOR.MINOR.PATCH[-PRE][+META]`, without a `v`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

impl PartialEq for Version {
    fn eq(&self, o: &Version) -> bool {
        self.equal(o)
    }
}
impl Eq for Version {}
impl PartialOrd for Version {
    fn partial_cmp(&self, o: &Version) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Version {
    fn cmp(&self, o: &Version) -> Ordering {
        self.compare(o)
    }
}

impl std::str::FromStr for Version {
    type Err = Error;
    fn from_str(s: &str) -> Result<Version, Error> {
        Version::parse(s)
    }
}

fn compare_prerelease(v: &str, o: &str) -> Ordering {
    let sp: Vec<&str> = v.split('.').collect();
    let op: Vec<&str> = o.split('.').collect();
    for i in 0..sp.len().max(op.len()) {
        let s = sp.get(i).copied().unwrap_or("");
        let o = op.get(i).copied().unwrap_or("");
        let d = compare_pre_part(s, o);
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn compare_pre_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    match (parse_uint(s), parse_uint(o)) {
        (Err(_), Err(_)) => {
            if s > o {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Ok(a), Ok(b)) => {
            if a > b {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Constraints

const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";
const CV: &str = concat!(
    r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?",
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?",
    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
);

struct Regexes {
    constraint: Regex,
    range: Regex,
    find: Regex,
    valid: Regex,
}

fn regexes() -> &'static Regexes {
    static R: OnceLock<Regexes> = OnceLock::new();
    R.get_or_init(|| {
        let mk = |s: String| Regex::new(&s).expect("semver constraint regex");
        Regexes {
            constraint: mk(format!(r"^{S}*({OPS}){S}*({CV}){S}*$")),
            range: mk(format!(r"{S}*({CV}){S}+-{S}+({CV}){S}*")),
            find: mk(format!(r"({OPS}){S}*({CV})")),
            valid: mk(format!(r"^({S}*({OPS}){S}*({CV}){S}*)((?:{S}+|,{S}*)({OPS}){S}*({CV}){S}*)*$")),
        }
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

fn op_of(s: &str) -> Op {
    match s {
        "!=" => Op::NotEqual,
        ">" => Op::Greater,
        "<" => Op::Less,
        ">=" | "=>" => Op::GreaterEqual,
        "<=" | "=<" => Op::LessEqual,
        "~" | "~>" => Op::Tilde,
        "^" => Op::Caret,
        _ => Op::TildeOrEqual,
    }
}

/// One comparison of a constraint (`>= 1.2.3`).
#[derive(Clone, Debug)]
struct Constraint {
    con: Version,
    orig: String,
    origfunc: String,
    op: Op,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "*" | "X")
}

fn parse_constraint(c: &str) -> Result<Constraint, Error> {
    if c.is_empty() {
        let con = Version::parse_strict("0.0.0").map_err(|_| Error::ConstraintParser)?;
        return Ok(Constraint {
            con,
            orig: String::new(),
            origfunc: String::new(),
            op: Op::TildeOrEqual,
            minor_dirty: false,
            patch_dirty: false,
            dirty: true,
        });
    }
    let caps = regexes().constraint.captures(c).ok_or_else(|| Error::ImproperConstraint(c.to_string()))?;
    let get = |i: usize| caps.get(i).map(|m| m.as_str()).unwrap_or("");
    let (m3, m4, m5, m6) = (get(3), get(4), get(5), get(6));
    let mut ver = get(2).to_string();
    let (mut minor_dirty, mut patch_dirty, mut dirty) = (false, false, false);
    let trim = |s: &str| s.strip_prefix('.').unwrap_or(s).to_string();
    if is_x(m3) || m3.is_empty() {
        ver = format!("0.0.0{m6}");
        dirty = true;
    } else if is_x(&trim(m4)) || m4.is_empty() {
        minor_dirty = true;
        dirty = true;
        ver = format!("{m3}.0.0{m6}");
    } else if is_x(&trim(m5)) || m5.is_empty() {
        dirty = true;
        patch_dirty = true;
        ver = format!("{m3}{m4}.0{m6}");
    }
    let con = Version::parse(&ver).map_err(|_| Error::ConstraintParser)?;
    Ok(Constraint {
        con,
        orig: get(2).to_string(),
        origfunc: get(1).to_string(),
        op: op_of(get(1)),
        minor_dirty,
        patch_dirty,
        dirty,
    })
}

fn rewrite_range(i: &str) -> String {
    let re = &regexes().range;
    let mut o = i.to_string();
    for caps in re.captures_iter(i) {
        let whole = caps.get(0).map(|m| m.as_str()).unwrap_or("");
        let a = caps.get(1).map(|m| m.as_str()).unwrap_or("");
        let b = caps.get(11).map(|m| m.as_str()).unwrap_or("");
        let t = format!(">= {a}, <= {b} ");
        o = o.replacen(whole, &t, 1);
    }
    o
}

type CheckResult = Result<(), String>;

impl Constraint {
    fn q(v: &Version) -> String {
        go_quote(&v.to_string())
    }

    fn fail(&self, v: &Version, what: &str) -> CheckResult {
        Err(format!("{} {what} {}", Self::q(v), go_quote(&self.orig)))
    }

    fn check(&self, v: &Version, include_pre: bool) -> CheckResult {
        if !v.pre.is_empty() && !include_pre {
            return Err(format!(
                "{} is a prerelease version and the constraint is only looking for release versions",
                Self::q(v)
            ));
        }
        let c = &self.con;
        match self.op {
            Op::NotEqual => {
                if self.dirty {
                    if c.major != v.major {
                        return Ok(());
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return Ok(());
                    } else if self.minor_dirty {
                        return self.fail(v, "is equal to");
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return Ok(());
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            if compare_prerelease(&v.pre, &c.pre) != Ordering::Equal {
                                return Ok(());
                            }
                            return self.fail(v, "is equal to");
                        }
                        return self.fail(v, "is equal to");
                    }
                }
                if v.equal(c) {
                    return self.fail(v, "is equal to");
                }
                Ok(())
            }
            Op::Greater => {
                let lte = "is less than or equal to";
                if !self.dirty {
                    return if v.compare(c) == Ordering::Greater { Ok(()) } else { self.fail(v, lte) };
                }
                if v.major > c.major {
                    Ok(())
                } else if v.major < c.major || self.minor_dirty {
                    self.fail(v, lte)
                } else if self.patch_dirty {
                    if v.minor > c.minor {
                        Ok(())
                    } else {
                        self.fail(v, lte)
                    }
                } else if v.compare(c) == Ordering::Greater {
                    Ok(())
                } else {
                    self.fail(v, lte)
                }
            }
            Op::Less => {
                if v.compare(c) == Ordering::Less {
                    Ok(())
                } else {
                    self.fail(v, "is greater than or equal to")
                }
            }
            Op::GreaterEqual => {
                if v.compare(c) != Ordering::Less {
                    Ok(())
                } else {
                    self.fail(v, "is less than")
                }
            }
            Op::LessEqual => {
                if !self.dirty {
                    return if v.compare(c) != Ordering::Greater { Ok(()) } else { self.fail(v, "is greater than") };
                }
                if v.major > c.major || (v.major == c.major && v.minor > c.minor && !self.minor_dirty) {
                    return self.fail(v, "is greater than");
                }
                Ok(())
            }
            Op::Tilde => self.tilde(v),
            Op::TildeOrEqual => {
                if self.dirty {
                    return self.tilde(v);
                }
                if v.equal(c) {
                    Ok(())
                } else {
                    self.fail(v, "is not equal to")
                }
            }
            Op::Caret => {
                if v.less_than(c) {
                    return self.fail(v, "is less than");
                }
                if c.major > 0 || self.minor_dirty {
                    return if v.major == c.major { Ok(()) } else { self.fail(v, "does not have same major version as") };
                }
                if c.major == 0 && v.major > 0 {
                    return self.fail(v, "does not have same major version as");
                }
                if c.minor > 0 || self.patch_dirty {
                    return if v.minor == c.minor {
                        Ok(())
                    } else {
                        Err(format!(
                            "{} does not have same minor version as {}. Expected minor versions to match when constraint major version is 0",
                            Self::q(v),
                            go_quote(&self.orig)
                        ))
                    };
                }
                if c.minor == 0 && v.minor > 0 {
                    return self.fail(v, "does not have same minor version as");
                }
                if c.patch == v.patch {
                    Ok(())
                } else {
                    Err(format!(
                        "{} does not equal {}. Expect version and constraint to equal when major and minor versions are 0",
                        Self::q(v),
                        go_quote(&self.orig)
                    ))
                }
            }
        }
    }

    fn tilde(&self, v: &Version) -> CheckResult {
        let c = &self.con;
        if v.less_than(c) {
            return self.fail(v, "is less than");
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return Ok(());
        }
        if v.major != c.major {
            return self.fail(v, "does not have same major version as");
        }
        if v.minor != c.minor && !self.minor_dirty {
            return self.fail(v, "does not have same major and minor version as");
        }
        Ok(())
    }
}

/// A parsed constraint string (Go: `semver.Constraints`).
#[derive(Clone, Debug)]
pub struct Constraints {
    groups: Vec<Vec<Constraint>>,
    contains_pre: Vec<bool>,
    /// Go: `IncludePrerelease`: let prerelease versions satisfy every group.
    pub include_prerelease: bool,
}

impl Constraints {
    /// Go: `semver.NewConstraint`.
    pub fn parse(c: &str) -> Result<Constraints, Error> {
        if c.len() > MAX_CONSTRAINT_LEN {
            return Err(Error::ConstraintTooLong);
        }
        let c = rewrite_range(c);
        let ors: Vec<&str> = c.split("||").collect();
        if ors.len() > MAX_CONSTRAINT_GROUPS {
            return Err(Error::TooManyConstraintGroups);
        }
        let re = regexes();
        let mut groups = Vec::with_capacity(ors.len());
        let mut contains_pre = vec![false; ors.len()];
        for (k, v) in ors.iter().enumerate() {
            if !re.valid.is_match(v) {
                return Err(Error::ImproperConstraint(v.to_string()));
            }
            let mut cs: Vec<&str> = re.find.find_iter(v).map(|m| m.as_str()).collect();
            if cs.is_empty() {
                cs.push(v);
            }
            let mut group = Vec::with_capacity(cs.len());
            for s in cs {
                let pc = parse_constraint(s)?;
                if !pc.con.pre.is_empty() {
                    contains_pre[k] = true;
                }
                group.push(pc);
            }
            groups.push(group);
        }
        Ok(Constraints { groups, contains_pre, include_prerelease: false })
    }

    /// Go: `Constraints.Check`: whether `v` satisfies any `||` group.
    pub fn check(&self, v: &Version) -> bool {
        self.groups.iter().enumerate().any(|(i, g)| {
            let pre = self.include_prerelease || self.contains_pre[i];
            g.iter().all(|c| c.check(v, pre).is_ok())
        })
    }

    /// Go: `Constraints.Validate`: `Ok` if `v` satisfies the constraints, otherwise the reasons
    /// each group failed, in Go's words.
    pub fn validate(&self, v: &Version) -> Result<(), Vec<String>> {
        let mut reasons = Vec::new();
        let mut pre_reported = false;
        for (i, g) in self.groups.iter().enumerate() {
            let include = self.include_prerelease || self.contains_pre[i];
            let mut joy = true;
            for c in g {
                if !include && !v.pre.is_empty() {
                    if !pre_reported {
                        reasons.push(format!(
                            "{} is a prerelease version and the constraint is only looking for release versions",
                            go_quote(&v.to_string())
                        ));
                        pre_reported = true;
                    }
                    joy = false;
                } else if let Err(e) = c.check(v, include) {
                    reasons.push(e);
                    joy = false;
                }
            }
            if joy {
                return Ok(());
            }
        }
        Err(reasons)
    }
}

impl fmt::Display for Constraints {
    /// Go: `Constraints.String()`: groups joined by ` || `, comparisons by a space.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, g) in self.groups.iter().enumerate() {
            if i > 0 {
                f.write_str(" || ")?;
            }
            for (j, c) in g.iter().enumerate() {
                if j > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{}{}", c.origfunc, c.orig)?;
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for Constraints {
    type Err = Error;
    fn from_str(s: &str) -> Result<Constraints, Error> {
        Constraints::parse(s)
    }
}

/// Helm's `chartutil.IsCompatibleRange`: whether `version` parses and satisfies `constraint`
/// (a bad version or constraint is simply "not compatible").
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    let Ok(v) = Version::parse(version) else { return false };
    let Ok(c) = Constraints::parse(constraint) else { return false };
    c.check(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn check(c: &str, ver: &str) -> bool {
        Constraints::parse(c).unwrap().check(&v(ver))
    }

    #[test]
    fn parse_loose() {
        let x = v("v1.2");
        assert_eq!((x.major(), x.minor(), x.patch()), (1, 2, 0));
        assert_eq!(x.to_string(), "1.2.0");
        assert_eq!(x.original(), "v1.2");
        let x = v("1.2.3-beta.1+build.5");
        assert_eq!(x.prerelease(), "beta.1");
        assert_eq!(x.metadata(), "build.5");
        assert_eq!(v("01.02.03").to_string(), "1.2.3");
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Version::parse("").unwrap_err().to_string(), "invalid semantic version");
        assert_eq!(Version::parse("1.2.3.4").unwrap_err(), Error::InvalidSemVer);
        assert_eq!(Version::parse("1.2.3-01").unwrap_err().to_string(), "version segment starts with 0");
        assert_eq!(Version::parse("1.2.3-a..b").unwrap_err(), Error::InvalidSemVer);
        assert_eq!(
            Version::parse("99999999999999999999.0.0").unwrap_err().to_string(),
            "error parsing version segment: strconv.ParseUint: parsing \"99999999999999999999\": value out of range"
        );
        assert_eq!(Version::parse(&"1".repeat(300)).unwrap_err(), Error::VersionTooLong);
    }

    #[test]
    fn parse_strict() {
        assert!(Version::parse_strict("1.2.3-rc.1+b").is_ok());
        assert_eq!(Version::parse_strict("v1.2.3").unwrap_err(), Error::InvalidCharacters);
        assert_eq!(Version::parse_strict("1.2").unwrap_err(), Error::InvalidSemVer);
        assert_eq!(Version::parse_strict("01.2.3").unwrap_err(), Error::SegmentStartsZero);
        assert_eq!(Version::parse_strict("").unwrap_err(), Error::EmptyString);
        assert_eq!(Version::parse_strict("1.2.3+a..b").unwrap_err(), Error::InvalidMetadata);
        assert_eq!(
            Version::parse_strict("1..3").unwrap_err().to_string(),
            "strconv.ParseUint: parsing \"\": invalid syntax"
        );
    }

    #[test]
    fn ordering() {
        let mut list: Vec<Version> =
            ["1.0.0", "1.0.0-rc.1", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-beta", "1.0.0-alpha.beta", "1.0.0-alpha.1", "1.0.0-alpha"]
                .iter()
                .map(|s| v(s))
                .collect();
        list.sort();
        let got: Vec<String> = list.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            got,
            ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]
        );
        assert!(v("1.2.3+a").equal(&v("1.2.3+b")));
    }

    #[test]
    fn increments() {
        assert_eq!(v("v1.2.3-beta").inc_patch().unwrap().original(), "v1.2.3");
        assert_eq!(v("1.2.3").inc_patch().unwrap().to_string(), "1.2.4");
        assert_eq!(v("1.2.3+m").inc_minor().unwrap().to_string(), "1.3.0");
        assert_eq!(v("1.2.3").inc_major().unwrap().to_string(), "2.0.0");
        assert_eq!(v("1.2.3").set_prerelease("rc.1").unwrap().to_string(), "1.2.3-rc.1");
        assert_eq!(v("1.2.3").set_metadata("x..y").unwrap_err(), Error::InvalidMetadata);
        assert_eq!(
            v("18446744073709551615.0.0").inc_major().unwrap_err().to_string(),
            "major version increment would overflow uint64"
        );
    }

    #[test]
    fn constraints_basic() {
        assert!(check(">=1.2.3", "1.2.3"));
        assert!(!check(">1.2.3", "1.2.3"));
        assert!(check("1.2.3 - 1.4.5", "1.4.5"));
        assert!(!check("1.2.3 - 1.4.5", "1.4.6"));
        assert!(check("~1.2.3", "1.2.9"));
        assert!(!check("~1.2.3", "1.3.0"));
        assert!(check("^1.2.3", "1.9.0"));
        assert!(!check("^1.2.3", "2.0.0"));
        assert!(check("^0.2.3", "0.2.9"));
        assert!(!check("^0.2.3", "0.3.0"));
        assert!(check("1.x", "1.7.0"));
        assert!(check("*", "5.0.0"));
        assert!(!check("!=1.2.3", "1.2.3"));
        assert!(check("!=1.2.x", "1.3.0"));
        assert!(check("<1.0 || >=2.0, <3", "2.5.0"));
        assert!(check(">= 1.0 < 2.0", "1.5.0"));
        assert!(!check(">= 1.0 < 2.0", "2.0.0"));
    }

    #[test]
    fn constraints_prerelease() {
        assert!(!check(">=1.0.0", "1.5.0-beta"));
        assert!(check(">=1.0.0-0", "1.5.0-beta"));
        // v3.5: a prerelease anywhere in an AND group admits prereleases for the whole group.
        assert!(check(">=1.0.0-0, <2.0.0", "1.5.0-beta"));
        let mut c = Constraints::parse(">=1.0.0").unwrap();
        c.include_prerelease = true;
        assert!(c.check(&v("1.5.0-beta")));
    }

    #[test]
    fn constraint_errors() {
        assert_eq!(Constraints::parse("").unwrap_err().to_string(), "improper constraint: \"\"");
        assert_eq!(Constraints::parse(">=1 ||").unwrap_err().to_string(), "improper constraint: \"\"");
        assert_eq!(Constraints::parse("foo").unwrap_err().to_string(), "improper constraint: \"foo\"");
        assert_eq!(Constraints::parse(">=1.2.3-01").unwrap_err().to_string(), "constraint parser error");
        assert_eq!(Constraints::parse(&["1"; 33].join("||")).unwrap_err(), Error::TooManyConstraintGroups);
        assert_eq!(Constraints::parse(&"1".repeat(600)).unwrap_err(), Error::ConstraintTooLong);
    }

    #[test]
    fn compatible_range() {
        assert!(is_compatible_range("^1.2.0", "1.4.0"));
        assert!(!is_compatible_range("^1.2.0", "2.0.0"));
        assert!(!is_compatible_range("nope", "1.0.0"));
        assert!(!is_compatible_range("*", "nope"));
    }

    #[test]
    fn validate_reasons() {
        let c = Constraints::parse(">=1.2, <1.4 || ^2").unwrap();
        let r = c.validate(&v("1.5.0")).unwrap_err();
        assert_eq!(r, ["\"1.5.0\" is greater than or equal to \"1.4\"", "\"1.5.0\" is less than \"2\""]);
        let r = c.validate(&v("1.3.0-rc")).unwrap_err();
        assert_eq!(r, ["\"1.3.0-rc\" is a prerelease version and the constraint is only looking for release versions"]);
        assert!(c.validate(&v("2.1.0")).is_ok());
        assert_eq!(c.to_string(), ">=1.2 <1.4 || ^2");
    }
}
