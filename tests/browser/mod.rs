//! What the browser tests share: a static file server for the built `dist/`, the Chromium
//! flags, and chromedriver started on a free port and killed when its guard drops.
//!
//! Each browser test binary uses only part of this, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod axis;
pub mod saved;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Flags for headless Chromium that keep it off the network and quiet.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// Whether the browser tests should run; prints why not when they should not.
pub fn enabled(test: &str) -> bool {
    if std::env::var_os("DSIM_E2E").is_some_and(|v| v == "1") {
        return true;
    }
    println!(
        "skipped {test}: set DSIM_E2E=1 (and DSIM_DIST to a built dist/; cargo xtask test does)"
    );
    false
}

/// The root of the workspace.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// `DSIM_DIST`, or the workspace's `dist/`.
pub fn dist() -> PathBuf {
    std::env::var_os("DSIM_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("dist"))
}

/// `CHROMIUM`, or `/usr/bin/chromium`.
pub fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/chromium".into())
}

/// `CHROMEDRIVER`, or `/usr/bin/chromedriver`.
pub fn chromedriver_path() -> PathBuf {
    std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/chromedriver".into())
}

/// A free loopback port (free when asked; good enough for a test's own child process).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// chromedriver, running on its own port in a process group of its own; dropping the guard
/// kills the group (chromedriver and any browser it started), even when the test panics.
pub struct Chromedriver {
    child: Child,
    pub port: u16,
}

impl Chromedriver {
    /// Starts chromedriver and waits (at most 20 s) until it accepts connections. The port
    /// is free when picked but another process may take it first (several test binaries
    /// start browsers at once): chromedriver then exits, and it is started again elsewhere.
    pub fn start() -> Chromedriver {
        use std::os::unix::process::CommandExt;
        let binary = chromedriver_path();
        let start = Instant::now();
        'spawn: loop {
            let port = free_port();
            let child = Command::new(&binary)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start {} (set CHROMEDRIVER): {e}", binary.display())
                });
            let mut driver = Chromedriver { child, port };
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "chromedriver did not listen on port {port} within 20 s"
                );
                if matches!(driver.child.try_wait(), Ok(Some(_))) {
                    // It could not bind: the port was taken meanwhile.
                    continue 'spawn;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if matches!(driver.child.try_wait(), Ok(Some(_))) {
                // What answered is somebody else's server on the port chromedriver lost.
                continue 'spawn;
            }
            return driver;
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The group id is chromedriver's pid (process_group(0)); the browser it launched
        // is in the same group.
        // `--` matters: procps-ng 4.0 reads a bare `-PGID` after the signal as `-1`, which
        // would signal every process the user owns.
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves `root` on a free loopback port for the rest of the test process: just enough HTTP
/// for a browser to fetch static files, with the wasm MIME type streaming compilation needs.
pub fn serve(root: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || {
                let _ = respond(&root, stream);
            });
        }
    });
    port
}

fn respond(root: &Path, mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request_line = String::new();
    BufReader::new(&stream).read_line(&mut request_line)?;
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let relative = Path::new(path.trim_start_matches('/'));
    // Only plain names below the root: no `..`, no absolute paths.
    let safe = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    let file = root.join(relative);
    let file = if file.is_dir() {
        file.join("index.html")
    } else {
        file
    };
    match std::fs::read(&file) {
        Ok(body) if safe => {
            let mime = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                Some("wasm") => "application/wasm",
                Some("css") => "text/css; charset=utf-8",
                Some("json") => "application/json",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                _ => "application/octet-stream",
            };
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {mime}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)
        }
        _ => stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    }
}
