//! `order-metafields fields export|import`: per store in app mode (one store's import leaves
//! another's alone), through DATABASE_URL or FIELD_DEFINITIONS_FILE in single-store mode,
//! and every invalid document refused whole, naming the problem, changing nothing.

use serde_json::{Value, json};

use crate::harness::fixtures::{ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, STORE_HASH};
use crate::harness::process::{ScratchDirectory, run_args_to_exit};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn definitions() -> Value {
    json!({"version": 1, "definitions": [
        {"namespace": "Gifts", "key": "note", "label": "Gift note", "type": "multiline_text",
         "position": 2, "hidden": false, "customer_editable": true, "max_length": 200,
         "pattern": "^[^<>]*$", "editable_statuses": [1, 11]},
        {"namespace": "Shipping", "key": "warehouse", "type": "text", "position": 0,
         "hidden": true, "customer_editable": false}
    ]})
}

fn run(
    directory: &ScratchDirectory,
    environment: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, String, String) {
    run_args_to_exit(directory, environment, args)
}

#[test]
fn app_mode_imports_and_exports_one_stores_definitions() {
    let directory = ScratchDirectory::new();
    let url = format!("sqlite://{}", directory.join("app.db").display());
    let file = directory.join("fields.json");
    std::fs::write(&file, serde_json::to_vec(&definitions()).unwrap()).unwrap();
    let invalid = directory.join("invalid.json");
    std::fs::write(
        &invalid,
        serde_json::to_vec(&json!({"version": 1, "definitions": [
            {"namespace": "Gifts", "key": "note", "type": "text", "pattern": "^(a)\\1$"}
        ]}))
        .unwrap(),
    )
    .unwrap();
    let environment = [
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
        ("APP_URL", "https://app.example.com"),
        ("TOKEN_ENCRYPTION_KEY", KEY),
        ("DATABASE_URL", url.as_str()),
    ];
    let file_text = file.to_str().unwrap();
    let invalid_text = invalid.to_str().unwrap();

    let (imported, import, _) = run(
        &directory,
        &environment,
        &["fields", "import", file_text, "--store", "abc123"],
    );
    let (refused, _, refusal) = run(
        &directory,
        &environment,
        &["fields", "import", invalid_text, "--store", "abc123"],
    );
    let (exported, export, _) = run(
        &directory,
        &environment,
        &["fields", "export", "--store", "abc123"],
    );
    let (_, other, _) = run(
        &directory,
        &environment,
        &["fields", "export", "--store", "xyz789"],
    );
    let (unnamed, _, unnamed_error) = run(&directory, &environment, &["fields", "export"]);

    assert_eq!(imported, Some(0));
    assert_eq!(
        import,
        "imported 2 field definitions for store abc123; a running service uses them from its next start\n"
    );
    assert_eq!(refused, Some(1));
    assert!(refusal.contains("Gifts.note.pattern"), "{refusal}");
    assert!(
        refusal.contains("backreferences are not supported"),
        "{refusal}"
    );
    assert_eq!(exported, Some(0));
    // Sorted by namespace and key, defaults written out, nothing lost by the failed import.
    assert_eq!(
        serde_json::from_str::<Value>(&export).unwrap(),
        json!({"version": 1, "definitions": [
            {"namespace": "Gifts", "key": "note", "label": "Gift note", "type": "multiline_text",
             "position": 2, "hidden": false, "customer_editable": true, "max_length": 200,
             "pattern": "^[^<>]*$", "editable_statuses": [1, 11]},
            {"namespace": "Shipping", "key": "warehouse", "type": "text", "position": 0,
             "hidden": true, "customer_editable": false}
        ]})
    );
    assert_eq!(
        serde_json::from_str::<Value>(&other).unwrap(),
        json!({"version": 1, "definitions": []})
    );
    assert_eq!(unnamed, Some(1));
    assert!(unnamed_error.contains("--store HASH"), "{unnamed_error}");
}

#[test]
fn single_store_mode_reads_field_definitions_file_or_its_database() {
    let directory = ScratchDirectory::new();
    let file = directory.join("fields.json");
    std::fs::write(&file, serde_json::to_vec(&definitions()).unwrap()).unwrap();
    let file_text = file.to_str().unwrap();
    let url = format!("sqlite://{}", directory.join("one.db").display());
    let base = [
        ("BC_STORE_HASH", STORE_HASH),
        ("BC_ACCESS_TOKEN", ACCESS_TOKEN),
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
    ];
    let mut in_memory = base.to_vec();
    in_memory.push(("FIELD_DEFINITIONS_FILE", file_text));
    let mut on_disk = base.to_vec();
    on_disk.push(("DATABASE_URL", url.as_str()));

    let (_, from_file, _) = run(&directory, &in_memory, &["fields", "export"]);
    let (checked, check, _) = run(&directory, &in_memory, &["fields", "import", file_text]);
    let (imported, _, _) = run(&directory, &on_disk, &["fields", "import", file_text]);
    let (_, from_database, _) = run(&directory, &on_disk, &["fields", "export"]);
    let (other, _, other_error) = run(
        &directory,
        &on_disk,
        &["fields", "export", "--store", "abc123"],
    );

    assert_eq!(
        serde_json::from_str::<Value>(&from_file).unwrap(),
        definitions()
    );
    assert_eq!(checked, Some(0));
    assert!(
        check.contains("2 field definitions for store teststore1 are valid"),
        "{check}"
    );
    assert!(check.contains("set FIELD_DEFINITIONS_FILE="), "{check}");
    assert_eq!(imported, Some(0));
    assert_eq!(
        serde_json::from_str::<Value>(&from_database).unwrap(),
        definitions()
    );
    assert_eq!(other, Some(1));
    assert!(
        other_error.contains("another store than BC_STORE_HASH"),
        "{other_error}"
    );
}
