//! Memory grows with the messages in flight, not with the length of the run: a run ten times
//! longer holds about the same heap at its peak. What is allowed to grow is bounded apart
//! from the run's length: the aggregate metrics (a latency histogram and a time series of at
//! most a fixed number of buckets), and the dedup store, which keeps each ID for its
//! retention window (the storage that deduplication costs, on purpose).
//!
//! A test binary of its own, because it swaps in a global allocator that counts bytes, and
//! one test in it, so nothing else allocates while a run is measured. A scenario's peak heap
//! is the same every time (the same allocations in the same order), so the bounds below
//! cannot flake; they are budgets, chosen with room over what the simulator needs today.

use std::alloc::System;

use dsim_core::presets::bench_scenario;
use dsim_core::{Mode, Scenario, Simulation, Status};
use peakmem_alloc::{INSTRUMENTED_SYSTEM, PeakMemAlloc, PeakMemAllocTrait};

#[global_allocator]
static HEAP: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Budget per extra message in flight at the peak. On average a message in flight costs
/// 95-140 bytes (`dsim bench`, 2026-11-24), but at the margin more: the queues it sits in grow
/// by doubling, and an idempotent producer's window resends it with its batch (an event and
/// a timer per send). At-least-once with 10 % faults peaked at 1.26, 1.62 and 1.86 MB with
/// 5,464, 6,163 and 6,522 messages in flight for 10 k, 100 k and 1 M messages (2026-12-07):
/// about 520 and 660 bytes per extra message in flight, and nothing per extra message run.
const BYTES_PER_IN_FLIGHT: usize = 768;
/// Budget per slot of the dedup store's capacity: an ID's slot and its place in the expiry
/// order are 24 bytes each, and both grow by doubling, so the store's heap follows the next
/// power of two of the IDs it holds; while it grows, the old and the new table are both alive.
const BYTES_PER_DEDUP_SLOT: usize = 96;

/// The heap budget of a dedup store holding `ids` IDs.
fn dedup_budget(ids: usize) -> usize {
    ids.next_power_of_two() * BYTES_PER_DEDUP_SLOT
}
/// What the message table may hold whatever the count in flight (`MsgTable`'s
/// `WINDOW_SLACK`): 1,024 resolved slots of 32 bytes behind a straggler, in a deque that grows
/// by half again. A longer run meets more stragglers, so it may use this slack where a short
/// one did not.
const TABLE_SLACK_BYTES: usize = 1024 * 32 * 3 / 2;

struct Peak {
    heap: usize,
    in_flight: usize,
    dedup_ids: usize,
}

fn peak(scenario: &Scenario) -> Peak {
    HEAP.reset_peak_memory();
    let mut sim = Simulation::new(scenario);
    sim.run_to_end();
    let heap = HEAP.get_peak_memory();
    let report = sim.report();
    assert_eq!(report.status, Status::Drained, "{:?}", scenario.mode);
    Peak {
        heap,
        in_flight: report.cost.peak_in_flight_messages as usize,
        dedup_ids: report.cost.dedup_store_peak as usize,
    }
}

#[test]
fn a_run_ten_times_longer_holds_no_more_heap_than_its_extra_messages_in_flight_need() {
    for mode in Mode::ALL {
        let short = Scenario {
            // Shorter than the runs, so the store's size is set by the window, not the run.
            dedup_window_ms: 2_000.0,
            ..bench_scenario(mode, 10_000, true)
        };
        let long = Scenario {
            messages: 100_000,
            ..short.clone()
        };
        let (short, long) = (peak(&short), peak(&long));
        // A longer run meets rarer bursts (a broker crash, a crash mid-batch), so its peak in
        // flight is higher, and so is the dedup store's after a burst of processing; each
        // extra message in flight or ID held may cost its budget. Before the message table
        // let a straggler hold every later slot, at-least-once grew by about 900 bytes per
        // extra message in flight here.
        let extra_in_flight = long.in_flight.saturating_sub(short.in_flight);
        let extra_ids = dedup_budget(long.dedup_ids).saturating_sub(dedup_budget(short.dedup_ids));
        let allowed =
            short.heap + TABLE_SLACK_BYTES + extra_in_flight * BYTES_PER_IN_FLIGHT + extra_ids;
        eprintln!(
            "{mode:?}: {} -> {} bytes at peak, {} -> {} messages in flight, {} -> {} dedup IDs \
             (allowed {allowed})",
            short.heap, long.heap, short.in_flight, long.in_flight, short.dedup_ids, long.dedup_ids
        );
        assert!(
            long.heap <= allowed,
            "{mode:?}: 10,000 messages peaked at {} bytes with {} in flight, 100,000 at {} \
             bytes with {} in flight: more than {BYTES_PER_IN_FLIGHT} bytes per extra message \
             in flight (and {BYTES_PER_DEDUP_SLOT} per extra slot of the dedup store)",
            short.heap,
            short.in_flight,
            long.heap,
            long.in_flight
        );
    }
}
