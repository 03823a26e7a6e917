//! The textbook scenarios as buttons. Choosing one sets every control to it; the user can change
//! anything afterwards.

use dsim_core::{Preset, presets};
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
    let buttons = presets()
        .iter()
        .enumerate()
        .map(|(i, p): (usize, &'static Preset)| {
            view! {
                <li>
                    <button
                        type="button"
                        class="preset"
                        data-testid=format!("preset-{}", p.key)
                        aria-pressed=move || (active.get() == Some(i)).to_string()
                        title=p.explanation
                        on:click=move |_| {
                            if let Ok(s) = p.scenario() {
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
        active.get().map(|i| {
            let p = &presets()[i];
            view! {
                <div class="preset-explanation" data-testid="preset-explanation">
                    <h3>{p.title}</h3>
                    <p>{p.explanation}</p>
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
