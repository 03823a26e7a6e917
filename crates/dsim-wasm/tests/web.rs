//! The JS API in a real browser (`wasm-pack test --headless --chrome`): every export, the
//! errors bad input gets, the module still working after them, and the wasm reports equal to
//! the native core's goldens (`tests/golden.rs` at the repo root writes them).
//!
//! The exports are called from Rust with `JsValue`s built the way JavaScript would build them,
//! so the code under test is exactly what a page calls; only the glue that turns an `Err` into
//! a `throw` is wasm-bindgen's.

#![cfg(target_arch = "wasm32")]

use dsim_wasm::{
    Simulation, Sweep, brokers, compare, defaults, history_json_lines, knobs, matrix, metrics_csv,
    modes, presets, simulate, sweep, trace, trace_mermaid,
};
use js_sys::{Array, BigInt, Function, JSON, Object, Reflect};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

// ---------------------------------------------------------------------------------------------
// Helpers

/// A JS value from JSON text, as a page would write the literal.
fn js(json: &str) -> JsValue {
    JSON::parse(json).unwrap_or_else(|e| panic!("bad JSON in test: {json}: {e:?}"))
}

/// A JS object with one property, for values JSON cannot write (undefined, NaN, functions).
fn object_with(key: &str, value: &JsValue) -> JsValue {
    let object = Object::new();
    Reflect::set(&object, &key.into(), value).expect("set a property on a fresh object");
    object.into()
}

/// What JavaScript sees of a result: its JSON, parsed.
fn json_of(value: &JsValue) -> Value {
    let text: String = JSON::stringify(value)
        .expect("results are plain data")
        .into();
    serde_json::from_str(&text).expect("JSON.stringify gives JSON")
}

fn ok(result: Result<JsValue, JsValue>) -> JsValue {
    result.unwrap_or_else(|e| panic!("unexpected error: {}", message_of(&e)))
}

fn message_of(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| format!("{error:?}"))
}

/// Asserts that `result` is a thrown JS `Error` with exactly this message, and that its
/// `field` property names the field the message starts with.
fn assert_error(result: Result<JsValue, JsValue>, expected: &str) {
    let error = match result {
        Ok(v) => panic!(
            "expected the error {expected:?}, got a result: {}",
            json_of(&v)
        ),
        Err(e) => e,
    };
    assert!(
        error.is_instance_of::<js_sys::Error>(),
        "thrown value is not an Error: {error:?}"
    );
    assert_eq!(message_of(&error), expected);
    let field = Reflect::get(&error, &"field".into())
        .ok()
        .and_then(|f| f.as_string())
        .expect("error.field is a string");
    assert!(
        expected.starts_with(&format!("{field}: ")),
        "error.field {field:?} does not match the message {expected:?}"
    );
}

/// The module must keep answering correctly after any error: a small run still works.
fn assert_module_still_works() {
    let report = json_of(&ok(simulate(js(r#"{"messages": 200, "seed": 5}"#))));
    assert_eq!(report["status"], "drained");
    assert_eq!(report["unique_processed"], 200);
}

/// One bad input: the error it must give, then proof the module survived it.
fn check_bad_scenario(input: JsValue, expected: &str) {
    assert_error(simulate(input.clone()), expected);
    assert_error(compare(input.clone()), expected);
    assert_error(Simulation::new(input).map(JsValue::from), expected);
    assert_module_still_works();
}

/// Deep equality of two JSON values, numbers compared as the f64 JavaScript holds (JSON
/// writes 1.0 as "1.0" in Rust and "1" in JavaScript), with the path of the first difference.
fn first_difference(path: &str, a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64(), y.as_f64());
            (x != y).then(|| format!("{path}: wasm {x:?}, native {y:?}"))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!(
                    "{path}: wasm has {} items, native {}",
                    x.len(),
                    y.len()
                ));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (x, y))| first_difference(&format!("{path}[{i}]"), x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys_x: Vec<_> = x.keys().collect();
            let keys_y: Vec<_> = y.keys().collect();
            if keys_x != keys_y {
                return Some(format!(
                    "{path}: wasm keys {keys_x:?}, native keys {keys_y:?}"
                ));
            }
            x.iter()
                .find_map(|(k, v)| first_difference(&format!("{path}.{k}"), v, &y[k]))
        }
        _ => (a != b).then(|| format!("{path}: wasm {a}, native {b}")),
    }
}

