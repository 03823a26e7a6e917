//! Browser tests of the page's state logic, in headless Chromium:
//! `cargo test --target wasm32-unknown-unknown -p dsim-web` with wasm-bindgen-test-runner.
//! Each test mounts the page for a URL of its own, acts on it through the DOM as a person
//! would (by `data-testid`), and checks what the page and the address bar say.

#![cfg(target_arch = "wasm32")]

use dsim_web::{Playground, browser, url_state};
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// A fresh element to mount a page into.
fn container() -> HtmlElement {
    let div: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&div).unwrap();
    div
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Waits (up to 20 s) for a condition the page reaches on its own, such as a run finishing.
async fn until(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..800 {
        if condition() {
            return;
        }
        sleep(25).await;
    }
    panic!("timed out waiting for {what}");
}

fn find(root: &Element, testid: &str) -> Option<Element> {
    root.query_selector(&format!("[data-testid=\"{testid}\"]"))
        .unwrap()
}

fn get(root: &Element, testid: &str) -> Element {
    find(root, testid).unwrap_or_else(|| panic!("no element with data-testid={testid}"))
}

fn input_value(root: &Element, testid: &str) -> String {
    get(root, testid)
        .unchecked_into::<HtmlInputElement>()
        .value()
}

fn attr(root: &Element, testid: &str, name: &str) -> String {
    get(root, testid).get_attribute(name).unwrap_or_default()
}

/// Types a value and commits it, as leaving the field would.
fn type_value(root: &Element, testid: &str, value: &str) {
    let input: HtmlInputElement = get(root, testid).unchecked_into();
    input.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let change = web_sys::Event::new_with_event_init_dict("change", &init).unwrap();
    input.dispatch_event(&change).unwrap();
}

fn click(root: &Element, testid: &str) {
    get(root, testid).unchecked_into::<HtmlElement>().click();
}

fn finished(root: &Element) -> bool {
    attr(root, "progress", "data-state") == "finished"
}

fn path_of(root: &Element, chart: &str, series: &str) -> String {
    get(root, chart)
        .query_selector(&format!("path[data-series=\"{series}\"]"))
        .unwrap()
        .and_then(|p| p.get_attribute("d"))
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn url_round_trips_through_the_address_bar() {
    let query = "mode=at-most-once&seed=42&publish-loss=0.3&view=compare&message=7";
    let state = url_state::load(query).state;
    browser::replace_query(&state.to_query());
    assert_eq!(browser::query(), query);
    assert_eq!(url_state::load(&browser::query()).state, state);

    // A control change reaches the address bar, replacing the history entry.
    let history = web_sys::window().unwrap().history().unwrap();
    let entries = history.length().unwrap();
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! { <Playground loaded=url_state::load("mode=outbox&seed=9&messages=500") /> }
    });
    tick().await;
    let root: Element = root.into();
    type_value(&root, "knob-publish-loss-number", "0.25");
    type_value(&root, "knob-ack-loss-number", "0.05");
    until("the debounced URL", || {
        browser::query().contains("publish-loss=0.25")
    })
    .await;
    assert_eq!(
        browser::query(),
        "mode=outbox&seed=9&publish-loss=0.25&ack-loss=0.05&messages=500"
    );
    assert_eq!(
        history.length().unwrap(),
        entries,
        "no history entry per change"
    );
}

#[wasm_bindgen_test]
async fn a_bad_url_value_is_named_and_the_rest_loads() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! { <Playground loaded=url_state::load("publish-loss=7&ack-loss=0.1&mode=nope&messages=300") /> }
    });
    tick().await;
    let root: Element = root.into();
    let banner = get(&root, "url-error").text_content().unwrap();
    assert!(banner.contains("publish-loss"), "{banner}");
    assert!(banner.contains("mode"), "{banner}");
    assert_eq!(input_value(&root, "knob-ack-loss-number"), "0.1");
    assert_eq!(input_value(&root, "knob-messages-number"), "300");
    assert_eq!(input_value(&root, "knob-publish-loss-number"), "0");
}

#[wasm_bindgen_test]
async fn choosing_a_preset_sets_the_controls() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! { <Playground loaded=url_state::load("mode=exactly-once&seed=5&latency-ms=3") /> }
    });
    tick().await;
    let root: Element = root.into();
    click(&root, "preset-dual-write");
    // The sidebar's story, the pickers and every control follow the new scenario over a few
    // of the reactive system's passes, not all in the first.
    until("the preset's settings in the controls", || {
        input_value(&root, "knob-producer-crash-number") == "0.01"
    })
    .await;
    assert_eq!(attr(&root, "preset-dual-write", "aria-pressed"), "true");
    assert_eq!(attr(&root, "mode-at-least-once", "aria-pressed"), "true");
    assert_eq!(attr(&root, "mode-exactly-once", "aria-pressed"), "false");
    assert_eq!(input_value(&root, "knob-producer-crash-number"), "0.01");
    // The preset starts from the defaults, not from what was set before.
    assert_eq!(input_value(&root, "knob-latency-ms-number"), "1");
    assert_eq!(input_value(&root, "seed"), "42");
    assert!(
        get(&root, "preset-explanation")
            .text_content()
            .unwrap()
            .contains("outbox")
    );
    // The user can change anything afterwards; the preset is then no longer the scenario.
    type_value(&root, "knob-producer-crash-number", "0.02");
    until("the change to leave the preset", || {
        attr(&root, "preset-dual-write", "aria-pressed") == "false"
    })
    .await;
    assert_eq!(input_value(&root, "knob-producer-crash-number"), "0.02");
    // Following (or ignoring) a preset's advice keeps its story on screen, with what changed.
    until("the story's changes", || {
        find(&root, "preset-changes").is_some()
    })
    .await;
    assert!(
        get(&root, "preset-explanation")
            .text_content()
            .unwrap()
            .contains("outbox")
    );
    assert_eq!(
        get(&root, "preset-changes").text_content().unwrap(),
        "You changed producer-crash 0.01 → 0.02 from the preset."
    );
    assert!(
        get(&root, "preset-dual-write")
            .class_list()
            .contains("story")
    );
    // Back to the preset's own values, nothing is listed; closing the story removes it.
    type_value(&root, "knob-producer-crash-number", "0.01");
    until("the preset again", || {
        find(&root, "preset-changes").is_none()
    })
    .await;
    assert_eq!(attr(&root, "preset-dual-write", "aria-pressed"), "true");
    click(&root, "preset-close");
    until("the story to close", || {
        find(&root, "preset-explanation").is_none()
    })
    .await;
}

