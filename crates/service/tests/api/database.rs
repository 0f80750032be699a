//! The database layer against a real engine (SQLite, or PostgreSQL with
//! `TEST_POSTGRES_URL`): migrations, stores, users, single-use load tokens, settings.

use std::collections::BTreeSet;

use order_metafields_service::database::{
    Database, DatabaseUrl, SettingsRecord, StoreRecord, UserRecord,
};

use crate::test_database::TestDatabase;

fn store(hash: &str, sealed: &[u8]) -> StoreRecord {
    StoreRecord {
        store_hash: hash.to_owned(),
        sealed_access_token: sealed.to_vec(),
        token_key_id: "key-1".to_owned(),
        scope: "store_v2_orders_read_only".to_owned(),
        owner_id: 7,
        owner_email: "owner@example.com".to_owned(),
        account_uuid: Some("uuid-1".to_owned()),
        installed_at: 1_000,
        updated_at: 1_000,
    }
}

fn user(id: i64, seen_at: i64) -> UserRecord {
    UserRecord {
        user_id: id,
        email: format!("user{id}@example.com"),
        locale: Some("en-US".to_owned()),
        first_seen_at: seen_at,
        last_seen_at: seen_at,
    }
}

#[tokio::test]
async fn a_saved_store_is_read_back_and_a_reinstall_keeps_its_first_install_date() {
    let test = TestDatabase::new().await;
    let database = Database::connect(&test.url).await.unwrap();
    let first = store("abc123", b"sealed-1");
    let mut again = store("abc123", b"sealed-2");
    again.installed_at = 2_000;
    again.updated_at = 2_000;
    again.scope = "store_v2_orders_read_only store_v2_information".to_owned();

    database.save_store(&first).await.unwrap();
    database.save_store(&again).await.unwrap();
    database
        .save_store(&store("xyz789", b"sealed-3"))
        .await
        .unwrap();

    let stored = database.store("abc123").await.unwrap().unwrap();
    assert_eq!(stored.sealed_access_token, b"sealed-2");
    assert_eq!(stored.scope, again.scope);
    assert_eq!(stored.installed_at, 1_000);
    assert_eq!(stored.updated_at, 2_000);
    let hashes: Vec<String> = database
        .stores()
        .await
        .unwrap()
        .into_iter()
        .map(|store| store.store_hash)
        .collect();
    assert_eq!(hashes, ["abc123", "xyz789"]);
    assert_eq!(database.store("nope").await.unwrap(), None);
}

#[tokio::test]
async fn forgetting_a_store_removes_its_row_users_and_settings_and_nothing_of_others() {
    let test = TestDatabase::new().await;
    let database = Database::connect(&test.url).await.unwrap();
    for hash in ["abc123", "xyz789"] {
        database.save_store(&store(hash, b"sealed")).await.unwrap();
        database.record_user(hash, &user(7, 10)).await.unwrap();
        let settings = SettingsRecord {
            metafield_namespaces: BTreeSet::from(["shipping".to_owned()]),
            channel_orders: false,
        };
        database.save_settings(hash, &settings, 10).await.unwrap();
    }

    let forgotten = database.forget_store("abc123").await.unwrap();
    let again = database.forget_store("abc123").await.unwrap();

    assert!(forgotten);
    assert!(!again);
    assert_eq!(database.store("abc123").await.unwrap(), None);
    assert!(database.users("abc123").await.unwrap().is_empty());
    assert_eq!(database.settings("abc123").await.unwrap(), None);
    assert!(database.store("xyz789").await.unwrap().is_some());
    assert_eq!(database.users("xyz789").await.unwrap().len(), 1);
    assert!(database.settings("xyz789").await.unwrap().is_some());
}

#[tokio::test]
async fn users_are_added_on_first_sight_updated_after_and_removed_on_request() {
    let test = TestDatabase::new().await;
    let database = Database::connect(&test.url).await.unwrap();
    database
        .save_store(&store("abc123", b"sealed"))
        .await
        .unwrap();

    database.record_user("abc123", &user(7, 10)).await.unwrap();
    database.record_user("abc123", &user(8, 20)).await.unwrap();
    database.record_user("abc123", &user(7, 30)).await.unwrap();
    let removed = database.remove_user("abc123", 8).await.unwrap();
    let removed_again = database.remove_user("abc123", 8).await.unwrap();

    let users = database.users("abc123").await.unwrap();
    assert!(removed);
    assert!(!removed_again);
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].user_id, 7);
    assert_eq!(users[0].first_seen_at, 10);
    assert_eq!(users[0].last_seen_at, 30);
}

