//! Property tests of the readers: no input makes them panic, every diagnostic has a sane
//! position, and values of any shape survive XML ⇄ YAML conversion.

use crate::repo;
use proptest::prelude::*;
use realm_core::config::{LoadOptions, Syntax, load_str};
use std::path::Path;

fn no_env(_: &str) -> Option<String> {
    None
}

/// Loads `text`; on error, checks that every diagnostic points inside the document.
fn load_and_check_positions(text: &str, syntax: Syntax) {
    let opts = LoadOptions { env: Some(&no_env) };
    if let Err(e) = load_str(text, syntax, Path::new("fuzz.cfg"), &opts) {
        assert!(!e.diagnostics.is_empty());
        let lines = text.lines().count() as u32 + 1;
        for d in &e.diagnostics {
            assert!(d.pos.line >= 1 && d.pos.col >= 1, "{d}");
            assert!(d.pos.line <= lines, "{d} (document has {lines} lines)");
        }
    }
}

fn corpus() -> Vec<(String, Syntax)> {
    let mut v = Vec::new();
    for dir in ["tests/configs/valid", "tests/configs/invalid"] {
        for e in std::fs::read_dir(repo().join(dir)).unwrap() {
            let p = e.unwrap().path();
            let syntax = match Syntax::from_path(&p) {
                Some(s) => s,
                None => continue,
            };
            v.push((std::fs::read_to_string(&p).unwrap(), syntax));
        }
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (
            any::<usize>(),
            "[<>/=\"'&:;#\\-\\[\\]{}*!|%@ \n\ta-z0-9]{1,12}"
        )
            .prop_map(|(a, s)| Mutation::Insert(a, s)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn floor_char(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, m: &Mutation) -> String {
    let len = text.len().max(1);
    match m {
        Mutation::Delete(a, n) => {
            let a = floor_char(text, a % len);
            let b = floor_char(text, a + n);
            format!("{}{}", &text[..a], &text[b..])
        }
        Mutation::Insert(a, s) => {
            let a = floor_char(text, a % len);
            format!("{}{s}{}", &text[..a], &text[a..])
        }
        Mutation::DuplicateLine(i) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let i = i % lines.len();
                lines.insert(i, lines[i]);
            }
            lines.join("\n")
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let n = lines.len();
                lines.swap(a % n, b % n);
            }
            lines.join("\n")
        }
        Mutation::Truncate(a) => text[..floor_char(text, a % len)].to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(s in "\\PC{0,200}", xml in any::<bool>()) {
        load_and_check_positions(&s, if xml { Syntax::Xml } else { Syntax::Yaml });
    }

    #[test]
    fn mutated_corpus_documents_never_panic(pick in any::<usize>(), ms in proptest::collection::vec(mutation(), 1..4)) {
        let corpus = corpus();
        let (text, syntax) = &corpus[pick % corpus.len()];
        let mut t = text.clone();
        for m in &ms {
            t = apply(&t, m);
        }
        load_and_check_positions(&t, *syntax);
    }

    /// Values with quotes, colons, hashes, angle brackets, ampersands, non-ASCII and placeholder-like
    /// text survive conversion both ways with the same meaning.
    #[test]
    fn awkward_values_survive_conversion(
        name in "[A-Za-z][A-Za-z0-9_.-]{0,15}",
        user in "[^\\s\\x00-\\x1f\\x7f$]([^\\x00-\\x1f\\x7f$]{0,20}[^\\s\\x00-\\x1f\\x7f$])?",
        password in "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f$]{1,24}",
        role in "[^\\s\\x00-\\x1f\\x7f$]([^\\x00-\\x1f\\x7f$]{0,20}[^\\s\\x00-\\x1f\\x7f$])?",
        prop in "[^\\x00-\\x1f\\x7f$]{0,20}",
    ) {
        let yaml = format!(
            "security:\n  realms:\n    - name: j{}\n      authentication:\n        jaas:\n          - class-name: x.Y\n            properties:\n              p: {}\n    - name: s\n      authentication:\n        simple:\n          users:\n            - username: {}\n              password: {}\n              roles:\n                - {}\n",
            name, json(&prop), json(&user), json(&password), json(&role)
        );
        let opts = LoadOptions { env: Some(&no_env) };
        let loaded = load_str(&yaml, Syntax::Yaml, Path::new("p.yaml"), &opts)
            .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let xml = loaded.convert(Syntax::Xml);
        let from_xml = load_str(&xml, Syntax::Xml, Path::new("p.xml"), &opts)
            .unwrap_or_else(|e| panic!("{e}\n{xml}"));
        prop_assert_eq!(from_xml.dump(), loaded.dump());
        let yaml2 = from_xml.convert(Syntax::Yaml);
        let again = load_str(&yaml2, Syntax::Yaml, Path::new("q.yaml"), &opts)
            .unwrap_or_else(|e| panic!("{e}\n{yaml2}"));
        prop_assert_eq!(again.dump(), loaded.dump());
        // The password is really carried, not only redacted alike.
        let users = |l: &realm_core::config::Loaded| match &l.config.realms[1].authentication {
            Some(realm_core::config::AuthenticationConfig::Simple(s)) => s.users[0].password.expose().to_vec(),
            _ => Vec::new(),
        };
        prop_assert_eq!(users(&again), password.as_bytes().to_vec());
    }
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}