#[wasm_bindgen_test]
async fn charts_follow_a_control_change() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! { <Playground loaded=url_state::load("mode=at-least-once&seed=3&messages=2000&producer-idempotence=off") /> }
    });
    let root: Element = root.into();
    until("the first run to finish", || finished(&root)).await;
    let clean_dups = path_of(&root, "chart-dup-loss", "duplicates");
    let clean_throughput = path_of(&root, "chart-throughput", "applied");
    assert!(!clean_dups.is_empty());
    assert_eq!(attr(&root, "counter-duplicates", "data-value"), "0");
    assert_eq!(attr(&root, "counter-produced", "data-value"), "2000");

    type_value(&root, "knob-publish-ack-loss-number", "0.2");
    tick().await;
    until("the new run to finish", || finished(&root)).await;
    let dups: u64 = attr(&root, "counter-duplicates", "data-value")
        .parse()
        .unwrap();
    assert!(dups > 0, "lost publish acks should cause duplicates");
    assert_ne!(path_of(&root, "chart-dup-loss", "duplicates"), clean_dups);
    assert_ne!(
        path_of(&root, "chart-throughput", "applied"),
        clean_throughput
    );
    let ledger = get(&root, "ledger-summary").text_content().unwrap();
    assert!(ledger.contains("double-charged"), "{ledger}");
    // The duplicates line now tops out above the empty chart's axis.
    let top = get(&root, "chart-dup-loss")
        .query_selector("svg[data-y-max]")
        .unwrap()
        .unwrap()
        .get_attribute("data-y-max")
        .unwrap();
    assert_ne!(top, "4");
}

#[wasm_bindgen_test]
async fn a_broken_promise_links_to_its_counterexample() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! {
            <Playground loaded=url_state::load(
                "mode=idempotent-consumer&publish-ack-loss=0.1&dedup-window-ms=30&messages=1000&producer-idempotence=off",
            ) />
        }
    });
    let root: Element = root.into();
    until("the run to finish", || finished(&root)).await;
    assert_eq!(attr(&root, "guarantee-badge", "data-verdict"), "broken");
    click(&root, "counterexample-link");
    tick().await;
    let timeline = get(&root, "timeline");
    let diagram = timeline.query_selector("svg.sequence").unwrap().unwrap();
    let message = diagram.get_attribute("data-message").unwrap();
    assert_eq!(input_value(&root, "timeline-message-input"), message);
    let labels = timeline.text_content().unwrap();
    assert!(labels.contains("publish ack lost"), "{labels}");
}

#[wasm_bindgen_test]
async fn a_double_charge_shows_two_charges_and_copies_as_mermaid() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! {
            <Playground loaded=url_state::load(
                "mode=idempotent-consumer&publish-ack-loss=0.1&dedup-window-ms=30&messages=1000&producer-idempotence=off",
            ) />
        }
    });
    let root: Element = root.into();
    until("the run to finish", || finished(&root)).await;
    click(&root, "counterexample-link");
    tick().await;
    let timeline = get(&root, "timeline");
    // The two charges are two rows, each naming the delivery and copy that made it.
    let charges = timeline
        .query_selector_all("g.event[data-kind=\"processed\"]")
        .unwrap();
    assert_eq!(charges.length(), 2);
    let identity = |i: u32| {
        let g: Element = charges.item(i).unwrap().unchecked_into();
        (
            g.get_attribute("data-attempt").unwrap(),
            g.get_attribute("data-copy").unwrap(),
        )
    };
    assert_ne!(
        identity(0),
        identity(1),
        "two copies merged into one identity"
    );
    let text = timeline.text_content().unwrap();
    assert!(text.contains("attempt 1 · copy 0 — "), "{text}");

    // Copy as Mermaid: copied, or (a headless browser may refuse the clipboard) shown to copy.
    click(&root, "copy-mermaid");
    until("the copy feedback", || {
        find(&root, "mermaid-feedback").is_some()
    })
    .await;
    if let Some(text) = find(&root, "mermaid-text") {
        let mermaid = text.text_content().unwrap();
        assert!(mermaid.starts_with("sequenceDiagram"), "{mermaid}");
        assert_eq!(mermaid.matches("C->>L:").count(), 2, "{mermaid}");
    } else {
        let feedback = get(&root, "mermaid-feedback").text_content().unwrap();
        assert!(feedback.contains("copied as Mermaid"), "{feedback}");
    }

    // The run's exports and every chart's SVG button are there.
    let history: HtmlElement = get(&root, "download-history").unchecked_into();
    assert_eq!(history.get_attribute("disabled"), None);
    assert!(find(&root, "download-metrics").is_some());
    for chart in [
        "chart-throughput",
        "chart-latency",
        "chart-latency-histogram",
        "chart-dup-loss",
        "chart-backlog",
    ] {
        assert!(find(&root, &format!("{chart}-svg")).is_some(), "{chart}");
    }
}

#[wasm_bindgen_test]
async fn the_history_export_is_offered_only_for_runs_it_can_hold() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! { <Playground loaded=url_state::load("messages=30000") /> }
    });
    tick().await;
    let root: Element = root.into();
    let button: web_sys::HtmlButtonElement = get(&root, "download-history").unchecked_into();
    assert!(button.disabled());
    assert!(
        button.title().contains("at most 20000 messages"),
        "{}",
        button.title()
    );
}

