//! Tests of the whole simulation, as stories: the textbook failure cases, the guarantees as
//! properties, the statistics against probability theory, termination under hopeless fault
//! mixes, scenario input from every door, determinism, sweeps and exports. One test binary,
//! one module per story (matklad's advice: fewer, larger test binaries link and run faster).

#[cfg(test)]
mod support;

#[cfg(test)]
mod books;

#[cfg(test)]
mod architecture_map;

#[cfg(test)]
mod textbook_cases;

#[cfg(test)]
mod kafka_offsets;

#[cfg(test)]
mod backlog;

#[cfg(test)]
mod rabbitmq;

#[cfg(test)]
mod matrix;

#[cfg(test)]
mod sqs;

#[cfg(test)]
mod guarantees;

#[cfg(test)]
mod statistics;

#[cfg(test)]
mod theory_drift;

#[cfg(test)]
mod termination;

#[cfg(test)]
mod scenario_input;

#[cfg(test)]
mod determinism;

#[cfg(test)]
mod scripted_faults;

#[cfg(test)]
mod sweep;

#[cfg(test)]
mod exports;

#[cfg(test)]
mod trap_and_zombies;

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod page_hardening;

#[cfg(test)]
mod time_travel;

#[cfg(test)]
mod producer;

#[cfg(test)]
mod replication;

#[cfg(test)]
mod capacity;

#[cfg(test)]
mod examples;

#[cfg(test)]
mod preset_claims;
