#![allow(clippy::expect_used, clippy::indexing_slicing)] // a benchmark may stop on a broken fixture
//! How long loading the full-example member configuration takes, in each syntax.
//!
//! Baseline, measured in the same run: only tokenising the same text with the same parser
//! (quick-xml events / saphyr-parser events, nothing kept). The ratio says what the tree, the
//! typed mapping and the checks cost on top of reading the bytes.
//!
//! `cargo bench -p realm-core --bench config_load`

use quick_xml::Reader;
use quick_xml::events::Event;
use realm_core::config::{LoadOptions, Syntax, load_str};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// Median time per iteration of `f`, over batches filling about `budget`.
fn measure(budget: Duration, mut f: impl FnMut()) -> Duration {
    // Warm up and size a batch to ~10 ms.
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_millis(50) {
        f();
        n += 1;
    }
    let per = start.elapsed() / n.max(1);
    let batch = (Duration::from_millis(10).as_nanos() / per.as_nanos().max(1)).max(1) as u32;
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        samples.push(t.elapsed() / batch);
    }
    samples.sort();
    samples[samples.len() / 2]
}

fn tokenize_xml(text: &str) -> usize {
    let mut r = Reader::from_str(text);
    let mut n = 0;
    loop {
        match r.read_event() {
            Ok(Event::Eof) | Err(_) => return n,
            Ok(_) => n += 1,
        }
    }
}

fn tokenize_yaml(text: &str) -> usize {
    saphyr_parser::Parser::new_from_str(text)
        .filter(|e| e.is_ok())
        .count()
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/configs/valid");
    let budget = Duration::from_secs(2);
    println!(
        "{:<22} {:>12} {:>12} {:>12} {:>9}",
        "file", "load", "loads/s", "tokenise", "ratio"
    );
    for (name, syntax) in [
        ("full-member.xml", Syntax::Xml),
        ("full-member.yaml", Syntax::Yaml),
    ] {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).expect("full-member fixture");
        let opts = LoadOptions::default();
        // The fixture must load, or the figure means nothing.
        load_str(&text, syntax, &path, &opts).expect("fixture loads");
        let load = measure(budget, || {
            black_box(load_str(black_box(&text), syntax, &path, &opts).is_ok());
        });
        let base = measure(budget, || {
            black_box(match syntax {
                Syntax::Xml => tokenize_xml(black_box(&text)),
                Syntax::Yaml => tokenize_yaml(black_box(&text)),
            });
        });
        println!(
            "{:<22} {:>9.1} µs {:>12.0} {:>9.1} µs {:>8.2}x   ({} bytes)",
            name,
            load.as_secs_f64() * 1e6,
            1.0 / load.as_secs_f64(),
            base.as_secs_f64() * 1e6,
            load.as_secs_f64() / base.as_secs_f64(),
            text.len()
        );
    }
}