#[wasm_bindgen_test]
async fn the_broker_picker_sits_by_the_modes_and_follows_the_address() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! { <Playground loaded=url_state::load("broker=kafka&mode=exactly-once&messages=500") /> }
    });
    tick().await;
    let root: Element = root.into();
    assert_eq!(attr(&root, "broker-kafka", "aria-pressed"), "true");
    assert_eq!(get(&root, "broker-kafka").text_content().unwrap(), "Kafka");
    let line = get(&root, "broker-description").text_content().unwrap();
    // The core's line names the system itself; the page does not repeat the name.
    assert_eq!(line, dsim_core::Broker::Kafka.description());
    // Not a slider of its own among the settings.
    assert!(find(&root, "knob-broker").is_none());
    // Every setting kafka has keeps its control.
    for k in dsim_core::knobs().iter().filter(|k| k.key != "broker") {
        if k.key != "mode" && k.key != "seed" && k.applies_to(dsim_core::Broker::Kafka) {
            assert!(
                find(&root, &format!("knob-{}", k.key)).is_some(),
                "{}",
                k.key
            );
        }
    }
    click(&root, "broker-kafka");
    tick().await;
    assert_eq!(attr(&root, "broker-kafka", "aria-pressed"), "true");
    until("the run", || finished(&root)).await;
    // Capacity beside throughput: exactly-once pays for its commits.
    let detail = get(&root, "counter-throughput").text_content().unwrap();
    assert!(detail.contains("capacity 3,"), "{detail}");

    let bad = container();
    let _bad = mount_to(bad.clone(), || {
        view! { <Playground loaded=url_state::load("broker=rabbit&messages=200") /> }
    });
    tick().await;
    let bad: Element = bad.into();
    // The list is the core's, which grows with each broker family.
    let brokers: Vec<&str> = dsim_core::Broker::ALL.iter().map(|b| b.key()).collect();
    let error = get(&bad, "broker-error").text_content().unwrap();
    assert!(
        error.starts_with(&format!(
            "broker: must be one of {} (got \"rabbit\")",
            brokers.join(", ")
        )),
        "{error}"
    );
    assert_eq!(attr(&bad, "broker-kafka", "aria-pressed"), "true");
}

#[wasm_bindgen_test]
async fn the_embedded_view_shows_the_named_controls_only() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! { <Playground loaded=url_state::load("embed=1&mode=outbox&ack-loss=0.1&messages=500") /> }
    });
    tick().await;
    let root: Element = root.into();
    assert!(find(&root, "embed-root").is_some());
    assert!(find(&root, "mode-outbox").is_some());
    assert!(find(&root, "knob-ack-loss").is_some());
    assert!(find(&root, "knob-messages").is_some());
    assert!(find(&root, "knob-publish-loss").is_none());
    assert!(find(&root, "chart-throughput").is_some());
    assert!(find(&root, "copy-link").is_none(), "no page chrome");
}

#[wasm_bindgen_test]
fn a_panic_shows_a_readable_message_as_text() {
    browser::show_panic("panicked at <b>src/x.rs</b>: index out of bounds");
    let panel = document()
        .query_selector("[data-testid=\"panic-message\"]")
        .unwrap()
        .expect("the panic panel");
    assert_eq!(panel.get_attribute("role").as_deref(), Some("alert"));
    let text = panel.text_content().unwrap();
    assert!(text.contains("Reload the page"), "{text}");
    assert!(
        text.contains("<b>src/x.rs</b>"),
        "details are text, not markup"
    );
    assert!(panel.query_selector("b").unwrap().is_none());
    panel.remove();
}

#[wasm_bindgen_test]
async fn a_refused_value_is_named_under_its_control_and_the_last_good_value_stays() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! { <Playground loaded=url_state::load("mode=at-least-once&publish-loss=0.3&messages=300") /> }
    });
    tick().await;
    let root: Element = root.into();
    // (A number field hands over "" for text that is not a number, as browsers do.)
    for (typed, expected) in [
        (
            "2",
            "publish-loss: must be between 0 and 1 (got 2); kept 0.3",
        ),
        (
            "-0.5",
            "publish-loss: must be between 0 and 1 (got -0.5); kept 0.3",
        ),
        (
            "1e10",
            "publish-loss: must be between 0 and 1 (got 10000000000); kept 0.3",
        ),
        ("abc", "publish-loss: must be a number (got \"\"); kept 0.3"),
    ] {
        type_value(&root, "knob-publish-loss-number", typed);
        tick().await;
        let error = get(&root, "knob-publish-loss-error");
        assert_eq!(error.text_content().unwrap(), expected);
        assert_eq!(
            input_value(&root, "knob-publish-loss-number"),
            "0.3",
            "the field shows the value that runs, not {typed:?}"
        );
    }
    // A good value clears the message.
    type_value(&root, "knob-publish-loss-number", "0.25");
    tick().await;
    assert!(find(&root, "knob-publish-loss-error").is_none());
    assert_eq!(input_value(&root, "knob-publish-loss-number"), "0.25");

    type_value(&root, "seed", "-5");
    tick().await;
    let seed_error = get(&root, "seed-error").text_content().unwrap();
    assert!(
        seed_error.starts_with("seed: must be between 0 and"),
        "{seed_error}"
    );
    assert_eq!(input_value(&root, "seed"), "42");
    // The seed is a text field, so markup reaches the message, as text.
    type_value(&root, "seed", "<b>7</b>");
    tick().await;
    let seed_error = get(&root, "seed-error");
    assert_eq!(
        seed_error.text_content().unwrap(),
        "seed: must be a number (got \"<b>7</b>\"); kept 42"
    );
    assert!(seed_error.query_selector("b").unwrap().is_none());
    assert_eq!(input_value(&root, "seed"), "42");
}

#[wasm_bindgen_test]
async fn a_bad_url_value_is_also_named_under_its_own_control() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! { <Playground loaded=url_state::load("publish-loss=7&acks=sideways&seed=x&mode=nope&messages=200") /> }
    });
    tick().await;
    let root: Element = root.into();
    let text = |id: &str| get(&root, id).text_content().unwrap();
    assert_eq!(
        text("knob-publish-loss-error"),
        "publish-loss: must be between 0 and 1 (got 7) (from the address; kept 0)"
    );
    assert!(text("knob-acks-error").starts_with("acks: must be one of leader, all"));
    assert!(text("seed-error").starts_with("seed: must be a number"));
    assert!(text("mode-error").starts_with("mode: must be one of"));
    assert!(find(&root, "knob-messages-error").is_none());
    assert_eq!(input_value(&root, "knob-messages-number"), "200");
}

/// Mounts `query`, waits for the run to end, and returns the status line's key and text.
async fn ended_as(query: &'static str) -> (String, String, String) {
    let root = container();
    let _page = mount_to(root.clone(), move || {
        view! { <Playground loaded=url_state::load(query) /> }
    });
    let root: Element = root.into();
    until(query, || finished(&root)).await;
    let status = get(&root, "run-status");
    (
        status.get_attribute("data-status").unwrap_or_default(),
        status.text_content().unwrap(),
        attr(&root, "guarantee-badge", "data-verdict"),
    )
}

