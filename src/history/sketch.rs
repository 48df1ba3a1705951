//! Bounded-memory median of durations.
//!
//! A [`Sketch`] keeps values exactly until it holds [`EXACT_LIMIT`] of them, then
//! switches to a log-scale histogram whose bins grow by 2 % (≈ 1,050 bins from
//! 1 s to 30 years), so its memory never exceeds a few kilobytes. A median read
//! from the histogram is the geometric centre of its bin: within ±1 % of the
//! true median. Hand-sized histories therefore get exact medians and
//! million-event histories bounded memory.

/// Values kept exactly before switching to the histogram.
pub const EXACT_LIMIT: usize = 512;

const RATIO: f64 = 1.02;
/// Bin 0 holds everything below 1 second; bin i ≥ 1 holds [RATIO^(i-1), RATIO^i).
const BINS: usize = 1100;

#[derive(Debug, Clone, PartialEq)]
pub enum Sketch {
    Exact(Vec<f64>),
    Histogram { bins: Box<[u32]>, count: u64 },
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch::Exact(Vec::new())
    }
}

fn bin_of(value: f64) -> usize {
    if value < 1.0 || value.is_nan() {
        return 0;
    }
    let i = (value.ln() / RATIO.ln()).floor() as usize + 1;
    i.min(BINS - 1)
}

fn bin_centre(bin: usize) -> f64 {
    if bin == 0 {
        return 0.5;
    }
    // Geometric centre of [RATIO^(bin-1), RATIO^bin).
    RATIO.powf(bin as f64 - 0.5)
}

impl Sketch {
    pub fn len(&self) -> u64 {
        match self {
            Sketch::Exact(v) => v.len() as u64,
            Sketch::Histogram { count, .. } => *count,
        }
    }

    pub fn is_exact(&self) -> bool {
        matches!(self, Sketch::Exact(_))
    }

    pub fn add(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        match self {
            Sketch::Exact(values) if values.len() < EXACT_LIMIT => values.push(value),
            Sketch::Exact(_) => {
                self.switch_to_histogram();
                self.add(value);
            }
            Sketch::Histogram { bins, count } => {
                if let Some(slot) = bins.get_mut(bin_of(value)) {
                    *slot = slot.saturating_add(1);
                }
                *count += 1;
            }
        }
    }

    fn switch_to_histogram(&mut self) {
        if let Sketch::Exact(values) = self {
            let mut bins = vec![0u32; BINS].into_boxed_slice();
            for &v in values.iter() {
                if let Some(slot) = bins.get_mut(bin_of(v)) {
                    *slot = slot.saturating_add(1);
                }
            }
            let count = values.len() as u64;
            *self = Sketch::Histogram { bins, count };
        }
    }

    /// Add every value of another sketch (exact stays exact while it fits).
    pub fn merge(&mut self, other: &Sketch) {
        match other {
            Sketch::Exact(values) => values.iter().for_each(|&v| self.add(v)),
            Sketch::Histogram {
                bins: theirs,
                count,
            } => {
                self.switch_to_histogram();
                if let Sketch::Histogram { bins, count: mine } = self {
                    for (slot, &n) in bins.iter_mut().zip(theirs.iter()) {
                        *slot = slot.saturating_add(n);
                    }
                    *mine += count;
                }
            }
        }
    }

    /// The median; `None` when empty.
    pub fn median(&self) -> Option<f64> {
        match self {
            Sketch::Exact(values) => median(values),
            Sketch::Histogram { bins, count } => {
                if *count == 0 {
                    return None;
                }
                // Lower median rank (1-based), as the histogram cannot average two bins.
                let rank = count.div_ceil(2);
                let mut seen = 0u64;
                for (bin, &n) in bins.iter().enumerate() {
                    seen += u64::from(n);
                    if seen >= rank {
                        return Some(bin_centre(bin));
                    }
                }
                None
            }
        }
    }
}

/// Exact median (mean of the two middle values for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted.get(mid).copied()
    } else {
        Some((sorted.get(mid - 1)? + sorted.get(mid)?) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_median_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn histogram_median_within_one_percent() {
        let mut sketch = Sketch::default();
        // 1..=10_001 seconds: true median 5_001.
        for v in 1..=10_001 {
            sketch.add(f64::from(v));
        }
        assert!(!sketch.is_exact());
        assert_eq!(sketch.len(), 10_001);
        let m = sketch.median().unwrap();
        assert!((m - 5001.0).abs() / 5001.0 < 0.01, "{m}");
    }

    #[test]
    fn merge_keeps_counts() {
        let mut a = Sketch::default();
        let mut b = Sketch::default();
        for v in 0..600 {
            b.add(f64::from(v) + 100.0);
        }
        a.add(1.0);
        a.merge(&b);
        assert_eq!(a.len(), 601);
        let m = a.median().unwrap();
        // Sorted: 1, 100..699 → 301st value is 399.
        assert!((m - 399.0).abs() / 399.0 < 0.01, "{m}");
    }
}
