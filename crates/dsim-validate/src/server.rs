//! A private RabbitMQ node for one validation run: its own ports on 127.0.0.1, its own data,
//! log and cookie directory, started and stopped with every process it started.
//!
//! Debian's `/usr/sbin/rabbitmq-server` wrapper is bypassed on purpose: started as root it
//! re-runs the server through `su -c`, which opens a new session, so the node would leave our
//! process group and a last-resort `kill` of the group could not reach it; started as the
//! `rabbitmq` user it sends the output we wait on to `/var/log`. The script it wraps,
//! `/usr/lib/rabbitmq/bin/rabbitmq-server`, runs the same node as whoever we are, in our
//! process group, so no directory needs to change owner.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const CTL: &str = "/usr/lib/rabbitmq/bin/rabbitmqctl";
/// What RabbitMQ prints when it accepts connections (no plugins: the enabled-plugins file
/// holds `[].`).
const READY: &str = "completed with 0 plugins";
/// A node starts in about 6 s here; a slow CI machine gets ten times that.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running private node. Dropping it stops it.
pub struct Node {
    server: Option<Child>,
    epmd: Option<Child>,
    /// Kills both process groups if this process dies without stopping the node (a
    /// SIGKILL, CI's time limit): Drop does not run then.
    watchdog: Option<Child>,
    /// The process groups it started (the server's and epmd's), to check none is left.
    groups: Vec<u32>,
    /// The node's Erlang name, `dsim-validate-PID@localhost`.
    name: String,
    epmd_port: u16,
    amqp_port: u16,
    dir: PathBuf,
}

impl Node {
    /// Whether this machine has the server (`cargo xtask install` installs it).
    pub fn installed() -> bool {
        Path::new(SERVER).exists()
    }