#[wasm_bindgen_test]
async fn hopeless_runs_end_with_a_clear_status_on_the_page() {
    let (key, text, verdict) = ended_as("consumers=0&messages=200").await;
    assert_eq!((key.as_str(), verdict.as_str()), ("stalled", "stalled"));
    assert!(text.contains("there are no consumers"), "{text}");

    let (key, text, verdict) = ended_as("publish-loss=1&messages=100").await;
    assert_eq!((key.as_str(), verdict.as_str()), ("gave-up", "broken"));
    assert!(
        text.starts_with("gave up: 100 messages ran out of retries"),
        "{text}"
    );

    let (key, text, _) =
        ended_as("mode=exactly-once&crash-before-process=1&messages=50&horizon-ms=5000").await;
    assert_eq!(key, "stalled");
    assert!(text.contains("the horizon (5000 ms"), "{text}");

    let (key, _, verdict) =
        ended_as("mode=idempotent-consumer&dedup-window-ms=0&publish-ack-loss=0.2&messages=300&producer-idempotence=off")
            .await;
    assert_eq!((key.as_str(), verdict.as_str()), ("drained", "broken"));

    let (key, _, _) = ended_as("latency-ms=10000&messages=50").await;
    assert_eq!(key, "drained");
}

/// Strings that would run if the page inserted a URL value as HTML (as in url_state's tests).
const INJECTIONS: &[&str] = &[
    "<script>window.__dsimInjected=1</script>",
    "\"><img src=x onerror=\"window.__dsimInjected=2\">",
    "'><svg onload=window.__dsimInjected=3>",
    "javascript:window.__dsimInjected=4",
    "</textarea><script>window.__dsimInjected=5</script>",
    "{{7*7}}${7*7}<b>bold</b>",
];

fn injected() -> bool {
    let value = js_sys::Reflect::get(&web_sys::window().unwrap(), &"__dsimInjected".into());
    value.map(|v| !v.is_undefined()).unwrap_or(true)
}

#[wasm_bindgen_test]
async fn script_injection_in_every_query_key_stays_text() {
    let keys: Vec<&str> = dsim_core::knobs()
        .iter()
        .map(|k| k.key)
        .chain(url_state::PAGE_KEYS.iter().copied())
        .collect();
    for (i, payload) in INJECTIONS.iter().enumerate() {
        let encoded = dsim_core::knobs::encode_component(payload);
        let mut pairs: Vec<String> = keys.iter().map(|k| format!("{k}={encoded}")).collect();
        pairs.push(format!("{encoded}=1"));
        // Every other payload also in the embedded view, which shows the same error list.
        if i % 2 == 1 {
            pairs.retain(|p| !p.starts_with("embed="));
            pairs.push("embed=1".into());
        }
        let query = pairs.join("&");
        let root = container();
        let _page = mount_to(root.clone(), move || {
            view! { <Playground loaded=url_state::load(&query) /> }
        });
        tick().await;
        sleep(50).await;
        let root: Element = root.into();
        let banner = get(&root, "url-error");
        let text = banner.text_content().unwrap();
        let shown: String = payload.chars().take(40).collect();
        assert!(
            text.contains(&shown),
            "{payload} not shown as text in {text}"
        );
        for selector in [
            "script",
            "img",
            "b",
            "[onerror]",
            "[onload]",
            "svg:not([viewBox])",
        ] {
            assert!(
                root.query_selector(selector).unwrap().is_none(),
                "{payload}: the page holds {selector}"
            );
        }
        assert!(!injected(), "{payload} ran");
        root.remove();
    }
}

#[wasm_bindgen_test]
fn the_embed_posts_only_its_height() {
    let (message, height) = browser::height_message(640.2).unwrap();
    assert_eq!(height, 641);
    let keys: Vec<String> = js_sys::Object::keys(&message)
        .iter()
        .map(|k| k.as_string().unwrap())
        .collect();
    assert_eq!(keys, ["type", "height"]);
    assert_eq!(
        js_sys::Reflect::get(&message, &"type".into()).unwrap(),
        "dsim-height"
    );
    assert!(browser::height_message(f64::NAN).is_none());
    assert!(browser::height_message(f64::INFINITY).is_none());
    assert!(browser::height_message(-1.0).is_none());
}

