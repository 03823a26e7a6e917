//! The workspace's packages and targets, from `cargo metadata`.
//!
//! A tiny JSON reader keeps xtask free of dependencies (serde would add a
//! minute to a fresh build of the one tool that must start first).

use std::path::{Path, PathBuf};

use crate::cmd::Ctx;

pub struct Package {
    pub name: String,
    pub dir: PathBuf,
    pub targets: Vec<Target>,
}

pub struct Target {
    pub name: String,
    pub kinds: Vec<String>,
}

pub struct Workspace {
    pub packages: Vec<Package>,
    /// Where cargo builds (`CARGO_TARGET_DIR` or `target/`).
    pub target_dir: PathBuf,
}

impl Workspace {
    pub fn load(ctx: &Ctx) -> Result<Workspace, String> {
        let out = ctx
            .cargo()
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .read()?;
        let json = Parser::parse(&out)?;
        let packages = json
            .get("packages")
            .items()
            .iter()
            .map(|p| Package {
                name: p.get("name").str().to_string(),
                dir: Path::new(p.get("manifest_path").str())
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
                targets: p
                    .get("targets")
                    .items()
                    .iter()
                    .map(|t| Target {
                        name: t.get("name").str().to_string(),
                        kinds: t
                            .get("kind")
                            .items()
                            .iter()
                            .map(|k| k.str().to_string())
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        let target_dir = PathBuf::from(json.get("target_directory").str());
        Ok(Workspace {
            packages,
            target_dir,
        })
    }

    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }
}

enum Json {
    /// null, booleans and numbers: xtask never needs their values.
    Scalar,
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

const NULL: Json = Json::Scalar;

impl Json {
    /// Missing keys read as null, so callers chain lookups without unwrapping.
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(fields) => fields
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&NULL, |(_, v)| v),
            _ => &NULL,
        }
    }

    fn items(&self) -> &[Json] {
        match self {
            Json::Arr(items) => items,
            _ => &[],
        }
    }

    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => "",
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        p.value()
            .map_err(|e| format!("bad JSON from cargo metadata at byte {}: {e}", p.i))
    }

    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        let hit = self.s.get(self.i) == Some(&b);
        self.i += usize::from(hit);
        hit
    }

    fn value(&mut self) -> Result<Json, &'static str> {
        self.ws();
        let rest = &self.s[self.i..];
        for word in ["null", "true", "false"] {
            if rest.starts_with(word.as_bytes()) {
                self.i += word.len();
                return Ok(Json::Scalar);
            }
        }
        match rest.first() {
            Some(b'"') => self.string().map(Json::Str),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value()?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err("expected , or ]");
                        }
                    }
                }
                Ok(Json::Arr(items))
            }
            Some(b'{') => {
                self.i += 1;
                let mut fields = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.ws();
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return Err("expected :");
                        }
                        fields.push((key, self.value()?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err("expected , or }");
                        }
                    }
                }
                Ok(Json::Obj(fields))
            }
            Some(b'-' | b'0'..=b'9') => {
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|b| b"+-.eE0123456789".contains(b))
                {
                    self.i += 1;
                }
                Ok(Json::Scalar)
            }
            _ => Err("unexpected character"),
        }
    }

    fn string(&mut self) -> Result<String, &'static str> {
        if self.s.get(self.i) != Some(&b'"') {
            return Err("expected string");
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).map_err(|_| "invalid UTF-8"),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("unterminated escape")?;
                    self.i += 1;
                    let c = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hex = self.s.get(self.i..self.i + 4).ok_or("short \\u escape")?;
                            self.i += 4;
                            let code = std::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .ok_or("bad \\u escape")?;
                            // Paths and names never hold surrogate pairs; replace rather than decode.
                            char::from_u32(code).unwrap_or('\u{fffd}')
                        }
                        other => char::from(other),
                    };
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                _ => out.push(b),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cargo_metadata_shape() {
        let j = Parser::parse(
            r#"{"packages":[{"name":"a\"b","n":-1.5e3,"ok":true,"x":null,
               "targets":[{"kind":["test"],"name":"e2e","src_path":"/r/t\u00e9/e2e.rs"}]}],"v":[]}"#,
        )
        .unwrap();
        let p = &j.get("packages").items()[0];
        assert_eq!(p.get("name").str(), "a\"b");
        let t = &p.get("targets").items()[0];
        assert_eq!(t.get("kind").items()[0].str(), "test");
        assert_eq!(t.get("src_path").str(), "/r/té/e2e.rs");
        assert!(j.get("v").items().is_empty());
        assert!(j.get("missing").str().is_empty());
    }

    #[test]
    fn rejects_garbage() {
        assert!(Parser::parse("{\"a\" 1}").is_err());
        assert!(Parser::parse("[1,").is_err());
    }
}
