//! The broker families. Each is a folder; the engine calls into the family the scenario names.

pub(crate) mod kafka;
