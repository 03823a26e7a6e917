//! The page's state as a URL query, and back.
//!
//! Scenario settings use the core's keys (the CLI flags: `?mode=at-most-once&publish-loss=0.3`),
//! parsed by `Scenario::apply_query`, so a link and a command line mean the same run. A few
//! keys belong to the page rather than the scenario (`view`, `message`, `embed`); they are
//! listed in `PAGE_KEYS` so the core passes over them. Pure: the browser glue that reads and
//! replaces `location.search` lives in `browser`.

use dsim_core::knobs::parse_query;
use dsim_core::{Scenario, ScenarioError, knob, presets};

use crate::sweep_form::SweepForm;

/// Query keys that belong to the page, not to the scenario (the last five are the sweep's,
/// `sweep_form::SWEEP_KEYS`).
pub const PAGE_KEYS: &[&str] = &[
    "embed",
    "view",
    "message",
    "sweep",
    "sweep-from",
    "sweep-to",
    "sweep-steps",
    "sweep-seeds",
];

/// What a first-time visitor sees: a run where something visibly goes wrong, so the charts
/// and the ledger have a story to tell. A URL that names any setting starts from the core's
/// defaults instead, exactly as the CLI does, so a shared link always means the same run.
pub const WELCOME_PRESET: &str = "double-charge";

#[derive(Clone, Debug, PartialEq)]
pub struct PageState {
    pub scenario: Scenario,
    /// The compact view for iframes.
    pub embed: bool,
    /// The compare-all-modes view is open.
    pub compare: bool,
    /// The real-world systems table (every broker × mode) is open.
    pub matrix: bool,
    /// The timeline is open on this message.
    pub message: Option<u32>,
    /// The sweep view's settings, once a sweep has been set up; a link with them reruns it.
    pub sweep: Option<SweepForm>,
}

impl PageState {
    pub fn new(scenario: Scenario) -> PageState {
        PageState {
            scenario,
            embed: false,
            compare: false,
            matrix: false,
            message: None,
            sweep: None,
        }
    }

    /// The query that restores this state: the scenario's keys (mode and seed always, then
    /// whatever differs from the defaults), then the page's own keys.
    pub fn to_query(&self) -> String {
        let mut query = self.scenario.to_query();
        if self.compare {
            query.push_str("&view=compare");
        }
        if self.matrix {
            query.push_str("&view=matrix");
        }
        if let Some(m) = self.message {
            query.push_str(&format!("&message={m}"));
        }
        if let Some(sweep) = &self.sweep {
            query.push('&');
            query.push_str(&sweep.to_query());
        }
        if self.embed {
            query.push_str("&embed=1");
        }
        query
    }
}

/// A parsed URL: the state, what was wrong with it, and which settings it named.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedPage {
    pub state: PageState,
    /// One error per bad key, naming it; every other key still applied.
    pub errors: Vec<ScenarioError>,
    /// The scenario keys the query named, kebab-case, in order, without repeats. The embedded
    /// view shows controls for exactly these.
    pub named: Vec<&'static str>,
    /// The query named no scenario setting, so the welcome scenario was loaded and the URL
    /// should be rewritten to say so.
    pub defaulted: bool,
}

pub fn load(query: &str) -> LoadedPage {
    let pairs = parse_query(query);
    let mut named: Vec<&'static str> = Vec::new();
    for (key, _) in &pairs {
        if let Some(k) = knob(key)
            && !named.contains(&k.key)
        {
            named.push(k.key);
        }
    }
    let defaulted = !pairs.iter().any(|(k, _)| !PAGE_KEYS.contains(&k.as_str()));
    let (scenario, mut errors) = if defaulted {
        (welcome_scenario(), Vec::new())
    } else {
        Scenario::from_query(query, PAGE_KEYS)
    };
    let mut state = PageState::new(scenario);
    for (key, value) in &pairs {
        match key.as_str() {
            "embed" => match flag(value) {
                Some(on) => state.embed = on,
                None => errors.push(page_error("embed", "must be 1 or 0", value)),
            },
            // Each open view has its own `view=` pair; `run` closes them all.
            "view" => match &**value {
                "compare" => state.compare = true,
                "matrix" => state.matrix = true,
                "" | "run" => {
                    state.compare = false;
                    state.matrix = false;
                }
                _ => errors.push(page_error("view", "must be compare, matrix or run", value)),
            },
            "message" => match value.parse::<u32>() {
                Ok(m) if m < state.scenario.messages.max(1) => state.message = Some(m),
                _ => errors.push(page_error(
                    "message",
                    &format!(
                        "must be a message number from 0 to {}",
                        state.scenario.messages.saturating_sub(1)
                    ),
                    value,
                )),
            },
            _ => {}
        }
    }
    if let Some((sweep, sweep_errors)) = SweepForm::from_pairs(&pairs, &state.scenario) {
        state.sweep = Some(sweep);
        errors.extend(sweep_errors);
    }
    LoadedPage {
        state,
        errors,
        named,
        defaulted,
    }
}

