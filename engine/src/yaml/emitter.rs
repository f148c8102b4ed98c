//! The YAML emitter: go-yaml's (libyaml-derived) emitter state machine, scalar analysis, style
//! selection and writers, for the events the encoders produce (no anchors, tags, directives or
//! comments). `v3` switches on go-yaml v3's differences: indentation of block sequences and of
//! nested levels, tabs forcing quotes, and the `indention` bookkeeping of line breaks.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Ev {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Scalar { value: String, style: Style },
    SequenceStart { flow: bool },
    SequenceEnd,
    MappingStart { flow: bool },
    MappingEnd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    StreamStart,
    FirstDocumentStart,
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    FlowSequenceFirstItem,
    FlowSequenceItem,
    FlowMappingFirstKey,
    FlowMappingKey,
    FlowMappingSimpleValue,
    FlowMappingValue,
    BlockSequenceFirstItem,
    BlockSequenceItem,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingSimpleValue,
    BlockMappingValue,
    End,
}

#[derive(Default, Clone, Copy)]
struct ScalarAnalysis {
    multiline: bool,
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

pub struct Emitter {
    v3: bool,
    out: Vec<u8>,
    best_indent: i64,
    best_width: i64,
    state: St,
    states: Vec<St>,
    indent: i64,
    indents: Vec<i64>,
    flow_level: i64,
    root_context: bool,
    sequence_context: bool,
    mapping_context: bool,
    simple_key_context: bool,
    line: i64,
    column: i64,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    scalar: ScalarAnalysis,
    scalar_style: Style,
}

// ---- byte classes (go-yaml yamlprivateh.go) --------------------------------------------

fn at(b: &[u8], i: usize) -> u8 {
    *b.get(i).unwrap_or(&0)
}

fn width(b: u8) -> usize {
    if b & 0x80 == 0 {
        1
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        3
    } else if b & 0xF8 == 0xF0 {
        4
    } else {
        1
    }
}

fn is_printable(b: &[u8], i: usize) -> bool {
    let c = at(b, i);
    let c1 = at(b, i + 1);
    let c2 = at(b, i + 2);
    c == 0x0A
        || (0x20..=0x7E).contains(&c)
        || (c == 0xC2 && c1 >= 0xA0)
        || (c > 0xC2 && c < 0xED)
        || (c == 0xED && c1 < 0xA0)
        || c == 0xEE
        || (c == 0xEF && !(c1 == 0xBB && c2 == 0xBF) && !(c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF)))
}

fn is_space(b: &[u8], i: usize) -> bool {
    at(b, i) == b' '
}

fn is_blank(b: &[u8], i: usize) -> bool {
    matches!(at(b, i), b' ' | b'\t')
}

fn is_break(b: &[u8], i: usize) -> bool {
    let c = at(b, i);
    c == b'\r'
        || c == b'\n'
        || (c == 0xC2 && at(b, i + 1) == 0x85)
        || (c == 0xE2 && at(b, i + 1) == 0x80 && (at(b, i + 2) == 0xA8 || at(b, i + 2) == 0xA9))
}

fn is_blankz(b: &[u8], i: usize) -> bool {
    is_blank(b, i) || is_break(b, i) || i >= b.len() || at(b, i) == 0
}

fn is_bom(b: &[u8], i: usize) -> bool {
    at(b, i) == 0xEF && at(b, i + 1) == 0xBB && at(b, i + 2) == 0xBF
}

