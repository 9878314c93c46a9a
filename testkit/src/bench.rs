//! Side-by-side measurement for benchmarks: Realm and a baseline timed in alternating slices, so
//! that a change in the machine's load affects both alike.

use std::time::{Duration, Instant};

/// Runs `rounds` rounds. Each round first calls `prepare` (untimed; e.g. makes one-time tokens
/// for both sides), then times `ours` and `baseline` on what it made, the order alternating
/// between rounds. Each side does `per_slice` operations per call. Returns the median rates of
/// both sides, in operations per second.
pub fn interleaved<S>(
    rounds: usize,
    per_slice: usize,
    mut prepare: impl FnMut() -> S,
    mut ours: impl FnMut(&S),
    mut baseline: impl FnMut(&S),
) -> (f64, f64) {
    let time = |f: &mut dyn FnMut(&S), s: &S| {
        let t = Instant::now();
        f(s);
        rate(per_slice, t.elapsed())
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let s = prepare();
        if round % 2 == 0 {
            a.push(time(&mut ours, &s));
            b.push(time(&mut baseline, &s));
        } else {
            b.push(time(&mut baseline, &s));
            a.push(time(&mut ours, &s));
        }
    }
    (median(a), median(b))
}

/// `n` operations in `d`, per second.
pub fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(f64::MIN_POSITIVE)
}

/// The median (0 for none).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
