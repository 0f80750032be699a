//! A newcomer's first start: `cp .env.example .env` without filling it in stops the service
//! (and the token command) with one line naming the first placeholder and exit code 2,
//! never printing a value; a value that is not text is refused where it is read.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::harness::fixtures::{ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, STORE_HASH};
use crate::harness::process::{START_UP_LIMIT, ScratchDirectory, command, free_port};

/// The repository's `.env.example`.
fn env_example() -> String {
    fs::read_to_string(format!("{}/.env.example", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The values `.env.example` sets (its uncommented lines).
fn values_set(env_example: &str) -> Vec<&str> {
    env_example
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('=').map(|(_, value)| value))
        .collect()
}

#[test]
fn an_unfilled_copy_of_env_example_stops_serve_and_token_with_one_line_and_exit_code_2() {
    let env_example = env_example();
    let values = values_set(&env_example);
    assert!(values.len() >= 4, "{values:?}");
    let listen = format!("127.0.0.1:{}", free_port());
    let cases: [(&[&str], &str); 3] = [
        (&[], "serve, the default command"),
        (&["serve"], "serve"),
        (&["token", "--customer-id", "5"], "token"),
    ];
    for (arguments, description) in cases {
        let directory = ScratchDirectory::new();
        fs::write(directory.join(".env"), &env_example).unwrap();

        let mut binary = command(&directory, &[("LISTEN_ADDR", listen.as_str())]);
        binary.args(arguments);

        let (status, stdout, stderr) = run_to_exit(binary, &directory);

        assert_eq!(status.code(), Some(2), "case: {description}: {stderr:?}");
        assert_eq!(
            stderr,
            "order-metafields: configuration error: BC_STORE_HASH: still holds a replace-with-... placeholder; set the real value\n",
            "case: {description}"
        );
        assert_eq!(stdout, "", "case: {description}");
        for value in &values {
            assert!(
                !stderr.contains(value),
                "case: {description}: {value} printed"
            );
        }
    }
}

#[test]
fn a_value_that_is_not_utf8_is_refused_naming_its_variable_by_the_commands_that_read_it() {
    let listen = format!("127.0.0.1:{}", free_port());
    let environment = [
        ("BC_STORE_HASH", STORE_HASH),
        ("BC_ACCESS_TOKEN", ACCESS_TOKEN),
        ("BC_CLIENT_ID", CLIENT_ID),
        ("BC_CLIENT_SECRET", CLIENT_SECRET),
        ("LISTEN_ADDR", listen.as_str()),
    ];
    let not_utf8 = OsStr::from_bytes(b"js\xffon");
    let serve_directory = ScratchDirectory::new();
    let mut serve = command(&serve_directory, &environment);
    serve.env("LOG_FORMAT", not_utf8);
    let token_directory = ScratchDirectory::new();
    let mut token = command(&token_directory, &environment);
    token
        .args(["token", "--customer-id", "5"])
        .env("LOG_FORMAT", not_utf8);

    let (serve_status, _, serve_stderr) = run_to_exit(serve, &serve_directory);
    let (token_status, token_stdout, _) = run_to_exit(token, &token_directory);

    assert_eq!(serve_status.code(), Some(2));
    assert_eq!(
        serve_stderr,
        "order-metafields: configuration error: LOG_FORMAT: expected UTF-8 text\n"
    );
    assert!(token_status.success(), "token does not read LOG_FORMAT");
    assert_eq!(
        token_stdout.matches('.').count(),
        2,
        "a token: {token_stdout:?}"
    );
}

/// Runs `binary` (made by `command` for `directory`), expecting it to exit by itself within
/// the start-up limit (it is killed and the test fails otherwise): its status, stdout and
/// stderr.
fn run_to_exit(mut binary: Command, directory: &Path) -> (ExitStatus, String, String) {
    let mut child = binary
        .stdout(fs::File::create(directory.join("stdout.log")).unwrap())
        .stderr(fs::File::create(directory.join("stderr.log")).unwrap())
        .stdin(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > START_UP_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary kept running instead of refusing its configuration");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |file: &str| fs::read_to_string(directory.join(file)).unwrap();
    (status, read("stdout.log"), read("stderr.log"))
}
