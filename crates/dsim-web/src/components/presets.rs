//! The textbook scenarios as buttons. Choosing one sets every control to it; the user can change
//! anything afterwards, and the story stays on screen while they do (a preset's advice is
//! usually "now switch this on"), with the settings they changed from it.

use dsim_core::{Preset, Scenario, knobs, presets, script};
use leptos::prelude::*;

use crate::store::use_store;

#[component]
pub fn Presets() -> impl IntoView {
    let store = use_store();
    // The preset the controls currently match, if any: set by a click, or recognised when a
    // link or the welcome scenario happens to be one.
    let active = Memo::new(move |_| {
        store.scenario.with(|s| {
            presets()
                .iter()
                .position(|p| p.scenario().is_ok_and(|ps| ps == *s))
        })
    });
    // The story on screen: the last preset the controls matched, kept while the learner
    // tries its advice, until another preset is chosen or the story is closed. A memo that
    // keeps its previous value, not an effect that writes a signal: the controls then update
    // in the same pass as the preset's buttons.
    let last = Memo::new(move |previous: Option<&Option<usize>>| {
        active.get().or(previous.copied().flatten())
    });
    let closed = RwSignal::new(None::<usize>);
    let story = Memo::new(move |_| last.get().filter(|i| closed.get() != Some(*i)));
    let buttons = presets()
        .iter()
        .enumerate()
        .map(|(i, p): (usize, &'static Preset)| {
            view! {
                <li>
                    <button
                        type="button"
                        class="preset"
                        class:story=move || story.get() == Some(i) && active.get() != Some(i)
                        data-testid=format!("preset-{}", p.key)
                        aria-pressed=move || (active.get() == Some(i)).to_string()
                        title=p.explanation
                        on:click=move |_| {
                            if let Ok(s) = p.scenario() {
                                closed.set(None);
                                store.set_scenario(s);
                            }
                        }
                    >
                        {p.title}
                    </button>
                </li>
            }
        })
        .collect_view();
    let explanation = move || {
        story.get().map(|i| {
            let p = &presets()[i];
            let changed = move || {
                let from = p.scenario().ok()?;
                let changes = store.scenario.with(|now| changes_from(&from, now));
                (!changes.is_empty()).then(|| {
                    view! {
                        <p class="preset-changes" data-testid="preset-changes">
                            {format!("You changed {} from the preset.", changes.join(", "))}
                        </p>
                    }
                })
            };
            view! {
                <div class="preset-explanation" data-testid="preset-explanation">
                    <div class="preset-explanation-head">
                        <h3>{p.title}</h3>
                        <button
                            type="button"
                            class="link"
                            data-testid="preset-close"
                            aria-label="Close the preset's story"
                            on:click=move |_| closed.set(Some(i))
                        >
                            "×"
                        </button>
                    </div>
                    <p>{p.explanation}</p>
                    {changed}
                </div>
            }
        })
    };
    view! {
        <section class="presets">
            <h2>"Presets"</h2>
            <ul class="preset-list">{buttons}</ul>
            {explanation}
        </section>
    }
}

/// Each setting that differs between a preset and the scenario now, as `key old → new`, in
/// the knob table's order (the script last).
pub fn changes_from(preset: &Scenario, now: &Scenario) -> Vec<String> {
    let mut changes: Vec<String> = knobs()
        .iter()
        .filter_map(|k| {
            let (was, is) = (k.get_text(preset), k.get_text(now));
            (was != is).then(|| format!("{} {was} → {is}", k.key))
        })
        .collect();
    if preset.script != now.script {
        changes.push(format!("the fault {}", script::SCRIPT_KEY));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_changes_from_a_preset_name_each_setting_with_its_old_and_new_value() {
        let preset = presets()
            .iter()
            .find(|p| p.key == "exactly-once-trap")
            .unwrap();
        let from = preset.scenario().unwrap();
        assert!(changes_from(&from, &from).is_empty());
        let mut now = from.clone();
        now.set("idempotency-key", "on").unwrap();
        now.set("mode", "at-least-once").unwrap();
        assert_eq!(
            changes_from(&from, &now),
            [
                "mode exactly-once → at-least-once",
                "idempotency-key off → on"
            ]
        );
    }
}
