//! Configuration as a deployment meets it: a rotation secret read from a file keeps old
//! tokens working.

use jsonwebtoken::Algorithm;

use crate::helpers::{CLIENT_SECRET, claims_for, sign, spawn_app_with, token_for, v2_order};

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
