//! The arrows between dsim-core's top-level modules (its folders, and the few files at its
//! root), read from the source and checked against `ARROWS`, the list of every arrow the
//! design allows, each with its reason. The `boundary` step fails on an arrow the list lacks
//! (naming the file and what it reaches for), and on a listed arrow the code no longer has,
//! so the list stays the exact graph and no new circle can appear unnoticed.
//!
//! Two things make an arrow from module A to module B:
//! - a path: A's code names `crate::B::…` (in a `use` or inline), or an item `lib.rs`
//!   re-exports from B (`crate::Simulation` is B = engine);
//! - a call: A's code calls a method of `Simulation`, `World`, `Brokers` or `Clients` that B
//!   defines (`sim.report()`, `brokers.serve_fetch(…)`, `world.hold(…)`). A method call
//!   on a field needs no import (`self.brokers.broker_down(…)`), so counting only imports
//!   would hide part of the graph.
//!
//! Comments and string literals are blanked before reading, so a doc comment naming
//! `crate::x` is no arrow. `lib.rs`, the facade that re-exports everything, is not a node.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// dsim-core's source, from the repo root.
pub(crate) const CORE_SRC: &str = "crates/dsim-core/src";

/// Every arrow allowed between dsim-core's top-level modules: (from, to, why). Keep it in
/// step with ARCHITECTURE.md ("Folders and their arrows").
pub(crate) const ARROWS: &[(&str, &str, &str)] = &[
    // At the bottom: units, what a run records, what a run is asked to do, where payments land.
    ("observe", "time", "metrics are kept in µs"),
    ("scenario", "time", "a script's instants in µs"),
    ("effects", "time", "the dedup window"),
    // The world: simulated time, the event queue, timers, messages, faults, the effects and
    // each consumer's state record (`engine::World`). It names neither the brokers nor the
    // clients: they keep their own state (`brokers::Brokers`, `clients::Clients`) and their
    // handlers are handed the world (`impl Brokers { fn f(&mut self, world: &mut World) }`).
    (
        "engine",
        "effects",
        "World holds the ledger, dedup store and card provider; apply_effect",
    ),
    (
        "engine",
        "observe",
        "World holds the metrics and the traces it records",
    ),
    (
        "engine",
        "scenario",
        "a run reads its scenario; FaultPlan compiles its script",
    ),
    ("engine", "time", "virtual time"),
    (
        "brokers",
        "engine",
        "handlers take the World: Event, the queue, faults, messages, hold and release; a request's contents read off the consumer's state record",
    ),
    (
        "clients",
        "engine",
        "handlers take the World: Event, the queue, faults, messages, apply_effect; the consumer's state record",
    ),
    // No arrow brokers -> clients: a broker keeps its own state (the group's members,
    // assignments and epochs, the transaction coordinator's commits, parked polls) and sends
    // its clients events; the consumer's side of the family dispatch is
    // clients/family_side.rs. The clients call down into the broker: they publish, poll,
    // ack, commit offsets to the group coordinator, take their assignment, and read Kafka's
    // transaction markers and record keys.
    (
        "clients",
        "brokers",
        "publishing, polls, acks, offset commits, transactions, the group's assignment; delivery keys",
    ),
    ("brokers", "observe", "trace rows"),
    ("brokers", "scenario", "settings and the script's links"),
    ("brokers", "time", "µs"),
    ("clients", "effects", "the card provider's charge"),
    ("clients", "observe", "trace rows"),
    ("clients", "scenario", "settings and the script's links"),
    ("clients", "time", "µs"),
    // A run: the world, the brokers and the clients, and the event loop that hands each
    // event to its handler. The one folder that names both the brokers and the clients;
    // within one event, a broker's outcome reaches a client here (`simulation/handoffs.rs`:
    // a publish's outcome, a broker crash), never by a broker's call.
    (
        "simulation",
        "engine",
        "the World, the event queue and Event; the loop's status and budget",
    ),
    (
        "simulation",
        "brokers",
        "holds Brokers; events go to broker handlers; a publish's outcome",
    ),
    (
        "simulation",
        "clients",
        "holds Clients; events go to client handlers; handoffs give a client a broker's outcome",
    ),
    ("simulation", "observe", "a message's recorded trace"),
    (
        "simulation",
        "scenario",
        "a run of a scenario; its script's entries",
    ),
    ("simulation", "time", "µs"),
    // At the top: what a run tells, read off the world; nothing depends on it.
    (
        "report",
        "simulation",
        "runs Simulation; sweeps, matrices, time travel, exports read it",
    ),
    (
        "report",
        "engine",
        "reads the World: status, metrics, messages, the queue",
    ),
    (
        "report",
        "brokers",
        "the in-flight view reads the log's entries and the broker's state",
    ),
    ("report", "observe", "metrics and traces"),
    ("report", "scenario", "runs scenarios, names knobs"),
    ("report", "time", "µs to ms"),
];

