//! Configuration as a deployment meets it: the placeholders shipped in `.env.example` and
//! `deploy/kubernetes/` never start a service, and a rotation secret read from a file keeps
//! old tokens working.

use std::path::{Path, PathBuf};

use jsonwebtoken::Algorithm;
use order_metafields_service::config::Settings;
use order_metafields_service::config::variables::VARIABLES;

use crate::helpers::{
    ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, STORE_HASH, claims_for, sign, spawn_app_with,
    token_for, v2_order,
};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the repository, by its path from the repository's root.
fn read(path: &Path) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// Every `replace-with-…` value the repository ships, as (variable, value, file):
/// `.env.example`'s, and those of the kustomize generators under `deploy/kubernetes`.
fn shipped_placeholders() -> Vec<(String, String, String)> {
    let mut placeholders = Vec::new();
    for line in read(Path::new(".env.example")).lines() {
        if let Some((name, value)) = line.split_once('=')
            && !name.starts_with('#')
            && value.starts_with("replace-with-")
        {
            placeholders.push((name.to_owned(), value.to_owned(), ".env.example".to_owned()));
        }
    }
    for (name, value, file) in kustomize_generated_values(Path::new("deploy/kubernetes")) {
        if value.starts_with("replace-with-") {
            placeholders.push((name, value, file));
        }
    }
    placeholders
}

/// The values the `configMapGenerator` and `secretGenerator` entries of every
/// `kustomization.yaml` below `directory` (`local/`, an operator's own, left out) produce:
/// `literals` (`KEY=value`), `files` (`KEY=path`, or a path whose file name is the key) and
/// `envs` (files of `KEY=value` lines), trimmed as the service trims them.
fn kustomize_generated_values(directory: &Path) -> Vec<(String, String, String)> {
    let mut values = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(root().join(directory))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let relative = directory.join(path.file_name().unwrap());
        if path.is_dir() && !relative.ends_with("deploy/kubernetes/local") {
            values.extend(kustomize_generated_values(&relative));
        } else if path
            .file_name()
            .is_some_and(|name| name == "kustomization.yaml")
        {
            let document: serde_yaml_ng::Value = serde_yaml_ng::from_str(&read(&relative)).unwrap();
            let file = relative.display().to_string();
            for generator in ["configMapGenerator", "secretGenerator"] {
                for entry in document[generator].as_sequence().into_iter().flatten() {
                    let texts = |field: &str| -> Vec<String> {
                        entry[field]
                            .as_sequence()
                            .into_iter()
                            .flatten()
                            .map(|text| text.as_str().unwrap().to_owned())
                            .collect()
                    };
                    for literal in texts("literals") {
                        let (name, value) = literal.split_once('=').unwrap();
                        values.push((name.to_owned(), value.trim().to_owned(), file.clone()));
                    }
                    for source in texts("files") {
                        let (name, path) = match source.split_once('=') {
                            Some((name, path)) => (name.to_owned(), path.to_owned()),
                            None => {
                                let name = Path::new(&source).file_name().unwrap();
                                (name.to_string_lossy().into_owned(), source.clone())
                            }
                        };
                        let value = read(&directory.join(&path)).trim().to_owned();
                        values.push((name, value, directory.join(path).display().to_string()));
                    }
                    for env_file in texts("envs") {
                        for line in read(&directory.join(&env_file)).lines() {
                            if let Some((name, value)) = line.split_once('=')
                                && !name.trim_start().starts_with('#')
                            {
                                let origin = directory.join(&env_file).display().to_string();
                                values.push((name.to_owned(), value.trim().to_owned(), origin));
                            }
                        }
                    }
                }
            }
        }
    }
    values
}

/// Valid settings of each mode, less the variables this build does not read: app mode's
/// arrive with it, and until then a placeholder of theirs is checked by
/// `deploy/kubernetes/check`, which refuses any variable the service does not read.
fn valid_settings_of_each_mode() -> Vec<Vec<(&'static str, &'static str)>> {
    let single_store = vec![
        ("BC_STORE_HASH", STORE_HASH),
        ("BC_ACCESS_TOKEN", ACCESS_TOKEN),
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
    ];
    let app = vec![
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
        ("APP_URL", "https://orders.example.com"),
        // 32 bytes of zeros, in base64.
        (
            "TOKEN_ENCRYPTION_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ),
    ];
    let mut modes = vec![single_store];
    if app.iter().all(|(name, _)| is_read(name)) {
        modes.push(app);
    }
    modes
}

fn is_read(name: &str) -> bool {
    VARIABLES.iter().any(|variable| variable.name == name)
}

#[test]
fn every_placeholder_the_repository_ships_is_refused_naming_its_variable() {
    let placeholders = shipped_placeholders();
    for (expected, file) in [
        ("BC_STORE_HASH", ".env.example"),
        (
            "BC_STORE_HASH",
            "deploy/kubernetes/overlays/single-store/kustomization.yaml",
        ),
        (
            "BC_ACCESS_TOKEN",
            "deploy/kubernetes/overlays/single-store/secrets/BC_ACCESS_TOKEN",
        ),
        (
            "BC_CLIENT_ID",
            "deploy/kubernetes/components/app-mode/kustomization.yaml",
        ),
        (
            "BC_CLIENT_SECRET",
            "deploy/kubernetes/components/app-mode/secrets/BC_CLIENT_SECRET",
        ),
        (
            "WEBHOOK_SECRET",
            "deploy/kubernetes/overlays/single-store/secrets/WEBHOOK_SECRET",
        ),
        (
            "DATABASE_URL",
            "deploy/kubernetes/components/app-mode/secrets/DATABASE_URL",
        ),
        (
            "TOKEN_ENCRYPTION_KEY",
            "deploy/kubernetes/components/app-mode/secrets/TOKEN_ENCRYPTION_KEY",
        ),
    ] {
        assert!(
            placeholders
                .iter()
                .any(|(name, _, origin)| name == expected && origin == file),
            "{expected} of {file} in {placeholders:?}"
        );
    }

    let modes = valid_settings_of_each_mode();
    let mut checked = 0;
    for (name, placeholder, file) in &placeholders {
        if !is_read(name) {
            continue;
        }
        // Refused in the mode that reads it, naming it and without printing it.
        let refused = modes.iter().any(|mode| {
            let mut pairs: Vec<(&str, &str)> = mode
                .iter()
                .copied()
                .filter(|(other, _)| other != name)
                .collect();
            pairs.push((name.as_str(), placeholder.as_str()));
            Settings::from_pairs(pairs).is_err_and(|error| {
                error.variable == name.as_str() && !error.to_string().contains(placeholder.as_str())
            })
        });
        assert!(refused, "case: {name} of {file} is not refused naming it");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} placeholders checked");
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