#[tokio::test]
async fn a_load_token_is_good_once_and_expired_ones_are_swept() {
    let test = TestDatabase::new().await;
    let database = Database::connect(&test.url).await.unwrap();

    let first = database.claim_load_token("jti-1", 100, 50).await.unwrap();
    let replay = database.claim_load_token("jti-1", 100, 60).await.unwrap();
    let other = database.claim_load_token("jti-2", 100, 60).await.unwrap();
    // Once jti-1 has expired its row is swept, but by then the token itself is refused for
    // its exp long before it could be claimed again.
    let after_expiry = database.claim_load_token("jti-1", 300, 200).await.unwrap();

    assert!(first);
    assert!(!replay);
    assert!(other);
    assert!(after_expiry);
}

#[tokio::test]
async fn concurrent_claims_of_one_load_token_let_exactly_one_through() {
    let test = TestDatabase::new().await;
    let database = Database::connect(&test.url).await.unwrap();

    let claims = (0..16).map(|_| {
        let database = database.clone();
        tokio::spawn(async move { database.claim_load_token("jti-race", 100, 50).await })
    });
    let results = futures_util::future::join_all(claims).await;

    let granted = results
        .into_iter()
        .map(|result| result.unwrap().unwrap())
        .filter(|granted| *granted)
        .count();
    assert_eq!(granted, 1);
}

#[tokio::test]
async fn settings_round_trip_and_replace() {
    let test = TestDatabase::new().await;
    let database = Database::connect(&test.url).await.unwrap();
    let first = SettingsRecord {
        metafield_namespaces: BTreeSet::from(["shipping".to_owned(), "gifts".to_owned()]),
        channel_orders: true,
    };

    database.save_settings("abc123", &first, 1).await.unwrap();
    let read = database.settings("abc123").await.unwrap();
    database
        .save_settings("abc123", &SettingsRecord::default(), 2)
        .await
        .unwrap();
    let replaced = database.settings("abc123").await.unwrap();

    assert_eq!(read, Some(first));
    assert_eq!(replaced, Some(SettingsRecord::default()));
}

#[tokio::test]
async fn a_second_connect_finds_the_schema_migrated_and_the_data_kept() {
    let test = TestDatabase::new().await;
    let database = Database::connect(&test.url).await.unwrap();
    database
        .save_store(&store("abc123", b"sealed"))
        .await
        .unwrap();
    database.close().await;

    let reopened = Database::connect(&test.url).await.unwrap();

    assert!(reopened.store("abc123").await.unwrap().is_some());
    assert_eq!(reopened.engine(), TestDatabase::engine());
}

#[tokio::test]
async fn an_in_memory_database_keeps_its_data_across_pool_connections() {
    let database = Database::connect(&DatabaseUrl::in_memory()).await.unwrap();

    let writes = (0..8).map(|index| {
        let database = database.clone();
        tokio::spawn(async move {
            database
                .save_store(&store(&format!("store{index}"), b"sealed"))
                .await
        })
    });
    for write in futures_util::future::join_all(writes).await {
        write.unwrap().unwrap();
    }

    assert_eq!(database.stores().await.unwrap().len(), 8);
}

#[tokio::test]
async fn an_unreachable_database_is_reported_as_unavailable_without_its_password() {
    let url: DatabaseUrl = "postgres://app:s3cret-password@127.0.0.1:1/orders"
        .parse()
        .unwrap();

    let error = Database::connect(&url).await.err().unwrap();

    assert!(error.is_unavailable(), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("postgres://127.0.0.1:1/orders"),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
}

#[tokio::test]
async fn a_database_closed_while_running_fails_queries_as_unavailable() {
    let test = TestDatabase::new().await;
    let database = Database::connect(&test.url).await.unwrap();

    database.close().await;
    let error = database.stores().await.unwrap_err();

    assert!(error.is_unavailable(), "{error}");
}

#[tokio::test]
async fn a_second_process_on_one_sqlite_file_is_told_it_is_not_alone() {
    let database = TestDatabase::sqlite();

    let first = Database::connect(&database.url).await.unwrap();
    let alone = first.shared_with_another_process();
    let second = Database::connect(&database.url).await.unwrap();
    drop(first);
    let after_the_first_left = Database::connect(&database.url).await.unwrap();
    let in_memory = Database::connect(&DatabaseUrl::in_memory()).await.unwrap();

    // An advisory lock beside the file, held while a pool lives; a second pool in one
    // process counts as another process (the lock is per open file).
    assert!(!alone);
    assert!(second.shared_with_another_process());
    assert!(!after_the_first_left.shared_with_another_process());
    assert!(!in_memory.shared_with_another_process());
}
