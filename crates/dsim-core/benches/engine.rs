//! Criterion benchmarks of the engine: simulated messages per second of wall time for every
//! mode, without faults and with the standard 10 % fault mix (see `bench_scenario`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dsim_core::presets::bench_scenario;
use dsim_core::{Mode, Simulation};

const MESSAGES: u32 = 50_000;

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate");
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.sample_size(10);
    for mode in Mode::ALL {
        for (faulty, label) in [(false, "0%"), (true, "10%")] {
            let scenario = bench_scenario(mode, MESSAGES, faulty);
            group.bench_with_input(BenchmarkId::new(mode.key(), label), &scenario, |b, s| {
                b.iter(|| {
                    let mut sim = Simulation::new(s);
                    sim.run_to_end();
                    sim.report().unique_processed
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
