//! The document tree sops works on (sops.TreeBranch): ordered maps with string keys, lists,
//! scalars of the types sops' AES cipher knows (`str`, `int`, `float`, `bool`, `time`).

/// One value of a sops tree. Maps keep the file's key order (the MAC covers it).
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Node {
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A `time.Time`, held as its RFC 3339 text (what `MarshalText` gives and go-yaml prints).
    Time(String),
    #[default]
    Null,
    /// A list item that decrypted to a comment (sops stores a comment inside a list as an
    /// encrypted item of type `comment`); printed as a comment line, not part of the MAC.
    Comment(String),
}

impl Node {
    /// The entry of a map by key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) | Node::Time(s) => Some(s),
            _ => None,
        }
    }

    /// How many map entries and list items the value holds, itself not included (the YAML
    /// reader numbers entries in document order; skipping a subtree skips this many).
    pub fn entry_count(&self) -> usize {
        match self {
            Node::Map(m) => m.iter().map(|(_, v)| 1 + v.entry_count()).sum(),
            Node::Seq(s) => s.iter().map(|v| 1 + v.entry_count()).sum(),
            _ => 0,
        }
    }
}

/// sops' `ToBytes`: the bytes a value contributes to the MAC.
pub fn mac_bytes(n: &Node) -> Option<Vec<u8>> {
    Some(match n {
        Node::Str(s) | Node::Time(s) => s.as_bytes().to_vec(),
        Node::Int(i) => i.to_string().into_bytes(),
        Node::Float(f) => format_float_f(*f).into_bytes(),
        Node::Bool(true) => b"True".to_vec(),
        Node::Bool(false) => b"False".to_vec(),
        _ => return None,
    })
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest decimal that reads back as `f`,
/// never in exponent form.
pub fn format_float_f(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        // Rust's Display is the shortest round-trip text without an exponent, as Go's 'f', -1.
        let s = format!("{f}");
        if s == "-0" { "-0".into() } else { s }
    }
}
