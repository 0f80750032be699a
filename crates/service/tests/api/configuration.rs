//! Configuration as a deployment meets it: the placeholders shipped in `.env.example` and
//! `deploy/kubernetes/` never start a service, and a rotation secret read from a file keeps
//! old tokens working.

use std::collections::BTreeMap;

use jsonwebtoken::Algorithm;
use order_metafields_service::config::Settings;

use crate::helpers::{
    ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, STORE_HASH, claims_for, sign, spawn_app_with,
    token_for, v2_order,
};

/// A file of the repository, by its path from the repository's root.
fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Every `replace-with-…` value the repository ships, by variable: `.env.example`'s and the
/// Kubernetes ConfigMap's and Secret's.
fn shipped_placeholders() -> Vec<(String, String, &'static str)> {
    let mut placeholders = Vec::new();
    for line in read(".env.example").lines() {
        if let Some((name, value)) = line.split_once('=')
            && !name.starts_with('#')
            && value.starts_with("replace-with-")
        {
            placeholders.push((name.to_owned(), value.to_owned(), ".env.example"));
        }
    }
    for (file, key) in [
        ("deploy/kubernetes/configmap.yaml", "data"),
        ("deploy/kubernetes/secret.yaml", "stringData"),
    ] {
        let document: serde_yaml_ng::Value = serde_yaml_ng::from_str(&read(file)).unwrap();
        let values: BTreeMap<String, String> =
            serde_yaml_ng::from_value(document[key].clone()).unwrap();
        for (name, value) in values {
            if value.starts_with("replace-with-") {
                placeholders.push((name, value, file));
            }
        }
    }
    placeholders
}

#[test]
fn every_placeholder_the_repository_ships_is_refused_naming_its_variable() {
    let placeholders = shipped_placeholders();
    let names: Vec<&str> = placeholders
        .iter()
        .map(|(name, _, _)| name.as_str())
        .collect();
    for expected in [
        "BC_STORE_HASH",
        "BC_ACCESS_TOKEN",
        "BC_CLIENT_ID",
        "BC_CLIENT_SECRET",
        "WEBHOOK_SECRET",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }

    for (name, placeholder, file) in &placeholders {
        let mut pairs = vec![
            ("BC_STORE_HASH", STORE_HASH),
            ("BC_ACCESS_TOKEN", ACCESS_TOKEN),
            ("BC_CLIENT_ID", CLIENT_ID),
            ("BC_CLIENT_SECRET", CLIENT_SECRET),
        ];
        pairs.retain(|(other, _)| other != name);
        pairs.push((name.as_str(), placeholder.as_str()));

        let error = Settings::from_pairs(pairs).unwrap_err();

        assert_eq!(error.variable, name.as_str(), "case: {name} of {file}");
        assert!(
            !error.to_string().contains(placeholder.as_str()),
            "case: {name} of {file}: the value is not printed"
        );
    }
}

/// A secret read from a file (a Kubernetes Secret mounted as a file, `$(cat …)`) often ends
/// with a newline; the previous secret is trimmed like the current one, so a rotation does
/// not log out every shopper holding a token signed with it.
#[tokio::test]
async fn a_previous_secret_with_a_trailing_newline_still_verifies_old_tokens() {
    let previous = format!("{CLIENT_SECRET}\n");
    let app = spawn_app_with(&[
        ("BC_CLIENT_SECRET", "the-new-client-secret\n"),
        ("BC_CLIENT_SECRET_PREVIOUS", previous.as_str()),
    ])
    .await;
    app.mount_orders(7, vec![v2_order(100, 7, 1)], 1).await;

    let old = app.get_orders(&token_for(7), "").await;
    let new = app
        .get_orders(
            &sign(&claims_for(7), Algorithm::HS256, "the-new-client-secret"),
            "",
        )
        .await;

    assert_eq!(old.status(), 200);
    assert_eq!(new.status(), 200);
    assert_eq!(app.upstream_calls("v2/orders").await, 1);
}
