//! gosuri/uitable v0.0.4 as Helm uses it (`uitable.New()`, no max width, no wrapping): every
//! cell padded with spaces to its column's widest cell (the last column too, hence trailing
//! spaces), cells joined with a tab, rows with `\n`; Helm's `EncodeTable` adds one `\n`.
//! Widths are display widths with ANSI colour codes stripped (go-runewidth, East Asian
//! ambiguous characters narrow).

use unicode_width::UnicodeWidthChar;

/// A table of text cells.
#[derive(Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new() -> Self {
        Table::default()
    }

    pub fn add_row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// `output.EncodeTable`: the table text plus a newline ("\n" alone for no rows). Written
    /// straight into one string (a thousand-row listing has seven thousand cells).
    pub fn encode(&self) -> String {
        let mut widths: Vec<usize> = Vec::new();
        let mut size = 0;
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if widths.len() <= i {
                    widths.push(0);
                }
                let w = cell.split('\n').map(string_width).max().unwrap_or(0);
                widths[i] = widths[i].max(w);
                size += cell.len() + 1;
            }
        }
        let mut out = String::with_capacity(size + self.rows.len() * widths.iter().sum::<usize>() + 1);
        for (r, row) in self.rows.iter().enumerate() {
            // A cell with several lines makes the row several lines (uitable's Row.String).
            let height = row.iter().map(|c| c.matches('\n').count() + 1).max().unwrap_or(1);
            for x in 0..height {
                if r > 0 || x > 0 {
                    out.push('\n');
                }
                for (y, cell) in row.iter().enumerate() {
                    if y > 0 {
                        out.push('\t');
                    }
                    let part = if height == 1 { cell.as_str() } else { cell.split('\n').nth(x).unwrap_or("") };
                    pad_into(&mut out, part, widths[y]);
                }
            }
        }
        out.push('\n');
        out
    }
}

/// `strutil.Resize(s, width, false)` for a width at least the string's: `s` with right
/// padding, appended to `out`.
fn pad_into(out: &mut String, s: &str, width: usize) {
    out.push_str(s);
    let w = string_width(s);
    if width > w {
        out.extend(std::iter::repeat_n(' ', width - w));
    }
}

/// Display width without ANSI escape sequences.
pub fn string_width(s: &str) -> usize {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return s.len();
    }
    strip_ansi(s).chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Removes `ESC [ ... m`-style colour sequences (what Helm's colours produce).
fn strip_ansi(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\u{1b}') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_every_column() {
        let mut t = Table::new();
        t.add_row(["NAME", "APP VERSION"]);
        t.add_row(["a", ""]);
        assert_eq!(t.encode(), "NAME\tAPP VERSION\na   \t           \n");
        assert_eq!(Table::new().encode(), "\n");
        let mut c = Table::new();
        c.add_row(["\u{1b}[1mX\u{1b}[0m", "y"]);
        c.add_row(["abc", "y"]);
        assert_eq!(c.encode(), "\u{1b}[1mX\u{1b}[0m  \ty\nabc\ty\n");
    }
}