    /// Starts a node and waits until it accepts AMQP connections.
    pub fn start() -> Result<Node, String> {
        if !Node::installed() {
            return Err(format!(
                "{SERVER} not found: run `cargo xtask install` (Debian's rabbitmq-server), or pass --amqp-url"
            ));
        }
        let [amqp_port, dist_port, epmd_port] = free_ports()?;
        let dir = std::env::temp_dir().join(format!("dsim-validate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["mnesia", "log"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{dir:?}: {e}"))?;
        }
        std::fs::write(dir.join("enabled_plugins"), "[].\n").map_err(|e| e.to_string())?;
        let name = format!("dsim-validate-{}@localhost", std::process::id());
        let mut node = Node {
            server: None,
            epmd: None,
            watchdog: None,
            groups: Vec::new(),
            name,
            epmd_port,
            amqp_port,
            dir,
        };
        // Our own epmd, in the foreground: a node that finds none starts `epmd -daemon`,
        // which detaches into a session of its own and could only be found again by name.
        let epmd = Command::new("epmd")
            .args(["-port", &epmd_port.to_string(), "-address", "127.0.0.1"])
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("epmd: {e}"))?;
        node.groups.push(epmd.id());
        node.epmd = Some(epmd);
        let mut server = node
            .command(SERVER)
            .env("RABBITMQ_NODE_PORT", amqp_port.to_string())
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .env(
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                "-kernel inet_dist_use_interface {127,0,0,1}",
            )
            .env("RABBITMQ_MNESIA_BASE", node.dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", node.dir.join("log"))
            .env(
                "RABBITMQ_FEATURE_FLAGS_FILE",
                node.dir.join("feature_flags"),
            )
            .env(
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                node.dir.join("enabled_plugins"),
            )
            .env("RABBITMQ_PID_FILE", node.dir.join("pid"))
            // Its own process group: whatever the scripts start stays reachable by one
            // signal to the group at the end.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{SERVER}: {e}"))?;
        node.groups.push(server.id());
        // In epmd's group, which it kills last, itself with it.
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {me} 2>/dev/null; do sleep 1; done; kill -s KILL -- -{server}; rm -rf '{dir}'; kill -s KILL -- -{epmd}",
                me = std::process::id(),
                dir = node.dir.display(),
                epmd = node.groups[0],
                server = node.groups[1],
            ))
            .process_group(node.groups[0] as i32)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("watchdog: {e}"))?;
        node.watchdog = Some(watchdog);
        let (tx, rx) = mpsc::channel();
        for pipe in [
            server
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            server
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            // Read to the end, so a full pipe never blocks the server.
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        node.server = Some(server);
        let deadline = Instant::now() + START_TIMEOUT;
        let mut output = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) if line.contains(READY) => return Ok(node),
                Ok(line) => output.push(line),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(format!(
                        "rabbitmq-server exited before it was ready:\n{}",
                        tail(&output)
                    ));
                }
            }
            if left.is_zero() {
                return Err(format!(
                    "rabbitmq-server not ready after {} s:\n{}",
                    START_TIMEOUT.as_secs(),
                    tail(&output)
                ));
            }
        }
    }

    /// A command with the node's environment: its epmd, and a private HOME for the Erlang
    /// cookie that rabbitmqctl must share with the node.
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("HOME", &self.dir)
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODENAME", &self.name)
            .current_dir(&self.dir);
        c
    }

    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.amqp_port)
    }

    /// Stops the node (`rabbitmqctl stop`), then our epmd, then anything left in either
    /// process group. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let pgid = server.id();
            let ctl = self
                .command(CTL)
                .args(["-n", &self.name, "stop"])
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            if let Ok(mut ctl) = ctl {
                let _ = exits_within(&ctl, STOP_TIMEOUT);
                kill_group(ctl.id());
                let _ = ctl.wait();
            }
            if !exits_within(&server, STOP_TIMEOUT) {
                let _ = server.kill();
            }
            // Anything the scripts started and left behind (an `erl_child_setup`, say).
            kill_group(pgid);
            let _ = server.wait();
        }
        // epmd's group holds epmd, the watchdog and its `sleep`: one signal for the three,
        // sent while epmd, its leader, is not yet reaped.
        if let Some(mut epmd) = self.epmd.take() {
            kill_group(epmd.id());
            let _ = epmd.wait();
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// Processes still alive in the process groups it started: none after `stop`.
    pub fn leftovers(&self) -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces.
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .ok()
                    .and_then(|stat| {
                        let rest = &stat[stat.rfind(')')? + 1..];
                        let mut fields = rest.split_whitespace();
                        let state = fields.next()?;
                        let pgrp: u32 = fields.nth(1)?.parse().ok()?;
                        Some(state != "Z" && self.groups.contains(&pgrp))
                    })
                    .unwrap_or(false)
            })
            .collect()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Three ports free on 127.0.0.1 now: the kernel picks them for port 0, and they are held
/// together so it cannot pick one twice.
fn free_ports() -> Result<[u16; 3], String> {
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}")))
        .collect::<Result<_, _>>()?;
    let mut ports = [0u16; 3];
    for (port, l) in ports.iter_mut().zip(&listeners) {
        *port = l.local_addr().map_err(|e| e.to_string())?.port();
    }
    Ok(ports)
}

/// Whether the child exits within `timeout`, without reaping it: while it is a zombie its
/// pid, which is also its process group's id, cannot be reused, so the group can still be
/// signalled safely afterwards.
fn exits_within(child: &Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let state = std::fs::read_to_string(format!("/proc/{}/stat", child.id()))
            .ok()
            .and_then(|stat| {
                let rest = &stat[stat.rfind(')')? + 1..];
                rest.split_whitespace().next().map(str::to_string)
            });
        if state.as_deref().is_none_or(|s| s == "Z" || s == "X") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// SIGKILL to every process left in the group `pgid` (our child's pid, which leads it). The
/// `--` matters: without it `kill -KILL -PGID` reads the group as an option, and a bare `-1`
/// would signal every process we may signal.
fn kill_group(pgid: u32) {
    if pgid <= 1 {
        return;
    }
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn tail(lines: &[String]) -> String {
    let from = lines.len().saturating_sub(20);
    lines[from..].join("\n")
}

impl Node {
    /// The server's version, as `rabbitmqctl version` prints it.
    pub fn version(&self) -> String {
        self.command(CTL)
            .arg("version")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "unknown".into())
    }
}
