//! The XML reader: quick-xml events → a small positioned DOM → the YAML-shaped [`Node`] tree.
//!
//! Hazelcast's XML and YAML differ in a handful of places: XML wraps list items in elements
//! (`<realms><realm/>…`, `<jaas><login-module/>…`, `<properties><property name=…>`), puts a
//! token's value in element text, and spells permissions `map-permission` where YAML says `map`.
//! [`normalize`] applies exactly those rules and nothing else; everywhere else an attribute and a
//! child element of the same name are the same key (`<ldap url="…"/>` = `<ldap><url>…</url></ldap>`).
//! Namespace prefixes are ignored (`<hz:realm>` = `<realm>`), as are `xmlns*` and `xsi:*` attributes.

use super::diag::Diags;
use super::tree::{Entry, LineIndex, MAX_DEPTH, Node, Pos, Value};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// An XML element as read, before normalisation.
#[derive(Debug, Default)]
pub(crate) struct Elem {
    pub(crate) name: String,
    pub(crate) pos: Pos,
    pub(crate) attrs: Vec<Attr>,
    pub(crate) children: Vec<Elem>,
    /// Non-whitespace text content (already trimmed) and where it starts.
    pub(crate) text: Option<(String, Pos)>,
    /// Raw text pieces; `true` marks a character reference, which trimming keeps.
    segments: Vec<(String, bool)>,
    text_pos: Option<Pos>,
}

#[derive(Debug)]
pub(crate) struct Attr {
    pub(crate) name: String,
    pub(crate) pos: Pos,
    pub(crate) value: String,
    pub(crate) value_pos: Pos,
}

fn local(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => name.to_string(),
    }
}

/// Byte offset of `inner` within `outer`, if `inner` is a sub-slice of it.
fn offset_in(outer: &str, inner: &str) -> Option<usize> {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    (i >= o && i <= o + outer.len()).then(|| i - o)
}

fn start_elem(
    src: &str,
    idx: &LineIndex<'_>,
    e: &BytesStart<'_>,
    at: usize,
    diags: &mut Diags,
) -> Option<Elem> {
    let mut elem = Elem {
        name: local(e.name().as_ref()),
        pos: idx.pos(at),
        ..Elem::default()
    };
    for a in e.attributes() {
        match a {
            Ok(a) => {
                let raw = a.key.as_ref();
                let full = raw;
                if full == "xmlns" || full.starts_with("xmlns:") || full.starts_with("xsi:") {
                    continue;
                }
                let apos = offset_in(src, raw).map_or(elem.pos, |o| idx.pos(o));
                let vpos = offset_in(src, &a.value)
                    .filter(|_| matches!(a.value, std::borrow::Cow::Borrowed(_)))
                    .map_or(apos, |o| idx.pos(o));
                match a.normalized_value(XmlVersion::Implicit1_0) {
                    Ok(v) => elem.attrs.push(Attr {
                        name: local(raw),
                        pos: apos,
                        value: v.into_owned(),
                        value_pos: vpos,
                    }),
                    Err(err) => {
                        // Point at the bad reference inside the value when the error says where.
                        use quick_xml::escape::EscapeError;
                        let (at, what) = match &err {
                            quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(r, _)) => (
                                offset_in(src, &a.value)
                                    .map(|o| idx.pos(o + r.start.saturating_sub(1))),
                                // The value may be a password: point at the reference, never repeat it.
                                "unknown entity reference (only &lt; &gt; &amp; &apos; &quot; and &#…; are allowed)".to_string(),
                            ),
                            quick_xml::Error::Escape(EscapeError::InvalidCharRef(_)) => (
                                None,
                                "a character reference (&#…;) is not a valid character".to_string(),
                            ),
                            _ => (None, err.to_string()),
                        };
                        diags.error(
                            at.unwrap_or(apos),
                            "",
                            format!("malformed XML: attribute `{full}`: {what}"),
                        );
                        return None;
                    }
                }
            }
            Err(err) => {
                diags.error(elem.pos, "", format!("malformed XML: {err}"));
                return None;
            }
        }
    }
    Some(elem)
}