fn assert_same_report(case: &str, how: &str, wasm: &Value, native: &Value) {
    if let Some(diff) = first_difference("report", wasm, native) {
        panic!(
            "golden {case}: the wasm report ({how}) differs from the native one at {diff}\n\
             scenario: {}",
            native["scenario"]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Native vs wasm: the same scenario and seed give the same report, floats included.

/// (case, scenario file, native report file); the names match `CASES` in tests/golden.rs.
const GOLDENS: &[(&str, &str, &str)] = &[
    (
        "at-least-once-ack-loss",
        include_str!("golden/at-least-once-ack-loss.scenario.json"),
        include_str!("golden/at-least-once-ack-loss.report.json"),
    ),
    (
        "exactly-once-crashes",
        include_str!("golden/exactly-once-crashes.scenario.json"),
        include_str!("golden/exactly-once-crashes.report.json"),
    ),
    (
        "idempotent-short-dedup-window",
        include_str!("golden/idempotent-short-dedup-window.scenario.json"),
        include_str!("golden/idempotent-short-dedup-window.report.json"),
    ),
    (
        "zero-consumers-stalled",
        include_str!("golden/zero-consumers-stalled.scenario.json"),
        include_str!("golden/zero-consumers-stalled.report.json"),
    ),
    (
        "total-publish-loss-gave-up",
        include_str!("golden/total-publish-loss-gave-up.scenario.json"),
        include_str!("golden/total-publish-loss-gave-up.report.json"),
    ),
    (
        "scripted-timeline",
        include_str!("golden/scripted-timeline.scenario.json"),
        include_str!("golden/scripted-timeline.report.json"),
    ),
    (
        "rabbitmq-requeue",
        include_str!("golden/rabbitmq-requeue.scenario.json"),
        include_str!("golden/rabbitmq-requeue.report.json"),
    ),
];

/// Native vs wasm over the whole fault space: the core, compiled to wasm, gives reports with
/// the same digests as natively for scenarios drawn from the knob table by seed
/// (`tests/golden.rs` writes the file).
#[wasm_bindgen_test]
fn sampled_scenarios_give_the_native_digests_in_wasm() {
    let file = include_str!("golden/fault-space.digests.txt");
    let mut checked = 0;
    for line in file.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.split_whitespace();
        let seed: u64 = fields.next().unwrap().parse().unwrap();
        let expected = fields.next().unwrap();
        let s = dsim_core::knobs::sample_scenario(seed, 300);
        let report = dsim_core::simulate(&s).expect("sampled scenarios are valid");
        let json = serde_json::to_string(&report).unwrap();
        let digest = json.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        });
        assert_eq!(
            format!("{digest:016x}"),
            expected,
            "seed {seed}: the wasm report differs from the native one ({})",
            s.to_query()
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} sampled scenarios");
}

#[wasm_bindgen_test]
fn a_scenario_without_consumers_runs_and_stalls() {
    // Valid in the JS API (only the CLI refuses it): the report says it stalled.
    let report = json_of(&ok(simulate(js(r#"{"consumers": 0, "messages": 50}"#))));
    assert_eq!(report["status"], "stalled");
    assert_eq!(report["in_flight"], 50);
}

#[wasm_bindgen_test]
fn simulate_in_wasm_gives_the_native_golden_reports() {
    for (case, scenario, golden) in GOLDENS {
        let native: Value = serde_json::from_str(golden).expect("golden is JSON");
        let wasm = json_of(&ok(simulate(js(scenario))));
        assert_same_report(case, "simulate", &wasm, &native);
    }
}

#[wasm_bindgen_test]
fn a_simulation_stepped_to_the_end_gives_the_native_golden_reports() {
    for (case, scenario, golden) in GOLDENS {
        let native: Value = serde_json::from_str(golden).expect("golden is JSON");
        let mut sim = Simulation::new(js(scenario)).expect("golden scenarios are valid");
        let mut steps = 0;
        while !sim.finished() {
            ok(sim.step(js("997")));
            steps += 1;
            assert!(steps < 100_000, "golden {case}: the run never finished");
        }
        let wasm = json_of(&ok(sim.report()));
        assert_same_report(case, "Simulation stepped", &wasm, &native);
    }
}

#[wasm_bindgen_test]
fn compare_contains_the_golden_report_for_its_mode() {
    let (case, scenario, golden) = GOLDENS[0];
    let native: Value = serde_json::from_str(golden).expect("golden is JSON");
    let reports = json_of(&ok(compare(js(scenario))));
    let modes: Vec<&str> = reports
        .as_array()
        .expect("compare returns an array")
        .iter()
        .map(|r| r["mode"].as_str().expect("mode"))
        .collect();
    assert_eq!(
        modes,
        [
            "at-most-once",
            "at-least-once",
            "idempotent-consumer",
            "exactly-once",
            "outbox"
        ]
    );
    let same_mode = reports
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["mode"] == native["mode"])
        .expect("compare has the golden's mode");
    assert_same_report(case, "compare", same_mode, &native);
    // Every mode saw the same seed and faults.
    for r in reports.as_array().into_iter().flatten() {
        assert_eq!(r["seed"], native["seed"]);
        assert_eq!(r["scenario"]["ackLoss"], native["scenario"]["ackLoss"]);
    }
}

#[wasm_bindgen_test]
fn traces_equal_the_golden_counterexample_trace() {
    let (_, scenario, golden) = GOLDENS[2];
    let native: Value = serde_json::from_str(golden).expect("golden is JSON");
    let counterexample = &native["guarantee"]["counterexample"];
    let message = counterexample["message"]
        .as_u64()
        .expect("golden has a counterexample");
    assert!(
        !counterexample["trace"]
            .as_array()
            .expect("trace")
            .is_empty()
    );

    let free = json_of(&ok(trace(js(scenario), JsValue::from(message as f64))));
    assert_eq!(free, counterexample["trace"]);
    let sim = Simulation::new(js(scenario)).expect("valid");
    let method = json_of(&ok(sim.trace(JsValue::from(message as f64))));
    assert_eq!(method, counterexample["trace"]);
}

// ---------------------------------------------------------------------------------------------
// The exports

#[wasm_bindgen_test]
fn simulate_fills_in_the_defaults_the_playground_uses() {
    // The issue's own example, with fewer messages to keep the debug build quick.
    let report = json_of(&ok(simulate(js(
        r#"{"mode": "at-least-once", "publishAckLoss": 0.1, "messages": 1000, "producerIdempotence": "off"}"#,
    ))));
    let defaults = json_of(&ok(defaults()));
    assert_eq!(report["mode"], "at-least-once");
    assert_eq!(report["scenario"]["publishAckLoss"], 0.1);
    assert_eq!(report["seed"], defaults["seed"]);
    for (key, value) in defaults.as_object().expect("defaults is an object") {
        if !matches!(
            key.as_str(),
            "mode" | "publishAckLoss" | "messages" | "producerIdempotence"
        ) {
            // The trap's and the zombies' settings are left out of a scenario's JSON while at
            // their defaults, so that older reports read as before.
            match report["scenario"].get(key) {
                Some(v) => assert_eq!(v, value, "default of {key}"),
                None => assert!(
                    [
                        "externalEffect",
                        "idempotencyKey",
                        "externalLatencyMs",
                        "consumerStall",
                        "stallMs",
                        "fencing",
                        "commitIntervalMs",
                        "isolation",
                        "visibilityTimeoutMs",
                        "replicaLag",
                        "replicaLagMs",
                        "minInsyncReplicas",
                        "uncleanElection",
                        "producerIdempotence",
                        "maxInFlight",
                        "producerRestart",
                        "relayCrash",
                        "transactionTimeoutMs",
                        // Kafka's settings that other brokers lack, and the queue brokers'
                        // own: left out at their defaults so every broker's scenario reads back.
                        "partitions",
                        "deliveryLoss",
                        "acks",
                        "replicationFactor",
                        "maxPoll",
                        "sessionTimeoutMs",
                        "txnWriteMs",
                        "txnAckMs",
                        "prefetch",
                        "queueType",
                        "deliveryLimit",
                        "receiveBatch",
                        "maxReceives",
                        "extraCopy",
                    ]
                    .contains(&key.as_str()),
                    "{key} missing from the report's scenario"
                ),
            }
        }
    }
    assert_eq!(report["produced"], 1000);
    assert!(
        report["duplicates"].as_u64().expect("a count") > 0,
        "lost publish acks duplicate"
    );
    assert_eq!(report["lost"], 0);
    assert_eq!(report["guarantee"]["held"], true);
    // None is null, as in `dsim run --json`, not a missing key.
    assert!(
        report["guarantee"]
            .as_object()
            .expect("object")
            .contains_key("counterexample")
    );
    assert_eq!(report["guarantee"]["counterexample"], Value::Null);
}

#[wasm_bindgen_test]
fn kebab_case_keys_and_bigint_seeds_are_accepted() {
    let camel = json_of(&ok(simulate(js(
        r#"{"messages": 300, "ackLoss": 0.2, "seed": 9}"#,
    ))));
    let kebab = json_of(&ok(simulate(js(
        r#"{"messages": 300, "ack-loss": 0.2, "seed": 9}"#,
    ))));
    assert_eq!(camel, kebab);
    let bigint = js(r#"{"messages": 300, "ackLoss": 0.2}"#);
    Reflect::set(&bigint, &"seed".into(), &BigInt::from(9u64).into()).expect("set");
    assert_eq!(json_of(&ok(simulate(bigint))), camel);
}

#[wasm_bindgen_test]
fn simulation_steps_advances_and_reports() {
    let mut sim = Simulation::new(js(r#"{"messages": 500, "ackLoss": 0.1}"#)).expect("valid");
    assert!(!sim.finished());
    assert_eq!(sim.now_ms(), 0.0);
    let first = json_of(&ok(sim.step(JsValue::UNDEFINED)));
    assert_eq!(first["events"], 1000, "step() runs 1,000 events by default");
    let after = json_of(&ok(sim.step(js("10"))));
    assert_eq!(after["events"], 1010);
    assert_eq!(json_of(&ok(sim.step(js("0"))))["events"], 1010);

    let at = json_of(&ok(sim.advance_to(js("150.5"))));
    assert_eq!(at["now_ms"], 150.5);
    assert_eq!(sim.now_ms(), 150.5);
    assert_eq!(at["status"], "running");
    assert!(at["progress"].as_f64().expect("progress") > 0.0);
    assert_eq!(json_of(&ok(sim.snapshot())), at);

    let partial = json_of(&ok(sim.report()));
    assert_eq!(partial["status"], "running");
    assert!(partial["in_flight"].as_u64().expect("count") > 0);
    assert_eq!(json_of(&ok(sim.scenario()))["ackLoss"], 0.1);

    while !sim.finished() {
        ok(sim.step(js("100000")));
    }
    assert_eq!(sim.progress(), 1.0);
    let end = json_of(&ok(sim.report()));
    let whole = json_of(&ok(simulate(js(r#"{"messages": 500, "ackLoss": 0.1}"#))));
    assert_eq!(end, whole);
    // A finished run stays put.
    assert_eq!(json_of(&ok(sim.step(js("1000"))))["events"], end["events"]);
}

#[wasm_bindgen_test]
fn presets_run_as_they_are() {
    let list = ok(presets());
    let presets = json_of(&list);
    let presets = presets.as_array().expect("an array");
    assert!(presets.len() >= 5, "the textbook cases are there");
    for p in presets {
        for field in ["key", "title", "explanation", "query"] {
            assert!(
                p[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field} of {p}"
            );
        }
    }
    // A preset's scenario object goes straight back in.
    let first = Array::from(&list).get(0);
    let scenario = Reflect::get(&first, &"scenario".into()).expect("scenario");
    let scenario = json_of(&scenario);
    let mut small = scenario.clone();
    small["messages"] = 300.into();
    let report = json_of(&ok(simulate(js(&small.to_string()))));
    assert_eq!(report["mode"], scenario["mode"]);
}

#[wasm_bindgen_test]
fn knobs_modes_and_defaults_describe_every_setting() {
    let knobs = json_of(&ok(knobs()));
    let knobs = knobs.as_array().expect("an array");
    let defaults = json_of(&ok(defaults()));
    let defaults = defaults.as_object().expect("an object");
    assert_eq!(knobs.len(), defaults.len(), "one knob per scenario field");
    for k in knobs {
        let json_key = k["jsonKey"].as_str().expect("jsonKey");
        // A switch is a boolean in the scenario and "off" or "on" among the knob's choices.
        let default = match &defaults[json_key] {
            Value::Bool(on) => Value::from(if *on { "on" } else { "off" }),
            other => other.clone(),
        };
        assert_eq!(k["default"], default, "default of {json_key}");
        assert!(k["min"].as_f64() <= k["max"].as_f64());
        assert!(k["group"].as_str().is_some_and(|g| !g.is_empty()));
    }
    let ack_loss = knobs
        .iter()
        .find(|k| k["key"] == "ack-loss")
        .expect("ack-loss");
    assert_eq!(ack_loss["jsonKey"], "ackLoss");
    assert_eq!(ack_loss["kind"], "probability");
    assert_eq!(
        (ack_loss["min"].as_f64(), ack_loss["max"].as_f64()),
        (Some(0.0), Some(1.0))
    );
    let mode = knobs.iter().find(|k| k["key"] == "mode").expect("mode");
    assert_eq!(mode["kind"], "choice");
    assert_eq!(mode["choices"].as_array().map(Vec::len), Some(5));

    let modes = json_of(&ok(modes()));
    let titles: Vec<&str> = modes
        .as_array()
        .expect("an array")
        .iter()
        .map(|m| m["title"].as_str().expect("title"))
        .collect();
    assert_eq!(titles.len(), 5);
    assert_eq!(modes[2]["key"], "idempotent-consumer");
    assert_eq!(modes[0]["promise"], "no duplicates (loss allowed)");
}

#[wasm_bindgen_test]
fn brokers_and_the_settings_each_one_has() {
    let brokers = json_of(&ok(brokers()));
    assert_eq!(brokers[0]["key"], "kafka");
    assert_eq!(brokers[0]["title"], "Kafka");
    assert!(
        brokers[0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("Apache Kafka"))
    );
    let knobs = json_of(&ok(knobs()));
    let broker = knobs
        .as_array()
        .expect("an array")
        .iter()
        .find(|k| k["key"] == "broker")
        .expect("broker");
    let keys: Vec<&str> = dsim_core::Broker::ALL.iter().map(|b| b.key()).collect();
    assert_eq!(broker["choices"], serde_json::json!(keys));
    for (i, b) in dsim_core::Broker::ALL.iter().enumerate() {
        assert_eq!(brokers[i]["key"], b.key());
        assert_eq!(brokers[i]["title"], b.title());
    }
    assert_eq!(broker["default"], "kafka");
    // Whatever the table says today: a setting a broker lacks is refused by name, in one
    // line, at its default value too; one it has is taken.
    let defaults = json_of(&ok(defaults()));
    for b in dsim_core::Broker::ALL {
        for k in dsim_core::knobs().iter().filter(|k| k.key != "broker") {
            let mut input = serde_json::json!({"broker": b.key(), "messages": 20});
            input[k.json_key] = defaults[k.json_key].clone();
            let input = js(&input.to_string());
            match k.check_broker(b) {
                Ok(()) => {
                    ok(simulate(input));
                }
                Err(e) => check_bad_scenario(input, &format!("{}: {}", k.json_key, e.message)),
            }
        }
    }
    let report = json_of(&ok(simulate(js(r#"{"messages": 500}"#))));
    assert_eq!(report["capacity_per_s"], 4000.0);
    assert_eq!(report["scenario"]["broker"], "kafka");
}

// ---------------------------------------------------------------------------------------------
// Bad input: an Error naming the field, never a panic, and the module keeps working.

#[wasm_bindgen_test]
fn a_missing_or_non_object_scenario_is_an_error() {
    let expected = |got: &str| format!("scenario: must be an object of settings (got {got})");
    check_bad_scenario(JsValue::UNDEFINED, &expected("undefined"));
    check_bad_scenario(JsValue::NULL, &expected("null"));
    check_bad_scenario(js("[]"), &expected("an array"));
    check_bad_scenario(js("\"at-least-once\""), &expected("a string"));
    check_bad_scenario(js("0.1"), &expected("a number"));
    check_bad_scenario(Function::new_no_args("").into(), &expected("a function"));
}

#[wasm_bindgen_test]
fn a_bad_setting_is_an_error_naming_it() {
    check_bad_scenario(
        js(r#"{"mode": "exactly-twice"}"#),
        "mode: must be one of at-most-once, at-least-once, idempotent-consumer, exactly-once, \
         outbox (got \"exactly-twice\")",
    );
    check_bad_scenario(
        js(r#"{"publishLoss": 2}"#),
        "publishLoss: must be between 0 and 1 (got 2)",
    );
    // Kebab-case in, the JavaScript name out.
    check_bad_scenario(
        js(r#"{"publish-loss": -0.5}"#),
        "publishLoss: must be between 0 and 1 (got -0.5)",
    );
    check_bad_scenario(
        js(r#"{"ackLoss": "0.1"}"#),
        "ackLoss: must be a number (got a string)",
    );
    check_bad_scenario(
        js(r#"{"mode": 1}"#),
        "mode: must be a string (got a number)",
    );
    check_bad_scenario(
        js(r#"{"messages": 2.5}"#),
        "messages: must be a whole number (got 2.5)",
    );
    check_bad_scenario(
        js(r#"{"messages": 0}"#),
        "messages: must be between 1 and 2000000 (got 0)",
    );
    check_bad_scenario(
        js(r#"{"duplicate": null}"#),
        "duplicate: must be a number (got null)",
    );
    check_bad_scenario(
        js(r#"{"duplicate": true}"#),
        "duplicate: must be a number (got a boolean)",
    );
    check_bad_scenario(
        js(r#"{"seed": [1]}"#),
        "seed: must be a number (got an array)",
    );
    check_bad_scenario(
        js(r#"{"latencyMs": {}}"#),
        "latencyMs: must be a number (got an object)",
    );
    check_bad_scenario(
        js(r#"{"ackloss": 0.1}"#),
        "ackloss: is not a scenario setting",
    );
    check_bad_scenario(
        js(r#"{"seed": 9007199254740992}"#),
        "seed: must be between 0 and 9007199254740991 (got 9007199254740992)",
    );
}

#[wasm_bindgen_test]
fn javascript_only_values_are_errors_naming_the_field() {
    check_bad_scenario(
        object_with("ackLoss", &JsValue::UNDEFINED),
        "ackLoss: must be a number (got undefined)",
    );
    check_bad_scenario(
        object_with("mode", &JsValue::UNDEFINED),
        "mode: must be a string (got undefined)",
    );
    check_bad_scenario(
        object_with("ackLoss", &JsValue::from_f64(f64::NAN)),
        "ackLoss: must be a finite number (got NaN)",
    );
    check_bad_scenario(
        object_with("horizonMs", &JsValue::from_f64(f64::INFINITY)),
        "horizonMs: must be a finite number (got inf)",
    );
    check_bad_scenario(
        object_with("seed", &BigInt::from(-1i64).into()),
        "seed: must be between 0 and 9007199254740991 (got -1)",
    );
    check_bad_scenario(
        object_with("processingMs", &Function::new_no_args("return 1").into()),
        "processingMs: must be a number (got a function)",
    );
    check_bad_scenario(
        object_with("nonsense", &JsValue::UNDEFINED),
        "nonsense: is not a scenario setting",
    );
}

#[wasm_bindgen_test]
fn bad_arguments_to_trace_and_the_class_are_errors_and_the_instance_survives() {
    let scenario = r#"{"messages": 100}"#;
    let range = "messageId: must be a whole number from 0 to 99";
    assert_error(
        trace(js(scenario), js("100")),
        &format!("{range} (got 100)"),
    );
    assert_error(trace(js(scenario), js("-1")), &format!("{range} (got -1)"));
    assert_error(
        trace(js(scenario), js("1.5")),
        &format!("{range} (got 1.5)"),
    );
    assert_error(
        trace(js(scenario), js("\"7\"")),
        &format!("{range} (got a string)"),
    );
    assert_error(
        trace(js(scenario), JsValue::UNDEFINED),
        &format!("{range} (got undefined)"),
    );
    assert_error(
        trace(js(r#"{"mode": "twice"}"#), js("1")),
        "mode: must be one of at-most-once, at-least-once, idempotent-consumer, exactly-once, \
         outbox (got \"twice\")",
    );

    let mut sim = Simulation::new(js(scenario)).expect("valid");
    assert_error(sim.trace(js("100")), &format!("{range} (got 100)"));
    assert_error(
        sim.step(js("-5")),
        "events: must be a whole number of events, 0 or more (got -5)",
    );
    assert_error(
        sim.step(js("2.5")),
        "events: must be a whole number of events, 0 or more (got 2.5)",
    );
    assert_error(
        sim.advance_to(JsValue::from_f64(f64::NAN)),
        "ms: must be a time in milliseconds, 0 or more (got NaN)",
    );
    assert_error(
        sim.advance_to(js("-1")),
        "ms: must be a time in milliseconds, 0 or more (got -1)",
    );
    assert_error(
        sim.advance_to(JsValue::UNDEFINED),
        "ms: must be a time in milliseconds, 0 or more (got undefined)",
    );
    // The instance that threw is still whole.
    let snapshot = json_of(&ok(sim.advance_to(js("20"))));
    assert_eq!(snapshot["now_ms"], 20);
    let trace = json_of(&ok(sim.trace(js("0"))));
    assert_eq!(trace[0]["kind"], "created");
    while !sim.finished() {
        ok(sim.step(js("10000")));
    }
    assert_eq!(json_of(&ok(sim.report()))["unique_processed"], 100);
    assert_module_still_works();
}

/// An author who animates with `advanceTo(elapsed)` alone must see the run finish, with the
/// report `simulate` gives (its duration is the last event's time, not how far they advanced).
#[wasm_bindgen_test]
fn advancing_past_the_end_finishes_with_the_same_report() {
    let scenario = r#"{"messages": 400, "ackLoss": 0.1, "seed": 3}"#;
    let whole = json_of(&ok(simulate(js(scenario))));
    let end_ms = whole["duration_ms"].as_f64().expect("duration");
    let mut sim = Simulation::new(js(scenario)).expect("valid");
    let mut ms = 0.0;
    while ms < end_ms + 1_000.0 {
        ms += 250.0;
        ok(sim.advance_to(JsValue::from_f64(ms)));
    }
    assert!(
        sim.finished(),
        "advanceTo({ms}) went past the last event ({end_ms} ms) but the run is not finished: {}",
        json_of(&ok(sim.snapshot()))
    );
    assert_eq!(json_of(&ok(sim.report())), whole);
}

/// Time travel through the class: `seekTo` and `stepBack` show exactly what a fresh run
/// stopped there shows, `step` moves forward again from the past, and seeking past the end
/// comes back to the finished run.
#[wasm_bindgen_test]
fn seek_to_and_step_back_show_a_fresh_run_stopped_there() {
    let scenario = r#"{"mode": "exactly-once", "messages": 600, "ackLoss": 0.1, "seed": 5}"#;
    let mut sim = Simulation::new(js(scenario)).expect("valid");
    while !sim.finished() {
        ok(sim.step(js("5000")));
    }
    let end_ms = sim.now_ms();
    let t_ms = (end_ms * 0.4).round();
    let at = json_of(&ok(sim.seek_to(JsValue::from_f64(t_ms))));
    assert!(!sim.live(), "a past position is not live");
    let mut fresh = Simulation::new(js(scenario)).expect("valid");
    assert_eq!(at, json_of(&ok(fresh.advance_to(JsValue::from_f64(t_ms)))));
    assert_eq!(json_of(&ok(sim.report())), json_of(&ok(fresh.report())));

    let events = at["events"].as_u64().expect("events");
    let back = json_of(&ok(sim.step_back()));
    assert_eq!(back["events"].as_u64(), Some(events - 1));
    let mut stepped = Simulation::new(js(scenario)).expect("valid");
    let expected = json_of(&ok(stepped.step(JsValue::from_f64((events - 1) as f64))));
    assert_eq!(back, expected);
    let forward = json_of(&ok(sim.step(js("1"))));
    assert_eq!(forward["events"].as_u64(), Some(events));
    assert_eq!(forward["produced"], at["produced"]);

    assert_error(
        sim.seek_to(JsValue::from_f64(f64::NAN)),
        "ms: must be a time in milliseconds, 0 or more (got NaN)",
    );
    ok(sim.seek_to(JsValue::from_f64(end_ms + 1_000.0)));
    assert!(sim.live() && sim.finished());
    assert_eq!(
        json_of(&ok(sim.report())),
        json_of(&ok(simulate(js(scenario))))
    );
}

// ---------------------------------------------------------------------------------------------
// Sweeps and exports

const SMALL_SWEEP: &str =
    r#"{"knob": "publishAckLoss", "from": 0, "to": 0.4, "steps": 3, "seeds": 2}"#;
// Without idempotence, so that lost publish acks duplicate.
const SWEEP_BASE: &str = r#"{"messages": 150, "seed": 4, "producerIdempotence": "off"}"#;

#[wasm_bindgen_test]
fn a_sweep_is_the_mean_of_the_runs_simulate_gives() {
    let result = json_of(&ok(sweep(js(SWEEP_BASE), js(SMALL_SWEEP))));
    assert_eq!(result["knob"], "publish-ack-loss");
    assert_eq!(result["seeds"], serde_json::json!([4, 5]));
    let points = result["points"].as_array().expect("points");
    assert_eq!(points.len(), 3);
    // At-least-once at publish-ack loss 0.2: the mean of the two seeds' duplicates per message.
    let alo = &points[1]["modes"][1];
    assert_eq!(alo["mode"], "at-least-once");
    let per_message = |seed: u64| {
        let r = json_of(&ok(simulate(js(&format!(
            r#"{{"messages": 150, "seed": {seed}, "publishAckLoss": 0.2, "mode": "at-least-once", "producerIdempotence": "off"}}"#
        )))));
        r["duplicates"].as_f64().unwrap() / 150.0
    };
    let mean = (per_message(4) + per_message(5)) / 2.0;
    assert_eq!(alo["duplicates_per_message"]["mean"].as_f64(), Some(mean));
    let band = &alo["duplicates_per_message"];
    assert!(band["low"].as_f64() <= band["mean"].as_f64());
    assert!(band["mean"].as_f64() <= band["high"].as_f64());
    assert!(alo["expected"]["duplicates_per_message"].as_f64().unwrap() > 0.24);
}

#[wasm_bindgen_test]
fn the_sweep_class_steps_one_run_at_a_time_to_the_same_result() {
    let whole = json_of(&ok(sweep(js(SWEEP_BASE), js(SMALL_SWEEP))));
    let mut stepped = Sweep::new(js(SWEEP_BASE), js(SMALL_SWEEP)).expect("valid");
    assert!(!stepped.finished());
    assert_eq!(json_of(&ok(stepped.progress()))["runs_total"], 30);
    let mut last = 0.0;
    while !stepped.finished() {
        let p = json_of(&ok(stepped.step()));
        let fraction = p["fraction"].as_f64().unwrap();
        assert!(fraction > last);
        last = fraction;
    }
    assert_eq!(last, 1.0);
    assert_eq!(json_of(&ok(stepped.result())), whole);
    assert!(stepped.csv().starts_with("knob,value,mode,"));
    assert_eq!(stepped.csv().lines().count(), 1 + 3 * 5);
    // A finished sweep stays put.
    assert_eq!(json_of(&ok(stepped.step()))["runs_done"], 30);
}

#[wasm_bindgen_test]
fn bad_sweeps_are_errors_naming_the_field() {
    let bad = |spec: &str, expected: &str| {
        assert_error(sweep(js(SWEEP_BASE), js(spec)), expected);
        assert_error(
            Sweep::new(js(SWEEP_BASE), js(spec)).map(JsValue::from),
            expected,
        );
    };
    bad(
        r#"{"knob": "mode", "from": 0, "to": 1, "steps": 2, "seeds": 2}"#,
        "knob: mode cannot be swept: every sweep runs every mode",
    );
    bad(
        r#"{"knob": "ackLoss", "from": 0, "to": 2, "steps": 2, "seeds": 2}"#,
        "to: ack-loss must be between 0 and 1 (got 2)",
    );
    bad(
        r#"{"knob": "ackLoss", "from": 0, "to": 1, "steps": 2}"#,
        "seeds: is missing",
    );
    bad(
        r#"{"knob": "ackLoss", "from": "0", "to": 1, "steps": 2, "seeds": 2}"#,
        "from: must be a number (got a string)",
    );
    bad(
        r#"{"knob": "ackLoss", "from": 0, "to": 1, "steps": 2, "seeds": 2, "mode": 1}"#,
        "mode: is not a sweep setting",
    );
    bad(
        "[]",
        "sweep: must be an object with knob, from, to, steps and seeds (got an array)",
    );
    assert_error(
        sweep(js(r#"{"ackLoss": 3}"#), js(SMALL_SWEEP)),
        "ackLoss: must be between 0 and 1 (got 3)",
    );
    assert_module_still_works();
}

#[wasm_bindgen_test]
fn exports_are_the_same_text_as_the_core_gives() {
    let scenario = r#"{"messages": 60, "ackLoss": 0.3, "seed": 2}"#;
    let native: dsim_core::Scenario = dsim_core::Scenario::from_json(scenario).expect("valid");

    let mermaid = trace_mermaid(js(scenario), js("5")).expect("a diagram");
    let expected = dsim_core::export::mermaid_sequence(5, &dsim_core::trace_message(&native, 5));
    assert_eq!(mermaid, expected);
    assert!(mermaid.starts_with("sequenceDiagram\n"));
    let sim = Simulation::new(js(scenario)).expect("valid");
    assert_eq!(sim.trace_mermaid(js("5")).expect("a diagram"), expected);

    let history = history_json_lines(js(scenario)).expect("history");
    assert_eq!(
        history,
        dsim_core::export::history_json_lines(&native).unwrap()
    );
    let first: Value = serde_json::from_str(history.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "created");

    let csv = metrics_csv(js(scenario)).expect("csv");
    let report = dsim_core::simulate(&native).unwrap();
    assert_eq!(csv, dsim_core::export::series_csv(&report.series));

    let err = |r: Result<String, JsValue>| r.map(JsValue::from);
    assert_error(
        err(trace_mermaid(js(scenario), js("60"))),
        "messageId: must be a whole number from 0 to 59 (got 60)",
    );
    assert_error(
        err(history_json_lines(js(r#"{"messages": 20001}"#))),
        "messages: the history export holds at most 20000 messages (got 20001); export the \
         metrics instead, or trace single messages",
    );
    assert_error(
        err(metrics_csv(js(r#"{"delay": 2}"#))),
        "delay: must be between 0 and 1 (got 2)",
    );
    assert_module_still_works();
}

/// The real-world systems table in the browser: every broker × mode, in order; a refused
/// cell carries its reason; every other cell is exactly a `simulate` of its own query.
#[wasm_bindgen_test]
fn matrix_cells_are_single_runs_of_their_queries() {
    let input = r#"{"messages": 400, "crashAfterProcess": 0.01, "publishAckLoss": 0.05}"#;
    let cells = json_of(&ok(matrix(js(input))));
    let cells = cells.as_array().expect("matrix returns an array");
    assert_eq!(
        cells.len(),
        dsim_core::Broker::ALL.len() * dsim_core::Mode::ALL.len()
    );
    let mut runs = 0;
    for c in cells {
        if let Some(why) = c.get("refused") {
            assert!(why.as_str().is_some_and(|w| !w.is_empty()), "{c}");
            assert!(c.get("outcome").is_none());
            continue;
        }
        let o = &c["outcome"];
        let (s, errors) = dsim_core::Scenario::from_query(o["query"].as_str().unwrap(), &[]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(s.broker.key(), c["broker"].as_str().unwrap());
        assert_eq!(s.mode.key(), c["mode"].as_str().unwrap());
        let single = json_of(&ok(simulate(js(&serde_json::to_string(&s).unwrap()))));
        for (cell_key, report_key) in [("duplicates", "duplicates"), ("lost", "lost")] {
            assert_eq!(o[cell_key], single[report_key], "{cell_key} of {c}");
        }
        assert_eq!(o["held"], single["guarantee"]["held"], "{c}");
        assert_eq!(
            o["p99_ms"].as_f64(),
            single["latency_ms"]["p99"].as_f64(),
            "{c}"
        );
        runs += 1;
    }
    assert!(runs >= 9, "every broker runs most modes");
}

/// A mode a broker refuses is refused by every export that takes a scenario, in one line
/// naming the mode and the broker's reason.
#[wasm_bindgen_test]
fn a_mode_the_broker_refuses_is_one_line_naming_the_mode() {
    for b in dsim_core::Broker::ALL {
        let Some(why) = b.refuses(dsim_core::Mode::ExactlyOnce) else {
            continue;
        };
        let input = js(&format!(
            r#"{{"broker": "{}", "mode": "exactly-once"}}"#,
            b.key()
        ));
        let expected = format!(
            "mode: exactly-once is not available on broker {}: {why}",
            b.key()
        );
        check_bad_scenario(input.clone(), &expected);
        assert_error(matrix(input), &expected);
    }
}
