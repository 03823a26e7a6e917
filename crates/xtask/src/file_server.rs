//! A static file server on 127.0.0.1 for the release `dist/`, std only, for Lighthouse
//! (`cargo xtask bench lighthouse`) and the first paint's render (`cargo xtask prerender`). It serves as README's "Hosting dist/" asks a host to:
//! `.wasm` as `application/wasm`, and a file's pre-compressed `.br` or `.gz` beside it
//! (`crate::precompress`) with `Content-Encoding` and the original's `Content-Type` when the
//! browser accepts that encoding.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// What went out: how many `.wasm` and `.js` responses were pre-compressed, how many of
/// them larger than `precompress::MIN_BYTES` went out as they are, and which other text
/// files (HTML, CSS, SVG) of that size went out uncompressed.
#[derive(Default)]
pub struct Served {
    pub compressed: AtomicUsize,
    pub uncompressed: AtomicUsize,
    pub other_uncompressed: Mutex<BTreeSet<String>>,
}

/// Serving until dropped: the drop stops the accepting thread and waits for it.
pub struct FileServer {
    pub port: u16,
    pub served: Arc<Served>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    /// Serves `root` on a free loopback port.
    pub fn start(root: PathBuf) -> Result<FileServer, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot bind a loopback port: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("no local address: {e}"))?
            .port();
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(Served::default());
        let thread = {
            let (stop, served) = (stop.clone(), served.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (root, served) = (root.clone(), served.clone());
                    thread::spawn(move || {
                        let _ = respond(&root, stream, &served);
                    });
                }
            })
        };
        Ok(FileServer {
            port,
            served,
            stop,
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether an `Accept-Encoding` value accepts `coding` (not with `q=0`).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        parts.next().is_some_and(|c| c.eq_ignore_ascii_case(coding))
            && !parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f64>().ok())
                    .is_some_and(|q| q == 0.0)
            })
    })
}

fn respond(root: &Path, mut stream: TcpStream, served: &Served) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut accept_encoding = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("accept-encoding")
        {
            accept_encoding = value.trim().to_string();
        }
    }
    let mut words = request_line.split_whitespace();
    let method = words.next().unwrap_or_default();
    let target = words.next().unwrap_or("/");
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
    if !safe || !file.is_file() || !matches!(method, "GET" | "HEAD") {
        let status = if matches!(method, "GET" | "HEAD") {
            "404 Not Found"
        } else {
            "405 Method Not Allowed"
        };
        write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        return stream.shutdown(Shutdown::Both);
    }
    let mut encoding = None;
    for (coding, suffix) in [("br", "br"), ("gzip", "gz")] {
        let mut name = file.clone().into_os_string();
        name.push(format!(".{suffix}"));
        let candidate = PathBuf::from(name);
        if accepts(&accept_encoding, coding) && candidate.is_file() {
            encoding = Some((coding, candidate));
            break;
        }
    }
    let body = std::fs::read(encoding.as_ref().map_or(&file, |(_, p)| p))?;
    let large = body.len() as u64 > crate::precompress::MIN_BYTES;
    if crate::precompress::is_compressible(&file) {
        if encoding.is_some() {
            served.compressed.fetch_add(1, Ordering::SeqCst);
        } else if large {
            served.uncompressed.fetch_add(1, Ordering::SeqCst);
        }
    } else if encoding.is_none()
        && large
        && file
            .extension()
            .is_some_and(|x| x == "html" || x == "css" || x == "svg")
        && let Ok(mut names) = served.other_uncompressed.lock()
    {
        names.insert(
            file.strip_prefix(root)
                .unwrap_or(&file)
                .display()
                .to_string(),
        );
    }
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nVary: Accept-Encoding\r\n",
        content_type(&file),
        body.len()
    );
    if let Some((coding, _)) = &encoding {
        head.push_str(&format!("Content-Encoding: {coding}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    if method == "GET" {
        stream.write_all(&body)?;
    }
    stream.flush()?;
    stream.shutdown(Shutdown::Write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn get(port: u16, path: &str, accept: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {accept}\r\n\r\n"
        )
        .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn wasm_goes_out_as_application_wasm_from_its_precompressed_copy() {
        let dir = std::env::temp_dir().join(format!("xtask-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(dir.join("a.wasm"), "RAW").unwrap();
        std::fs::write(dir.join("a.wasm.br"), "BROTLI").unwrap();
        std::fs::write(dir.join("a.wasm.gz"), "GZIP").unwrap();
        let server = FileServer::start(dir.clone()).unwrap();
        let port = server.port;

        let br = get(port, "/a.wasm", "gzip, deflate, br");
        assert!(br.contains("Content-Type: application/wasm\r\n"), "{br}");
        assert!(br.contains("Content-Encoding: br\r\n") && br.ends_with("BROTLI"));
        let gz = get(port, "/a.wasm", "gzip, br;q=0");
        assert!(gz.contains("Content-Encoding: gzip\r\n") && gz.ends_with("GZIP"));
        let raw = get(port, "/a.wasm", "identity");
        assert!(
            !raw.contains("Content-Encoding") && raw.ends_with("RAW"),
            "{raw}"
        );
        let page = get(port, "/?x=1", "br");
        assert!(page.contains("text/html") && page.ends_with("<p>hi</p>"));
        assert!(get(port, "/../etc/passwd", "").starts_with("HTTP/1.1 404"));
        assert!(get(port, "/missing.js", "").starts_with("HTTP/1.1 404"));
        assert_eq!(server.served.compressed.load(Ordering::SeqCst), 2);

        drop(server);
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
