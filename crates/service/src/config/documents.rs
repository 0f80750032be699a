//! The documents generated from the table of variables: `.env.example` and the Markdown
//! table of `docs/configuration.md`. A test (`crates/service/tests/api/documentation.rs`)
//! fails when a checked-in copy differs, and rewrites it with `UPDATE_DOCS=1`.

use std::fmt::Write;

use crate::config::variables::{DefaultValue, Section, VARIABLES, Variable};

/// The command that regenerates the checked-in documents.
pub const REGENERATE: &str =
    "UPDATE_DOCS=1 cargo test -p order-metafields-service --test api documentation";

/// Where the generated table starts in `docs/configuration.md`; it ends at [`TABLE_END`].
pub const TABLE_START: &str =
    "<!-- variables: generated from crates/service/src/config/variables.rs; do not edit -->";
/// Where the generated table ends in `docs/configuration.md`.
pub const TABLE_END: &str = "<!-- end of generated variables -->";

/// The width `.env.example`'s comments are wrapped at.
const WIDTH: usize = 90;

/// `.env.example`: every variable by section, with its meaning; required ones with their
/// placeholder, optional ones commented out with their default.
pub fn env_example() -> String {
    let mut text = String::new();
    comment(
        &mut text,
        "order-metafields configuration, generated from crates/service/src/config/variables.rs.",
    );
    text.push_str("#\n");
    comment(
        &mut text,
        "Copy to .env (`cp .env.example .env`) and replace every replace-with-... value: the \
         service refuses to start while one is left. The service reads .env from its working \
         directory at start-up; real environment variables always win over it. A missing, \
         malformed or placeholder value stops start-up with one line naming the variable \
         (exit code 2), never printing a secret. Durations use humantime syntax: 500ms, 30s, \
         2m, 1h (at most 365 days).",
    );
    text.push_str("#\n");
    comment(
        &mut text,
        "Optional variables are listed commented out with their default; uncomment to \
         change. docs/configuration.md has the same table.",
    );
    let mut section = None;
    for variable in VARIABLES {
        if section != Some(variable.section) {
            section = Some(variable.section);
            heading(&mut text, variable.section);
        }
        text.push('\n');
        let secret = if variable.secret { "SECRET. " } else { "" };
        comment(&mut text, &format!("{secret}{}", variable.meaning));
        let name = variable.name;
        match variable.default {
            DefaultValue::Required { placeholder } | DefaultValue::OneStore { placeholder } => {
                let _ = writeln!(text, "{name}={placeholder}");
            }
            DefaultValue::AppMode => {
                if let Some(example) = variable.example {
                    let _ = writeln!(text, "# Example: {name}={example}");
                }
                let _ = writeln!(text, "# {name}=");
            }
            DefaultValue::Empty => {
                if let Some(example) = variable.example {
                    let _ = writeln!(text, "# Example: {name}={example}");
                }
                let _ = writeln!(text, "# {name}=");
            }
            DefaultValue::Value(default) => {
                let _ = writeln!(text, "# {name}={default}");
            }
        }
    }
    text
}

/// The Markdown table of every variable: name, default, whether it is secret, an example
/// and its meaning.
pub fn markdown_table() -> String {
    let mut text = String::from(
        "| variable | default | secret | example | meaning |\n| --- | --- | --- | --- | --- |\n",
    );
    for variable in VARIABLES {
        let _ = writeln!(
            text,
            "| `{}` | {} | {} | {} | {} |",
            variable.name,
            default_cell(variable),
            if variable.secret { "yes" } else { "" },
            variable
                .example
                .map(|example| format!("`{}`", cell(example)))
                .unwrap_or_default(),
            cell(variable.meaning),
        );
    }
    text
}

/// `docs/configuration.md` with its generated table replaced by the current one; `None`
/// when the page lacks the markers.
pub fn with_table(page: &str) -> Option<String> {
    let start = page.find(TABLE_START)? + TABLE_START.len();
    let end = start + page[start..].find(TABLE_END)?;
    Some(format!(
        "{}\n\n{}\n{}",
        &page[..start],
        markdown_table(),
        &page[end..]
    ))
}

fn default_cell(variable: &Variable) -> String {
    match variable.default {
        DefaultValue::Required { .. } => "required".to_owned(),
        DefaultValue::OneStore { .. } => "single-store mode: required; unset: app mode".to_owned(),
        DefaultValue::AppMode => "app mode: required".to_owned(),
        DefaultValue::Empty => "empty".to_owned(),
        DefaultValue::Value(default) => format!("`{}`", cell(default)),
    }
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn heading(text: &mut String, section: Section) {
    let title = format!("\n# --- {} ", section.title());
    let dashes = (WIDTH + 1).saturating_sub(title.len());
    text.push_str(&title);
    text.push_str(&"-".repeat(dashes));
    text.push('\n');
}

/// `paragraph` as `#` comment lines of at most [`WIDTH`] characters.
fn comment(text: &mut String, paragraph: &str) {
    let mut line = String::from("#");
    for word in paragraph.split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > WIDTH {
            text.push_str(&line);
            text.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    text.push_str(&line);
    text.push('\n');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_variable_is_in_env_example_once_required_ones_with_their_placeholder() {
        let text = env_example();

        for variable in VARIABLES {
            let set = text
                .lines()
                .filter(|line| {
                    line.trim_start_matches("# ")
                        .starts_with(&format!("{}=", variable.name))
                })
                .count();
            assert_eq!(set, 1, "{}", variable.name);
            if let DefaultValue::Required { placeholder } | DefaultValue::OneStore { placeholder } =
                variable.default
            {
                assert!(
                    text.contains(&format!("\n{}={placeholder}\n", variable.name)),
                    "{}",
                    variable.name
                );
            }
        }
    }

    #[test]
    fn the_table_has_a_row_per_variable_and_escapes_pipes() {
        let table = markdown_table();

        assert_eq!(table.lines().count(), VARIABLES.len() + 2);
        for variable in VARIABLES {
            assert!(table.contains(&format!("| `{}` |", variable.name)));
        }
        assert_eq!(cell("a|b"), "a\\|b");
    }

    #[test]
    fn the_table_is_replaced_between_its_markers_only() {
        let page = format!("# Title\n\n{TABLE_START}\nold table\n{TABLE_END}\n\nAfter.\n");

        let updated = with_table(&page).unwrap();

        assert!(updated.starts_with(&format!("# Title\n\n{TABLE_START}\n\n| variable |")));
        assert!(updated.ends_with(&format!("|\n\n{TABLE_END}\n\nAfter.\n")));
        assert!(!updated.contains("old table"));
        assert_eq!(with_table(&updated).unwrap(), updated, "stable");
        assert_eq!(with_table("no markers"), None);
    }

    #[test]
    fn comments_wrap_at_the_width_and_keep_long_words_whole() {
        let mut text = String::new();
        let long = "x".repeat(WIDTH + 10);

        comment(&mut text, &format!("short words {long} end"));

        assert_eq!(text, format!("# short words\n# {long}\n# end\n"));
    }
}
