//! `.helmignore` exactly as Helm reads it (Helm: pkg/ignore/rules.go), quirks included:
//! - patterns are Go `filepath.Match` globs; `**` is refused;
//! - a pattern without `/` matches the base name, one with `/` the whole path, a leading `/` is
//!   dropped; a trailing `/` matches directories only;
//! - a negated pattern `!p` IGNORES every path that does not match `p` (Helm's logic, not git's);
//! - the built-in rule `templates/.?*` hides dotfiles in `templates/`.

use crate::pathmatch::{self, BadPattern};

/// The file name Helm reads ignore rules from.
pub const HELM_IGNORE: &str = ".helmignore";

/// Why a rule was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    #[error("double-star (**) syntax is not supported")]
    DoubleStar,
    #[error("{0}")]
    BadPattern(#[from] BadPattern),
}

#[derive(Debug, Clone)]
struct Pattern {
    /// The glob, without `!`, trailing `/` or leading `/`.
    glob: String,
    /// Match the whole path (the rule had a `/`) rather than the base name.
    whole_path: bool,
    negate: bool,
    must_dir: bool,
}

/// A parsed `.helmignore`.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

impl Rules {
    /// No rules (Helm: `ignore.Empty`).
    pub fn empty() -> Self {
        Rules::default()
    }

    /// Parses a `.helmignore` text (Helm: `ignore.Parse`): one rule per line, a UTF-8 BOM on the
    /// first line dropped, blank lines and `#` comments skipped. The error names the 1-based line.
    pub fn parse(text: &str) -> Result<Self, (usize, RuleError)> {
        let mut rules = Rules::empty();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, line) in go_scan_lines(text).enumerate() {
            rules.add(line).map_err(|e| (i + 1, e))?;
        }
        Ok(rules)
    }

    /// Helm's `AddDefaults`: `templates/.?*`.
    pub fn add_defaults(&mut self) {
        // The default pattern is well-formed.
        let _ = self.add("templates/.?*");
    }

    /// Go: `parseRule`.
    pub fn add(&mut self, rule: &str) -> Result<(), RuleError> {
        let mut rule = rule.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err(RuleError::DoubleStar);
        }
        pathmatch::matches(rule, "abc")?;
        let negate = rule.starts_with('!');
        if negate {
            rule = &rule[1..];
        }
        let must_dir = rule.ends_with('/');
        if must_dir {
            rule = &rule[..rule.len() - 1];
        }
        let (glob, whole_path) = match rule.strip_prefix('/') {
            Some(after) => (after, true),
            None => (rule, rule.contains('/')),
        };
        self.patterns.push(Pattern {
            glob: glob.to_string(),
            whole_path,
            negate,
            must_dir,
        });
        Ok(())
    }

    /// Go: `Rules.Ignore`: whether `path` (slash-separated, relative to the chart root) is ignored.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for p in &self.patterns {
            let subject = if p.whole_path { path } else { base(path) };
            // A pattern that fails to compile at match time does not match (Helm logs it).
            let matched = pathmatch::matches(&p.glob, subject).unwrap_or(false);
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !matched {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if matched {
                return true;
            }
        }
        false
    }
}

/// Go's `filepath.Base` on a slash path.
fn base(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() { "." } else { "/" };
    }
    match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

/// Lines as Go's `bufio.Scanner` with `ScanLines` yields them: split at `\n`, one trailing `\r`
/// dropped, no empty last line after a final newline.
fn go_scan_lines(text: &str) -> impl Iterator<Item = &str> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let lines: Vec<&str> = if text.is_empty() {
        Vec::new()
    } else {
        body.split('\n').collect()
    };
    lines.into_iter().map(|l| l.strip_suffix('\r').unwrap_or(l))
}
