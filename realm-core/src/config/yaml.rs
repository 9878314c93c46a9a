//! The YAML reader: saphyr-parser events → the positioned [`Node`] tree.
//!
//! Why saphyr-parser and not a serde YAML crate: serde-based readers (`yaml_serde`, the maintained
//! successor of the deprecated `serde_yaml`) can place only *syntax* errors; once a document
//! parses, a wrong type three levels down has lost its line and column. Realm promises
//! `FILE:LINE:COL: key.path` for every defect, so it needs the position of every key and value.
//! saphyr-parser (MIT/Apache-2.0, pure Rust, YAML 1.2, the maintained successor of yaml-rust) gives a
//! marker with every event; this module builds the tree from those events. serde stays where it
//! is strong: serialising the typed model for `realm config dump`. (marked-yaml, a spanned-node
//! crate, was tried and rejected: its loader asserts on event order and silently drops a second
//! document.)
//!
//! The reader refuses, with a position: anchors and aliases (an alias bomb could otherwise expand
//! a small file into gigabytes), tags, more than one document, non-scalar keys, duplicate keys,
//! and nesting deeper than [`MAX_DEPTH`].

use super::diag::Diags;
use super::tree::{Entry, MAX_DEPTH, Node, Pos, Value, to_u32};
use saphyr_parser::{Event, Parser, ScalarStyle, Span};

fn pos(span: &Span) -> Pos {
    // saphyr markers: line from 1, column from 0 (in characters).
    Pos::new(to_u32(span.start.line()), to_u32(span.start.col() + 1))
}

enum Frame {
    Seq(Pos, Vec<Node>),
    Map(Pos, Vec<Entry>, Option<(String, Pos)>),
}

/// The key path of the node being built, for errors found while building (`security.realms[r1]`).
fn stack_path(stack: &[Frame], last: Option<&str>) -> String {
    let mut path = String::new();
    let mut frames = stack.iter().peekable();
    while let Some(f) = frames.next() {
        match f {
            Frame::Map(_, _, Some((k, _))) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Map(_, _, None) => {}
            Frame::Seq(_, items) => {
                // Label a list item by its `name`/`username` when already read, as the mapper does.
                let label = match frames.peek() {
                    Some(Frame::Map(_, entries, _)) => entries
                        .iter()
                        .find(|e| e.key == "name" || e.key == "username")
                        .and_then(|e| match &e.value.value {
                            Value::Scalar(s) if !s.is_empty() => Some(s.clone()),
                            _ => None,
                        }),
                    _ => None,
                };
                path.push_str(&format!(
                    "[{}]",
                    label.unwrap_or_else(|| items.len().to_string())
                ));
            }
        }
    }
    if let Some(k) = last {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(k);
    }
    path
}

