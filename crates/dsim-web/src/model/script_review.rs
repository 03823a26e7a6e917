//! The fault timeline's editor, as plain Rust: the text a person typed, entry by entry, with
//! what each entry means or what is wrong with it, checked against the scenario it would run
//! in. The `script_editor` component shows this and applies the script only when every entry
//! is good, so a typo never replaces the script that is running.

use dsim_core::script::{self, MAX_SCRIPT_ENTRIES};
use dsim_core::{Scenario, ScriptedFault};

/// One entry of the editor's text.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewedEntry {
    /// The entry as typed, trimmed.
    pub text: String,
    /// What it does, in words, or what is wrong with it.
    pub outcome: Result<String, String>,
}

/// The editor's text, read.
#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    pub entries: Vec<ReviewedEntry>,
    /// The script to run, when every entry is good.
    pub script: Option<Vec<ScriptedFault>>,
    /// A problem with the text as a whole (too many entries).
    pub problem: Option<String>,
}

/// Reads the editor's text (entries separated by new lines or `;`) against `scenario`.
pub fn review(text: &str, scenario: &Scenario) -> Review {
    let mut faults = Vec::new();
    let entries: Vec<ReviewedEntry> = text
        .split([';', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|entry| {
            let outcome = script::parse_entry(entry).and_then(|fault| {
                fault.check(scenario)?;
                let words = fault.describe();
                faults.push(fault);
                Ok(words)
            });
            ReviewedEntry {
                text: entry.to_string(),
                outcome,
            }
        })
        .collect();
    let problem = (entries.len() > MAX_SCRIPT_ENTRIES).then(|| {
        format!(
            "at most {MAX_SCRIPT_ENTRIES} entries (got {})",
            entries.len()
        )
    });
    let all_good = problem.is_none() && entries.iter().all(|e| e.outcome.is_ok());
    Review {
        entries,
        script: all_good.then_some(faults),
        problem,
    }
}

/// The editor's text for a script: one entry per line.
pub fn editor_text(faults: &[ScriptedFault]) -> String {
    faults
        .iter()
        .map(ScriptedFault::to_text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A timeline to start from, fitted to the scenario: a consumer crash after processing at a
/// third of the publishing span, and a partition from producer 0 over the next sixth.
pub fn example(scenario: &Scenario) -> String {
    let span_ms = scenario.messages as f64 / scenario.publish_rate.max(1.0) * 1000.0;
    let span_ms = span_ms.min(scenario.horizon_ms);
    // Round to tidy times people would type: whole milliseconds, or tenths of a second.
    let tidy = |t: f64| {
        if t >= 1000.0 {
            (t / 100.0).round() * 100.0
        } else {
            t.round().max(1.0)
        }
    };
    let (a, b) = (tidy(span_ms / 3.0), tidy(span_ms / 2.0));
    let mut faults = Vec::new();
    if scenario.consumers > 1 {
        faults.push(ScriptedFault::CrashConsumer {
            at_ms: a,
            consumer: 1,
            point: dsim_core::CrashPoint::AfterProcessing,
        });
    }
    if b > a {
        faults.push(ScriptedFault::Partition {
            from_ms: a,
            to_ms: b,
            link: dsim_core::Link::Producer(0),
        });
    }
    editor_text(&faults)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_read_and_the_script_applies_only_when_all_are_good() {
        let s = Scenario::default();
        let r = review(
            "2s:crash-consumer-1-after\n3s-4s:partition-broker-producer-0",
            &s,
        );
        assert_eq!(
            r.entries
                .iter()
                .map(|e| e.outcome.clone().unwrap())
                .collect::<Vec<_>>(),
            [
                "consumer 1 crashes after processing at 2 s",
                "partition broker↔producer 0 from 3 s to 4 s"
            ]
        );
        assert_eq!(r.script.as_ref().map(Vec::len), Some(2));

        let r = review(
            "2s:crash-consumer-9; 4s-3s:partition-broker-producer-0; 5s:crash-broker",
            &s,
        );
        assert_eq!(r.script, None);
        assert_eq!(
            r.entries[0].outcome,
            Err("there is no consumer 9: consumers are numbered 0 to 3".into())
        );
        assert_eq!(
            r.entries[1].outcome,
            Err("the window ends (3 s) before it starts (4 s)".into())
        );
        assert!(r.entries[2].outcome.is_ok());
        // An empty text is an empty script: it clears the timeline.
        assert_eq!(review("  \n ", &s).script, Some(Vec::new()));
    }

    #[test]
    fn the_example_fits_the_scenario_and_round_trips() {
        for q in [
            "",
            "messages=1000",
            "messages=100&consumers=1",
            "messages=2000000",
        ] {
            let (s, _) = Scenario::from_query(q, &[]);
            let text = example(&s);
            let r = review(&text, &s);
            let script = r.script.unwrap_or_else(|| panic!("{q}: {:?}", r.entries));
            assert!(!script.is_empty(), "{q}");
            assert_eq!(editor_text(&script), text);
        }
    }
}