#[wasm_bindgen_test]
async fn messages_from_other_windows_change_nothing() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! { <Playground loaded=url_state::load("embed=1&mode=outbox&ack-loss=0.1&messages=300") /> }
    });
    tick().await;
    let root: Element = root.into();
    let query_before = browser::query();
    let window = web_sys::window().unwrap();
    let hostile = [
        js_sys::JSON::parse(r#"{"type":"dsim-height","height":1}"#).unwrap(),
        js_sys::JSON::parse(r#"{"type":"dsim-scenario","query":"mode=at-most-once"}"#).unwrap(),
        js_sys::JSON::parse(r#"{"mode":"at-most-once","ackLoss":1}"#).unwrap(),
        "<img src=x onerror=window.__dsimInjected=9>".into(),
        JsValue::NULL,
    ];
    for message in &hostile {
        window.post_message(message, "*").unwrap();
    }
    sleep(200).await;
    assert_eq!(attr(&root, "mode-outbox", "aria-pressed"), "true");
    assert_eq!(input_value(&root, "knob-ack-loss-number"), "0.1");
    assert_eq!(browser::query(), query_before);
    assert!(root.query_selector("img").unwrap().is_none());
    assert!(!injected());
}

/// A PNG's width and height, read from its header; panics unless it is a PNG.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 33, "{} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "the PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

/// How many pixels of a PNG are close to `rgb`: drawn back onto a canvas and read.
async fn pixels_like(png: &web_sys::Blob, rgb: (u8, u8, u8)) -> usize {
    let url = web_sys::Url::create_object_url_with_blob(png).unwrap();
    let image = web_sys::HtmlImageElement::new().unwrap();
    image.set_src(&url);
    JsFuture::from(image.decode())
        .await
        .expect("the PNG decodes");
    let (w, h) = (image.natural_width(), image.natural_height());
    let canvas: web_sys::HtmlCanvasElement = document()
        .create_element("canvas")
        .unwrap()
        .unchecked_into();
    canvas.set_width(w);
    canvas.set_height(h);
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    context
        .draw_image_with_html_image_element(&image, 0.0, 0.0)
        .unwrap();
    let data = context
        .get_image_data(0.0, 0.0, w.into(), h.into())
        .unwrap()
        .data();
    web_sys::Url::revoke_object_url(&url).unwrap();
    data.chunks_exact(4)
        .filter(|p| {
            let near = |a: u8, b: u8| a.abs_diff(b) < 24;
            near(p[0], rgb.0) && near(p[1], rgb.1) && near(p[2], rgb.2) && p[3] > 200
        })
        .count()
}

#[wasm_bindgen_test]
async fn a_chart_and_a_sweep_chart_export_as_png() {
    use dsim_core::{Mode, Scenario, SweepSpec};
    use dsim_web::{chart_export, charts, png_export, sweep_charts};

    let scenario = Scenario {
        mode: Mode::AtMostOnce,
        messages: 2_000,
        delivery_loss: 0.1,
        ..Scenario::default()
    };
    let report = dsim_core::simulate(&scenario).unwrap();
    let chart = charts::dup_loss(&report, charts::LARGE, None);
    let svg = chart_export::standalone_svg(&chart, "Duplicates & losses");
    let png = png_export::svg_to_png(&svg, png_export::PNG_SCALE)
        .await
        .expect("a PNG");
    assert_eq!(png.type_(), "image/png");
    let bytes = png_export::blob_bytes(&png).await.unwrap();
    // Twice the file's size: the plot and the 40-unit header above it.
    assert_eq!(png_size(&bytes), (1200, 2 * (240 + 40)));
    // The losses line is drawn in its colour (#c0262d): the file's own style reached the PNG.
    let red = pixels_like(&png, (0xc0, 0x26, 0x2d)).await;
    assert!(red > 200, "only {red} pixels of the losses line");

    let base = Scenario {
        messages: 200,
        seed: 3,
        // Without idempotence, so that at-least-once's line rises with lost publish acks.
        producer_idempotence: dsim_core::Idempotence::Off,
        ..Scenario::default()
    };
    let spec = SweepSpec {
        knob: "publish-ack-loss".into(),
        from: 0.0,
        to: 0.4,
        steps: 3,
        seeds: 2,
    };
    let result = dsim_core::sweep(&base, &spec).unwrap();
    let sweep = sweep_charts::sweep_chart(&result, sweep_charts::Metric::Duplicates, charts::LARGE);
    let png = png_export::svg_to_png(&chart_export::sweep_svg(&sweep), 1.0)
        .await
        .expect("a PNG");
    let (width, height) = png_size(&png_export::blob_bytes(&png).await.unwrap());
    // The legend of five modes and theory takes a second row.
    assert_eq!((width, height), (600, 240 + 40 + 16));
    let blue = pixels_like(&png, (0x00, 0x72, 0xb2)).await;
    assert!(blue > 100, "only {blue} pixels of at-least-once's line");
}

/// The marks of a sweep chart: (mode, value, mean, low, high) for each.
fn sweep_marks(root: &Element, metric: &str) -> Vec<(String, f64, f64, f64, f64)> {
    let marks = get(root, &format!("sweep-chart-{metric}"))
        .query_selector_all("circle.point")
        .unwrap();
    (0..marks.length())
        .map(|i| {
            let m: Element = marks.item(i).unwrap().unchecked_into();
            let number = |name: &str| m.get_attribute(name).unwrap().parse::<f64>().unwrap();
            (
                m.get_attribute("data-mode").unwrap(),
                number("data-value"),
                number("data-mean"),
                number("data-low"),
                number("data-high"),
            )
        })
        .collect()
}

#[wasm_bindgen_test]
async fn a_sweep_without_a_worker_runs_on_the_page_and_draws_the_cores_numbers() {
    use dsim_core::{Scenario, SweepSpec};

    // The test page has no worker loader, so the sweep falls back to the page.
    let query =
        "messages=150&seed=8&sweep=ack-loss&sweep-from=0&sweep-to=0.3&sweep-steps=3&sweep-seeds=2";
    let root = container();
    let _page = mount_to(root.clone(), move || {
        view! { <Playground loaded=url_state::load(query) /> }
    });
    tick().await;
    let root: Element = root.into();
    until("the sweep finishes", || {
        find(&root, "sweep-progress")
            .is_some_and(|p| p.get_attribute("data-state").as_deref() == Some("finished"))
    })
    .await;
    assert_eq!(attr(&root, "sweep-progress", "data-runs-done"), "30");
    assert_eq!(attr(&root, "sweep-progress", "data-worker"), "false");
    let (base, _) = Scenario::from_query("messages=150&seed=8", &[]);
    let spec = SweepSpec {
        knob: "ack-loss".into(),
        from: 0.0,
        to: 0.3,
        steps: 3,
        seeds: 2,
    };
    let expected = dsim_core::sweep(&base, &spec).unwrap();
    for (metric, pick) in [
        (
            "duplicates",
            (|m| m.duplicates_per_message)
                as fn(&dsim_core::sweep::ModeSummary) -> dsim_core::Estimate,
        ),
        ("lost", |m| m.lost_per_message),
        ("latency-p99", |m| m.latency_p99_ms),
        ("throughput", |m| m.throughput_per_s),
    ] {
        let marks = sweep_marks(&root, metric);
        assert_eq!(marks.len(), 3 * 5, "{metric}");
        for (mode, value, mean, low, high) in marks {
            let point = expected.points.iter().find(|p| p.value == value).unwrap();
            let summary = point.modes.iter().find(|m| m.mode.key() == mode).unwrap();
            let e = pick(summary);
            assert_eq!(
                (mean, low, high),
                (e.mean, e.low, e.high),
                "{metric} {mode} at {value}"
            );
        }
    }
    // Theory's q/(1-q) is overlaid on the duplicates chart only.
    let dashed = |metric: &str| {
        get(&root, &format!("sweep-chart-{metric}"))
            .query_selector_all("path.line.dashed")
            .unwrap()
            .length()
    };
    assert!(dashed("duplicates") > 0);
    assert_eq!(dashed("latency-p99"), 0);
}

#[wasm_bindgen_test]
async fn a_refused_sweep_setting_is_named_under_its_field_and_the_others_stay() {
    let root = container();
    let _page = mount_to(root.clone(), || {
        view! { <Playground loaded=url_state::load("messages=100&sweep=ack-loss&sweep-steps=x&sweep-to=0.2") /> }
    });
    tick().await;
    let root: Element = root.into();
    // The address's bad value is named; the sweep waits for a good one.
    assert_eq!(
        get(&root, "sweep-steps-error").text_content().unwrap(),
        "sweep-steps: must be a whole number (got \"x\")"
    );
    assert!(find(&root, "sweep-progress").is_none(), "not started");
    assert_eq!(input_value(&root, "sweep-to"), "0.2");
    type_value(&root, "sweep-seeds", "1");
    tick().await;
    assert_eq!(
        get(&root, "sweep-seeds-error").text_content().unwrap(),
        "sweep-seeds: must be between 2 and 100 (got 1): a confidence interval needs two runs or more; kept 10"
    );
    assert_eq!(input_value(&root, "sweep-seeds"), "10");
    assert_eq!(
        input_value(&root, "sweep-to"),
        "0.2",
        "the other fields stay"
    );
    type_value(&root, "sweep-steps", "4");
    tick().await;
    assert!(find(&root, "sweep-steps-error").is_none());
    until("the URL records the sweep", || {
        browser::query()
            .ends_with("sweep=ack-loss&sweep-from=0&sweep-to=0.2&sweep-steps=4&sweep-seeds=10")
    })
    .await;
    // A new setting brings its own range.
    let select: web_sys::HtmlSelectElement = get(&root, "sweep-knob").unchecked_into();
    select.set_value("max-retries");
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    select
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap())
        .unwrap();
    tick().await;
    // From the scenario's value (8 retries) to twice it.
    assert_eq!(input_value(&root, "sweep-from"), "8");
    assert_eq!(input_value(&root, "sweep-to"), "16");
}

fn dispatch_input(root: &Element, testid: &str, value: &str) {
    let input: HtmlInputElement = get(root, testid).unchecked_into();
    input.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let event = web_sys::Event::new_with_event_init_dict("input", &init).unwrap();
    input.dispatch_event(&event).unwrap();
}

/// Scrubbing a run that animates on the page pauses it and shows the past exactly as a fresh
/// run stopped there; step back and forward move one event; Live puts the paused run back and
/// Run resumes it.
#[wasm_bindgen_test]
async fn scrubbing_an_animated_run_pauses_it_and_shows_the_past() {
    let query = "mode=idempotent-consumer&seed=6&messages=30000&ack-loss=0.1";
    let root = container();
    let _page = mount_to(root.clone(), move || {
        view! { <Playground loaded=url_state::load(query) /> }
    });
    let root: Element = root.into();
    until("the run to be under way", || {
        attr(&root, "time-travel", "data-live-ms")
            .parse::<f64>()
            .is_ok_and(|ms| ms > 500.0)
    })
    .await;
    let live_ms: f64 = attr(&root, "time-travel", "data-live-ms").parse().unwrap();
    let t_ms = (live_ms / 2.0).round();
    dispatch_input(&root, "scrubber", &t_ms.to_string());
    until("the past to be shown", || {
        attr(&root, "time-travel", "data-mode") == "past"
    })
    .await;
    assert_eq!(attr(&root, "progress", "data-state"), "paused");
    let paused_at = attr(&root, "time-travel", "data-live-ms");
    let scenario = url_state::load(query).state.scenario;
    let mut fresh = dsim_core::Simulation::new(&scenario);
    fresh.advance_to((t_ms * 1000.0) as u64);
    let r = fresh.report();
    assert_eq!(
        attr(&root, "counter-produced", "data-value"),
        r.produced.to_string()
    );
    assert_eq!(
        attr(&root, "counter-applied", "data-value"),
        r.side_effects.to_string()
    );
    assert_eq!(
        attr(&root, "counter-retries", "data-value"),
        r.retries.to_string()
    );
    assert_eq!(
        attr(&root, "in-flight", "data-messages"),
        fresh.queue_state().messages_in_flight.to_string()
    );
    assert!(find(&root, "chart-throughput-marker").is_some());

    let events: u64 = attr(&root, "time-travel", "data-events").parse().unwrap();
    click(&root, "step-back");
    until("one event back", || {
        attr(&root, "time-travel", "data-events") == (events - 1).to_string()
    })
    .await;
    click(&root, "step-forward");
    tick().await;
    assert_eq!(
        attr(&root, "time-travel", "data-events"),
        events.to_string()
    );

    sleep(100).await;
    assert_eq!(
        attr(&root, "time-travel", "data-live-ms"),
        paused_at,
        "the live run held still"
    );
    click(&root, "go-live");
    tick().await;
    assert_eq!(attr(&root, "time-travel", "data-mode"), "live");
    assert_eq!(attr(&root, "progress", "data-state"), "paused");
    click(&root, "run");
    until("the run to finish after Run", || finished(&root)).await;
}

/// The element's children, each as `tag attr=value… "text"` and its own children, nested.
fn describe(element: &Element) -> String {
    let mut out = element.tag_name();
    let attrs = element.attributes();
    let mut pairs: Vec<String> = (0..attrs.length())
        .filter_map(|i| attrs.item(i))
        .map(|a| format!(" {}={}", a.name(), a.value()))
        .collect();
    pairs.sort();
    out.extend(pairs);
    let mut child = element.first_element_child();
    if child.is_none() {
        out.push_str(&format!(
            " {:?}",
            element.text_content().unwrap_or_default()
        ));
    }
    while let Some(c) = child {
        out.push_str(&format!(" [{}]", describe(&c)));
        child = c.next_element_sibling();
    }
    out
}

#[wasm_bindgen_test]
fn sync_svg_brings_a_chart_from_one_drawing_to_the_next() {
    use dsim_web::plot_svg::Node;
    let svg = document()
        .create_element_ns(Some("http://www.w3.org/2000/svg"), "svg")
        .unwrap();
    // Something Leptos left in the element: the first drawing starts clean.
    svg.append_child(
        &document()
            .create_element_ns(Some("http://www.w3.org/2000/svg"), "g")
            .unwrap(),
    )
    .unwrap();
    let first = Node::new("svg")
        .attr("data-points", "3")
        .child(Node::new("line").attr("class", "grid").num("y1", 10.0))
        .child(Node::new("text").attr("class", "tick").text("10"))
        .child(
            Node::new("rect")
                .num("x", 1.5)
                .child(Node::new("title").text("a crash")),
        )
        .child(Node::new("path").attr("d", "M0 0"));
    // Fewer elements, one of another kind, attributes added, changed and dropped.
    let second = Node::new("svg")
        .attr("data-points", "4")
        .attr("data-y-max", "20")
        .child(
            Node::new("line")
                .attr("class", "grid")
                .num("y1", 20.0)
                .num("y2", 20.0),
        )
        .child(Node::new("text").attr("class", "tick").text("20"))
        .child(Node::new("path").attr("d", "M0 1"));
    let expected = |node: &Node| {
        let fresh = document()
            .create_element_ns(Some("http://www.w3.org/2000/svg"), "svg")
            .unwrap();
        browser::redraw_svg(&fresh, &mut None, node);
        describe(&fresh)
    };
    let mut drawn = None;
    browser::redraw_svg(&svg, &mut drawn, &first);
    assert_eq!(describe(&svg), expected(&first));
    assert!(describe(&svg).contains("[title \"a crash\"]"));
    let line = svg.first_element_child().unwrap();
    browser::redraw_svg(&svg, &mut drawn, &second);
    assert_eq!(describe(&svg), expected(&second));
    assert_eq!(svg.child_element_count(), 3);
    assert!(!describe(&svg).contains("rect"));
    // An element that keeps its kind is the same element, updated in place.
    assert!(svg.first_element_child().unwrap().is_same_node(Some(&line)));
    browser::redraw_svg(&svg, &mut drawn, &first);
    assert_eq!(describe(&svg), expected(&first));
}

/// A `<delivery-playground>`'s container, in a shadow root as web/delivery-playground.js
/// makes it.
fn shadow_container() -> (HtmlElement, Element) {
    let host = container();
    let shadow = host
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .unwrap();
    let inner: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    shadow.append_child(&inner).unwrap();
    let root: Element = inner.clone().into();
    (inner, root)
}

fn element_finished(root: &Element) -> bool {
    attr(root, "element-root", "data-run-state") == "finished"
}

fn attributes(pairs: &[(&str, &str)]) -> js_sys::Array {
    pairs
        .iter()
        .map(|(k, v)| {
            let pair = js_sys::Array::new();
            pair.push(&JsValue::from_str(k));
            pair.push(&JsValue::from_str(v));
            JsValue::from(pair)
        })
        .collect()
}

#[wasm_bindgen_test]
async fn an_element_shows_its_own_run_in_its_shadow_root_and_leaves_the_address_alone() {
    let before = browser::query();
    let (container, root) = shadow_container();
    let pairs = [
        ("mode", "at-least-once"),
        ("crash-after-process", "0.01"),
        ("messages", "500"),
        ("seed", "3"),
        ("view", "counters"),
        ("height", "420"),
        ("id", "a-page-id"),
    ];
    let _mounted =
        browser::element::mount_element(container.clone(), attributes(&pairs), 1, "http://x/");
    tick().await;
    until("the element's run finishes", || element_finished(&root)).await;
    // The same settings as a link to the playground says them.
    let (scenario, errors) = dsim_core::Scenario::from_query(
        "mode=at-least-once&crash-after-process=0.01&messages=500&seed=3",
        &[],
    );
    assert!(errors.is_empty(), "{errors:?}");
    let report = dsim_core::simulate(&scenario).unwrap();
    for (id, want) in [
        ("produced", report.produced),
        ("duplicates", report.duplicates),
        ("lost", report.lost),
    ] {
        assert_eq!(
            attr(&root, &format!("counter-{id}"), "data-value"),
            want.to_string(),
            "{id}"
        );
    }
    assert!(
        report.duplicates > 0,
        "the scenario shows something going wrong"
    );
    // Its example links open the playground (where `assets` said) on the message.
    let link = root
        .query_selector("a.example-link")
        .unwrap()
        .expect("an example link");
    assert!(
        link.get_attribute("href")
            .unwrap()
            .starts_with("http://x/index.html?mode=at-least-once")
    );
    assert_eq!(
        container.style().get_property_value("height").unwrap(),
        "420px"
    );
    assert!(find(&root, "url-error").is_none());
    sleep(300).await; // past the page's URL debounce
    assert_eq!(
        browser::query(),
        before,
        "an element never writes its host page's address"
    );
}

#[wasm_bindgen_test]
async fn an_elements_bad_attributes_are_named_and_the_rest_applies() {
    let (container, root) = shadow_container();
    let pairs = [
        ("mode", "at-most-once"),
        ("publish-loss", "3"),
        ("view", "pie"),
        ("crash-before-process", "0.01"),
        ("messages", "400"),
        ("seed", "5"),
    ];
    let _mounted = browser::element::mount_element(container, attributes(&pairs), 2, "./");
    tick().await;
    let line = get(&root, "url-error").text_content().unwrap();
    assert!(line.contains("attributes of this element"), "{line}");
    assert!(
        line.contains("publish-loss") && line.contains("view"),
        "{line}"
    );
    until("the element's run finishes", || element_finished(&root)).await;
    // The counters view (the default), on the scenario the good attributes make.
    assert_eq!(attr(&root, "element-root", "data-view"), "counters");
    let (good, _) = dsim_core::Scenario::from_query(
        "mode=at-most-once&crash-before-process=0.01&messages=400&seed=5",
        &[],
    );
    let report = dsim_core::simulate(&good).unwrap();
    assert!(
        report.lost > 0,
        "the scenario loses payments, as many as its seed says"
    );
    assert_eq!(
        attr(&root, "counter-produced", "data-value"),
        report.produced.to_string()
    );
    assert_eq!(
        attr(&root, "counter-lost", "data-value"),
        report.lost.to_string()
    );
}

#[wasm_bindgen_test]
async fn an_elements_timeline_follows_a_typed_message_and_leaves_the_address_alone() {
    let before = browser::query();
    let (container, root) = shadow_container();
    let pairs = [
        ("mode", "at-least-once"),
        ("crash-after-process", "0.01"),
        ("messages", "500"),
        ("seed", "3"),
        ("view", "timeline"),
    ];
    let _mounted = browser::element::mount_element(container, attributes(&pairs), 3, "./");
    tick().await;
    until("the element's run finishes", || element_finished(&root)).await;
    // It opens on the run's first message gone wrong, then on the one a reader asks for: the
    // page would record that in its address (`message=`), an element never does.
    until("the timeline shows a message", || {
        find(&root, "timeline-list").is_some()
    })
    .await;
    type_value(&root, "timeline-message-input", "7");
    until("the timeline shows message 7", || {
        attr(&root, "timeline-list", "data-message") == "7"
    })
    .await;
    sleep(300).await; // past the page's URL debounce
    assert_eq!(
        browser::query(),
        before,
        "an element never writes its host page's address"
    );
}

/// A prerendered copy and the hidden host the page is built into, as `index.html` and
/// `browser::prerendered::mount_point` make them; and a way to put the address back (the
/// default scenario's page rewrites it to say what it loaded).
fn copy_and_host() -> (HtmlElement, Element, String) {
    // The test page's own address has no query, as the copy's page has none.
    put_back_address(&web_sys::window().unwrap().location().pathname().unwrap());
    let shell = document().create_element("div").unwrap();
    shell.set_inner_html("<p>the default run, as the build wrote it</p>");
    document().body().unwrap().append_child(&shell).unwrap();
    let host = container();
    host.set_class_name("app-pending");
    let href = web_sys::window().unwrap().location().href().unwrap();
    (host, shell, href)
}

/// Starts the first run behind the copy, as the page's `start` does, with the default page.
fn run_first_behind(host: &HtmlElement, shell: &Element) {
    let into = host.clone();
    browser::prerendered::run_first(host.clone(), shell.clone(), move || {
        mount_to(into, || view! { <Playground loaded=url_state::load("") /> }).forget();
    });
}

fn put_back_address(href: &str) {
    let history = web_sys::window().unwrap().history().unwrap();
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(href))
        .unwrap();
}

