//! The binary's subcommands other than `serve`, run as a user runs them.

use std::process::Command;

use order_metafields_service::auth::current_customer::CustomerTokenVerifier;
use order_metafields_service::config::Settings;

use crate::harness::fixtures::{ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, STORE_HASH};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_order-metafields"));
    // A fresh directory, so a developer's .env cannot take part.
    let directory =
        std::env::temp_dir().join(format!("order-metafields-cli-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    command.env_clear().current_dir(directory);
    command
}

#[test]
fn token_mints_a_development_jwt_the_service_accepts() {
    let output = binary()
        .args(["token", "--customer-id", "5"])
        .env("BC_STORE_HASH", STORE_HASH)
        .env("BC_CLIENT_ID", CLIENT_ID)
        .env("BC_CLIENT_SECRET", CLIENT_SECRET)
        .output()
        .unwrap();

    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("development"), "{stderr}");
    assert!(!stderr.contains(CLIENT_SECRET));
    let token = String::from_utf8(output.stdout).unwrap();
    let settings = Settings::from_pairs([
        ("BC_STORE_HASH", STORE_HASH),
        ("BC_ACCESS_TOKEN", ACCESS_TOKEN),
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
    ])
    .unwrap();
    let verifier = CustomerTokenVerifier::new(&settings.auth);
    let verified = verifier.verify(token.trim()).unwrap();
    assert_eq!(verified.customer.get(), 5);
    assert_eq!(verified.store.as_str(), STORE_HASH);
}

#[test]
fn token_without_a_secret_names_the_missing_variable() {
    let output = binary()
        .args(["token", "--customer-id", "5"])
        .env("BC_STORE_HASH", STORE_HASH)
        .env("BC_CLIENT_ID", CLIENT_ID)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "order-metafields: configuration error: BC_CLIENT_SECRET: required but not set\n"
    );
}

#[test]
fn sandbox_help_documents_the_seeded_logins() {
    let output = binary().args(["sandbox", "--help"]).output().unwrap();

    let help = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success());
    for expected in ["alice@example.com", "sandbox-password", "BC_CLIENT_SECRET="] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
}

#[test]
fn demo_takes_the_two_sync_modes_and_refuses_any_other() {
    let help = binary().args(["demo", "--help"]).output().unwrap();
    let refused = binary()
        .args(["demo", "--sync-mode", "sometimes"])
        .output()
        .unwrap();

    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains("--sync-mode") && help.contains("on-demand") && help.contains("mirror"),
        "{help}"
    );
    assert_eq!(refused.status.code(), Some(2));
    let error = String::from_utf8(refused.stderr).unwrap();
    assert!(
        error.contains("invalid value 'sometimes' for '--sync-mode <SYNC_MODE>'"),
        "{error}"
    );
}

#[test]
fn help_lists_every_subcommand() {
    let output = binary().arg("--help").output().unwrap();

    let help = String::from_utf8(output.stdout).unwrap();
    for subcommand in ["serve", "demo", "sandbox", "token"] {
        assert!(
            help.contains(subcommand),
            "{subcommand} missing from:\n{help}"
        );
    }
}

#[test]
fn serve_refuses_a_duration_too_long_to_add_to_a_clock() {
    let mut child = binary()
        .arg("serve")
        .env("BC_STORE_HASH", STORE_HASH)
        .env("BC_ACCESS_TOKEN", ACCESS_TOKEN)
        .env("BC_CLIENT_ID", CLIENT_ID)
        .env("BC_CLIENT_SECRET", CLIENT_SECRET)
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("UPSTREAM_RETRY_BUDGET", "500000000000years")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: a service that accepted the setting would run until killed.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > std::time::Duration::from_secs(10) {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();

    assert_eq!(status.and_then(|status| status.code()), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("order-metafields: configuration error: UPSTREAM_RETRY_BUDGET: "),
        "{stderr}"
    );
}
