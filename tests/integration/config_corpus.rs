//! The configuration corpus under `tests/configs/`.
//!
//! * `valid/NAME.xml` + `valid/NAME.yaml`: each pair loads without errors and dumps to
//!   byte-identical canonical JSON; converting either file to the other syntax dumps identically too.
//! * `invalid/*.{xml,yaml}`: each file has one defect and states the diagnostic it must produce in a
//!   first-line comment: `expect: LINE:COL: key.path: message fragment`.

use crate::repo;
use realm_core::config::{LoadOptions, Severity, Syntax, load_file, load_str};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("xml" | "yaml")))
        .collect();
    v.sort();
    v
}

fn pairs() -> BTreeMap<String, Vec<PathBuf>> {
    let mut m: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for f in files("tests/configs/valid") {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        m.entry(stem).or_default().push(f);
    }
    m
}

#[test]
fn every_valid_fixture_comes_as_an_xml_yaml_pair() {
    let pairs = pairs();
    assert!(
        pairs.len() >= 15,
        "expected a real corpus, found {} pairs",
        pairs.len()
    );
    for (name, fs) in &pairs {
        assert_eq!(
            fs.len(),
            2,
            "{name}: expected NAME.xml and NAME.yaml, found {fs:?}"
        );
    }
}

#[test]
fn every_pair_loads_cleanly_and_dumps_identically() {
    let mut failures = Vec::new();
    for (name, fs) in pairs() {
        let dumps: Vec<String> = fs
            .iter()
            .filter_map(|f| match load_file(f) {
                Ok(l) => Some(l.dump()),
                Err(e) => {
                    failures.push(format!("{name}: {e}"));
                    None
                }
            })
            .collect();
        if let [x, y] = dumps.as_slice()
            && x != y
        {
            failures.push(format!(
                "{name}: XML and YAML dumps differ:\n{}",
                diff(x, y)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn diff(a: &str, b: &str) -> String {
    a.lines()
        .zip(b.lines())
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .take(5)
        .map(|(i, (x, y))| format!("line {}: xml {x:?} / yaml {y:?}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn converting_keeps_the_meaning() {
    for f in files("tests/configs/valid") {
        let loaded = load_file(&f).unwrap_or_else(|e| panic!("{e}"));
        for to in [Syntax::Xml, Syntax::Yaml] {
            let text = loaded.convert(to);
            // Same folder, so relative paths resolve to the same files.
            let again = load_str(&text, to, &f, &LoadOptions::default()).unwrap_or_else(|e| {
                panic!(
                    "{}: converted to {to:?} does not load: {e}\n{text}",
                    f.display()
                )
            });
            assert_eq!(
                again.dump(),
                loaded.dump(),
                "{} → {to:?} changed the meaning",
                f.display()
            );
            // Converting twice is stable.
            assert_eq!(
                again.convert(to),
                text,
                "{} → {to:?} is not stable",
                f.display()
            );
        }
    }
}

struct Expect {
    line: u32,
    col: u32,
    path: String,
    fragment: String,
}

fn expectation(file: &Path) -> Expect {
    let text = std::fs::read_to_string(file).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("expect:"))
        .unwrap_or_else(|| panic!("{}: no `expect:` line", file.display()));
    let spec = line
        .split("expect:")
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches("-->")
        .trim();
    let mut parts = spec.splitn(4, ':');
    let l = parts.next().unwrap().trim().parse().unwrap();
    let c = parts.next().unwrap().trim().parse().unwrap();
    let path = parts.next().unwrap().trim().to_string();
    let fragment = parts.next().unwrap_or("").trim().to_string();
    Expect {
        line: l,
        col: c,
        path,
        fragment,
    }
}

#[test]
fn every_invalid_file_fails_at_the_expected_position_and_key() {
    let files = files("tests/configs/invalid");
    assert!(
        files.len() >= 25,
        "expected at least 25 single-defect files, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        let want = expectation(f);
        let err = match load_file(f) {
            Ok(_) => {
                failures.push(format!("{}: loaded without error", f.display()));
                continue;
            }
            Err(e) => e,
        };
        let errors: Vec<_> = err
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        let hit = errors.iter().any(|d| {
            d.pos.line == want.line
                && d.pos.col == want.col
                && d.path == want.path
                && d.message.contains(&want.fragment)
        });
        if !hit {
            failures.push(format!(
                "{}: expected {}:{}: {}: …{}…, got:\n  {}",
                f.display(),
                want.line,
                want.col,
                want.path,
                want.fragment,
                errors
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
        // Every diagnostic names the file.
        assert!(
            err.to_string().starts_with(&f.display().to_string()),
            "{}",
            err
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
