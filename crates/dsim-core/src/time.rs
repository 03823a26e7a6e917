//! Virtual time. The simulation never reads a clock: time is an integer count of microseconds
//! that only the event queue advances.

/// Simulated time or duration, in microseconds.
pub type Micros = u64;

/// Converts a user-facing duration in milliseconds to microseconds, once, at the edge.
/// `round` is exact in IEEE arithmetic, so every platform gets the same integer.
pub fn ms_to_us(ms: f64) -> Micros {
    if ms.is_finite() && ms > 0.0 {
        (ms * 1000.0).round() as Micros
    } else {
        0
    }
}

/// Microseconds as fractional milliseconds, for reports.
pub fn us_to_ms(us: Micros) -> f64 {
    us as f64 / 1000.0
}
