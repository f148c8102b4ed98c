//! The YAML event parser: go-yaml v2's (libyaml-derived) state machine over the scanner's
//! tokens, with its error texts and marks.

use super::scanner::{ErrorKind, Mark, ParseError, ScalarStyle, Scanner, TokenType};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias,
    Scalar,
    SequenceStart,
    SequenceEnd,
    MappingStart,
    MappingEnd,
}

impl EventType {
    /// go-yaml's event names (`expected %s event but got %s`).
    pub fn name(self) -> &'static str {
        match self {
            EventType::StreamStart => "stream start",
            EventType::StreamEnd => "stream end",
            EventType::DocumentStart => "document start",
            EventType::DocumentEnd => "document end",
            EventType::Alias => "alias",
            EventType::Scalar => "scalar",
            EventType::SequenceStart => "sequence start",
            EventType::SequenceEnd => "sequence end",
            EventType::MappingStart => "mapping start",
            EventType::MappingEnd => "mapping end",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Event {
    pub typ: EventType,
    pub start_mark: Mark,
    #[allow(dead_code)]
    pub end_mark: Mark,
    pub anchor: Vec<u8>,
    pub tag: Vec<u8>,
    pub value: Vec<u8>,
    /// For scalars: plain_implicit; for collections: implicit.
    pub implicit: bool,
    pub quoted_implicit: bool,
    pub style: ScalarStyle,
    pub flow: bool,
}

impl Event {
    fn new(typ: EventType, start_mark: Mark, end_mark: Mark) -> Event {
        Event {
            typ,
            start_mark,
            end_mark,
            anchor: Vec::new(),
            tag: Vec::new(),
            value: Vec::new(),
            implicit: false,
            quoted_implicit: false,
            style: ScalarStyle::Any,
            flow: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    StreamStart,
    ImplicitDocumentStart,
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    BlockNode,
    BlockSequenceFirstEntry,
    BlockSequenceEntry,
    IndentlessSequenceEntry,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingValue,
    FlowSequenceFirstEntry,
    FlowSequenceEntry,
    FlowSequenceEntryMappingKey,
    FlowSequenceEntryMappingValue,
    FlowSequenceEntryMappingEnd,
    FlowMappingFirstKey,
    FlowMappingKey,
    FlowMappingValue,
    FlowMappingEmptyValue,
    End,
}

type R<T> = Result<T, ParseError>;

pub struct Parser {
    pub scanner: Scanner,
    state: State,
    states: Vec<State>,
    marks: Vec<Mark>,
    tag_directives: Vec<(Vec<u8>, Vec<u8>)>,
    done: bool,
}

fn perr(problem: &str, problem_mark: Mark) -> ParseError {
    ParseError {
        kind: ErrorKind::Parser,
        context: String::new(),
        context_mark: Mark::default(),
        problem: problem.to_string(),
        problem_mark,
    }
}

fn perr_ctx(context: &str, context_mark: Mark, problem: &str, problem_mark: Mark) -> ParseError {
    ParseError {
        kind: ErrorKind::Parser,
        context: context.to_string(),
        context_mark,
        problem: problem.to_string(),
        problem_mark,
    }
}

const DEFAULT_TAGS: [(&[u8], &[u8]); 2] = [(b"!", b"!"), (b"!!", b"tag:yaml.org,2002:")];

impl Parser {
    pub fn new(input: &str) -> Parser {
        Parser {
            scanner: Scanner::new(input),
            state: State::StreamStart,
            states: Vec::new(),
            marks: Vec::new(),
            tag_directives: Vec::new(),
            done: false,
        }
    }

    /// The next event, or `None` after the stream end.
    pub fn next(&mut self) -> R<Option<Event>> {
        if self.done || self.state == State::End {
            return Ok(None);
        }
        let ev = self.state_machine()?;
        if ev.typ == EventType::StreamEnd {
            self.done = true;
        }
        Ok(Some(ev))
    }

    fn pop_state(&mut self) {
        self.state = self.states.pop().unwrap_or(State::End);
    }

    fn state_machine(&mut self) -> R<Event> {
        match self.state {
            State::StreamStart => self.parse_stream_start(),
            State::ImplicitDocumentStart => self.parse_document_start(true),
            State::DocumentStart => self.parse_document_start(false),
            State::DocumentContent => self.parse_document_content(),
            State::DocumentEnd => self.parse_document_end(),
            State::BlockNode => self.parse_node(true, false),
            State::BlockSequenceFirstEntry => self.parse_block_sequence_entry(true),
            State::BlockSequenceEntry => self.parse_block_sequence_entry(false),
            State::IndentlessSequenceEntry => self.parse_indentless_sequence_entry(),
            State::BlockMappingFirstKey => self.parse_block_mapping_key(true),
            State::BlockMappingKey => self.parse_block_mapping_key(false),
            State::BlockMappingValue => self.parse_block_mapping_value(),
            State::FlowSequenceFirstEntry => self.parse_flow_sequence_entry(true),
            State::FlowSequenceEntry => self.parse_flow_sequence_entry(false),
            State::FlowSequenceEntryMappingKey => self.parse_flow_sequence_entry_mapping_key(),
            State::FlowSequenceEntryMappingValue => self.parse_flow_sequence_entry_mapping_value(),
            State::FlowSequenceEntryMappingEnd => self.parse_flow_sequence_entry_mapping_end(),
            State::FlowMappingFirstKey => self.parse_flow_mapping_key(true),
            State::FlowMappingKey => self.parse_flow_mapping_key(false),
            State::FlowMappingValue => self.parse_flow_mapping_value(false),
            State::FlowMappingEmptyValue => self.parse_flow_mapping_value(true),
            State::End => Err(perr("invalid parser state", Mark::default())),
        }
    }

    fn peek_type(&mut self) -> R<(TokenType, Mark, Mark)> {
        let t = self.scanner.peek()?;
        Ok((t.typ, t.start_mark, t.end_mark))
    }

    fn parse_stream_start(&mut self) -> R<Event> {
        let (typ, s, e) = self.peek_type()?;
        if typ != TokenType::StreamStart {
            return Err(perr("did not find expected <stream-start>", s));
        }
        self.state = State::ImplicitDocumentStart;
        self.scanner.skip_token();
        Ok(Event::new(EventType::StreamStart, s, e))
    }

    fn parse_document_start(&mut self, implicit: bool) -> R<Event> {
        let (mut typ, _, _) = self.peek_type()?;
        if !implicit {
            while typ == TokenType::DocumentEnd {
                self.scanner.skip_token();
                typ = self.peek_type()?.0;
            }
        }
        let (typ, s, e) = self.peek_type()?;
        if implicit
            && typ != TokenType::VersionDirective
            && typ != TokenType::TagDirective
            && typ != TokenType::DocumentStart
            && typ != TokenType::StreamEnd
        {
            self.process_directives()?;
            self.states.push(State::DocumentEnd);
            self.state = State::BlockNode;
            Ok(Event::new(EventType::DocumentStart, s, e))
        } else if typ != TokenType::StreamEnd {
            let start = s;
            self.process_directives()?;
            let (typ, s2, e2) = self.peek_type()?;
            if typ != TokenType::DocumentStart {
                return Err(perr("did not find expected <document start>", s2));
            }
            self.states.push(State::DocumentEnd);
            self.state = State::DocumentContent;
            self.scanner.skip_token();
            Ok(Event::new(EventType::DocumentStart, start, e2))
        } else {
            self.state = State::End;
            self.scanner.skip_token();
            Ok(Event::new(EventType::StreamEnd, s, e))
        }
    }

    fn parse_document_content(&mut self) -> R<Event> {
        let (typ, s, _) = self.peek_type()?;
        if matches!(
            typ,
            TokenType::VersionDirective | TokenType::TagDirective | TokenType::DocumentStart | TokenType::DocumentEnd | TokenType::StreamEnd
        ) {
            self.pop_state();
            return Ok(empty_scalar(s));
        }
        self.parse_node(true, false)
    }

    fn parse_document_end(&mut self) -> R<Event> {
        let (typ, s, e) = self.peek_type()?;
        let mut end = s;
        let mut implicit = true;
        if typ == TokenType::DocumentEnd {
            end = e;
            self.scanner.skip_token();
            implicit = false;
        }
        self.tag_directives.clear();
        self.state = State::DocumentStart;
        let mut ev = Event::new(EventType::DocumentEnd, s, end);
        ev.implicit = implicit;
        Ok(ev)
    }

    fn parse_node(&mut self, block: bool, indentless_sequence: bool) -> R<Event> {
        let tok = self.scanner.peek()?.clone();
        if tok.typ == TokenType::Alias {
            self.pop_state();
            let mut ev = Event::new(EventType::Alias, tok.start_mark, tok.end_mark);
            ev.anchor = tok.value;
            self.scanner.skip_token();
            return Ok(ev);
        }
        let mut start_mark = tok.start_mark;
        let mut end_mark = tok.start_mark;
        let mut tag_token = false;
        let mut tag_handle = Vec::new();
        let mut tag_suffix = Vec::new();
        let mut anchor = Vec::new();
        let mut tag_mark = Mark::default();
        let mut tok = tok;
        if tok.typ == TokenType::Anchor {
            anchor = tok.value.clone();
            start_mark = tok.start_mark;
            end_mark = tok.end_mark;
            self.scanner.skip_token();
            tok = self.scanner.peek()?.clone();
            if tok.typ == TokenType::Tag {
                tag_token = true;
                tag_handle = tok.value.clone();
                tag_suffix = tok.suffix.clone();
                tag_mark = tok.start_mark;
                end_mark = tok.end_mark;
                self.scanner.skip_token();
                tok = self.scanner.peek()?.clone();
            }
        } else if tok.typ == TokenType::Tag {
            tag_token = true;
            tag_handle = tok.value.clone();
            tag_suffix = tok.suffix.clone();
            start_mark = tok.start_mark;
            tag_mark = tok.start_mark;
            end_mark = tok.end_mark;
            self.scanner.skip_token();
            tok = self.scanner.peek()?.clone();
            if tok.typ == TokenType::Anchor {
                anchor = tok.value.clone();
                end_mark = tok.end_mark;
                self.scanner.skip_token();
                tok = self.scanner.peek()?.clone();
            }
        }
        let mut tag = Vec::new();
        if tag_token {
            if tag_handle.is_empty() {
                tag = tag_suffix;
            } else {
                for (h, p) in &self.tag_directives {
                    if *h == tag_handle {
                        tag = p.clone();
                        tag.extend_from_slice(&tag_suffix);
                        break;
                    }
                }
                if tag.is_empty() {
                    return Err(perr_ctx("while parsing a node", start_mark, "found undefined tag handle", tag_mark));
                }
            }
        }
        let implicit = tag.is_empty();
        if indentless_sequence && tok.typ == TokenType::BlockEntry {
            end_mark = tok.end_mark;
            self.state = State::IndentlessSequenceEntry;
            let mut ev = Event::new(EventType::SequenceStart, start_mark, end_mark);
            ev.anchor = anchor;
            ev.tag = tag;
            ev.implicit = implicit;
            return Ok(ev);
        }
        if tok.typ == TokenType::Scalar {
            let mut plain_implicit = false;
            let mut quoted_implicit = false;
            end_mark = tok.end_mark;
            if (tag.is_empty() && tok.style == ScalarStyle::Plain) || (tag.len() == 1 && tag[0] == b'!') {
                plain_implicit = true;
            } else if tag.is_empty() {
                quoted_implicit = true;
            }
            self.pop_state();
            let mut ev = Event::new(EventType::Scalar, start_mark, end_mark);
            ev.anchor = anchor;
            ev.tag = tag;
            ev.value = tok.value;
            ev.implicit = plain_implicit;
            ev.quoted_implicit = quoted_implicit;
            ev.style = tok.style;
            self.scanner.skip_token();
            return Ok(ev);
        }
        let collection = match tok.typ {
            TokenType::FlowSequenceStart => Some((EventType::SequenceStart, State::FlowSequenceFirstEntry, true)),
            TokenType::FlowMappingStart => Some((EventType::MappingStart, State::FlowMappingFirstKey, true)),
            TokenType::BlockSequenceStart if block => Some((EventType::SequenceStart, State::BlockSequenceFirstEntry, false)),
            TokenType::BlockMappingStart if block => Some((EventType::MappingStart, State::BlockMappingFirstKey, false)),
            _ => None,
        };
        if let Some((et, st, flow)) = collection {
            end_mark = tok.end_mark;
            self.state = st;
            let mut ev = Event::new(et, start_mark, end_mark);
            ev.anchor = anchor;
            ev.tag = tag;
            ev.implicit = implicit;
            ev.flow = flow;
            return Ok(ev);
        }
        if !anchor.is_empty() || !tag.is_empty() {
            self.pop_state();
            let mut ev = Event::new(EventType::Scalar, start_mark, end_mark);
            ev.anchor = anchor;
            ev.tag = tag;
            ev.implicit = implicit;
            ev.style = ScalarStyle::Plain;
            return Ok(ev);
        }
        let context = if block { "while parsing a block node" } else { "while parsing a flow node" };
        Err(perr_ctx(context, start_mark, "did not find expected node content", tok.start_mark))
    }

    fn parse_block_sequence_entry(&mut self, first: bool) -> R<Event> {
        if first {
            let (_, s, _) = self.peek_type()?;
            self.marks.push(s);
            self.scanner.skip_token();
        }
        let (typ, s, e) = self.peek_type()?;
        if typ == TokenType::BlockEntry {
            let mark = e;
            self.scanner.skip_token();
            let (typ, _, _) = self.peek_type()?;
            if typ != TokenType::BlockEntry && typ != TokenType::BlockEnd {
                self.states.push(State::BlockSequenceEntry);
                return self.parse_node(true, false);
            }
            self.state = State::BlockSequenceEntry;
            return Ok(empty_scalar(mark));
        }
        if typ == TokenType::BlockEnd {
            self.pop_state();
            self.marks.pop();
            self.scanner.skip_token();
            return Ok(Event::new(EventType::SequenceEnd, s, e));
        }
        let cm = self.marks.pop().unwrap_or_default();
        Err(perr_ctx("while parsing a block collection", cm, "did not find expected '-' indicator", s))
    }

    fn parse_indentless_sequence_entry(&mut self) -> R<Event> {
        let (typ, s, e) = self.peek_type()?;
        if typ == TokenType::BlockEntry {
            let mark = e;
            self.scanner.skip_token();
            let (typ, _, _) = self.peek_type()?;
            if typ != TokenType::BlockEntry && typ != TokenType::Key && typ != TokenType::Value && typ != TokenType::BlockEnd {
                self.states.push(State::IndentlessSequenceEntry);
                return self.parse_node(true, false);
            }
            self.state = State::IndentlessSequenceEntry;
            return Ok(empty_scalar(mark));
        }
        self.pop_state();
        Ok(Event::new(EventType::SequenceEnd, s, s))
    }

    fn parse_block_mapping_key(&mut self, first: bool) -> R<Event> {
        if first {
            let (_, s, _) = self.peek_type()?;
            self.marks.push(s);
            self.scanner.skip_token();
        }
        let (typ, s, e) = self.peek_type()?;
        if typ == TokenType::Key {
            let mark = e;
            self.scanner.skip_token();
            let (typ, _, _) = self.peek_type()?;
            if typ != TokenType::Key && typ != TokenType::Value && typ != TokenType::BlockEnd {
                self.states.push(State::BlockMappingValue);
                return self.parse_node(true, true);
            }
            self.state = State::BlockMappingValue;
            return Ok(empty_scalar(mark));
        } else if typ == TokenType::BlockEnd {
            self.pop_state();
            self.marks.pop();
            self.scanner.skip_token();
            return Ok(Event::new(EventType::MappingEnd, s, e));
        }
        let cm = self.marks.pop().unwrap_or_default();
        Err(perr_ctx("while parsing a block mapping", cm, "did not find expected key", s))
    }

    fn parse_block_mapping_value(&mut self) -> R<Event> {
        let (typ, s, e) = self.peek_type()?;
        if typ == TokenType::Value {
            let mark = e;
            self.scanner.skip_token();
            let (typ, _, _) = self.peek_type()?;
            if typ != TokenType::Key && typ != TokenType::Value && typ != TokenType::BlockEnd {
                self.states.push(State::BlockMappingKey);
                return self.parse_node(true, true);
            }
            self.state = State::BlockMappingKey;
            return Ok(empty_scalar(mark));
        }
        self.state = State::BlockMappingKey;
        Ok(empty_scalar(s))
    }

    fn parse_flow_sequence_entry(&mut self, first: bool) -> R<Event> {
        if first {
            let (_, s, _) = self.peek_type()?;
            self.marks.push(s);
            self.scanner.skip_token();
        }
        let (mut typ, mut s, mut e) = self.peek_type()?;
        if typ != TokenType::FlowSequenceEnd {
            if !first {
                if typ == TokenType::FlowEntry {
                    self.scanner.skip_token();
                    (typ, s, e) = self.peek_type()?;
                } else {
                    let cm = self.marks.pop().unwrap_or_default();
                    return Err(perr_ctx("while parsing a flow sequence", cm, "did not find expected ',' or ']'", s));
                }
            }
            if typ == TokenType::Key {
                self.state = State::FlowSequenceEntryMappingKey;
                let mut ev = Event::new(EventType::MappingStart, s, e);
                ev.implicit = true;
                ev.flow = true;
                self.scanner.skip_token();
                return Ok(ev);
            } else if typ != TokenType::FlowSequenceEnd {
                self.states.push(State::FlowSequenceEntry);
                return self.parse_node(false, false);
            }
        }
        self.pop_state();
        self.marks.pop();
        self.scanner.skip_token();
        Ok(Event::new(EventType::SequenceEnd, s, e))
    }

    fn parse_flow_sequence_entry_mapping_key(&mut self) -> R<Event> {
        let (typ, _, e) = self.peek_type()?;
        if typ != TokenType::Value && typ != TokenType::FlowEntry && typ != TokenType::FlowSequenceEnd {
            self.states.push(State::FlowSequenceEntryMappingValue);
            return self.parse_node(false, false);
        }
        let mark = e;
        self.scanner.skip_token();
        self.state = State::FlowSequenceEntryMappingValue;
        Ok(empty_scalar(mark))
    }

    fn parse_flow_sequence_entry_mapping_value(&mut self) -> R<Event> {
        let (typ, s, _) = self.peek_type()?;
        if typ == TokenType::Value {
            self.scanner.skip_token();
            let (typ2, _, _) = self.peek_type()?;
            if typ2 != TokenType::FlowEntry && typ2 != TokenType::FlowSequenceEnd {
                self.states.push(State::FlowSequenceEntryMappingEnd);
                return self.parse_node(false, false);
            }
        }
        self.state = State::FlowSequenceEntryMappingEnd;
        // go-yaml uses the mark of the token seen on entry here.
        Ok(empty_scalar(s))
    }

    fn parse_flow_sequence_entry_mapping_end(&mut self) -> R<Event> {
        let (_, s, _) = self.peek_type()?;
        self.state = State::FlowSequenceEntry;
        Ok(Event::new(EventType::MappingEnd, s, s))
    }

    fn parse_flow_mapping_key(&mut self, first: bool) -> R<Event> {
        if first {
            let (_, s, _) = self.peek_type()?;
            self.marks.push(s);
            self.scanner.skip_token();
        }
        let (mut typ, mut s, mut e) = self.peek_type()?;
        if typ != TokenType::FlowMappingEnd {
            if !first {
                if typ == TokenType::FlowEntry {
                    self.scanner.skip_token();
                    (typ, s, e) = self.peek_type()?;
                } else {
                    let cm = self.marks.pop().unwrap_or_default();
                    return Err(perr_ctx("while parsing a flow mapping", cm, "did not find expected ',' or '}'", s));
                }
            }
            if typ == TokenType::Key {
                self.scanner.skip_token();
                let (typ, s2, _) = self.peek_type()?;
                if typ != TokenType::Value && typ != TokenType::FlowEntry && typ != TokenType::FlowMappingEnd {
                    self.states.push(State::FlowMappingValue);
                    return self.parse_node(false, false);
                }
                self.state = State::FlowMappingValue;
                return Ok(empty_scalar(s2));
            } else if typ != TokenType::FlowMappingEnd {
                self.states.push(State::FlowMappingEmptyValue);
                return self.parse_node(false, false);
            }
        }
        self.pop_state();
        self.marks.pop();
        self.scanner.skip_token();
        Ok(Event::new(EventType::MappingEnd, s, e))
    }

    fn parse_flow_mapping_value(&mut self, empty: bool) -> R<Event> {
        let (typ, s, _) = self.peek_type()?;
        if empty {
            self.state = State::FlowMappingKey;
            return Ok(empty_scalar(s));
        }
        if typ == TokenType::Value {
            self.scanner.skip_token();
            let (typ2, s2, _) = self.peek_type()?;
            if typ2 != TokenType::FlowEntry && typ2 != TokenType::FlowMappingEnd {
                self.states.push(State::FlowMappingKey);
                return self.parse_node(false, false);
            }
            self.state = State::FlowMappingKey;
            return Ok(empty_scalar(s2));
        }
        self.state = State::FlowMappingKey;
        Ok(empty_scalar(s))
    }

    fn process_directives(&mut self) -> R<()> {
        let mut have_version = false;
        loop {
            let tok = self.scanner.peek()?.clone();
            match tok.typ {
                TokenType::VersionDirective => {
                    if have_version {
                        return Err(perr("found duplicate %YAML directive", tok.start_mark));
                    }
                    if tok.major != 1 || tok.minor != 1 {
                        return Err(perr("found incompatible YAML document", tok.start_mark));
                    }
                    have_version = true;
                }
                TokenType::TagDirective => {
                    if self.tag_directives.iter().any(|(h, _)| *h == tok.value) {
                        return Err(perr("found duplicate %TAG directive", tok.start_mark));
                    }
                    self.tag_directives.push((tok.value.clone(), tok.prefix.clone()));
                }
                _ => break,
            }
            self.scanner.skip_token();
        }
        for (h, p) in DEFAULT_TAGS {
            if !self.tag_directives.iter().any(|(x, _)| x == h) {
                self.tag_directives.push((h.to_vec(), p.to_vec()));
            }
        }
        Ok(())
    }
}

fn empty_scalar(mark: Mark) -> Event {
    let mut ev = Event::new(EventType::Scalar, mark, mark);
    ev.implicit = true;
    ev.style = ScalarStyle::Plain;
    ev
}