/// Behind the prerendered copy, the page's first run is simulated before the page is built
/// (nothing is drawn while no one sees it); the page is then built with that finished run,
/// a part per task, and takes the copy's place once every part is there. Its run is the
/// default scenario's, whole: as many events as the engine's own run of it.
#[wasm_bindgen_test]
async fn behind_the_copy_the_page_is_built_with_its_finished_first_run() {
    let (host, shell, href) = copy_and_host();
    run_first_behind(&host, &shell);
    let root: Element = host.clone().unchecked_into();
    assert!(
        find(&root, "app-root").is_none(),
        "the page is built only once its first run is simulated"
    );
    until("the page to be built", || find(&root, "app-root").is_some()).await;
    assert_eq!(
        attr(&root, "app-root", "data-run-state"),
        "finished",
        "the page adopts the run simulated behind the copy instead of starting its own"
    );
    until("the page to take the copy's place", || {
        !shell.is_connected()
    })
    .await;
    assert!(!host.class_list().contains("app-pending"));
    assert!(
        root.query_selector("[data-later]").unwrap().is_none(),
        "a part of the page was still to be built when it replaced the copy"
    );
    assert!(
        find(&root, "knob-messages").is_some(),
        "the knob panel is there"
    );
    let engine = dsim_core::simulate(&url_state::load("").state.scenario).unwrap();
    assert_eq!(
        attr(&root, "time-travel", "data-events"),
        engine.events.to_string()
    );
    let default_query = url_state::load("").state.to_query();
    until("the address to name the scenario it loaded", || {
        browser::query() == default_query
    })
    .await;
    put_back_address(&href);
    host.remove();
}

