//! The binary as a child process, for tests that need the real process: its environment
//! set explicitly, a fresh working directory, its output captured.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long the binary may take to start answering or to refuse its configuration.
pub(crate) const START_UP_LIMIT: Duration = Duration::from_secs(20);

/// The binary running as a child process.
pub(crate) struct Service {
    pub(crate) child: Child,
    pub(crate) directory: ScratchDirectory,
}

/// A new, empty directory under the system's temporary directory, removed when dropped.
pub(crate) struct ScratchDirectory(PathBuf);

/// What the binary wrote.
pub(crate) struct Output {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Service {
    /// Starts the binary with exactly `environment` (and `PATH`), in a fresh directory.
    pub(crate) fn start(environment: &[(&str, &str)]) -> Self {
        let directory = ScratchDirectory::new();
        let child = command(&directory, environment)
            .stdout(fs::File::create(directory.join("stdout.log")).unwrap())
            .stderr(fs::File::create(directory.join("stderr.log")).unwrap())
            .spawn()
            .expect("the binary starts");
        Self { child, directory }
    }

    pub(crate) async fn wait_until_healthy(&mut self, client: &reqwest::Client, address: &str) {
        let started = Instant::now();
        while started.elapsed() < START_UP_LIMIT {
            if let Some(status) = self.child.try_wait().unwrap() {
                let output = self.stop();
                panic!("the binary exited with {status}: {}", output.stderr);
            }
            let health = client
                .get(format!("{address}/healthz"))
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if health.is_ok_and(|response| response.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let output = self.stop();
        panic!("/healthz did not answer in time: {}", output.stderr);
    }

    /// Stops the binary as an orchestrator would (SIGTERM, so it writes out the log lines
    /// still queued; SIGKILL only if it has not exited within ten seconds) and reads
    /// everything it wrote.
    pub(crate) fn stop(&mut self) -> Output {
        let terminated = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while terminated
            && std::time::Instant::now() < deadline
            && matches!(self.child.try_wait(), Ok(None))
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Output {
            stdout: fs::read_to_string(self.directory.join("stdout.log")).unwrap_or_default(),
            stderr: fs::read_to_string(self.directory.join("stderr.log")).unwrap_or_default(),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ScratchDirectory {
    pub(crate) fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let directory = std::env::temp_dir().join(format!(
            "order-metafields-test-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        fs::create_dir_all(&directory).unwrap();
        Self(directory)
    }
}

impl std::ops::Deref for ScratchDirectory {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDirectory {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The binary with exactly `environment` (and `PATH`), in `directory`, so neither the
/// test's environment nor a developer's `.env` can leak in. Later pairs win.
pub(crate) fn command(directory: &Path, environment: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_order-metafields"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(environment.iter().copied())
        .current_dir(directory)
        .stdin(Stdio::null());
    command
}

/// Runs the binary expecting it to exit by itself (it is killed after the start-up limit),
/// answering its exit status, stdout and stderr.
pub(crate) fn run_to_exit(
    directory: &Path,
    environment: &[(&str, &str)],
) -> (ExitStatus, String, String) {
    let mut child = command(directory, environment)
        .stdout(fs::File::create(directory.join("stdout.log")).unwrap())
        .stderr(fs::File::create(directory.join("stderr.log")).unwrap())
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
    let stdout = fs::read_to_string(directory.join("stdout.log")).unwrap();
    let stderr = fs::read_to_string(directory.join("stderr.log")).unwrap();
    (status, stdout, stderr)
}

/// Runs the binary with `args` and exactly `environment`, expecting it to exit by itself
/// within the start-up limit; answers its exit code, stdout and stderr.
pub(crate) fn run_args_to_exit(
    directory: &Path,
    environment: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, String, String) {
    let mut child = command(directory, environment)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > START_UP_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary kept running: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
