//! Splitting a rendered template file into YAML documents (Helm: pkg/release/v1/util/manifest.go
//! `SplitManifests`): leading white space trimmed, split at lines starting with `---` (and any
//! blanks or tabs after it), blank documents dropped, each document's leading white space trimmed.

/// The documents of one rendered file, in order.
pub fn split_manifests(big_file: &str) -> Vec<&str> {
    let text = big_file.trim_start_matches(go_is_space);
    let mut docs = Vec::new();
    let mut start = 0;
    let mut line_start = 0;
    // Go: regexp `(?m)^---[ \t]*` split: a match at the start of any line consumes `---` and the
    // blanks after it (the rest of that line stays in the next document).
    while line_start <= text.len() {
        let rest = &text[line_start..];
        if rest.starts_with("---") {
            let after = line_start + 3;
            let blanks = text[after..]
                .bytes()
                .take_while(|b| *b == b' ' || *b == b'\t')
                .count();
            docs.push(&text[start..line_start]);
            start = after + blanks;
        }
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => break,
        }
    }
    docs.push(&text[start..]);
    docs.into_iter()
        .filter(|d| !d.trim_matches(go_is_space).is_empty())
        .map(|d| d.trim_start_matches(go_is_space))
        .collect()
}

/// Go's `unicode.IsSpace`.
pub fn go_is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || (c as u32 > 0xff && c.is_whitespace())
}
