//! The panels below the dashboard: the fault-timeline editor, time travel, the in-flight view,
//! exports, the per-message timeline, the comparison of modes, the real-world systems table and
//! sweeps.
//!
//! In the page's release build they are a second wasm chunk (build.rs sets `dsim_split`), which
//! the page fetches once the dashboard is mounted: the dashboard, which is what a reader of an
//! embedded playground sees and what a slider redraws, starts from the smaller module. Every
//! other build (`trunk serve`, the wasm tests) renders the same panels in place.

use leptos::prelude::*;

use crate::compare::Compare;
use crate::exports::RunExports;
use crate::matrix_view::MatrixPanel;
use crate::script_editor::ScriptEditor;
use crate::sweep_view::SweepPanel;
use crate::time_travel_view::{InFlightView, TimeTravelPanel};
use crate::timeline::Timeline;

/// A group of panels that sit together in the page. (The prop is `group`, not `slot`: in
/// `view!`, a `slot` attribute marks a Leptos slot, and the component silently vanishes.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Group {
    /// The fault-timeline editor, in the sidebar.
    FaultScript,
    /// Time travel, above the run's summary.
    TimeTravel,
    /// Everything below the charts.
    Results,
    /// One panel alone, for a `<delivery-playground>` element's view (`components/element.rs`).
    Compare,
    Timeline,
    Matrix,
}

impl Group {
    fn view(self) -> AnyView {
        match self {
            Group::FaultScript => view! { <ScriptEditor /> }.into_any(),
            Group::TimeTravel => view! { <TimeTravelPanel /> }.into_any(),
            Group::Results => view! {
                <InFlightView />
                <RunExports />
                <Timeline />
                <Compare />
                <MatrixPanel />
                <SweepPanel />
            }
            .into_any(),
            Group::Compare => view! { <Compare /> }.into_any(),
            Group::Timeline => view! { <Timeline /> }.into_any(),
            Group::Matrix => view! { <MatrixPanel /> }.into_any(),
        }
    }
}

/// Whether the panels' code is there to run. One per page: every group waits on the same
/// fetch, and one press of Try again retries it for all.
#[derive(Clone, Copy)]
pub struct PanelsChunk {
    state: RwSignal<ChunkState>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkState {
    Loading,
    Loaded,
    // Only a split build fetches anything that can fail.
    #[cfg_attr(not(dsim_split), allow(dead_code))]
    Failed,
}

impl PanelsChunk {
    /// Starts fetching the panels' chunk; in an unsplit build the panels are already there.
    pub fn load() -> PanelsChunk {
        let chunk = PanelsChunk {
            state: RwSignal::new(ChunkState::Loading),
        };
        chunk.fetch();
        chunk
    }

    #[cfg(not(dsim_split))]
    fn fetch(self) {
        self.state.set(ChunkState::Loaded);
    }

    #[cfg(dsim_split)]
    fn fetch(self) {
        self.state.set(ChunkState::Loading);
        leptos::task::spawn_local(async move {
            match split::load_panels_chunk().await {
                // Built in a task of their own, not in the one that resolved the fetch: a chunk
                // already there (a second element, Try again) resolves within the task that
                // built the page, and the two together blocked a phone for twice as long.
                Ok(()) => set_timeout(
                    move || self.state.set(ChunkState::Loaded),
                    Default::default(),
                ),
                Err(err) => {
                    crate::browser::log_error(&format!("dsim: the panels' chunk: {err}"));
                    self.state.set(ChunkState::Failed);
                }
            }
        });
    }
}

/// What the page says when the panels' chunk did not load.
const NOT_LOADED: &str = "Part of the page did not load: the fault timeline, time travel and the panels below the charts (in flight, exports, message timeline, compare, real-world systems, sweep). The dashboard above works without them.";

/// The panels of one group, once their code is there. The page's other groups say nothing
/// while the chunk loads or when it fails: the results group speaks for all.
#[component]
pub fn LowerPanels(group: Group, chunk: PanelsChunk) -> impl IntoView {
    // The page's sidebar and time-travel groups say nothing: the results group speaks for all.
    let speaks = !matches!(group, Group::FaultScript | Group::TimeTravel);
    move || match chunk.state.get() {
        // The panels under the charts in a box of their own (`display: contents`, so the
        // layout is as without it), which the prerendered first paint leaves out: it holds
        // what is above them, and keeps index.html small enough to be drawn whole.
        ChunkState::Loaded if speaks => {
            view! { <div class="lower-results">{loaded(group)}</div> }.into_any()
        }
        ChunkState::Loaded => loaded(group),
        ChunkState::Loading if speaks => view! {
            <p class="hint panels-loading" data-testid="panels-loading">
                "Loading the panels below…"
            </p>
        }
        .into_any(),
        ChunkState::Failed if speaks => view! {
            <p class="panels-failed" role="alert" data-testid="panels-failed">
                {NOT_LOADED}
                <button type="button" on:click=move |_| chunk.fetch()>
                    "Try again"
                </button>
            </p>
        }
        .into_any(),
        ChunkState::Loading | ChunkState::Failed => ().into_any(),
    }
}

#[cfg(not(dsim_split))]
fn loaded(group: Group) -> AnyView {
    group.view()
}

/// The chunk is there, so the call into it resolves at once; `Suspend` builds the panels
/// under this component's owner, where they find the page's context.
#[cfg(dsim_split)]
fn loaded(group: Group) -> AnyView {
    view! {
        <Suspense>
            {move || {
                Suspend::new(send_wrapper::SendWrapper::new(async move {
                    split::panels(group).await.unwrap_or_else(|_| ().into_any())
                }))
            }}
        </Suspense>
    }
    .into_any()
}

#[cfg(dsim_split)]
mod split {
    use leptos::prelude::*;
    use wasm_split_helpers::{SplitLoaderError, wasm_split};

    use super::Group;

    // `fallible`: a chunk that fails to load (the network, a redeploy) is an error the page
    // shows, with a retry; without it the loader panics, which stops the whole page.
    #[wasm_split(lower_panels, fallible, preload(load_panels_chunk))]
    pub fn panels(group: Group) -> Result<AnyView, SplitLoaderError> {
        Ok(group.view())
    }
}
