//! Writing a security section in either syntax (`realm convert`).
//!
//! Conversion works on the tree, not the model: placeholders such as `${env:LDAP_PASSWORD}` stay
//! placeholders, and values keep their spelling. The XML writer applies the normaliser's rules in
//! reverse (lists back into wrapper elements, the listed keys back into attributes), so that reading
//! the output gives the same tree.

use super::Document;
use super::model::DocumentKind;
use super::tree::{Node, Value};
use super::xml::SINGLETON_PERMISSIONS;

const MEMBER_NS: &str = "http://www.hazelcast.com/schema/config";
const CLIENT_NS: &str = "http://www.hazelcast.com/schema/client-config";

// ---------------------------------------------------------------------------------------------
// YAML

/// Characters YAML allows unescaped in content (YAML 1.2 §5.1, minus the byte order mark).
fn yaml_printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

fn yaml_scalar(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && s.trim() == s
        && !matches!(s, "~" | "null" | "Null" | "NULL")
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && s.chars().all(yaml_printable);
    if plain_ok {
        s.to_string()
    } else {
        yaml_quote(s)
    }
}

/// A YAML double-quoted scalar; everything outside the printable set is escaped.
fn yaml_quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            c if yaml_printable(c) => o.push(c),
            c if u32::from(c) <= 0xffff => o.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => o.push_str(&format!("\\U{:08x}", u32::from(c))),
        }
    }
    o.push('"');
    o
}

fn yaml_lines(node: &Node, out: &mut Vec<String>) {
    match &node.value {
        Value::Null => out.push("~".into()),
        Value::Scalar(s) => out.push(yaml_scalar(s)),
        Value::Seq(items) if items.is_empty() => out.push("[]".into()),
        Value::Map(entries) if entries.is_empty() => out.push("{}".into()),
        Value::Seq(items) => {
            for item in items {
                let mut sub = Vec::new();
                yaml_lines(item, &mut sub);
                for (i, l) in sub.into_iter().enumerate() {
                    out.push(if i == 0 {
                        format!("- {l}")
                    } else {
                        format!("  {l}")
                    });
                }
            }
        }
        Value::Map(entries) => {
            for e in entries {
                let key = yaml_scalar(&e.key);
                let inline = match &e.value.value {
                    Value::Scalar(_) | Value::Null => true,
                    Value::Seq(v) => v.is_empty(),
                    Value::Map(v) => v.is_empty(),
                };
                let mut sub = Vec::new();
                yaml_lines(&e.value, &mut sub);
                if inline {
                    out.push(format!("{key}: {}", sub.join("")));
                } else {
                    out.push(format!("{key}:"));
                    out.extend(sub.into_iter().map(|l| format!("  {l}")));
                }
            }
        }
    }
}

pub(crate) fn yaml(doc: &Document) -> String {
    let mut lines = Vec::new();
    yaml_lines(&doc.security, &mut lines);
    let (head, indent) = match doc.kind {
        DocumentKind::Standalone => ("security:\n".to_string(), "  "),
        DocumentKind::Member => ("hazelcast:\n  security:\n".to_string(), "    "),
        DocumentKind::Client => ("hazelcast-client:\n  security:\n".to_string(), "    "),
    };
    let mut out = head;
    if matches!(lines.as_slice(), [only] if only == "{}" || only == "~") {
        // An empty section stays a (valid) empty map.
        out = out.trim_end().to_string() + " {}\n";
        return out;
    }
    for l in lines {
        out.push_str(indent);
        out.push_str(&l);
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// XML

/// Keys written as attributes of the element they belong to.
fn attribute_keys(element: &str) -> &'static [&'static str] {
    match element {
        "security" => &["enabled"],
        "realm" => &["name"],
        "login-module" => &["class-name", "usage"],
        "user" | "username-password" => &["username", "password"],
        "token" => &["encoding"],
        "tls" => &["roleAttribute", "role-attribute"],
        "member-authentication" | "client-authentication" => &["realm"],
        "credentials-factory" | "client-permission-policy" => &["class-name"],
        "ini" => &["path", "allow-plaintext-passwords"],
        "role-mapping" => &["role", "groups"],
        "keychain" => &["path", "master-password"],
        "client-permissions" => &["on-join-operation", "priority-grant"],
        e if e.ends_with("-permission") || e == "all-permissions" => &["name", "principal", "deny"],
        _ => &[],
    }
}

fn esc(s: &str, attr: bool) -> String {
    let mut o = String::with_capacity(s.len());
    // Element text is trimmed on reading; edge whitespace written as references survives.
    let core = s.trim();
    let lead = s.len() - s.trim_start().len();
    if !attr && core.len() != s.len() {
        let refs = |w: &str| {
            w.chars()
                .map(|c| format!("&#{};", u32::from(c)))
                .collect::<String>()
        };
        return format!(
            "{}{}{}",
            refs(&s[..lead]),
            esc(core, false),
            refs(&s[lead + core.len()..])
        );
    }
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' if attr => o.push_str("&quot;"),
            '\n' if attr => o.push_str("&#10;"),
            '\t' if attr => o.push_str("&#9;"),
            '\r' => o.push_str("&#13;"),
            c => o.push(c),
        }
    }
    o
}