fn push_text(elem: &mut Elem, text: &str, from_ref: bool, pos: impl FnOnce(usize) -> Pos) {
    let blank = !from_ref && text.trim().is_empty();
    if blank && elem.text_pos.is_none() {
        // Indentation before any content: trimmed anyway, so not kept.
        return;
    }
    if elem.text_pos.is_none() {
        let lead = if from_ref {
            0
        } else {
            text.len() - text.trim_start().len()
        };
        elem.text_pos = Some(pos(lead));
    }
    elem.segments.push((text.to_string(), from_ref));
}

/// Element text is trimmed, as Hazelcast's DOM reader does (`<url>\n  ldap://h\n</url>` means
/// `ldap://h`), except for characters written as references: `<role>&#32;x</role>` keeps its space.
fn finish_text(elem: &mut Elem) {
    let segs = std::mem::take(&mut elem.segments);
    let first = segs.iter().position(|(t, r)| *r || !t.trim().is_empty());
    let last = segs.iter().rposition(|(t, r)| *r || !t.trim().is_empty());
    let (Some(first), Some(last), Some(pos)) = (first, last, elem.text_pos) else {
        return;
    };
    let mut out = String::new();
    for (i, (t, r)) in segs.iter().enumerate().take(last + 1).skip(first) {
        let mut piece = t.as_str();
        if !*r && i == first {
            piece = piece.trim_start();
        }
        if !*r && i == last {
            piece = piece.trim_end();
        }
        out.push_str(piece);
    }
    elem.text = Some((out, pos));
}

/// Parses XML into its root element. Syntax errors are reported with their position.
pub(crate) fn parse(src: &str, diags: &mut Diags) -> Option<Elem> {
    let idx = LineIndex::new(src);
    let mut reader = Reader::from_str(src);
    reader.config_mut().check_comments = true;
    let mut stack: Vec<Elem> = Vec::new();
    let mut root: Option<Elem> = None;
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(err) => {
                let p = usize::try_from(reader.error_position()).unwrap_or(0);
                let open = stack
                    .last()
                    .map(|e| {
                        format!(
                            " (the innermost open element is <{}> at line {}, column {})",
                            e.name, e.pos.line, e.pos.col
                        )
                    })
                    .unwrap_or_default();
                diags.error(idx.pos(p), "", format!("malformed XML: {err}{open}"));
                return None;
            }
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(ev, Event::Empty(_));
                if root.is_some() {
                    diags.error(idx.pos(at), "", "malformed XML: more than one root element");
                    return None;
                }
                if stack.len() >= MAX_DEPTH {
                    diags.error(
                        idx.pos(at),
                        "",
                        format!("elements are nested deeper than {MAX_DEPTH} levels"),
                    );
                    return None;
                }
                // In a full Hazelcast file only <security> matters: other sections are only
                // checked for well-formedness, without building elements for them.
                let top_level = stack.len() == 1
                    && stack
                        .first()
                        .is_some_and(|r| r.name == "hazelcast" || r.name == "hazelcast-client");
                if top_level && !is_empty && local(e.name().as_ref()) != "security" {
                    let end = e.to_end().into_owned();
                    if let Err(err) = reader.read_to_end(end.name()) {
                        let p = usize::try_from(reader.error_position()).unwrap_or(0);
                        diags.error(idx.pos(p), "", format!("malformed XML: {err}"));
                        return None;
                    }
                    continue;
                }
                let elem = start_elem(src, &idx, e, at, diags)?;
                if is_empty {
                    let mut elem = elem;
                    finish_text(&mut elem);
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(elem),
                        None => root = Some(elem),
                    }
                } else {
                    stack.push(elem);
                }
            }
            Event::End(_) => {
                if let Some(mut done) = stack.pop() {
                    finish_text(&mut done);
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => root = Some(done),
                    }
                }
            }
            Event::Text(t) => {
                let content = t.xml_content(XmlVersion::Implicit1_0);
                match stack.last_mut() {
                    Some(el) => push_text(el, &content, false, |lead| idx.pos(at + lead)),
                    None if content.trim().is_empty() => {}
                    None => {
                        diags.error(
                            idx.pos(at),
                            "",
                            "malformed XML: text outside the root element",
                        );
                        return None;
                    }
                }
            }
            Event::CData(t) => {
                let content = t.xml_content(XmlVersion::Implicit1_0).into_owned();
                if let Some(el) = stack.last_mut() {
                    // CDATA content starts after `<![CDATA[`.
                    push_text(el, &content, false, |lead| idx.pos(at + 9 + lead));
                }
            }
            Event::GeneralRef(r) => {
                let is_char = r.is_char_ref();
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => match &*r.into_inner() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "apos" => Some('\''),
                        "quot" => Some('"'),
                        _ => None,
                    },
                    Err(_) => None,
                };
                let Some(c) = resolved else {
                    // Element text may be a secret: point at the reference, never repeat it.
                    let msg = if is_char {
                        "malformed XML: invalid character reference (not a character XML allows)"
                            .to_string()
                    } else {
                        "malformed XML: unknown entity reference (only &lt; &gt; &amp; &apos; &quot; and &#…; are allowed)".to_string()
                    };
                    diags.error(idx.pos(at), "", msg);
                    return None;
                };
                if let Some(el) = stack.last_mut() {
                    let mut buf = [0u8; 4];
                    push_text(el, c.encode_utf8(&mut buf), true, |_| idx.pos(at));
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        diags.error(
            open.pos,
            "",
            format!("malformed XML: element <{}> is never closed", open.name),
        );
        return None;
    }
    if root.is_none() {
        diags.error(
            Pos::new(1, 1),
            "",
            "malformed XML: the document has no root element",
        );
    }
    root
}