fn is_alpha(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

impl Emitter {
    pub fn new(v3: bool, best_indent: i64) -> Emitter {
        Emitter {
            v3,
            out: Vec::new(),
            best_indent,
            // go-yaml v2 starts at 0 (then 80); v3 at -1, meaning no folding at all.
            best_width: if v3 { -1 } else { 0 },
            state: St::StreamStart,
            states: Vec::new(),
            indent: -1,
            indents: Vec::new(),
            flow_level: 0,
            root_context: false,
            sequence_context: false,
            mapping_context: false,
            simple_key_context: false,
            line: 0,
            column: 0,
            whitespace: true,
            indention: true,
            open_ended: false,
            scalar: ScalarAnalysis::default(),
            scalar_style: Style::Plain,
        }
    }

    /// Emits all events; returns the output text.
    pub fn emit_all(mut self, events: &[Ev]) -> Result<String, String> {
        let mut head = 0;
        while head < events.len() {
            self.analyze(&events[head]);
            self.state_machine(events, head)?;
            head += 1;
        }
        String::from_utf8(self.out).map_err(|e| e.to_string())
    }

    // ---- writers ---------------------------------------------------------------------

    fn put(&mut self, c: u8) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push(b'\n');
        self.column = 0;
        self.line += 1;
        if self.v3 {
            self.indention = true;
        }
    }

    fn write(&mut self, s: &[u8], i: &mut usize) {
        let w = width(s[*i]).min(s.len() - *i);
        self.out.extend_from_slice(&s[*i..*i + w]);
        self.column += 1;
        *i += w;
    }

    fn write_all(&mut self, s: &[u8]) {
        let mut i = 0;
        while i < s.len() {
            self.write(s, &mut i);
        }
    }

    fn write_break(&mut self, s: &[u8], i: &mut usize) {
        if s[*i] == b'\n' {
            self.put_break();
            *i += 1;
        } else {
            self.write(s, i);
            self.column = 0;
            self.line += 1;
            if self.v3 {
                self.indention = true;
            }
        }
    }

    fn pop_state(&mut self) {
        self.state = self.states.pop().unwrap_or(St::End);
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { self.best_indent } else { 0 };
        } else if !indentless {
            if self.v3 {
                if self.states.last() == Some(&St::BlockSequenceItem) {
                    self.indent += 2;
                } else {
                    self.indent = self.best_indent * ((self.indent + self.best_indent) / self.best_indent);
                }
            } else {
                self.indent += self.best_indent;
            }
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(b' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &[u8], need_whitespace: bool, is_whitespace: bool, is_indention: bool) {
        if need_whitespace && !self.whitespace {
            self.put(b' ');
        }
        self.write_all(ind);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    // ---- analysis ---------------------------------------------------------------------

    fn analyze(&mut self, ev: &Ev) {
        if let Ev::Scalar { value, .. } = ev {
            self.scalar = self.analyze_scalar(value.as_bytes());
        }
    }

    fn analyze_scalar(&self, value: &[u8]) -> ScalarAnalysis {
        let mut a = ScalarAnalysis::default();
        if value.is_empty() {
            a.multiline = false;
            a.flow_plain_allowed = false;
            a.block_plain_allowed = true;
            a.single_quoted_allowed = true;
            a.block_allowed = false;
            return a;
        }
        let mut block_indicators = false;
        let mut flow_indicators = false;
        let mut line_breaks = false;
        let mut special_characters = false;
        let mut tab_characters = false;
        let mut leading_space = false;
        let mut leading_break = false;
        let mut trailing_space = false;
        let mut trailing_break = false;
        let mut break_space = false;
        let mut space_break = false;
        let mut previous_space = false;
        let mut previous_break = false;
        if value.len() >= 3 && ((value[0] == b'-' && value[1] == b'-' && value[2] == b'-') || (value[0] == b'.' && value[1] == b'.' && value[2] == b'.')) {
            block_indicators = true;
            flow_indicators = true;
        }
        let mut preceded_by_whitespace = true;
        let mut i = 0;
        while i < value.len() {
            let w = width(value[i]);
            let followed_by_whitespace = i + w >= value.len() || is_blank(value, i + w);
            let c = value[i];
            if i == 0 {
                match c {
                    b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' => {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                    b'?' | b':' => {
                        flow_indicators = true;
                        if followed_by_whitespace {
                            block_indicators = true;
                        }
                    }
                    b'-' => {
                        if followed_by_whitespace {
                            flow_indicators = true;
                            block_indicators = true;
                        }
                    }
                    _ => {}
                }
            } else {
                match c {
                    b',' | b'?' | b'[' | b']' | b'{' | b'}' => flow_indicators = true,
                    b':' => {
                        flow_indicators = true;
                        if followed_by_whitespace {
                            block_indicators = true;
                        }
                    }
                    b'#' => {
                        if preceded_by_whitespace {
                            flow_indicators = true;
                            block_indicators = true;
                        }
                    }
                    _ => {}
                }
            }
            if self.v3 && c == b'\t' {
                tab_characters = true;
            } else if !is_printable(value, i) {
                special_characters = true;
            }
            if is_space(value, i) {
                if i == 0 {
                    leading_space = true;
                }
                if i + w == value.len() {
                    trailing_space = true;
                }
                if previous_break {
                    break_space = true;
                }
                previous_space = true;
                previous_break = false;
            } else if is_break(value, i) {
                line_breaks = true;
                if i == 0 {
                    leading_break = true;
                }
                if i + w == value.len() {
                    trailing_break = true;
                }
                if previous_space {
                    space_break = true;
                }
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_whitespace = is_blankz(value, i);
            i += w;
        }
        a.multiline = line_breaks;
        a.flow_plain_allowed = true;
        a.block_plain_allowed = true;
        a.single_quoted_allowed = true;
        a.block_allowed = true;
        if leading_space || leading_break || trailing_space || trailing_break {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
        }
        if trailing_space {
            a.block_allowed = false;
        }
        if break_space {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
            a.single_quoted_allowed = false;
        }
        if space_break || tab_characters || special_characters {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
            a.single_quoted_allowed = false;
        }
        if space_break || special_characters {
            a.block_allowed = false;
        }
        if line_breaks {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
        }
        if flow_indicators {
            a.flow_plain_allowed = false;
        }
        if block_indicators {
            a.block_plain_allowed = false;
        }
        a
    }

    // ---- state machine ----------------------------------------------------------------

    fn state_machine(&mut self, events: &[Ev], head: usize) -> Result<(), String> {
        let ev = &events[head];
        match self.state {
            St::StreamStart => {
                if *ev != Ev::StreamStart {
                    return Err("expected STREAM-START".into());
                }
                if self.best_indent < 2 || self.best_indent > 9 {
                    self.best_indent = 2;
                }
                if self.best_width >= 0 && self.best_width <= self.best_indent * 2 {
                    self.best_width = 80;
                }
                if self.best_width < 0 {
                    self.best_width = i64::from(i32::MAX);
                }
                self.indent = -1;
                self.line = 0;
                self.column = 0;
                self.whitespace = true;
                self.indention = true;
                self.state = St::FirstDocumentStart;
                Ok(())
            }
            St::FirstDocumentStart | St::DocumentStart => {
                let first = self.state == St::FirstDocumentStart;
                match ev {
                    Ev::DocumentStart => {
                        if !first {
                            self.write_indent();
                            self.write_indicator(b"---", true, false, false);
                            if self.v3 {
                                self.write_indent();
                            }
                        }
                        self.state = St::DocumentContent;
                        Ok(())
                    }
                    Ev::StreamEnd => {
                        // go-yaml v2's encoder clears open_ended before the stream end (so no
                        // "..." follows a root plain scalar); v3's Encode never ends the stream.
                        self.open_ended = false;
                        self.state = St::End;
                        Ok(())
                    }
                    _ => Err("expected DOCUMENT-START or STREAM-END".into()),
                }
            }
            St::DocumentContent => {
                self.states.push(St::DocumentEnd);
                self.emit_node(events, head, true, false, false, false)
            }
            St::DocumentEnd => {
                if *ev != Ev::DocumentEnd {
                    return Err("expected DOCUMENT-END".into());
                }
                self.write_indent();
                self.state = St::DocumentStart;
                Ok(())
            }
            St::FlowSequenceFirstItem => self.emit_flow_sequence_item(events, head, true),
            St::FlowSequenceItem => self.emit_flow_sequence_item(events, head, false),
            St::FlowMappingFirstKey => self.emit_flow_mapping_key(events, head, true),
            St::FlowMappingKey => self.emit_flow_mapping_key(events, head, false),
            St::FlowMappingSimpleValue => self.emit_flow_mapping_value(events, head, true),
            St::FlowMappingValue => self.emit_flow_mapping_value(events, head, false),
            St::BlockSequenceFirstItem => self.emit_block_sequence_item(events, head, true),
            St::BlockSequenceItem => self.emit_block_sequence_item(events, head, false),
            St::BlockMappingFirstKey => self.emit_block_mapping_key(events, head, true),
            St::BlockMappingKey => self.emit_block_mapping_key(events, head, false),
            St::BlockMappingSimpleValue => self.emit_block_mapping_value(events, head, true),
            St::BlockMappingValue => self.emit_block_mapping_value(events, head, false),
            St::End => Err("expected nothing after STREAM-END".into()),
        }
    }

    fn emit_flow_sequence_item(&mut self, events: &[Ev], head: usize, first: bool) -> Result<(), String> {
        if first {
            self.write_indicator(b"[", true, true, false);
            self.increase_indent(true, false);
            self.flow_level += 1;
        }
        if events[head] == Ev::SequenceEnd {
            self.flow_level -= 1;
            self.pop_indent();
            if self.v3 && self.column == 0 {
                self.write_indent();
            }
            self.write_indicator(b"]", false, false, false);
            self.pop_state();
            return Ok(());
        }
        if !first {
            self.write_indicator(b",", false, false, false);
        }
        if (self.v3 && self.column == 0) || self.column > self.best_width {
            self.write_indent();
        }
        self.states.push(St::FlowSequenceItem);
        self.emit_node(events, head, false, true, false, false)
    }

    fn emit_flow_mapping_key(&mut self, events: &[Ev], head: usize, first: bool) -> Result<(), String> {
        if first {
            self.write_indicator(b"{", true, true, false);
            self.increase_indent(true, false);
            self.flow_level += 1;
        }
        if events[head] == Ev::MappingEnd {
            self.flow_level -= 1;
            self.pop_indent();
            self.write_indicator(b"}", false, false, false);
            self.pop_state();
            return Ok(());
        }
        if !first {
            self.write_indicator(b",", false, false, false);
        }
        if (self.v3 && self.column == 0) || self.column > self.best_width {
            self.write_indent();
        }
        if self.check_simple_key(events, head) {
            self.states.push(St::FlowMappingSimpleValue);
            return self.emit_node(events, head, false, false, true, true);
        }
        self.write_indicator(b"?", true, false, false);
        self.states.push(St::FlowMappingValue);
        self.emit_node(events, head, false, false, true, false)
    }

    fn emit_flow_mapping_value(&mut self, events: &[Ev], head: usize, simple: bool) -> Result<(), String> {
        if simple {
            self.write_indicator(b":", false, false, false);
        } else {
            if self.column > self.best_width {
                self.write_indent();
            }
            self.write_indicator(b":", true, false, false);
        }
        self.states.push(St::FlowMappingKey);
        self.emit_node(events, head, false, false, true, false)
    }

    fn emit_block_sequence_item(&mut self, events: &[Ev], head: usize, first: bool) -> Result<(), String> {
        if first {
            if self.v3 {
                self.increase_indent(false, false);
            } else {
                let indentless = self.mapping_context && !self.indention;
                self.increase_indent(false, indentless);
            }
        }
        if events[head] == Ev::SequenceEnd {
            self.pop_indent();
            self.pop_state();
            return Ok(());
        }
        self.write_indent();
        self.write_indicator(b"-", true, false, true);
        self.states.push(St::BlockSequenceItem);
        self.emit_node(events, head, false, true, false, false)
    }

    fn emit_block_mapping_key(&mut self, events: &[Ev], head: usize, first: bool) -> Result<(), String> {
        if first {
            self.increase_indent(false, false);
        }
        if events[head] == Ev::MappingEnd {
            self.pop_indent();
            self.pop_state();
            return Ok(());
        }
        self.write_indent();
        if self.check_simple_key(events, head) {
            self.states.push(St::BlockMappingSimpleValue);
            return self.emit_node(events, head, false, false, true, true);
        }
        self.write_indicator(b"?", true, false, true);
        self.states.push(St::BlockMappingValue);
        self.emit_node(events, head, false, false, true, false)
    }

    fn emit_block_mapping_value(&mut self, events: &[Ev], head: usize, simple: bool) -> Result<(), String> {
        if simple {
            self.write_indicator(b":", false, false, false);
        } else {
            self.write_indent();
            self.write_indicator(b":", true, false, true);
        }
        self.states.push(St::BlockMappingKey);
        self.emit_node(events, head, false, false, true, false)
    }

    fn emit_node(&mut self, events: &[Ev], head: usize, root: bool, sequence: bool, mapping: bool, simple_key: bool) -> Result<(), String> {
        self.root_context = root;
        self.sequence_context = sequence;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match &events[head] {
            Ev::Scalar { value, style } => {
                self.select_scalar_style(value, *style);
                self.increase_indent(true, false);
                self.process_scalar(value.as_bytes());
                self.pop_indent();
                self.pop_state();
                Ok(())
            }
            Ev::SequenceStart { flow } => {
                let empty = events.get(head + 1) == Some(&Ev::SequenceEnd);
                self.state = if self.flow_level > 0 || *flow || empty { St::FlowSequenceFirstItem } else { St::BlockSequenceFirstItem };
                Ok(())
            }
            Ev::MappingStart { flow } => {
                let empty = events.get(head + 1) == Some(&Ev::MappingEnd);
                self.state = if self.flow_level > 0 || *flow || empty { St::FlowMappingFirstKey } else { St::BlockMappingFirstKey };
                Ok(())
            }
            other => Err(format!("expected SCALAR, SEQUENCE-START, MAPPING-START, or ALIAS, but got {other:?}")),
        }
    }

    fn check_simple_key(&self, events: &[Ev], head: usize) -> bool {
        match &events[head] {
            Ev::Scalar { value, .. } => !self.scalar.multiline && value.len() <= 128,
            Ev::SequenceStart { .. } => events.get(head + 1) == Some(&Ev::SequenceEnd),
            Ev::MappingStart { .. } => events.get(head + 1) == Some(&Ev::MappingEnd),
            _ => false,
        }
    }

    fn select_scalar_style(&mut self, value: &str, requested: Style) {
        let mut style = requested;
        if self.simple_key_context && self.scalar.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain {
            if (self.flow_level > 0 && !self.scalar.flow_plain_allowed) || (self.flow_level == 0 && !self.scalar.block_plain_allowed) {
                style = Style::SingleQuoted;
            }
            if value.is_empty() && (self.flow_level > 0 || self.simple_key_context) {
                style = Style::SingleQuoted;
            }
        }
        if style == Style::SingleQuoted && !self.scalar.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if (style == Style::Literal || style == Style::Folded) && (!self.scalar.block_allowed || self.flow_level > 0 || self.simple_key_context) {
            style = Style::DoubleQuoted;
        }
        self.scalar_style = style;
    }

    fn process_scalar(&mut self, value: &[u8]) {
        let allow_breaks = !self.simple_key_context;
        match self.scalar_style {
            Style::Plain => self.write_plain_scalar(value, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted_scalar(value, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted_scalar(value, allow_breaks),
            Style::Literal => self.write_literal_scalar(value),
            Style::Folded => self.write_folded_scalar(value),
        }
    }

    fn write_plain_scalar(&mut self, value: &[u8], allow_breaks: bool) {
        if !self.whitespace && (!self.v3 || !value.is_empty()) {
            self.put(b' ');
        }
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < value.len() {
            if is_space(value, i) {
                if allow_breaks && !spaces && self.column > self.best_width && !is_space(value, i + 1) {
                    self.write_indent();
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else if is_break(value, i) {
                if !breaks && value[i] == b'\n' {
                    self.put_break();
                }
                self.write_break(value, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(value, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        if !self.v3 || !value.is_empty() {
            self.whitespace = false;
        }
        self.indention = false;
        if self.root_context {
            self.open_ended = true;
        }
    }

    fn write_single_quoted_scalar(&mut self, value: &[u8], allow_breaks: bool) {
        self.write_indicator(b"'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < value.len() {
            if is_space(value, i) {
                if allow_breaks && !spaces && self.column > self.best_width && i > 0 && i < value.len() - 1 && !is_space(value, i + 1) {
                    self.write_indent();
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else if is_break(value, i) {
                if !breaks && value[i] == b'\n' {
                    self.put_break();
                }
                self.write_break(value, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if value[i] == b'\'' {
                    self.put(b'\'');
                }
                self.write(value, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator(b"'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted_scalar(&mut self, value: &[u8], allow_breaks: bool) {
        let mut spaces = false;
        self.write_indicator(b"\"", true, false, false);
        let mut i = 0;
        while i < value.len() {
            let c = value[i];
            if !is_printable(value, i) || is_bom(value, i) || is_break(value, i) || c == b'"' || c == b'\\' {
                let w = width(c).min(value.len() - i);
                let mut v: u32 = match w {
                    1 => (c & 0x7F) as u32,
                    2 => (c & 0x1F) as u32,
                    3 => (c & 0x0F) as u32,
                    _ => (c & 0x07) as u32,
                };
                for k in 1..w {
                    v = (v << 6) + (value[i + k] as u32 & 0x3F);
                }
                i += w;
                self.put(b'\\');
                match v {
                    0x00 => self.put(b'0'),
                    0x07 => self.put(b'a'),
                    0x08 => self.put(b'b'),
                    0x09 => self.put(b't'),
                    0x0A => self.put(b'n'),
                    0x0B => self.put(b'v'),
                    0x0C => self.put(b'f'),
                    0x0D => self.put(b'r'),
                    0x1B => self.put(b'e'),
                    0x22 => self.put(b'"'),
                    0x5C => self.put(b'\\'),
                    0x85 => self.put(b'N'),
                    0xA0 => self.put(b'_'),
                    0x2028 => self.put(b'L'),
                    0x2029 => self.put(b'P'),
                    _ => {
                        let digits = if v <= 0xFF {
                            self.put(b'x');
                            2
                        } else if v <= 0xFFFF {
                            self.put(b'u');
                            4
                        } else {
                            self.put(b'U');
                            8
                        };
                        let mut k: i32 = (digits - 1) * 4;
                        while k >= 0 {
                            let d = ((v >> k as u32) & 0x0F) as u8;
                            self.put(if d < 10 { d + b'0' } else { d + b'A' - 10 });
                            k -= 4;
                        }
                    }
                }
                spaces = false;
            } else if is_space(value, i) {
                if allow_breaks && !spaces && self.column > self.best_width && i > 0 && i < value.len() - 1 {
                    self.write_indent();
                    if is_space(value, i + 1) {
                        self.put(b'\\');
                    }
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else {
                self.write(value, &mut i);
                spaces = false;
            }
        }
        self.write_indicator(b"\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_block_scalar_hints(&mut self, value: &[u8]) {
        if is_space(value, 0) || is_break(value, 0) {
            let hint = [b'0' + self.best_indent as u8];
            self.write_indicator(&hint, false, false, false);
        }
        self.open_ended = false;
        let mut chomp = 0u8;
        if value.is_empty() {
            chomp = b'-';
        } else {
            let mut i = value.len() - 1;
            while i > 0 && value[i] & 0xC0 == 0x80 {
                i -= 1;
            }
            if !is_break(value, i) {
                chomp = b'-';
            } else if i == 0 {
                chomp = b'+';
                self.open_ended = true;
            } else {
                i -= 1;
                while i > 0 && value[i] & 0xC0 == 0x80 {
                    i -= 1;
                }
                if is_break(value, i) {
                    chomp = b'+';
                    self.open_ended = true;
                }
            }
        }
        if chomp != 0 {
            self.write_indicator(&[chomp], false, false, false);
        }
    }

    fn write_literal_scalar(&mut self, value: &[u8]) {
        self.write_indicator(b"|", true, false, false);
        self.write_block_scalar_hints(value);
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        let mut i = 0;
        while i < value.len() {
            if is_break(value, i) {
                self.write_break(value, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(value, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
    }

    fn write_folded_scalar(&mut self, value: &[u8]) {
        self.write_indicator(b">", true, false, false);
        self.write_block_scalar_hints(value);
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        let mut leading_spaces = true;
        let mut i = 0;
        while i < value.len() {
            if is_break(value, i) {
                if !breaks && !leading_spaces && value[i] == b'\n' {
                    let mut k = 0;
                    while is_break(value, k) {
                        k += width(value[k]);
                    }
                    if !is_blankz(value, k) {
                        self.put_break();
                    }
                }
                self.write_break(value, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                    leading_spaces = is_blank(value, i);
                }
                if !breaks && is_space(value, i) && !is_space(value, i + 1) && self.column > self.best_width {
                    self.write_indent();
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[allow(dead_code)]
fn _unused(c: u8) -> bool {
    is_alpha(c)
}