/// Parses a YAML document into a tree. Returns `None` after reporting an error.
pub(crate) fn parse(src: &str, diags: &mut Diags) -> Option<Node> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;
    for item in Parser::new_from_str(src) {
        let (ev, span) = match item {
            Ok(x) => x,
            Err(e) => {
                let m = e.marker();
                let mut at = Pos::new(to_u32(m.line()), to_u32(m.col() + 1));
                if e.info().contains("tab") {
                    // The parser marks the first character after the tabs; point at the tab.
                    let line = src.lines().nth(m.line().saturating_sub(1)).unwrap_or("");
                    if let Some(i) = line.chars().position(|c| c == '\t') {
                        at.col = to_u32(i + 1);
                    }
                }
                diags.error(
                    at,
                    &stack_path(&stack, None),
                    format!("malformed YAML: {}", e.info()),
                );
                return None;
            }
        };
        let at = pos(&span);
        let node = match ev {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => continue,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    diags.error(
                        at,
                        "",
                        "a configuration file holds one YAML document; found a second `---`",
                    );
                    return None;
                }
                continue;
            }
            Event::Alias(_) => {
                diags.error(
                    at,
                    "",
                    "YAML aliases (*name) are not supported in configuration files",
                );
                return None;
            }
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 {
                    diags.error(
                        at,
                        "",
                        "YAML anchors (&name) are not supported in configuration files",
                    );
                    return None;
                }
                if tag.is_some() {
                    diags.error(
                        at,
                        "",
                        "YAML tags (!tag) are not supported in configuration files",
                    );
                    return None;
                }
                let null = style == ScalarStyle::Plain
                    && matches!(&*text, "" | "~" | "null" | "Null" | "NULL");
                Node {
                    pos: at,
                    value: if null {
                        Value::Null
                    } else {
                        Value::Scalar(text.into_owned())
                    },
                }
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if anchor != 0 || tag.is_some() {
                    diags.error(
                        at,
                        "",
                        "YAML anchors and tags are not supported in configuration files",
                    );
                    return None;
                }
                if stack.len() >= MAX_DEPTH {
                    diags.error(
                        at,
                        "",
                        format!("the document is nested deeper than {MAX_DEPTH} levels"),
                    );
                    return None;
                }
                if let Some(Frame::Map(_, _, None)) = stack.last() {
                    diags.error(
                        at,
                        "",
                        "mapping keys must be plain strings, not lists or maps",
                    );
                    return None;
                }
                stack.push(if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq(at, Vec::new())
                } else {
                    Frame::Map(at, Vec::new(), None)
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq(p, items)) => Node {
                    pos: p,
                    value: Value::Seq(items),
                },
                Some(Frame::Map(p, entries, _)) => Node {
                    pos: p,
                    value: Value::Map(entries),
                },
                None => continue,
            },
        };
        // Attach the finished node to its parent.
        let mut duplicate: Option<(String, Pos, Pos)> = None;
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq(_, items)) => items.push(node),
            Some(Frame::Map(_, entries, pending)) => match pending.take() {
                None => match node.value {
                    Value::Scalar(k) => {
                        if let Some(prev) = entries.iter().find(|e| e.key == k) {
                            duplicate = Some((k, node.pos, prev.key_pos));
                        } else {
                            *pending = Some((k, node.pos));
                        }
                    }
                    Value::Null => *pending = Some((String::new(), node.pos)),
                    _ => {
                        diags.error(node.pos, "", "mapping keys must be plain strings");
                        return None;
                    }
                },
                Some((key, key_pos)) => {
                    let mut node = node;
                    // A map, list or empty value belongs to its key: point there, as XML does
                    // with the element (`ldap:` rather than the first key under it).
                    if !matches!(node.value, Value::Scalar(_)) {
                        node.pos = key_pos;
                    }
                    entries.push(Entry {
                        key,
                        key_pos,
                        value: node,
                    })
                }
            },
        }
        if let Some((k, at, prev)) = duplicate {
            let path = stack_path(&stack, Some(&k));
            diags.error(
                at,
                &path,
                format!(
                    "duplicate key `{k}` (first defined at line {}, column {})",
                    prev.line, prev.col
                ),
            );
            return None;
        }
    }
    match root {
        Some(r) => Some(r),
        None => Some(Node {
            pos: Pos::new(1, 1),
            value: Value::Null,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn read(src: &str) -> (Option<Node>, Vec<String>) {
        let mut d = Diags::new(Path::new("t.yaml"));
        let n = parse(src, &mut d);
        (n, d.list.iter().map(|x| x.to_string()).collect())
    }

    #[test]
    fn positions_are_one_based() {
        let (n, _) = read("a:\n  b: 'x'\n");
        let n = n.unwrap_or(Node::scalar(Pos::default(), ""));
        let a = n.get("a").map(|e| e.key_pos);
        assert_eq!(a, Some(Pos::new(1, 1)));
        let b = n
            .get("a")
            .and_then(|e| e.value.get("b"))
            .map(|e| (e.key_pos, e.value.pos));
        assert_eq!(b, Some((Pos::new(2, 3), Pos::new(2, 6))));
    }

    #[test]
    fn refuses_aliases_duplicates_and_second_documents() {
        assert!(read("a: &x 1\nb: *x\n").1[0].contains("anchors"));
        assert!(read("a: 1\na: 2\n").1[0].contains("t.yaml:2:1: a: duplicate key `a`"));
        assert!(read("a: 1\n---\nb: 2\n").1[0].contains("second"));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // Flow nesting is stopped by the parser's own limit, block nesting by ours.
        let flow = "[".repeat(100_000);
        assert!(read(&flow).1[0].contains("recursion limit"));
        let block: String = (0..200)
            .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
            .collect();
        assert!(read(&block).1[0].contains("nested deeper than 64"));
    }
}