/// How the list-shaped elements of Hazelcast's XML map to YAML lists.
fn list_item_name(container: &str) -> Option<&'static str> {
    Some(match container {
        "realms" => "realm",
        "jaas" => "login-module",
        "endpoints" => "endpoint",
        "actions" => "action",
        "security-interceptors" => "interceptor",
        "role-mappings" => "role-mapping",
        _ => return None,
    })
}

/// Permission element names that hold a single permission (YAML: a map, not a list).
pub(crate) const SINGLETON_PERMISSIONS: &[&str] = &["all", "config", "transaction"];

/// `map-permission` → `map`, `all-permissions` → `all`.
fn permission_key(elem: &str) -> Option<&str> {
    elem.strip_suffix("-permissions")
        .filter(|k| *k == "all")
        .or_else(|| elem.strip_suffix("-permission"))
}

/// Converts an element into the YAML-shaped tree. `path` is the key path of `e` itself.
pub(crate) fn normalize(e: &Elem, path: &str, diags: &mut Diags) -> Node {
    if let Some(item) = list_item_name(&e.name) {
        return normalize_list(e, item, path, diags);
    }
    match e.name.as_str() {
        "properties" => normalize_properties(e, path, diags),
        "token" => normalize_map(e, path, diags, &[], Some("value")),
        "simple" => normalize_map(e, path, diags, &[("user", "users")], None),
        "user" => normalize_map(e, path, diags, &[("role", "roles")], None),
        "allow" => normalize_map(
            e,
            path,
            diags,
            &[
                ("subject", "subjects"),
                ("subject-pattern", "subject-patterns"),
                ("san", "sans"),
                ("san-pattern", "san-patterns"),
            ],
            None,
        ),
        "client-permissions" => normalize_map(e, path, diags, &[], None),
        _ if e.attrs.is_empty() && e.children.is_empty() => leaf(e),
        _ => normalize_map(e, path, diags, &[], None),
    }
}

