//! The TypeScript declarations of the objects the module takes and returns.
//!
//! `types.d.ts` is generated from the Rust types themselves (the core's behind its
//! `typescript` feature, this crate's own under `cfg(test)`) by `ts-rs`, which reads the same
//! serde attributes that shape the objects, so a renamed field or a new enum variant changes
//! the declarations too. The native test below regenerates the file and fails if the
//! committed one differs (`DSIM_BLESS=1` rewrites it); wasm-bindgen then copies it into the
//! `.d.ts` that wasm-pack ships, next to the function signatures, which name these types.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("types.d.ts");

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::any::TypeId;
    use std::collections::{BTreeMap, HashSet};
    use std::path::Path;

    use dsim_core::export::HistoryEvent;
    use dsim_core::{
        Report, Scenario, Snapshot, SweepProgress, SweepResult, SweepSpec, TraceEvent,
    };
    use ts_rs::{Config, TS, TypeVisitor};

    use crate::api::{BrokerInfo, Knob, ModeInfo, Preset};

    const HEADER: &str = "\
// Generated from the Rust types by crates/dsim-wasm/src/typescript.rs; do not edit.
// Regenerate with: DSIM_BLESS=1 cargo test -p dsim-wasm typescript

/** A scenario as functions take it: any subset of the settings, the rest keep their defaults.
 * kebab-case keys (`\"ack-loss\"`) are accepted as well. */
export type ScenarioInput = Partial<Scenario>;
";

    /// Collects the declaration of every named type reachable from the roots, once each, by
    /// name. ts-rs visits a type's dependencies in an order that changes between builds, so
    /// the file is written in a fixed order instead: the roots, then the rest by name.
    struct Declarations<'a> {
        config: &'a Config,
        seen: HashSet<TypeId>,
        by_name: BTreeMap<String, String>,
    }

    impl TypeVisitor for Declarations<'_> {
        fn visit<T: TS + 'static + ?Sized>(&mut self) {
            // Built-in types (numbers, strings, arrays) have no file of their own and no
            // declaration; everything derived has both.
            if T::output_path().is_none() || !self.seen.insert(TypeId::of::<T>()) {
                return;
            }
            let mut text = T::docs().unwrap_or_default();
            text.push_str("export ");
            text.push_str(&one_field_per_line(&T::decl(self.config)));
            self.by_name.insert(T::ident(self.config), text);
            T::visit_dependencies(self);
        }
    }

    /// ts-rs writes an object type on one line (`type R = { a: A, /** doc */ b: B, };`).
    /// wasm-bindgen re-indents custom sections by braces at line ends and starts, so that form
    /// would shift everything after it; this puts the braces and each field on lines of their
    /// own. Fields are split at commas outside nested types and comments.
    fn one_field_per_line(decl: &str) -> String {
        let (Some(open), Some(close)) = (decl.find('{'), decl.rfind('}')) else {
            return decl.to_string(); // A union of names has no fields.
        };
        let mut fields = Vec::new();
        let (mut depth, mut in_comment, mut start) = (0i32, false, open + 1);
        let body = &decl[..close];
        for (i, c) in body.char_indices().skip_while(|&(i, _)| i <= open) {
            if in_comment {
                in_comment = !body[..i + c.len_utf8()].ends_with("*/");
                continue;
            }
            match c {
                '*' if body[..i + c.len_utf8()].ends_with("/*") => in_comment = true,
                '{' | '<' | '(' | '[' => depth += 1,
                '}' | '>' | ')' | ']' => depth -= 1,
                ',' if depth == 0 => {
                    fields.push(&body[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        fields.push(&body[start..]);
        let mut out = format!("{}{{\n", &decl[..open]);
        for field in fields.iter().map(|f| f.trim()).filter(|f| !f.is_empty()) {
            for line in field.lines() {
                let line = line.trim();
                // Doc comment lines keep their leading space before `*`.
                let pad = if line.starts_with('*') { "   " } else { "  " };
                out.push_str(pad);
                out.push_str(line);
                out.push('\n');
            }
            out.pop();
            out.push_str(",\n");
        }
        out.push_str(decl[close..].trim_start());
        out
    }

    fn declarations() -> String {
        // The module hands integers to JavaScript as plain numbers (see `convert::to_js`).
        let config = Config::new().with_large_int("number");
        let mut d = Declarations {
            config: &config,
            seen: HashSet::new(),
            by_name: BTreeMap::new(),
        };
        d.visit::<Scenario>();
        d.visit::<Report>();
        d.visit::<Snapshot>();
        d.visit::<TraceEvent>();
        d.visit::<Preset>();
        d.visit::<Knob>();
        d.visit::<ModeInfo>();
        d.visit::<BrokerInfo>();
        d.visit::<SweepSpec>();
        d.visit::<SweepResult>();
        d.visit::<SweepProgress>();
        d.visit::<HistoryEvent>();
        d.visit::<dsim_core::matrix::MatrixCell>();
        let roots = [
            "Scenario",
            "Report",
            "Snapshot",
            "TraceEvent",
            "Preset",
            "Knob",
            "ModeInfo",
            "BrokerInfo",
            "SweepSpec",
            "SweepResult",
            "SweepProgress",
            "HistoryEvent",
            "MatrixCell",
        ];
        let mut out = HEADER.to_string();
        let mut emit = |text: String| {
            out.push('\n');
            out.push_str(&text);
            out.push('\n');
        };
        for root in roots {
            emit(d.by_name.remove(root).expect("every root is declared"));
        }
        for text in std::mem::take(&mut d.by_name).into_values() {
            emit(text);
        }
        out
    }

    #[test]
    fn typescript_declarations_match_the_rust_types() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/types.d.ts");
        let generated = declarations();
        if std::env::var_os("DSIM_BLESS").is_some() {
            std::fs::write(&path, &generated).expect("write types.d.ts");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is out of date with the Rust types; regenerate it with \
             `DSIM_BLESS=1 cargo test -p dsim-wasm typescript` and review the diff",
            path.display()
        );
    }
}
