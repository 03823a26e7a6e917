//! Running child processes with one shared environment.

use std::collections::{BTreeSet, HashMap};
use std::env;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Inherited, these would set how hard the tests xtask runs try, so CI's strength would
/// depend on whoever started it: `DSIM_BLESS` makes every snapshot, golden and declaration
/// test rewrite its file and pass, `DSIM_FUZZ_CASES` (even 0) sets the property tests' case
/// counts, and `DSIM_DIST` points the built-page checks at some other build. No child
/// inherits them; a step that needs one sets it itself, after this.
const NOT_INHERITED: &[&str] = &["DSIM_BLESS", "DSIM_FUZZ_CASES", "DSIM_DIST"];
/// proptest reads every `PROPTEST_*` (cases, rejects, shrinking, timeouts) into the default
/// config the tests start from.
const NOT_INHERITED_PREFIX: &str = "PROPTEST_";

/// What every command needs: where the repo is, the PATH children see, and what they must
/// not inherit.
pub struct Ctx {
    pub root: PathBuf,
    path: OsString,
    unset: Vec<OsString>,
}

impl Ctx {
    pub fn new() -> Ctx {
        Ctx::from_env(env::vars_os())
    }

    /// A context for xtask started with `vars` as its environment.
    pub(crate) fn from_env(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Ctx {
        let vars: HashMap<OsString, OsString> = vars.into_iter().collect();
        let var = |key: &str| vars.get(OsStr::new(key));
        // crates/xtask -> repo root; fixed at compile time so xtask works from any cwd.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("xtask lives two levels below the repo root")
            .to_path_buf();
        let cargo_home = var("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .unwrap_or_else(|| PathBuf::from("/root/.cargo"));
        // binaryen's wasm-opt must win over any system one (Debian's v108 breaks the
        // app), and `cargo install` puts tools in ~/.cargo/bin, which a fresh shell
        // may not have on PATH.
        let mut dirs = vec![binaryen_bin(&root), cargo_home.join("bin")];
        if let Some(old) = var("PATH") {
            dirs.extend(env::split_paths(old));
        }
        let path = env::join_paths(dirs).expect("PATH entries contain no ':'");
        let mut unset: Vec<OsString> = vars
            .into_keys()
            .filter(|k| {
                let k = k.to_string_lossy();
                NOT_INHERITED.contains(&k.as_ref()) || k.starts_with(NOT_INHERITED_PREFIX)
            })
            .collect();
        unset.sort();
        Ctx { root, path, unset }
    }

    pub fn binaryen_dir(&self) -> PathBuf {
        self.root.join(".tools").join("binaryen")
    }

    /// Like `command -v`, but against the PATH children get.
    pub fn which(&self, name: &str) -> Option<PathBuf> {
        env::split_paths(&self.path)
            .map(|dir| dir.join(name))
            .find(|p| {
                p.metadata()
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
    }

    pub fn cmd(&self, program: impl AsRef<OsStr>) -> Cmd {
        let program = program.as_ref();
        let mut inner = Command::new(program);
        inner.current_dir(&self.root).env("PATH", &self.path);
        for key in &self.unset {
            inner.env_remove(key);
        }
        Cmd {
            inner,
            shown: program.to_string_lossy().into_owned(),
            envs: String::new(),
            limit: None,
        }
    }

    pub fn cargo(&self) -> Cmd {
        self.cmd("cargo")
    }
}

fn binaryen_bin(root: &Path) -> PathBuf {
    root.join(".tools/binaryen/node_modules/.bin")
}

/// A command that echoes itself before running, so CI logs show what ran.
pub struct Cmd {
    inner: Command,
    shown: String,
    envs: String,
    limit: Option<Duration>,
}

impl Cmd {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        let arg = arg.as_ref();
        let _ = write!(self.shown, " {}", arg.to_string_lossy());
        self.inner.arg(arg);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Cmd {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    pub fn env(mut self, key: &str, val: impl AsRef<OsStr>) -> Cmd {
        let val = val.as_ref();
        let _ = write!(self.envs, "{key}={} ", val.to_string_lossy());
        self.inner.env(key, val);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Cmd {
        self.inner.env_remove(key);
        self
    }

    /// In CI only: kill the command and everything it started (chromedriver,
    /// browsers, servers) after `limit`, so a hang fails with a clear message
    /// instead of eating CI's whole time. Interactively, a new process group
    /// would stop Ctrl-C from reaching the children, so there is no limit.
    pub fn ci_time_limit(mut self, limit: Duration) -> Cmd {
        if env::var_os("CI").is_some() {
            self.inner.process_group(0);
            self.limit = Some(limit);
        }
        self
    }

    pub fn dir(mut self, dir: impl AsRef<Path>) -> Cmd {
        self.inner.current_dir(dir);
        self
    }

    /// Runs with inherited stdio; fails on a non-zero exit.
    pub fn run(mut self) -> Result<(), String> {
        println!("$ {}{}", self.envs, self.shown);
        let start = Instant::now();
        let mut child = self.inner.spawn().map_err(|e| self.spawn_error(e))?;
        let status = loop {
            let Some(limit) = self.limit else {
                break child.wait();
            };
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if start.elapsed() > limit => {
                    kill_group(child.id());
                    let _ = child.wait();
                    return Err(format!(
                        "`{}` timed out after {}s",
                        self.shown,
                        limit.as_secs()
                    ));
                }
                Ok(None) => thread::sleep(Duration::from_millis(200)),
                Err(e) => break Err(e),
            }
        }
        .map_err(|e| format!("waiting for `{}`: {e}", self.shown))?;
        if self.limit.is_some() {
            // Strays (a chromedriver a test forgot to stop) would hold ports for the next step.
            kill_group(child.id());
        }
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{}` failed ({status})", self.shown))
        }
    }

    /// Runs with inherited stdio in a process group of its own, and afterwards (or after
    /// `limit`, failing) kills that group and every group its descendants were seen to lead:
    /// chrome-launcher starts Chromium detached, as the leader of a new group, so a Lighthouse
    /// that crashed or timed out would leave Chromium running. Processes are found by their
    /// parent chain from this command's, never by name.
    pub fn run_own_group(mut self, limit: Duration) -> Result<(), String> {
        println!("$ {}{}", self.envs, self.shown);
        self.inner.process_group(0);
        let mut child = self.inner.spawn().map_err(|e| self.spawn_error(e))?;
        let leader = child.id();
        let mut groups = BTreeSet::from([leader]);
        let start = Instant::now();
        let status = loop {
            groups.extend(descendant_groups(leader));
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if start.elapsed() > limit => {
                    break Err(format!(
                        "`{}` timed out after {}s",
                        self.shown,
                        limit.as_secs()
                    ));
                }
                Ok(None) => thread::sleep(Duration::from_millis(200)),
                Err(e) => break Err(format!("waiting for `{}`: {e}", self.shown)),
            }
        };
        let own = process_stat(std::process::id()).map(|s| s.1);
        for &group in &groups {
            if group > 1 && Some(group) != own {
                kill_group(group);
            }
        }
        let _ = child.wait();
        let left = live_in_groups(&groups);
        if !left.is_empty() {
            println!("warning: still running after the kill: pids {left:?}");
        }
        let status = status?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{}` failed ({status})", self.shown))
        }
    }

    /// Runs quietly and returns stdout; fails on a non-zero exit.
    pub fn read(mut self) -> Result<String, String> {
        let out = self
            .inner
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| self.spawn_error(e))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "`{}` failed ({}): {}",
                self.shown,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Like `read`, but echoed and with stderr shown (for long runs such as benchmarks).
    pub fn read_shown(mut self) -> Result<String, String> {
        println!("$ {}{}", self.envs, self.shown);
        self.inner.stderr(Stdio::inherit());
        let out = self.inner.output().map_err(|e| self.spawn_error(e))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!("`{}` failed ({})", self.shown, out.status))
        }
    }

    /// What the child's environment changes: a value set, or `None` for a variable removed.
    #[cfg(test)]
    pub(crate) fn child_env(&self) -> HashMap<String, Option<String>> {
        let text = |s: &OsStr| s.to_string_lossy().into_owned();
        self.inner
            .get_envs()
            .map(|(k, v)| (text(k), v.map(text)))
            .collect()
    }

    fn spawn_error(&self, e: std::io::Error) -> String {
        let program = self.shown.split(' ').next().unwrap_or_default();
        if e.kind() == ErrorKind::NotFound {
            format!("`{program}` not found on PATH (run `cargo xtask install`)")
        } else {
            format!("cannot start `{program}`: {e}")
        }
    }
}

/// `kill -s KILL -- -PGID`: the `--` matters, procps reads `-KILL -PGID` without it as
/// "every process".
pub(crate) fn kill_group(leader: u32) {
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{leader}")])
        .stderr(Stdio::null())
        .status();
}

/// (parent pid, process group, state) of a live process, from /proc/PID/stat.
fn process_stat(pid: u32) -> Option<(u32, u32, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat)
}

/// The fields after the command name, which may itself hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<(u32, u32, char)> {
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((ppid, pgrp, state))
}

