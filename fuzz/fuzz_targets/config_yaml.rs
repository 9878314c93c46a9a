//! Fuzzes the yaml configuration reader: any input must give a config or positioned errors,
//! never a panic, and a loaded config must convert to both syntaxes without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use realm_core::config::{LoadOptions, Syntax, load_str};

fn no_env(_: &str) -> Option<String> {
    None
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let opts = LoadOptions { env: Some(&no_env) };
    if let Ok(loaded) = load_str(text, Syntax::Yaml, "fuzz.yaml".as_ref(), &opts) {
        let _ = loaded.dump();
        let _ = loaded.convert(Syntax::Xml);
        let _ = loaded.convert(Syntax::Yaml);
    }
});