/// The files that may ask which broker family a run has (match `Family`'s variants): the
/// dispatch of the broker's side, and the dispatch of the consumer's side. Two, not one,
/// because the brokers may not call the clients: a consumer's step that differs by family
/// (its next work, a delivery arriving, its crash) is dispatched on the clients' side, so
/// that each arm calls that family's consumer and, through it, its broker.
pub(crate) const FAMILY_DISPATCH: &[&str] = &["brokers/family.rs", "clients/family_side.rs"];

/// Files other than the `FAMILY_DISPATCH` ones that match on `Family::Kafka`,
/// `Family::RabbitMq` or `Family::Sqs`, with the first such line: each is a branch on the
/// broker family outside the dispatch methods.
pub(crate) fn family_branches(src: &Path) -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    collect(src, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let rel = path.strip_prefix(src).map_err(|e| e.to_string())?;
        let rel = rel.display().to_string();
        if FAMILY_DISPATCH.contains(&rel.as_str()) {
            continue;
        }
        let code = read_code(&path)?;
        if let Some((n, line)) = code.lines().enumerate().find(|(_, l)| {
            ["Family::Kafka", "Family::RabbitMq", "Family::Sqs"]
                .iter()
                .any(|v| l.contains(v))
        }) {
            out.push(format!("{rel}:{}: {}", n + 1, line.trim()));
        }
    }
    Ok(out)
}

/// An arrow found in the code: the first path and the first call that make it (by file
/// name order), each with its file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Found {
    pub path: Option<(String, String)>,
    pub call: Option<(String, String)>,
}

impl Found {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((file, path)) = &self.path {
            parts.push(format!("{file} names {path}"));
        }
        if let Some((file, call)) = &self.call {
            parts.push(format!("{file} calls {call}()"));
        }
        parts.join("; ")
    }
}

pub(crate) type Graph = BTreeMap<(String, String), Found>;

/// Reads the arrows between the top-level modules of the crate whose `src` is `src`.
pub(crate) fn graph(src: &Path) -> Result<Graph, String> {
    let mut files = Vec::new();
    collect(src, &mut files)?;
    files.sort();
    let lib = read_code(&src.join("lib.rs"))?;
    let nodes = top_modules(&lib, src);
    let reexports = reexports(&lib, &nodes);
    let mut sources = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(src).map_err(|e| e.to_string())?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts == ["lib.rs"] {
            continue;
        }
        let node = parts[0].trim_end_matches(".rs").to_string();
        if !nodes.contains(&node) {
            continue;
        }
        sources.push((rel.display().to_string(), node, parts, read_code(path)?));
    }
    // Who defines each method of the run's parts: their methods have unique names.
    let mut methods: BTreeMap<String, String> = BTreeMap::new();
    for (_, node, _, code) in &sources {
        for name in simulation_methods(code) {
            methods.insert(name, node.clone());
        }
    }
    let mut graph = Graph::new();
    let mut add = |from: &str, to: &str, file: &str, what: String, is_call: bool| {
        if from != to {
            let found = graph.entry((from.to_string(), to.to_string())).or_default();
            let slot = if is_call {
                &mut found.call
            } else {
                &mut found.path
            };
            slot.get_or_insert((file.to_string(), what));
        }
    };
    for (file, node, parts, code) in &sources {
        for (head, path) in crate_paths(code, module_depth(parts)) {
            let to = if nodes.contains(&head) {
                Some(head.clone())
            } else {
                reexports.get(&head).cloned()
            };
            if let Some(to) = to {
                add(node, &to, file, path, false);
            }
        }
        for name in method_calls(code) {
            if let Some(to) = methods.get(&name) {
                add(node, to, file, name, true);
            }
        }
    }
    Ok(graph)
}