/// A text-only element (text already trimmed by [`finish_text`]).
fn leaf(e: &Elem) -> Node {
    match &e.text {
        Some((t, p)) => Node::scalar(*p, t.clone()),
        None => Node::scalar(e.pos, ""),
    }
}

fn unexpected_text(e: &Elem, path: &str, diags: &mut Diags) {
    if let Some((_, p)) = &e.text {
        diags.error(
            *p,
            path,
            format!(
                "unexpected text inside <{}>: expected only attributes and child elements",
                e.name
            ),
        );
    }
}

/// The label of a list item in key paths, as the mapper gives it (`realms[ldapRealm]`).
fn item_path(path: &str, i: usize, c: &Elem, label_key: Option<&str>) -> String {
    let label = label_key.and_then(|k| {
        c.attrs
            .iter()
            .find(|a| a.name == k)
            .map(|a| a.value.clone())
            .or_else(|| {
                c.children
                    .iter()
                    .find(|x| x.name == k)
                    .and_then(|x| x.text.as_ref().map(|t| t.0.clone()))
            })
    });
    match label.filter(|l| !l.is_empty() && !l.contains("${")) {
        Some(l) => format!("{path}[{l}]"),
        None => format!("{path}[{i}]"),
    }
}

fn normalize_list(e: &Elem, item: &str, path: &str, diags: &mut Diags) -> Node {
    unexpected_text(e, path, diags);
    for a in &e.attrs {
        diags.error(
            a.pos,
            path,
            format!("unknown attribute `{}` on <{}>", a.name, e.name),
        );
    }
    let mut items = Vec::new();
    for (i, c) in e.children.iter().enumerate() {
        let cpath = item_path(path, i, c, (item == "realm").then_some("name"));
        if c.name != item {
            diags.error(
                c.pos,
                path,
                format!("unexpected element <{}>: expected <{item}>", c.name),
            );
            continue;
        }
        let node = if e.name == "security-interceptors" {
            // <interceptor class-name="…"/> is a plain class-name string in YAML.
            match (c.attrs.as_slice(), c.children.is_empty()) {
                ([a], true) if a.name == "class-name" => Node::scalar(a.value_pos, a.value.clone()),
                _ => {
                    diags.error(c.pos, &cpath, "expected <interceptor class-name=\"…\"/>");
                    continue;
                }
            }
        } else {
            normalize(c, &cpath, diags)
        };
        items.push(node);
    }
    Node {
        pos: e.pos,
        value: Value::Seq(items),
    }
}

fn normalize_properties(e: &Elem, path: &str, diags: &mut Diags) -> Node {
    unexpected_text(e, path, diags);
    let mut entries: Vec<Entry> = Vec::new();
    for c in &e.children {
        if c.name != "property" {
            diags.error(
                c.pos,
                path,
                format!(
                    "unexpected element <{}>: expected <property name=\"…\">",
                    c.name
                ),
            );
            continue;
        }
        let name = c.attrs.iter().find(|a| a.name == "name");
        let Some(name) = name else {
            diags.error(c.pos, path, "<property> needs a `name` attribute");
            continue;
        };
        for a in c.attrs.iter().filter(|a| a.name != "name") {
            diags.error(
                a.pos,
                path,
                format!("unknown attribute `{}` on <property>", a.name),
            );
        }
        if let Some(sub) = c.children.first() {
            diags.error(sub.pos, path, "a <property> holds text, not elements");
        }
        let ppath = format!("{path}.{}", name.value);
        if entries.iter().any(|x| x.key == name.value) {
            diags.error(
                name.value_pos,
                &ppath,
                format!("duplicate property `{}`", name.value),
            );
            continue;
        }
        entries.push(Entry {
            key: name.value.clone(),
            key_pos: name.value_pos,
            value: leaf(c),
        });
    }
    Node {
        pos: e.pos,
        value: Value::Map(entries),
    }
}