/// A press on the copy while the first run is simulated finishes the run at once and puts
/// the whole page in the copy's place in the same task, so the next press lands on it.
#[wasm_bindgen_test]
async fn a_press_on_the_copy_puts_the_whole_page_in_its_place_at_once() {
    let (host, shell, href) = copy_and_host();
    run_first_behind(&host, &shell);
    let press = web_sys::PointerEvent::new("pointerdown").unwrap();
    shell.dispatch_event(&press).unwrap();
    let root: Element = host.clone().unchecked_into();
    assert!(!shell.is_connected(), "the copy is gone after the press");
    assert!(!host.class_list().contains("app-pending"));
    assert_eq!(attr(&root, "app-root", "data-run-state"), "finished");
    assert!(
        root.query_selector("[data-later]").unwrap().is_none(),
        "after a press the page is built whole, not a part per task"
    );
    put_back_address(&href);
    host.remove();
}

/// On another page (a book's chapter), a panic shows in each `<delivery-playground>` element,
/// in place of its view and inside its shadow root where the playground's stylesheet applies,
/// not at the end of a body that has none of it; once the element is gone, on the body again.
#[wasm_bindgen_test]
async fn a_panic_shows_in_each_element_on_another_page() {
    let (container, root) = shadow_container();
    let pairs = [("messages", "200"), ("view", "counters")];
    let mounted = browser::element::mount_element(container.clone(), attributes(&pairs), 4, "./");
    tick().await;
    until("the element's run finishes", || element_finished(&root)).await;
    browser::show_panic("panicked at src/x.rs: index out of bounds");
    assert!(
        document()
            .query_selector("[data-testid=\"panic-message\"]")
            .unwrap()
            .is_none(),
        "the page's body got the panel"
    );
    let panel = find(&root, "panic-message").expect("the panel in the element");
    assert_eq!(panel.get_attribute("class").as_deref(), Some("panic"));
    assert!(
        find(&root, "element-root").is_none(),
        "the stopped view is gone"
    );
    let text = panel.text_content().unwrap();
    assert!(
        text.contains("Reload the page to start again. If it happens again"),
        "{text}"
    );
    assert!(
        !text.contains("address"),
        "an element's address keeps nothing: {text}"
    );
    drop(mounted);
    browser::show_panic("again");
    let on_body = document()
        .query_selector("[data-testid=\"panic-message\"]")
        .unwrap()
        .expect("with no element mounted, the panel goes on the body");
    on_body.remove();
    container.remove();
}