/// Checks the graph against `ARROWS`; on success, a summary that names the circles.
pub(crate) fn check(graph: &Graph) -> Result<String, String> {
    let allowed: BTreeSet<(&str, &str)> = ARROWS.iter().map(|&(a, b, _)| (a, b)).collect();
    let mut errors = Vec::new();
    for ((from, to), found) in graph {
        if !allowed.contains(&(from.as_str(), to.as_str())) {
            errors.push(format!(
                "new arrow {from} -> {to}: {}. Point it down, or add it to ARROWS in \
                 crates/xtask/src/folders.rs with its reason (and ARCHITECTURE.md's list)",
                found.describe()
            ));
        }
    }
    for &(from, to, why) in ARROWS {
        if !graph.contains_key(&(from.to_string(), to.to_string())) {
            errors.push(format!(
                "arrow {from} -> {to} ({why}) is gone from the code: remove it from ARROWS"
            ));
        }
    }
    if !errors.is_empty() {
        return Err(format!(
            "dsim-core's folder arrows changed:\n  {}",
            errors.join("\n  ")
        ));
    }
    no_circles(graph)?;
    Ok(format!(
        "dsim-core: {} arrows between folders, all listed; circles: none",
        graph.len()
    ))
}

/// Fails on any circle between folders (ARCHITECTURE.md: "no circles between folders"), even
/// one made only of listed arrows.
fn no_circles(graph: &Graph) -> Result<(), String> {
    let circles = circles(graph);
    if circles.is_empty() {
        return Ok(());
    }
    Err(format!(
        "dsim-core's folders have a circle: {}. Point one of its arrows down",
        circles
            .iter()
            .map(|c| c.join(" <-> "))
            .collect::<Vec<_>>()
            .join("; ")
    ))
}

/// `cargo xtask folders`: every arrow with one example of what makes it, and the circles.
pub(crate) fn print(src: &Path) -> Result<(), String> {
    let graph = graph(src)?;
    for ((from, to), found) in &graph {
        println!("{from:>9} -> {to:<9} {}", found.describe());
    }
    let circles = circles(&graph);
    println!(
        "circles: {}",
        if circles.is_empty() {
            "none".to_string()
        } else {
            circles
                .iter()
                .map(|c| c.join(" <-> "))
                .collect::<Vec<_>>()
                .join("; ")
        }
    );
    Ok(())
}

