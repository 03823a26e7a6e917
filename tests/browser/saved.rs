//! Files the browser saved: a download directory of the test's own, waiting for a file to
//! land there, and just enough reading of SVG, CSV and PNG to check what a file holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where Chromium saves downloads for this test process; created empty, removed on drop.
pub struct Downloads {
    pub dir: PathBuf,
}

impl Downloads {
    pub fn new() -> Downloads {
        let dir = std::env::temp_dir().join(format!("dsim-e2e-downloads-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        Downloads { dir }
    }

    /// Forgets an earlier download of `name`: Chromium would save the next as `name (1)`.
    pub fn clear(&self, name: &str) {
        let _ = std::fs::remove_file(self.dir.join(name));
    }

    /// The bytes of `name` once Chromium has finished writing it (it writes to a
    /// `.crdownload` file and renames it when done), waiting at most `wait`.
    pub async fn wait_for(&self, name: &str, wait: Duration) -> Result<Vec<u8>, String> {
        let path = self.dir.join(name);
        let start = Instant::now();
        loop {
            if path.is_file() {
                return std::fs::read(&path).map_err(|e| format!("read {}: {e}", path.display()));
            }
            if start.elapsed() > wait {
                return Err(format!(
                    "{name} was not saved within {wait:?}; the download directory holds {:?}",
                    listing(&self.dir)
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Downloads {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn listing(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// An element of an SVG file: its attributes and the text up to its first child or its end.
#[derive(Debug)]
pub struct Tag {
    pub attrs: BTreeMap<String, String>,
    pub text: String,
}

impl Tag {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }

    pub fn number(&self, name: &str) -> Result<f64, String> {
        let text = self
            .attr(name)
            .ok_or_else(|| format!("no {name} on {self:?}"))?;
        text.parse()
            .map_err(|_| format!("{name}={text:?} is not a number"))
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_whitespace().any(|c| c == class))
    }
}

/// Every `<name ...>` element of `markup`, in document order. Enough for the files the page
/// writes (`plot_svg`'s markup: quoted attributes, escaped text), not for SVG at large.
pub fn tags(markup: &str, name: &str) -> Vec<Tag> {
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut rest = markup;
    while let Some(at) = rest.find(&open) {
        rest = &rest[at + open.len()..];
        // `<text` must not match `<textPath`.
        if !rest.starts_with([' ', '>', '/']) {
            continue;
        }
        let Some(end) = rest.find('>') else { break };
        let head = &rest[..end];
        let mut attrs = BTreeMap::new();
        let mut h = head;
        while let Some(eq) = h.find("=\"") {
            let key = h[..eq].trim().to_string();
            let value_from = &h[eq + 2..];
            let Some(close) = value_from.find('"') else {
                break;
            };
            attrs.insert(key, unescape(&value_from[..close]));
            h = &value_from[close + 1..];
        }
        let body = &rest[end + 1..];
        let text = if head.ends_with('/') {
            String::new()
        } else {
            unescape(&body[..body.find('<').unwrap_or(body.len())])
        };
        out.push(Tag { attrs, text });
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The points of an SVG path the page writes (`M x,y L x,y ...`).
pub fn path_points(d: &str) -> Result<Vec<(f64, f64)>, String> {
    d.split_whitespace()
        .map(|p| {
            let xy = p.trim_start_matches(['M', 'L']);
            let (x, y) = xy
                .split_once(',')
                .ok_or_else(|| format!("{p:?} in a path is not a point"))?;
            Ok((
                x.parse().map_err(|_| format!("bad x in {p:?}"))?,
                y.parse().map_err(|_| format!("bad y in {p:?}"))?,
            ))
        })
        .collect()
}

/// A CSV file with a header row, as rows of named cells.
pub fn csv(text: &str) -> Result<Vec<BTreeMap<String, String>>, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or("an empty CSV file")?
        .split(',')
        .collect();
    lines
        .enumerate()
        .map(|(i, line)| {
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != header.len() {
                return Err(format!(
                    "row {} has {} cells, the header {}: {line:?}",
                    i + 1,
                    cells.len(),
                    header.len()
                ));
            }
            Ok(header
                .iter()
                .zip(cells)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect())
        })
        .collect()
}

/// A PNG's width and height from its header, after checking its signature and that its
/// chunks run, each with a good CRC, to an IEND.
pub fn png_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) {
        return Err("the file does not start with PNG's signature".into());
    }
    let mut at = SIGNATURE.len();
    let mut size = None;
    loop {
        let chunk = bytes
            .get(at..at + 8)
            .ok_or_else(|| format!("the PNG ends inside a chunk header at byte {at}"))?;
        let len = u32::from_be_bytes(chunk[..4].try_into().expect("4 bytes")) as usize;
        let kind = &chunk[4..8];
        let body = bytes
            .get(at + 8..at + 8 + len)
            .ok_or_else(|| format!("the PNG ends inside its {:?} chunk", kind_name(kind)))?;
        let crc = bytes
            .get(at + 8 + len..at + 12 + len)
            .ok_or("the PNG ends before a chunk's CRC")?;
        if crc32(&bytes[at + 4..at + 8 + len]).to_be_bytes() != crc {
            return Err(format!("the PNG's {} chunk has a bad CRC", kind_name(kind)));
        }
        if kind == b"IHDR" {
            let word = |i: usize| u32::from_be_bytes(body[i..i + 4].try_into().expect("4 bytes"));
            size = Some((word(0), word(4)));
        }
        at += 12 + len;
        if kind == b"IEND" {
            return size.ok_or_else(|| "the PNG has no IHDR".to_string());
        }
    }
}

fn kind_name(kind: &[u8]) -> String {
    String::from_utf8_lossy(kind).into_owned()
}

/// CRC-32 as PNG (and zlib) define it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_markup() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        let svg = r#"<svg width="600"><text class="tick" x="64" y="10">1.5k</text><path class="line s-dup" d="M1,2 L3.5,4"></path></svg>"#;
        let ticks = tags(svg, "text");
        assert_eq!(ticks.len(), 1);
        assert_eq!(ticks[0].text, "1.5k");
        assert!(ticks[0].has_class("tick"));
        let path = &tags(svg, "path")[0];
        assert_eq!(
            path_points(path.attr("d").unwrap()).unwrap(),
            [(1.0, 2.0), (3.5, 4.0)]
        );
        assert_eq!(tags(svg, "svg")[0].number("width"), Ok(600.0));
    }
}