fn scalar_text(node: &Node) -> &str {
    match &node.value {
        Value::Scalar(s) => s,
        _ => "",
    }
}

struct XmlOut {
    s: String,
}

impl XmlOut {
    fn line(&mut self, depth: usize, text: &str) {
        for _ in 0..depth {
            self.s.push_str("    ");
        }
        self.s.push_str(text);
        self.s.push('\n');
    }

    /// Writes `node` as element `name`. `parent` is the element it sits in.
    fn element(&mut self, depth: usize, name: &str, node: &Node, parent: &str, ns: Option<&str>) {
        let ns_attr = ns.map(|n| format!(" xmlns=\"{n}\"")).unwrap_or_default();
        match &node.value {
            Value::Null => self.line(depth, &format!("<{name}{ns_attr}/>")),
            Value::Scalar(s) if s.is_empty() => self.line(depth, &format!("<{name}{ns_attr}/>")),
            Value::Scalar(s) => self.line(
                depth,
                &format!("<{name}{ns_attr}>{}</{name}>", esc(s, false)),
            ),
            Value::Seq(items) => {
                // List containers: items get their element name back.
                let item = match name {
                    "realms" => "realm",
                    "jaas" => "login-module",
                    "endpoints" => "endpoint",
                    "actions" => "action",
                    "security-interceptors" => "interceptor",
                    "role-mappings" => "role-mapping",
                    _ => "item",
                };
                if items.is_empty() {
                    self.line(depth, &format!("<{name}{ns_attr}/>"));
                    return;
                }
                self.line(depth, &format!("<{name}{ns_attr}>"));
                for it in items {
                    if item == "interceptor" {
                        self.line(
                            depth + 1,
                            &format!(
                                "<interceptor class-name=\"{}\"/>",
                                esc(scalar_text(it), true)
                            ),
                        );
                    } else {
                        self.element(depth + 1, item, it, name, None);
                    }
                }
                self.line(depth, &format!("</{name}>"));
            }
            Value::Map(entries) => {
                let attr_keys = attribute_keys(name);
                let mut open = format!("<{name}{ns_attr}");
                let mut text: Option<&str> = None;
                let mut children = Vec::new();
                for e in entries {
                    let is_scalar = matches!(e.value.value, Value::Scalar(_));
                    if is_scalar && attr_keys.contains(&e.key.as_str()) {
                        open.push_str(&format!(
                            " {}=\"{}\"",
                            e.key,
                            esc(scalar_text(&e.value), true)
                        ));
                    } else if is_scalar && name == "token" && e.key == "value" {
                        text = Some(scalar_text(&e.value));
                    } else {
                        children.push(e);
                    }
                }
                if children.is_empty() {
                    match text {
                        Some(t) => self.line(depth, &format!("{open}>{}</{name}>", esc(t, false))),
                        None => self.line(depth, &format!("{open}/>")),
                    }
                    return;
                }
                self.line(depth, &format!("{open}>"));
                for e in children {
                    self.child(depth + 1, name, &e.key, &e.value);
                }
                self.line(depth, &format!("</{name}>"));
            }
        }
        let _ = parent;
    }

    fn child(&mut self, depth: usize, parent: &str, key: &str, value: &Node) {
        match (parent, key, &value.value) {
            ("simple", "users", Value::Seq(items)) => {
                for it in items {
                    self.element(depth, "user", it, parent, None);
                }
            }
            ("user", "roles", Value::Seq(items)) => {
                for it in items {
                    self.element(depth, "role", it, parent, None);
                }
            }
            (_, "properties", Value::Map(props)) => {
                if props.is_empty() {
                    self.line(depth, "<properties/>");
                    return;
                }
                self.line(depth, "<properties>");
                for p in props {
                    self.line(
                        depth + 1,
                        &format!(
                            "<property name=\"{}\">{}</property>",
                            esc(&p.key, true),
                            esc(scalar_text(&p.value), false)
                        ),
                    );
                }
                self.line(depth, "</properties>");
            }
            ("client-permissions", k, v)
                if !matches!(k, "on-join-operation" | "priority-grant") =>
            {
                let el = if k == "all" {
                    "all-permissions".to_string()
                } else {
                    format!("{k}-permission")
                };
                match v {
                    Value::Seq(items) if !SINGLETON_PERMISSIONS.contains(&k) => {
                        for it in items {
                            self.element(depth, &el, it, parent, None);
                        }
                    }
                    _ => self.element(depth, &el, value, parent, None),
                }
            }
            _ => self.element(depth, key, value, parent, None),
        }
    }
}

pub(crate) fn xml(doc: &Document) -> String {
    let mut out = XmlOut {
        s: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
    };
    match doc.kind {
        DocumentKind::Standalone => out.element(0, "security", &doc.security, "", None),
        DocumentKind::Member => {
            out.line(0, &format!("<hazelcast xmlns=\"{MEMBER_NS}\">"));
            out.element(1, "security", &doc.security, "hazelcast", None);
            out.line(0, "</hazelcast>");
        }
        DocumentKind::Client => {
            out.line(0, &format!("<hazelcast-client xmlns=\"{CLIENT_NS}\">"));
            out.element(1, "security", &doc.security, "hazelcast-client", None);
            out.line(0, "</hazelcast-client>");
        }
    }
    out.s
}