/// The strongly connected groups of more than one module (each a set of circles).
pub(crate) fn circles(graph: &Graph) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = graph.keys().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(n) = todo.pop() {
            for (a, b) in graph.keys() {
                if a == n && seen.insert(b) {
                    todo.push(b);
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<&String>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut placed: BTreeSet<&String> = BTreeSet::new();
    for n in &nodes {
        if placed.contains(n) {
            continue;
        }
        let group: Vec<&String> = nodes
            .iter()
            .copied()
            .filter(|m| m == n || (reaches[n].contains(m) && reaches[m].contains(n)))
            .collect();
        if group.len() > 1 {
            placed.extend(group.iter().copied());
            groups.push(group.into_iter().cloned().collect());
        }
    }
    groups
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_code(path: &Path) -> Result<String, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(blank_comments_and_strings(&text))
}

/// The crate's top-level modules: `mod x;` in `lib.rs` with a file or folder of that name.
fn top_modules(lib: &str, src: &Path) -> BTreeSet<String> {
    let mut nodes = BTreeSet::new();
    for stmt in lib.split(';') {
        let words: Vec<&str> = stmt.split_whitespace().collect();
        if let Some(i) = words.iter().position(|w| *w == "mod")
            && let Some(name) = words.get(i + 1)
            && i + 2 == words.len()
            && (src.join(name).is_dir() || src.join(format!("{name}.rs")).is_file())
        {
            nodes.insert(name.to_string());
        }
    }
    nodes
}

/// What `lib.rs` re-exports at the crate root, by name, to the top-level module it comes
/// from (through re-exported modules: `pub use knobs::Knob` after `pub use scenario::knobs`).
fn reexports(lib: &str, nodes: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for stmt in lib.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let head: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        let Some(node) = nodes
            .get(&head)
            .cloned()
            .or_else(|| map.get(&head).cloned())
        else {
            continue;
        };
        let after = &rest[head.len()..];
        for name in idents(after) {
            map.entry(name).or_insert(node.clone());
        }
    }
    map
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn idents(text: &str) -> Vec<String> {
    text.split(|c: char| !is_ident(c))
        .filter(|w| !w.is_empty() && w.chars().next().is_some_and(|c| !c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// How deep the file's module is below the crate root: `engine/mod.rs` 1, `engine/queue.rs`
/// 2, `brokers/kafka/log.rs` 3.
fn module_depth(parts: &[String]) -> usize {
    let last = parts.last().map(String::as_str).unwrap_or("");
    if last == "mod.rs" {
        parts.len() - 1
    } else {
        parts.len()
    }
}

/// The top-level names a file's paths reach through the crate root, with the path text:
/// `crate::x…`, each name of `crate::{a, b::c}`, and `super::…::x` that climbs to the root.
fn crate_paths(code: &str, depth: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        let start = i;
        let rest = &code[i..];
        let boundary = start == 0 || !is_ident(bytes[start - 1] as char);
        let (after_root, is_root) = if boundary && rest.starts_with("crate::") {
            (start + "crate::".len(), true)
        } else if boundary && rest.starts_with("super::") {
            let mut j = start;
            let mut ups = 0;
            while code[j..].starts_with("super::") {
                j += "super::".len();
                ups += 1;
            }
            i = j;
            (j, ups >= depth)
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        i = i.max(after_root);
        if !is_root {
            continue;
        }
        let tail = &code[after_root..];
        let path_text: String = tail
            .chars()
            .take_while(|c| is_ident(*c) || *c == ':')
            .collect();
        if let Some(list) = tail.strip_prefix('{') {
            // `crate::{a, b::c}`: the first name of each item.
            let mut level = 1;
            let mut item_start = true;
            let mut k = 0;
            let chars: Vec<char> = list.chars().collect();
            while k < chars.len() && level > 0 {
                let c = chars[k];
                match c {
                    '{' => level += 1,
                    '}' => level -= 1,
                    ',' if level == 1 => item_start = true,
                    c if item_start && is_ident(c) => {
                        let name: String =
                            chars[k..].iter().take_while(|c| is_ident(**c)).collect();
                        k += name.len();
                        out.push((name.clone(), format!("crate::{{{name}, …}}")));
                        item_start = false;
                        continue;
                    }
                    _ => {}
                }
                k += 1;
            }
        } else {
            let head: String = tail.chars().take_while(|c| is_ident(*c)).collect();
            if !head.is_empty() {
                out.push((head, format!("crate::{path_text}")));
            }
        }
    }
    out
}

/// The names of the methods defined in the file's `impl Simulation`, `impl World`, `impl Brokers`
/// and `impl Clients` blocks.
fn simulation_methods(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in code.lines() {
        if [
            "impl Simulation",
            "impl World",
            "impl Brokers",
            "impl Clients",
        ]
        .iter()
        .any(|t| line.starts_with(t))
        {
            inside = true;
            continue;
        }
        if inside && line.starts_with('}') {
            inside = false;
            continue;
        }
        if !inside {
            continue;
        }
        // A method at the block's first level: four spaces in, rustfmt's layout.
        let Some(rest) = line.strip_prefix("    ") else {
            continue;
        };
        if rest.starts_with(' ') {
            continue;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        if let Some(i) = words.iter().position(|w| *w == "fn")
            && let Some(name) = words.get(i + 1)
        {
            let name: String = name.chars().take_while(|c| is_ident(*c)).collect();
            out.push(name);
        }
    }
    out
}

/// Every `self.name(`, `sim.name(`, `world.name(`, `brokers.name(` and `clients.name(` in
/// the code (rustfmt may put the `.name(` on the next line; `self.brokers.name(` counts as
/// `brokers.name(`).
fn method_calls(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    for receiver in ["self", "sim", "world", "brokers", "clients"] {
        let mut from = 0;
        while let Some(pos) = code[from..].find(receiver) {
            let start = from + pos;
            from = start + receiver.len();
            if start > 0 && is_ident(bytes[start - 1] as char) {
                continue;
            }
            let rest = code[from..].trim_start();
            let Some(rest) = rest.strip_prefix('.') else {
                continue;
            };
            let rest = rest.trim_start();
            let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            if name.is_empty() {
                continue;
            }
            if rest[name.len()..].trim_start().starts_with('(') {
                out.insert(name);
            }
        }
    }
    out
}

/// The text with every comment and the inside of every string and char literal replaced
/// by spaces (line breaks kept), so only code is read.
pub(crate) fn blank_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut level = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    level += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    level -= 1;
                    out.push_str("  ");
                    i += 2;
                    if level == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && (i == 0 || !is_ident(chars[i - 1]))
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push('r');
            for _ in 0..hashes {
                out.push('#');
            }
            out.push('"');
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    out.push('"');
                    for _ in 0..hashes {
                        out.push('#');
                    }
                    j += 1 + hashes;
                    break;
                }
                out.push(blank(chars[j]));
                j += 1;
            }
            i = j;
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\''), or a lifetime ('a), left as it is.
            if next == Some('\\') {
                let end = (i + 2..chars.len()).find(|&k| chars[k] == '\'');
                let end = end.unwrap_or(chars.len() - 1);
                out.push('\'');
                for _ in i + 1..end {
                    out.push(' ');
                }
                out.push('\'');
                i = end + 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                out.push_str("' '");
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core_src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("xtask lives two levels below the repo root")
            .join(CORE_SRC)
    }

    /// The real crate has exactly the listed arrows (the `boundary` step runs the same).
    #[test]
    fn dsim_core_folders_have_exactly_the_listed_arrows() {
        let graph = graph(&core_src()).expect("dsim-core's source reads");
        if let Err(e) = check(&graph) {
            panic!("{e}");
        }
    }

    /// Only `brokers/family.rs` and `clients/family_side.rs` branch on the broker family.
    #[test]
    fn only_the_family_dispatch_branches_on_the_family() {
        let branches = family_branches(&core_src()).expect("dsim-core's source reads");
        assert!(branches.is_empty(), "{branches:#?}");
    }

    #[test]
    fn a_branch_on_the_family_elsewhere_is_found() {
        let dir = std::env::temp_dir().join(format!("xtask-family-{}", std::process::id()));
        fs::create_dir_all(dir.join("brokers")).unwrap();
        fs::create_dir_all(dir.join("clients")).unwrap();
        fs::write(
            dir.join("brokers/family.rs"),
            "match f { Family::Kafka => 1 }",
        )
        .unwrap();
        fs::write(
            dir.join("clients/family_side.rs"),
            "match f { Family::Sqs { .. } => 1 }",
        )
        .unwrap();
        fs::write(
            dir.join("clients/consumer.rs"),
            "// Family::Kafka in a comment\nif matches!(f, Family::Sqs { .. }) {}",
        )
        .unwrap();
        let found = family_branches(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            found,
            ["clients/consumer.rs:2: if matches!(f, Family::Sqs { .. }) {}"]
        );
    }

    #[test]
    fn comments_and_strings_are_no_arrows() {
        let code = blank_comments_and_strings(
            "// crate::a\nlet s = \"crate::b \\\" self.c()\"; /* crate::d */ let q = '\"'; crate::e::f;\nr#\"crate::g\"#",
        );
        let heads: Vec<String> = crate_paths(&code, 1).into_iter().map(|(h, _)| h).collect();
        assert_eq!(heads, ["e"]);
        assert!(method_calls(&code).is_empty());
    }

    #[test]
    fn paths_braces_super_and_calls_are_read() {
        let code = "use crate::{Simulation, engine::x};\nuse super::super::report::Y;\nuse super::z;\nfn f(&mut self) { self\n    .serve_fetch(1); sim.report(); myself.no(); }";
        let heads: Vec<String> = crate_paths(code, 2).into_iter().map(|(h, _)| h).collect();
        assert_eq!(heads, ["Simulation", "engine", "report"]);
        let calls: Vec<String> = method_calls(code).into_iter().collect();
        assert_eq!(calls, ["report", "serve_fetch"]);
    }

    #[test]
    fn a_circle_is_found_and_an_unlisted_arrow_refused() {
        let mut graph = Graph::new();
        let found = Found {
            path: Some(("a/mod.rs".into(), "crate::b".into())),
            call: None,
        };
        graph.insert(("a".into(), "b".into()), found.clone());
        graph.insert(("b".into(), "a".into()), found.clone());
        graph.insert(("b".into(), "c".into()), found);
        assert_eq!(circles(&graph), [["a".to_string(), "b".to_string()]]);
        let err = check(&graph).unwrap_err();
        assert!(
            err.contains("new arrow a -> b: a/mod.rs names crate::b."),
            "{err}"
        );
        assert!(err.contains("arrow engine -> time"), "{err}");
    }

    #[test]
    fn a_circle_of_listed_arrows_is_refused() {
        let found = Found {
            path: Some(("x.rs".into(), "crate::y".into())),
            call: None,
        };
        let mut graph = Graph::new();
        for &(from, to, _) in ARROWS {
            graph.insert((from.into(), to.into()), found.clone());
        }
        assert!(no_circles(&graph).is_ok());
        graph.insert(("engine".into(), "brokers".into()), found);
        let err = no_circles(&graph).unwrap_err();
        assert!(err.contains("brokers <-> engine"), "{err}");
    }

    #[test]
    fn calls_through_the_runs_parts_are_read() {
        let code = "fn f(&mut self, brokers: &mut Brokers, world: &mut World) {\n    brokers.serve_fetch(world, 1);\n    world\n        .hold(2);\n    self.clients.on_produce(brokers, world, 0);\n    crate::brokers::x();\n}";
        let calls: Vec<String> = method_calls(code).into_iter().collect();
        assert_eq!(calls, ["hold", "on_produce", "serve_fetch"]);
        let methods = simulation_methods(
            "impl World {\n    pub(crate) fn hold(&mut self) {}\n}\nimpl Brokers {\n    fn serve_fetch(&mut self) {}\n}\nimpl Other {\n    fn no(&self) {}\n}",
        );
        assert_eq!(methods, ["hold", "serve_fetch"]);
    }
}
