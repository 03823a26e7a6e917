//! The real-world systems table (`dsim_core::matrix`): every broker × mode on one scenario's
//! faults and seed, each cell the same as a single run of its own query.

use dsim_core::matrix::{cell_scenario, matrix};
use dsim_core::{Broker, Mode, Scenario};

use crate::support::{run, scenario};

#[test]
fn every_cell_equals_a_single_run_of_its_query_and_refusals_carry_the_reason() {
    let base = scenario("messages=800&crash-after-process=0.005&publish-ack-loss=0.03&seed=3");
    let cells = matrix(&base).unwrap();
    assert_eq!(cells.len(), Broker::ALL.len() * Mode::ALL.len());
    let mut order = Vec::new();
    for c in &cells {
        order.push((c.broker, c.mode));
        match (&c.refused, &c.outcome) {
            (Some(why), None) => assert_eq!(Some(why.as_str()), c.broker.refuses(c.mode)),
            (None, Some(o)) => {
                assert_eq!(c.broker.refuses(c.mode), None);
                let (s, errors) = Scenario::from_query(&o.query, &[]);
                assert!(errors.is_empty(), "{errors:?}");
                assert_eq!(s, cell_scenario(&base, c.broker, c.mode));
                let r = run(&s);
                assert_eq!(
                    (o.duplicates, o.lost, o.in_flight, o.held, o.status),
                    (
                        r.duplicates,
                        r.lost,
                        r.in_flight,
                        r.guarantee.held,
                        r.status
                    ),
                    "{:?} {:?}",
                    c.broker,
                    c.mode
                );
                assert_eq!(o.p99_ms, r.latency_ms.p99);
                assert_eq!(o.throughput_per_s, r.throughput_per_s);
            }
            other => panic!("a cell is either refused or run: {other:?}"),
        }
    }
    let expected: Vec<(Broker, Mode)> = Broker::ALL
        .into_iter()
        .flat_map(|b| Mode::ALL.into_iter().map(move |m| (b, m)))
        .collect();
    assert_eq!(order, expected);
}

#[test]
fn a_cell_on_another_broker_drops_only_the_settings_that_broker_lacks() {
    let base = scenario("broker=rabbitmq&prefetch=3&crash-after-process=0.01");
    let kafka = cell_scenario(&base, Broker::Kafka, Mode::ExactlyOnce);
    assert_eq!(kafka.prefetch, Scenario::default().prefetch);
    assert_eq!(kafka.crash_after_process, 0.01);
    let rabbit = cell_scenario(&base, Broker::RabbitMq, Mode::AtMostOnce);
    assert_eq!(rabbit.prefetch, 3);
}
