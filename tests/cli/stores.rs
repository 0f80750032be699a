//! `order-metafields stores list|show|forget` against an app's SQLite database, and the
//! start-up of an app whose database is out of reach: one line naming DATABASE_URL, exit
//! code 2. No command prints an access token or an email.

use order_metafields_service::database::{Database, SettingsRecord, StoreRecord, UserRecord};
use order_metafields_service::sealing::{EncryptionKey, TokenSealer};
use secrecy::SecretString;

use crate::harness::fixtures::{CLIENT_ID, CLIENT_SECRET};
use crate::harness::process::{ScratchDirectory, run_args_to_exit};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const TOKEN: &str = "store-token-that-is-never-printed";
const OWNER_EMAIL: &str = "owner.never.printed@example.com";

fn app_environment(database: &str) -> Vec<(&'static str, String)> {
    vec![
        ("BC_CLIENT_ID", CLIENT_ID.to_owned()),
        ("BC_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("APP_URL", "https://app.example.com".to_owned()),
        ("TOKEN_ENCRYPTION_KEY", KEY.to_owned()),
        ("DATABASE_URL", database.to_owned()),
    ]
}

/// An app database with stores abc123 (two users, a namespace) and xyz789.
async fn installed(directory: &ScratchDirectory) -> String {
    let url = format!("sqlite://{}", directory.join("app.db").display());
    let database = Database::connect(&url.parse().unwrap()).await.unwrap();
    let sealer = TokenSealer::new(&EncryptionKey::from_base64(KEY).unwrap(), None);
    for hash in ["abc123", "xyz789"] {
        let (sealed, key_id) = sealer.seal(hash, &SecretString::from(TOKEN)).unwrap();
        let mut record = StoreRecord::installed_now(
            hash.to_owned(),
            sealed,
            key_id,
            "store_v2_orders_read_only".to_owned(),
            (7, OWNER_EMAIL.to_owned()),
            None,
        );
        record.installed_at = 1_767_225_600;
        database.save_store(&record).await.unwrap();
    }
    for user in [7, 8] {
        database
            .record_user(
                "abc123",
                &UserRecord {
                    user_id: user,
                    email: OWNER_EMAIL.to_owned(),
                    locale: None,
                    first_seen_at: 1_767_225_600,
                    last_seen_at: 1_767_312_000,
                },
            )
            .await
            .unwrap();
    }
    database
        .save_settings(
            "abc123",
            &SettingsRecord {
                metafield_namespaces: ["shipping".to_owned()].into(),
                channel_orders: false,
            },
            1,
        )
        .await
        .unwrap();
    database.close().await;
    url
}

fn run(directory: &ScratchDirectory, url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let environment = app_environment(url);
    let pairs: Vec<(&str, &str)> = environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    run_args_to_exit(directory, &pairs, args)
}

#[tokio::test]
async fn stores_are_listed_shown_and_forgotten_without_printing_a_token_or_an_email() {
    let directory = ScratchDirectory::new();
    let url = installed(&directory).await;

    let (listed, list, _) = run(&directory, &url, &["stores", "list"]);
    let (shown, show, _) = run(&directory, &url, &["stores", "show", "abc123"]);
    let (forgot, forget, _) = run(&directory, &url, &["stores", "forget", "abc123"]);
    let (again, _, again_error) = run(&directory, &url, &["stores", "forget", "abc123"]);
    let (_, after, _) = run(&directory, &url, &["stores", "list"]);
    let (bad, _, bad_error) = run(&directory, &url, &["stores", "show", "not/a/store"]);

    assert_eq!(listed, Some(0));
    assert_eq!(
        list,
        "abc123  installed 2026-01-01T00:00:00Z  scope store_v2_orders_read_only  users 2\n\
         xyz789  installed 2026-01-01T00:00:00Z  scope store_v2_orders_read_only  users 0\n"
    );
    assert_eq!(shown, Some(0));
    assert!(show.contains("store          abc123"), "{show}");
    assert!(show.contains("(TOKEN_ENCRYPTION_KEY)"), "{show}");
    assert!(show.contains("namespaces     shipping"), "{show}");
    assert!(show.contains("users          2"), "{show}");
    assert_eq!(forgot, Some(0));
    assert!(forget.contains("forgot store abc123"), "{forget}");
    assert_eq!(again, Some(1));
    assert!(
        again_error.contains("store abc123 is not installed"),
        "{again_error}"
    );
    assert!(
        after.starts_with("xyz789") && !after.contains("abc123"),
        "{after}"
    );
    assert_eq!(bad, Some(1));
    assert!(bad_error.contains("expected a store hash"), "{bad_error}");
    for output in [&list, &show, &forget, &after] {
        assert!(
            !output.contains(TOKEN) && !output.contains(OWNER_EMAIL),
            "{output}"
        );
    }
}

#[test]
fn an_app_whose_database_is_out_of_reach_stops_with_one_line_naming_database_url() {
    let directory = ScratchDirectory::new();
    let url = "postgres://app:db-password-never-printed@127.0.0.1:1/orders";
    let mut environment = app_environment(url);
    environment.push(("LISTEN_ADDR", "127.0.0.1:0".to_owned()));
    let pairs: Vec<(&str, &str)> = environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();

    let (code, stdout, stderr) = run_args_to_exit(&directory, &pairs, &["serve"]);

    assert_eq!(code, Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("order-metafields: DATABASE_URL: "),
        "{stderr}"
    );
    assert!(
        lines[0].contains("postgres://127.0.0.1:1/orders"),
        "{stderr}"
    );
    assert!(!stderr.contains("db-password") && !stdout.contains("db-password"));
}