/// Every process now on the machine: (pid, parent pid, process group, state).
fn processes() -> Vec<(u32, u32, u32, char)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| process_stat(pid).map(|(ppid, pgrp, st)| (pid, ppid, pgrp, st)))
        .collect()
}

/// The process groups of `root`'s descendants (children, their children, ...).
fn descendant_groups(root: u32) -> BTreeSet<u32> {
    let all = processes();
    let mut seen = BTreeSet::from([root]);
    let mut groups = BTreeSet::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid, pgrp, _) in &all {
            if ppid == parent && seen.insert(pid) {
                groups.insert(pgrp);
                frontier.push(pid);
            }
        }
    }
    groups
}

/// Processes other than zombies still in one of `groups`, after a moment to die.
fn live_in_groups(groups: &BTreeSet<u32>) -> Vec<u32> {
    let mut left = Vec::new();
    for _ in 0..10 {
        left = processes()
            .into_iter()
            .filter(|&(_, _, pgrp, state)| groups.contains(&pgrp) && state != 'Z')
            .map(|(pid, ..)| pid)
            .collect();
        if left.is_empty() {
            break;
        }
        thread::sleep(Duration::from_millis(200));
    }
    left
}

/// A visible section marker, so a failing step is easy to find in a long log.
/// A text file's contents, or an error naming the file.
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes a text file, or says which one could not be written.
pub(crate) fn write_text(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn header(title: &str) {
    println!("\n==> {title}");
}

/// A context as if xtask had been started with `vars` as its whole environment.
#[cfg(test)]
pub(crate) fn ctx_with(vars: &[(&str, &str)]) -> Ctx {
    Ctx::from_env(vars.iter().map(|(k, v)| (k.into(), v.into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_do_not_inherit_what_would_weaken_the_tests() {
        let ctx = ctx_with(&[
            ("DSIM_BLESS", "1"),
            ("DSIM_FUZZ_CASES", "0"),
            ("DSIM_DIST", "/somewhere/old/dist"),
            ("PROPTEST_CASES", "1"),
            ("PROPTEST_MAX_SHRINK_ITERS", "0"),
            ("HOME", "/home/ci"),
            ("PATH", "/usr/bin"),
        ]);
        let envs = ctx.cargo().arg("test").child_env();
        for key in [
            "DSIM_BLESS",
            "DSIM_FUZZ_CASES",
            "DSIM_DIST",
            "PROPTEST_CASES",
            "PROPTEST_MAX_SHRINK_ITERS",
        ] {
            assert_eq!(
                envs.get(key),
                Some(&None),
                "{key} must be removed: {envs:?}"
            );
        }
        // Everything else is inherited as it was (HOME) or extended (PATH).
        assert!(!envs.contains_key("HOME"), "{envs:?}");
        let path = envs["PATH"].clone().unwrap();
        assert!(path.ends_with(":/home/ci/.cargo/bin:/usr/bin"), "{path}");
    }

    #[test]
    fn proc_stat_is_read_after_the_command_name() {
        assert_eq!(
            parse_stat("4242 (Web (Content) x) S 17 4242 4242 0 -1 4194560"),
            Some((17, 4242, 'S'))
        );
        assert_eq!(parse_stat("garbage"), None);
        let (_, own_group, _) = process_stat(std::process::id()).unwrap();
        assert!(own_group > 0);
    }

    #[test]
    fn a_grouped_run_leaves_no_process_of_its_own_behind() {
        // The shell starts a sleeper in a group of its own, as chrome-launcher starts
        // Chromium, and exits at once: the sleeper's group is killed too.
        let marker = std::env::temp_dir().join(format!("xtask-group-{}", std::process::id()));
        let ctx = Ctx::new();
        ctx.cmd("sh")
            .arg("-c")
            .arg(format!(
                "setsid sleep 30 & echo $! > {}; sleep 1",
                marker.display()
            ))
            .run_own_group(Duration::from_secs(20))
            .unwrap();
        let pid: u32 = std::fs::read_to_string(&marker)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let _ = std::fs::remove_file(&marker);
        thread::sleep(Duration::from_millis(300));
        let alive = process_stat(pid).is_some_and(|(_, _, state)| state != 'Z');
        assert!(!alive, "the detached sleeper {pid} survived");
    }

    #[test]
    fn a_step_can_still_set_what_children_do_not_inherit() {
        let ctx = ctx_with(&[("DSIM_DIST", "/somewhere/old/dist")]);
        let envs = ctx.cargo().env("DSIM_DIST", "/repo/dist").child_env();
        assert_eq!(envs["DSIM_DIST"].as_deref(), Some("/repo/dist"));
    }
}