/// The scenario of the welcome preset (the core's defaults should that preset ever go).
pub fn welcome_scenario() -> Scenario {
    presets()
        .iter()
        .find(|p| p.key == WELCOME_PRESET)
        .and_then(|p| p.scenario().ok())
        .unwrap_or_default()
}

fn flag(value: &str) -> Option<bool> {
    match value {
        "" | "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

fn page_error(key: &str, what: &str, got: &str) -> ScenarioError {
    let shown: String = got.chars().take(40).collect();
    ScenarioError {
        key: key.to_string(),
        message: format!("{what} (got {shown:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsim_core::Mode;

    #[test]
    fn a_query_round_trips() {
        let loaded = load("mode=at-most-once&publish-loss=0.3&seed=7&view=compare&message=12");
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.state.scenario.mode, Mode::AtMostOnce);
        assert_eq!(loaded.state.scenario.publish_loss, 0.3);
        assert!(loaded.state.compare);
        assert_eq!(loaded.state.message, Some(12));
        let query = loaded.state.to_query();
        assert_eq!(
            query,
            "mode=at-most-once&seed=7&publish-loss=0.3&view=compare&message=12"
        );
        assert_eq!(load(&query).state, loaded.state);
    }

    /// The real-world systems table is a view like compare: both can be open at once, each
    /// with its own `view=` pair, and a link reopens them.
    #[test]
    fn the_matrix_view_rides_in_the_url() {
        let loaded = load("broker=rabbitmq&mode=at-least-once&seed=3&view=matrix");
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert!(loaded.state.matrix && !loaded.state.compare);
        let query = loaded.state.to_query();
        assert!(query.ends_with("&view=matrix"), "{query}");
        assert_eq!(load(&query).state, loaded.state);
        let both = load("seed=3&view=compare&view=matrix");
        assert!(both.state.matrix && both.state.compare);
        assert_eq!(load(&both.state.to_query()).state, both.state);
        let closed = load("seed=3&view=matrix&view=run");
        assert!(!closed.state.matrix && !closed.state.compare);
        let bad = load("seed=3&view=table");
        assert_eq!(
            bad.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            ["view: must be compare, matrix or run (got \"table\")"]
        );
    }

    #[test]
    fn a_fault_timeline_rides_in_the_url() {
        let loaded = load(
            "consumers=2&script=2s:crash-consumer-1-after;3s-4s:partition-broker-producer-0&view=compare",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.state.scenario.script.len(), 2);
        let query = loaded.state.to_query();
        assert_eq!(
            query,
            "mode=at-least-once&seed=42&consumers=2&script=2s:crash-consumer-1-after;3s-4s:partition-broker-producer-0&view=compare"
        );
        assert_eq!(load(&query).state, loaded.state);
        // A bad timeline is named; everything else still loads.
        let loaded = load("consumers=2&script=2s:crash-consumer-7&ack-loss=0.1");
        let keys: Vec<&str> = loaded.errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["script"]);
        assert_eq!(loaded.state.scenario.ack_loss, 0.1);
        assert!(loaded.state.scenario.script.is_empty());
    }

    #[test]
    fn a_bad_value_is_named_and_the_rest_loads() {
        let loaded = load("?mode=exactly-once&publish-loss=3&ack-loss=0.1&bogus=1&message=x");
        let keys: Vec<&str> = loaded.errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["publish-loss", "bogus", "message"]);
        assert_eq!(loaded.state.scenario.mode, Mode::ExactlyOnce);
        assert_eq!(loaded.state.scenario.ack_loss, 0.1);
        assert_eq!(loaded.state.scenario.publish_loss, 0.0);
    }

    #[test]
    fn a_sweep_round_trips_and_its_bad_fields_are_named() {
        let loaded = load("messages=500&sweep=delivery-loss&sweep-to=0.2&sweep-seeds=3");
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let sweep = loaded.state.sweep.clone().expect("a sweep");
        assert_eq!(
            (sweep.knob, sweep.from, sweep.to),
            ("delivery-loss", 0.0, 0.2)
        );
        assert_eq!(sweep.seeds, 3);
        assert_eq!(
            loaded.state.scenario.messages, 500,
            "the scenario loads too"
        );
        let query = loaded.state.to_query();
        assert!(
            query.ends_with(
                "&sweep=delivery-loss&sweep-from=0&sweep-to=0.2&sweep-steps=11&sweep-seeds=3"
            ),
            "{query}"
        );
        assert_eq!(load(&query).state, loaded.state);
        let bad = load("messages=500&sweep=ack-loss&sweep-from=2&sweep-steps=4");
        let keys: Vec<&str> = bad.errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["sweep-from"]);
        assert_eq!(bad.state.sweep.expect("a sweep").steps, 4);
        assert_eq!(load("messages=500").state.sweep, None);
    }

    #[test]
    fn an_empty_query_loads_the_welcome_preset() {
        for q in ["", "?", "embed=1"] {
            let loaded = load(q);
            assert!(loaded.defaulted);
            assert_eq!(loaded.state.scenario, welcome_scenario());
        }
        assert_ne!(welcome_scenario(), Scenario::default());
        // Naming only the defaults gives the core's defaults, not the welcome scenario.
        let loaded = load("mode=at-least-once&seed=42");
        assert!(!loaded.defaulted);
        assert_eq!(loaded.state.scenario, Scenario::default());
    }

    #[test]
    fn a_link_can_name_a_preset_and_change_it() {
        let trap = presets()
            .iter()
            .find(|p| p.key == "exactly-once-trap")
            .unwrap();
        let loaded = load("preset=exactly-once-trap");
        assert!(loaded.errors.is_empty() && !loaded.defaulted);
        assert_eq!(loaded.state.scenario, trap.scenario().unwrap());
        // What the address writes back is the preset's own settings, so it reloads the same.
        let again = load(&loaded.state.to_query());
        assert_eq!(again.state.scenario, loaded.state.scenario);
        let loaded = load("preset=exactly-once-trap&idempotency-key=on&view=compare");
        assert!(loaded.state.scenario.idempotency_key && loaded.state.compare);
        let bad = load("preset=nope&seed=9");
        assert_eq!(bad.errors[0].key, "preset");
        assert_eq!(bad.state.scenario.seed, 9);
    }

    #[test]
    fn named_keys_are_kebab_case_and_unique() {
        let loaded = load("publishLoss=0.1&mode=outbox&publish-loss=0.2&embed=1");
        assert_eq!(loaded.named, ["publish-loss", "mode"]);
        assert!(loaded.state.embed);
        assert_eq!(loaded.state.scenario.publish_loss, 0.2);
    }

    /// The broker is in the address like the mode: read, named, and written back when it is
    /// not the default; a bad one is named and the default kept.
    #[test]
    fn the_broker_round_trips_through_the_address() {
        let loaded = load("broker=kafka&mode=outbox&ack-loss=0.1");
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.named, ["broker", "mode", "ack-loss"]);
        assert_eq!(loaded.state.scenario.broker, dsim_core::Broker::Kafka);
        let again = load(&loaded.state.to_query());
        assert_eq!(again.state.scenario, loaded.state.scenario);
        let rabbit = load("broker=rabbitmq&prefetch=3&ack-loss=0.1");
        assert!(rabbit.errors.is_empty(), "{:?}", rabbit.errors);
        assert_eq!(
            load(&rabbit.state.to_query()).state.scenario,
            rabbit.state.scenario
        );
        let bad = load("broker=rabbit&ack-loss=0.1");
        let keys: Vec<&str> = dsim_core::Broker::ALL.iter().map(|b| b.key()).collect();
        assert_eq!(
            bad.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            [format!(
                "broker: must be one of {} (got \"rabbit\")",
                keys.join(", ")
            )]
        );
        assert_eq!(bad.state.scenario.ack_loss, 0.1);
    }

    /// Strings that would run if any part of the page inserted a URL value as HTML.
    pub const INJECTIONS: &[&str] = &[
        "<script>window.__dsimInjected=1</script>",
        "\"><img src=x onerror=\"window.__dsimInjected=2\">",
        "'><svg onload=window.__dsimInjected=3>",
        "javascript:window.__dsimInjected=4",
        "</textarea><script>window.__dsimInjected=5</script>",
        "{{7*7}}${7*7}<b>bold</b>",
    ];

    #[test]
    fn injection_strings_in_every_key_are_reported_as_plain_text() {
        let keys: Vec<&str> = dsim_core::knobs()
            .iter()
            .map(|k| k.key)
            .chain(PAGE_KEYS.iter().copied())
            .collect();
        for payload in INJECTIONS {
            let mut query: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}={}", dsim_core::knobs::encode_component(payload)))
                .collect();
            // The payload as a key too, and raw (unencoded), as a pasted link might have it.
            query.push(format!("{}=1", dsim_core::knobs::encode_component(payload)));
            query.push(format!("x{payload}=1"));
            let loaded = load(&query.join("&"));
            // Nothing was applied: every setting is the default, every key reported.
            assert_eq!(loaded.state.scenario, Scenario::default(), "{payload}");
            let named: Vec<&str> = loaded.errors.iter().map(|e| e.key.as_str()).collect();
            for k in &keys {
                assert!(
                    named.contains(k),
                    "{k} not reported for {payload}: {named:?}"
                );
            }
            // Messages quote at most 40 characters of what was typed, on one line.
            for e in &loaded.errors {
                let line = e.to_string();
                assert!(!line.contains('\n') && line.chars().count() < 200, "{line}");
            }
            assert!(!loaded.state.embed && !loaded.state.compare && !loaded.state.matrix);
            assert_eq!(loaded.state.message, None);
            // What the page writes back into the address holds none of it.
            let written = loaded.state.to_query();
            assert!(
                !written.contains('<') && !written.contains('"'),
                "{written}"
            );
        }
    }

    // proptest is a native-only dev-dependency (see Cargo.toml).
    #[cfg(not(target_arch = "wasm32"))]
    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;

        fn cases() -> u32 {
            std::env::var("DSIM_FUZZ_CASES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(256)
        }

        fn key() -> impl Strategy<Value = String> {
            let real: Vec<String> = dsim_core::knobs()
                .iter()
                .map(|k| k.key.to_string())
                .chain(PAGE_KEYS.iter().map(|k| k.to_string()))
                .collect();
            prop_oneof![4 => proptest::sample::select(real), 1 => ".{0,10}"]
        }

        fn value() -> impl Strategy<Value = String> {
            prop_oneof![
                2 => (0u32..5000).prop_map(|v| v.to_string()),
                1 => (-1.0..2.0f64).prop_map(|v| v.to_string()),
                1 => proptest::sample::select(vec!["1", "0", "compare", "matrix", "run", "outbox", "", "x"])
                    .prop_map(String::from),
                1 => proptest::sample::select(super::INJECTIONS).prop_map(String::from),
                1 => ".{0,12}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

            /// The page's URL parsing on anything: no panic, a valid scenario, a timeline
            /// message that exists, and a written-back query that loads the same state with
            /// no errors (so the address bar never carries junk forward).
            #[test]
            fn any_query_loads_a_valid_state_that_round_trips(
                pairs in proptest::collection::vec((key(), value()), 0..10)
            ) {
                let query = pairs
                    .iter()
                    .map(|(k, v)| format!(
                        "{}={}",
                        dsim_core::knobs::encode_component(k),
                        dsim_core::knobs::encode_component(v)
                    ))
                    .collect::<Vec<_>>()
                    .join("&");
                let loaded = load(&query);
                prop_assert!(loaded.state.scenario.validate().is_ok());
                if let Some(m) = loaded.state.message {
                    prop_assert!(m < loaded.state.scenario.messages);
                }
                let back = load(&loaded.state.to_query());
                prop_assert!(back.errors.is_empty(), "{:?}", back.errors);
                prop_assert_eq!(back.state, loaded.state);
            }
        }
    }
}
