//! `order-metafields demo` as a newcomer runs it: a busy port names the flag to change, the
//! storefront works as `localhost` as well as `127.0.0.1`, the printed token says how to get
//! a new one, and `--host` binds elsewhere while the printed URLs keep answering.

use std::fs;
use std::net::TcpListener;
use std::process::Child;
use std::time::{Duration, Instant};

use reqwest::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
    COOKIE, ORIGIN, SET_COOKIE,
};
use serde_json::Value;

use crate::harness::process::{START_UP_LIMIT, ScratchDirectory, command, run_args_to_exit};

/// A demo process and what it printed once it was ready.
struct RunningDemo {
    child: Child,
    printed: String,
    _directory: ScratchDirectory,
}

impl RunningDemo {
    /// Starts `demo` with `args` on free ports and waits for its instructions.
    fn start(args: &[&str]) -> Self {
        let directory = ScratchDirectory::new();
        let mut child = command(&directory, &[("LOG_LEVEL", "warn")])
            .args(["demo", "--port", "0", "--sandbox-port", "0"])
            .args(args)
            .stdout(fs::File::create(directory.join("stdout.log")).unwrap())
            .stderr(fs::File::create(directory.join("stderr.log")).unwrap())
            .spawn()
            .expect("the binary starts");
        let started = Instant::now();
        loop {
            let printed = fs::read_to_string(directory.join("stdout.log")).unwrap_or_default();
            if printed.contains("Press Ctrl-C to stop.") {
                return Self {
                    child,
                    printed,
                    _directory: directory,
                };
            }
            let stderr = fs::read_to_string(directory.join("stderr.log")).unwrap_or_default();
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the demo exited with {status}: {stderr}");
            }
            if started.elapsed() > START_UP_LIMIT {
                let _ = child.kill();
                panic!("the demo printed no instructions in time: {printed}{stderr}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The URL printed on the line after `label`, or at the start of the line `label` opens.
    fn url_after(&self, label: &str) -> String {
        let at = self
            .printed
            .find(label)
            .unwrap_or_else(|| panic!("{label} missing from:\n{}", self.printed));
        let rest = &self.printed[at + label.len()..];
        let start = rest.find("http").unwrap();
        rest[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_owned()
    }

    fn storefront(&self) -> String {
        self.url_after("sign in as alice@example.com")
            .trim_end_matches("/login")
            .to_owned()
    }

    fn service(&self) -> String {
        self.url_after("Service API:")
    }

    /// The printed token: the line after the one that introduces it.
    fn token(&self) -> String {
        let at = self.printed.find("A Current Customer JWT").unwrap();
        self.printed[at..].lines().nth(2).unwrap().trim().to_owned()
    }
}

impl Drop for RunningDemo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Alice's order ids through the service with `token`, or the status it answered.
async fn alices_orders(service: &str, token: &str) -> Result<Vec<u64>, u16> {
    let response = client()
        .get(format!("{service}/v1/orders"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    if response.status() != 200 {
        return Err(response.status().as_u16());
    }
    let body: Value = response.json().await.unwrap();
    Ok(body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["id"].as_u64().unwrap())
        .collect())
}

#[test]
fn demo_on_a_busy_port_names_the_flag_and_suggests_port_0() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();

    for (flag, other) in [("--port", "--sandbox-port"), ("--sandbox-port", "--port")] {
        let directory = ScratchDirectory::new();
        let (code, _, stderr) =
            run_args_to_exit(&directory, &[], &["demo", flag, &port, other, "0"]);

        assert_eq!(code, Some(1), "{flag}: {stderr}");
        assert_eq!(
            stderr,
            format!(
                "order-metafields: cannot listen on 127.0.0.1:{port}: port {port} is already in use; choose another with {flag}, or {flag} 0 to pick a free one\n"
            ),
            "{flag}"
        );
    }
}

#[tokio::test]
async fn demo_storefront_may_call_the_service_as_localhost_and_as_127_0_0_1() {
    let demo = RunningDemo::start(&[]);
    let storefront = demo.storefront();
    let port = storefront.rsplit(':').next().unwrap().to_owned();
    let token = demo.token();

    for origin in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let preflight = client()
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/orders/369/metafields", demo.service()),
            )
            .header(ORIGIN, &origin)
            .header(ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .send()
            .await
            .unwrap();
        let call = client()
            .get(format!("{}/v1/orders/369/metafields", demo.service()))
            .header(ORIGIN, &origin)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();

        assert_eq!(preflight.status(), 200, "{origin}");
        assert_eq!(
            preflight.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
            origin.as_str()
        );
        assert_eq!(call.status(), 200, "{origin}");
        assert_eq!(call.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], origin.as_str());
    }
    assert!(
        demo.printed.contains(&format!(
            "The same store answers as http://localhost:{port}/ too."
        )),
        "{}",
        demo.printed
    );
}

#[tokio::test]
async fn demo_says_how_to_get_a_new_token_and_both_ways_work() {
    let demo = RunningDemo::start(&[]);
    let service = demo.service();
    let printed_token = alices_orders(&service, &demo.token()).await;
    assert!(
        demo.printed.contains("valid for 15 minutes (until "),
        "{}",
        demo.printed
    );
    let advice = demo
        .printed
        .split("When it has expired (the service answers 401), get a new one:")
        .nth(1)
        .unwrap_or_else(|| panic!("no advice in:\n{}", demo.printed));
    let lines: Vec<&str> = advice.lines().map(str::trim).collect();
    let (current_jwt_url, token_command) = (lines[1], lines[3]);
    assert_eq!(lines[2], "or run");

    // A browser signed in as Alice opens the printed URL.
    let signed_in = client()
        .post(format!("{}/login", demo.storefront()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=alice%40example.com&password=sandbox-password")
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()[SET_COOKIE].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let from_storefront = client()
        .get(current_jwt_url)
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // A shell runs the printed command: `NAME=value ... order-metafields token --customer-id 1`.
    let words: Vec<&str> = token_command.split_whitespace().collect();
    let program = words
        .iter()
        .position(|word| *word == "order-metafields")
        .unwrap();
    let environment: Vec<(&str, &str)> = words[..program]
        .iter()
        .map(|pair| pair.split_once('=').unwrap())
        .collect();
    let directory = ScratchDirectory::new();
    let (code, from_command, stderr) =
        run_args_to_exit(&directory, &environment, &words[program + 1..]);

    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(printed_token, Ok(vec![369, 367, 364, 321]));
    assert_eq!(
        alices_orders(&service, from_storefront.trim()).await,
        printed_token
    );
    assert_eq!(
        alices_orders(&service, from_command.trim()).await,
        printed_token
    );
}

#[tokio::test]
async fn demo_on_another_host_prints_urls_that_answer() {
    for (host, printed_host) in [("127.0.0.2", "127.0.0.2"), ("0.0.0.0", "127.0.0.1")] {
        let demo = RunningDemo::start(&["--host", host]);
        let (storefront, service) = (demo.storefront(), demo.service());

        let health = client()
            .get(format!("{service}/healthz"))
            .send()
            .await
            .unwrap();
        let login = client()
            .get(format!("{storefront}/login"))
            .send()
            .await
            .unwrap();
        let orders = alices_orders(&service, &demo.token()).await;

        assert!(
            storefront.starts_with(&format!("http://{printed_host}:")),
            "{host}: {storefront}"
        );
        assert!(
            service.starts_with(&format!("http://{printed_host}:")),
            "{host}: {service}"
        );
        assert!(!demo.printed.contains("0.0.0.0"), "{}", demo.printed);
        assert_eq!(health.status(), 200, "{host}");
        assert_eq!(login.status(), 200, "{host}");
        assert_eq!(orders, Ok(vec![369, 367, 364, 321]), "{host}");
    }
}