/// Appends the item made from `c` to the list under `key` (repeated XML elements → one YAML
/// list), creating the list at its first item. `make` gets the item's index.
fn append_item(
    entries: &mut Vec<Entry>,
    key: &str,
    c: &Elem,
    list_path: &str,
    diags: &mut Diags,
    make: impl FnOnce(usize, &mut Diags) -> Node,
) {
    match entries.iter_mut().find(|x| x.key == key) {
        Some(Entry {
            value: Node {
                value: Value::Seq(items),
                ..
            },
            ..
        }) => {
            let node = make(items.len(), diags);
            items.push(node);
        }
        Some(_) => diags.error(
            c.pos,
            list_path,
            format!("duplicate `{key}`: it is a list of <{}> elements", c.name),
        ),
        None => {
            let node = make(0, diags);
            entries.push(Entry {
                key: key.to_string(),
                key_pos: c.pos,
                value: Node {
                    pos: c.pos,
                    value: Value::Seq(vec![node]),
                },
            });
        }
    }
}

/// A map from attributes and child elements. `lists` turns repeated children into one list key
/// (`user` → `users`); `text_key` names the key element text goes to (`token` text → `value`).
fn normalize_map(
    e: &Elem,
    path: &str,
    diags: &mut Diags,
    lists: &[(&str, &'static str)],
    text_key: Option<&'static str>,
) -> Node {
    let mut entries: Vec<Entry> = Vec::new();
    let push =
        |entries: &mut Vec<Entry>, diags: &mut Diags, key: String, key_pos: Pos, value: Node| {
            if entries.iter().any(|x| x.key == key) {
                diags.error(
                key_pos,
                &format!("{path}.{key}"),
                format!(
                    "duplicate `{key}`: it may appear only once (as an attribute or as an element)"
                ),
            );
            } else {
                entries.push(Entry {
                    key,
                    key_pos,
                    value,
                });
            }
        };
    for a in &e.attrs {
        push(
            &mut entries,
            diags,
            a.name.clone(),
            a.pos,
            Node::scalar(a.value_pos, a.value.clone()),
        );
    }
    match (&e.text, text_key) {
        (Some((t, p)), Some(k)) => push(
            &mut entries,
            diags,
            k.to_string(),
            *p,
            Node::scalar(*p, t.clone()),
        ),
        (None, Some(k)) if !e.attrs.iter().any(|a| a.name == k) => push(
            &mut entries,
            diags,
            k.to_string(),
            e.pos,
            Node::scalar(e.pos, ""),
        ),
        (None, Some(_)) => {}
        (Some(_), None) => unexpected_text(e, path, diags),
        (None, None) => {}
    }
    let permissions = e.name == "client-permissions";
    for c in &e.children {
        if let Some((_, key)) = lists.iter().find(|(item, _)| *item == c.name) {
            let label = (*key == "users").then_some("username");
            let list_path = format!("{path}.{key}");
            append_item(&mut entries, key, c, &list_path, diags, |i, d| {
                normalize(c, &item_path(&list_path, i, c, label), d)
            });
            continue;
        }
        if permissions && let Some(key) = permission_key(&c.name) {
            let key = key.to_string();
            if SINGLETON_PERMISSIONS.contains(&key.as_str()) {
                let node = normalize_map(c, &format!("{path}.{key}"), diags, &[], None);
                push(&mut entries, diags, key, c.pos, node);
            } else {
                let list_path = format!("{path}.{key}");
                append_item(&mut entries, &key, c, &list_path, diags, |i, d| {
                    normalize_map(c, &format!("{list_path}[{i}]"), d, &[], None)
                });
            }
            continue;
        }
        let cpath = format!("{path}.{}", c.name);
        let node = normalize(c, &cpath, diags);
        push(&mut entries, diags, c.name.clone(), c.pos, node);
    }
    Node {
        pos: e.pos,
        value: Value::Map(entries),
    }
}
