//! The positioned document tree both readers produce.
//!
//! XML and YAML are first read into this one shape (the YAML shape of Hazelcast's schema: lists
//! where YAML has lists, maps where it has maps), every node and key remembering its line and
//! column. One mapping ([`super::map`]) then turns the tree into the typed model, so both syntaxes
//! mean the same thing and produce the same error messages.

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub col: u32,
}

impl Pos {
    /// A position.
    pub fn new(line: u32, col: u32) -> Self {
        Pos { line, col }
    }
}

/// A node of the tree.
///
/// `Debug` shows the structure and the keys but never scalar values: the tree is read before it is
/// known which values are passwords, so all of them are treated as if they were.
#[derive(Clone, PartialEq)]
pub struct Node {
    /// Where the node's value starts.
    pub pos: Pos,
    /// The value.
    pub value: Value,
}

/// The value of a node (`Debug` redacts scalars; see [`Node`]).
#[derive(Clone, PartialEq)]
pub enum Value {
    /// YAML `~`, `null` or an empty plain value. XML never produces it.
    Null,
    /// A scalar; all scalars are text, typed by the mapping that reads them.
    Scalar(String),
    /// A list.
    Seq(Vec<Node>),
    /// A map with its keys in document order (duplicates are rejected by the readers).
    Map(Vec<Entry>),
}

/// One key of a map.
#[derive(Clone, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// Where the key is (for XML: the element's `<` or the attribute's name).
    pub key_pos: Pos,
    /// The value.
    pub value: Node,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "@{}:{} ", self.pos.line, self.pos.col)?;
        self.value.fmt(f)
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Scalar(s) => write!(f, "<{} chars>", s.chars().count()),
            Value::Seq(items) => f.debug_list().entries(items).finish(),
            Value::Map(entries) => f
                .debug_map()
                .entries(entries.iter().map(|e| (&e.key, &e.value)))
                .finish(),
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:?}", self.key, self.value)
    }
}

impl Node {
    /// A scalar node.
    pub fn scalar(pos: Pos, text: impl Into<String>) -> Self {
        Node {
            pos,
            value: Value::Scalar(text.into()),
        }
    }

    /// What kind of value this is, for messages ("a map", "a list", ...).
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Scalar(_) => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// The entry for `key` if this is a map that has it.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }
}

/// Nesting deeper than this is refused by both readers: no legitimate security section comes
/// close, and a cap keeps recursive processing (and dropping) of hostile input bounded.
pub const MAX_DEPTH: usize = 64;

/// Turns byte offsets into line/column positions.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The position of a byte offset (clamped to the text).
    pub(crate) fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        Pos::new(to_u32(line + 1), to_u32(col + 1))
    }
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_structure_but_no_scalar_values() {
        let n = Node {
            pos: Pos::new(1, 1),
            value: Value::Map(vec![Entry {
                key: "password".into(),
                key_pos: Pos::new(1, 1),
                value: Node::scalar(Pos::new(1, 11), "hunter2"),
            }]),
        };
        let d = format!("{n:?}");
        assert!(
            d.contains("password") && d.contains("<7 chars>") && !d.contains("hunter2"),
            "{d}"
        );
    }

    #[test]
    fn line_index_counts_characters_from_one() {
        let idx = LineIndex::new("ab\nçd\n");
        assert_eq!(idx.pos(0), Pos::new(1, 1));
        assert_eq!(idx.pos(3), Pos::new(2, 1));
        assert_eq!(idx.pos(5), Pos::new(2, 2)); // 'ç' is two bytes
        assert_eq!(idx.pos(999), Pos::new(3, 1));
    }
}
