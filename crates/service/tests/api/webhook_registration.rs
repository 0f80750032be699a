//! `webhooks register|remove` against a fake `/v3/hooks`: idempotent, repairs what is off,
//! touches only this service's hooks.

use order_metafields_service::config::Settings;
use order_metafields_service::hook_registration::{self, Action, SCOPES};
use order_metafields_service::management::ManagementClient;
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, STORE_HASH};

const DESTINATION: &str = "https://orders.example.com/webhooks/bigcommerce";
const SECRET: &str = "a-long-random-webhook-secret";

fn client(server: &MockServer) -> ManagementClient {
    let base = server.uri();
    let settings = Settings::from_pairs([
        ("BC_STORE_HASH", STORE_HASH),
        ("BC_ACCESS_TOKEN", ACCESS_TOKEN),
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
        ("BC_API_BASE_URL", base.as_str()),
    ])
    .unwrap();
    ManagementClient::new(
        settings.single_store().expect("single-store settings"),
        &settings.upstream,
    )
    .unwrap()
}

fn hook(id: u64, scope: &str, destination: &str, active: bool, secret: &str) -> Value {
    json!({"id": id, "client_id": CLIENT_ID, "store_hash": STORE_HASH, "scope": scope,
           "destination": destination, "is_active": active, "headers": {"X-Webhook-Secret": secret},
           "created_at": 1_700_000_000, "updated_at": 1_700_000_000})
}

async fn mount_existing(server: &MockServer, hooks: Vec<Value>) {
    let total = hooks.len();
    Mock::given(method("GET"))
        .and(path(format!("/stores/{STORE_HASH}/v3/hooks")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": hooks,
            "meta": {"pagination": {"total": total, "count": total, "per_page": 250, "current_page": 1, "total_pages": 1}}
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn register_creates_missing_hooks_repairs_inactive_ones_and_keeps_the_rest() {
    let server = MockServer::start().await;
    mount_existing(
        &server,
        vec![
            hook(1, SCOPES[0], DESTINATION, true, SECRET),
            hook(2, SCOPES[1], DESTINATION, false, SECRET),
            hook(3, SCOPES[2], DESTINATION, true, "an-old-secret"),
            hook(
                4,
                SCOPES[3],
                "https://someone-else.example.com/hook",
                true,
                "x",
            ),
        ],
    )
    .await;
    Mock::given(method("POST"))
        .and(path(format!("/stores/{STORE_HASH}/v3/hooks")))
        .and(header("x-auth-token", ACCESS_TOKEN))
        .and(body_partial_json(json!({"destination": DESTINATION, "is_active": true, "headers": {"x-webhook-secret": SECRET}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": hook(10, SCOPES[3], DESTINATION, true, SECRET), "meta": {}})))
        .expect(4)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(body_partial_json(
            json!({"is_active": true, "headers": {"x-webhook-secret": SECRET}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": hook(2, SCOPES[1], DESTINATION, true, SECRET), "meta": {}}),
        ))
        .expect(2)
        .mount(&server)
        .await;

    let actions =
        hook_registration::register(&client(&server), DESTINATION, &SecretString::from(SECRET))
            .await
            .unwrap();

    assert_eq!(
        actions[0],
        Action::Unchanged {
            id: 1,
            scope: SCOPES[0].to_owned()
        }
    );
    assert!(matches!(actions[1], Action::Updated { .. }));
    assert!(matches!(actions[2], Action::Updated { .. }));
    assert_eq!(
        actions
            .iter()
            .filter(|action| matches!(action, Action::Created { .. }))
            .count(),
        4
    );
    let printed: Vec<String> = actions.iter().map(ToString::to_string).collect();
    assert!(!printed.concat().contains(SECRET));
}

#[tokio::test]
async fn registering_twice_creates_nothing_new() {
    let server = MockServer::start().await;
    let all = SCOPES
        .iter()
        .enumerate()
        .map(|(index, scope)| hook(index as u64 + 1, scope, DESTINATION, true, SECRET))
        .collect();
    mount_existing(&server, all).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    let actions =
        hook_registration::register(&client(&server), DESTINATION, &SecretString::from(SECRET))
            .await
            .unwrap();

    assert_eq!(actions.len(), SCOPES.len());
    assert!(
        actions
            .iter()
            .all(|action| matches!(action, Action::Unchanged { .. }))
    );
}

#[tokio::test]
async fn remove_deletes_only_this_services_hooks_for_the_destination() {
    let server = MockServer::start().await;
    mount_existing(
        &server,
        vec![
            hook(1, SCOPES[0], DESTINATION, true, SECRET),
            hook(2, SCOPES[4], DESTINATION, true, SECRET),
            hook(3, "store/product/updated", DESTINATION, true, SECRET),
            hook(
                4,
                SCOPES[0],
                "https://someone-else.example.com/hook",
                true,
                SECRET,
            ),
        ],
    )
    .await;
    for id in [1, 2] {
        Mock::given(method("DELETE"))
            .and(path(format!("/stores/{STORE_HASH}/v3/hooks/{id}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"data": hook(id, SCOPES[0], DESTINATION, true, SECRET)})),
            )
            .expect(1)
            .mount(&server)
            .await;
    }

    let actions = hook_registration::remove(&client(&server), DESTINATION)
        .await
        .unwrap();

    assert_eq!(
        actions,
        vec![
            Action::Removed {
                id: 1,
                scope: SCOPES[0].to_owned()
            },
            Action::Removed {
                id: 2,
                scope: SCOPES[4].to_owned()
            },
        ]
    );
}
