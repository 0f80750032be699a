//! The documents a newcomer and an operator read stay true to the code: every variable the
//! service reads is in `.env.example` and in the configuration table of docs/configuration.md.

use std::collections::BTreeSet;

/// A file of the repository, by its path from the repository's root.
fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The variables `config.rs` reads: the fields of `RawSettings`, upper-cased as envy maps them.
fn variables_read() -> BTreeSet<String> {
    let source = read("crates/service/src/config.rs");
    let start = source.find("struct RawSettings {").unwrap();
    let end = start + source[start..].find('}').unwrap();
    source[start..end]
        .lines()
        .filter_map(|line| line.trim().split_once(": Option<"))
        .map(|(name, _)| name.to_ascii_uppercase())
        .collect()
}

#[test]
fn every_variable_the_service_reads_is_in_env_example_and_the_readme() {
    let env_example = read(".env.example");
    let readme = read("docs/configuration.md");
    let variables = variables_read();

    assert!(variables.len() > 20, "parsed {variables:?}");
    for variable in &variables {
        assert!(
            env_example.contains(&format!("{variable}=")),
            "{variable} is missing from .env.example"
        );
        assert!(
            readme.contains(&format!("| `{variable}` |")) || variable == "RUST_LOG",
            "{variable} is missing from the table in docs/configuration.md"
        );
    }
}
