//! The documents an operator reads stay true to the code: `.env.example` and the table of
//! `docs/configuration.md` are generated from the one table of variables
//! (`order_metafields_service::config::variables`), and these tests fail when a checked-in
//! copy is out of date. `UPDATE_DOCS=1` rewrites them instead (the command is in the failure
//! message).

use order_metafields_service::config::documents::{
    REGENERATE, TABLE_END, TABLE_START, env_example, with_table,
};

/// The path of a file of the repository, from its root.
fn path(file: &str) -> String {
    format!("{}/../../{file}", env!("CARGO_MANIFEST_DIR"))
}

/// Compares a checked-in document with what it must be; with `UPDATE_DOCS` set, writes it.
fn check_generated(file: &str, expected: &str) {
    let actual = std::fs::read_to_string(path(file)).unwrap_or_default();
    if actual == expected {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path(file), expected).unwrap();
        return;
    }
    let first_difference = actual
        .lines()
        .zip(expected.lines())
        .position(|(actual, expected)| actual != expected)
        .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
    panic!(
        "{file} is out of date with crates/service/src/config/variables.rs (first difference \
         at line {}); regenerate it with `{REGENERATE}` and commit the result",
        first_difference + 1
    );
}

#[test]
fn env_example_is_generated_from_the_table_of_variables() {
    check_generated(".env.example", &env_example());
}

#[test]
fn the_configuration_page_has_the_generated_table_of_variables() {
    let page = std::fs::read_to_string(path("docs/configuration.md")).unwrap();

    let expected = with_table(&page).unwrap_or_else(|| {
        panic!("docs/configuration.md lacks the markers {TABLE_START} and {TABLE_END}")
    });

    check_generated("docs/configuration.md", &expected);
}
