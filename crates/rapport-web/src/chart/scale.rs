//! Scales: a data value to a pixel position, and the tick values an axis labels.
//!
//! Both scales clamp to their range, so an out-of-domain value is drawn on the edge of the
//! plot instead of outside it.

/// A linear scale from a domain `(d0, d1)` onto a pixel range `(r0, r1)`.
///
/// The range may run backwards (a y axis maps the low end to the bottom pixel).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Linear {
    /// Maps `domain.0` to `range.0` and `domain.1` to `range.1`.
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Linear {
        Linear { d0: domain.0, d1: domain.1, r0: range.0, r1: range.1 }
    }

    /// The pixel position of `v`, clamped to the range.
    pub fn map(&self, v: f64) -> f64 {
        lerp(self.r0, self.r1, fraction(v, self.d0, self.d1))
    }

    /// About `target` ticks at a "nice" step (1, 2 or 5 × 10^k), all inside the domain,
    /// in ascending order.
    pub fn ticks(&self, target: usize) -> Vec<f64> {
        if !(self.d0.is_finite() && self.d1.is_finite()) {
            return Vec::new();
        }
        let (lo, hi) = (self.d0.min(self.d1), self.d0.max(self.d1));
        if lo == hi {
            return vec![lo];
        }
        let step = nice_step(hi - lo, target);
        // The slack keeps a bound that is itself a multiple of the step, despite rounding.
        let first = (lo / step - 1e-9).ceil() as i64;
        let last = (hi / step + 1e-9).floor() as i64;
        (first..=last).map(|i| multiple(i, step)).collect()
    }

    /// The same scale with its domain widened outward to the step [`Linear::ticks`] would
    /// use, so the axis starts and ends on a tick. A single-valued domain is first widened
    /// by 1 each way.
    pub fn nice(self, target: usize) -> Linear {
        if !(self.d0.is_finite() && self.d1.is_finite()) {
            return self;
        }
        let (mut lo, mut hi) = (self.d0.min(self.d1), self.d0.max(self.d1));
        if lo == hi {
            (lo, hi) = (lo - 1.0, hi + 1.0);
        }
        let step = nice_step(hi - lo, target);
        let lo = multiple((lo / step + 1e-9).floor() as i64, step);
        let hi = multiple((hi / step - 1e-9).ceil() as i64, step);
        let domain = if self.d0 <= self.d1 { (lo, hi) } else { (hi, lo) };
        Linear::new(domain, (self.r0, self.r1))
    }
}

/// A base-10 logarithmic scale from a positive domain `(d0, d1)`, `d0 < d1`, onto a pixel
/// range `(r0, r1)`: revenue spans several orders of magnitude, and a linear axis would crush
/// every small account onto the bottom edge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Log {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Log {
    /// Maps `domain.0` to `range.0` and `domain.1` to `range.1`. A domain with a bound that
    /// is not positive cannot be drawn on a log axis and falls back to 1..10; build domains
    /// from data with [`Log::covering`].
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Log {
        let valid = |v: f64| v > 0.0 && v.is_finite();
        let (d0, d1) = if valid(domain.0) && valid(domain.1) { domain } else { (1.0, 10.0) };
        Log { d0, d1, r0: range.0, r1: range.1 }
    }

    /// The smallest whole-decade domain, `(10^a, 10^b)`, holding both `min_positive` and
    /// `max`. A single value gets the decade it starts; with nothing positive the domain is
    /// 1..10, so an empty chart still has an axis.
    pub fn covering(min_positive: f64, max: f64) -> (f64, f64) {
        let valid = |v: f64| v > 0.0 && v.is_finite();
        let (lo, hi) = match (valid(min_positive), valid(max)) {
            (true, true) => (min_positive.min(max), min_positive.max(max)),
            (true, false) => (min_positive, min_positive),
            (false, true) => (max, max),
            (false, false) => return (1.0, 10.0),
        };
        let (a, b) = (decade_floor(lo), decade_ceil(hi));
        (pow10(a), pow10(if b > a { b } else { a + 1 }))
    }

    /// The pixel position of `v`. Values at or below zero, or below the domain, sit at
    /// `range.0` (the bottom of a y axis), so an account with nothing billed is still drawn.
    pub fn map(&self, v: f64) -> f64 {
        if v.is_nan() || v <= self.d0 {
            return self.r0;
        }
        lerp(self.r0, self.r1, fraction(v.log10(), self.d0.log10(), self.d1.log10()))
    }

    /// The powers of ten inside the domain, in ascending order, thinned to every second
    /// (third, ...) decade when there are more than `target`. A domain spanning fewer than
    /// two decades would get one or two ticks, so it also gets the 2× and 5× multiples.
    pub fn ticks(&self, target: usize) -> Vec<f64> {
        let (lo, hi) = (self.d0.min(self.d1), self.d0.max(self.d1));
        let inside = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
        if (hi / lo).log10() < 2.0 - 1e-9 {
            let decades = decade_floor(lo)..=decade_floor(hi);
            return decades.flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * pow10(k))).filter(|&v| inside(v)).collect();
        }
        let (first, last) = (decade_ceil(lo), decade_floor(hi));
        let count = (last - first + 1) as usize;
        let every = count.div_ceil(target.max(1)) as i32;
        (first..=last).filter(|k| (k - first) % every == 0).map(pow10).collect()
    }
}

/// A compact money label for axes and bubbles, from cents: "$0", "$950", "$1.2k", "$35k",
/// "$1.5M", "$2B". One decimal only below 10 of the unit, and never a trailing ".0".
pub fn money_short(cents: f64) -> String {
    const UNITS: [(f64, &str); 4] = [(1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "B")];
    let dollars = (cents / 100.0).abs();
    let mut unit = UNITS.iter().rposition(|&(size, _)| dollars >= size).unwrap_or(0);
    let mut text = amount_text(dollars / UNITS[unit].0);
    // 999.6 rounds to "1000": say "$1k" instead, as the next unit up would.
    if text == "1000" && unit + 1 < UNITS.len() {
        unit += 1;
        text = amount_text(dollars / UNITS[unit].0);
    }
    let sign = if cents < 0.0 && text != "0" { "-" } else { "" };
    format!("{sign}${text}{}", UNITS[unit].1)
}

/// `v` with one decimal below 10 and none from there, without a trailing ".0".
fn amount_text(v: f64) -> String {
    let text = if v < 9.95 { format!("{v:.1}") } else { format!("{v:.0}") };
    match text.strip_suffix(".0") {
        Some(whole) => whole.to_string(),
        None => text,
    }
}

/// Where `v` lies in `d0..d1`, from 0 to 1 (clamped). A single-valued domain puts its value
/// in the middle; NaN counts as the start.
fn fraction(v: f64, d0: f64, d1: f64) -> f64 {
    let t = if d0 == d1 {
        if v < d0 {
            0.0
        } else if v > d0 {
            1.0
        } else {
            0.5
        }
    } else {
        (v - d0) / (d1 - d0)
    };
    if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) }
}

fn lerp(r0: f64, r1: f64, t: f64) -> f64 {
    r0 + t * (r1 - r0)
}

/// The 1, 2 or 5 × 10^k step that cuts `span` into about `target` pieces (d3's rule: the
/// candidate nearest to `span / target`, compared on a log scale).
fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    let unit = pow10(raw.log10().floor() as i32);
    let error = raw / unit;
    let factor = if error >= 50f64.sqrt() {
        10.0
    } else if error >= 10f64.sqrt() {
        5.0
    } else if error >= 2f64.sqrt() {
        2.0
    } else {
        1.0
    };
    factor * unit
}

/// `i × step`. Below 1 it divides by the (whole) inverse instead, so a 0.1 step gives 0.3,
/// not 0.30000000000000004; `+ 0.0` turns -0 into 0 so a label never reads "-0".
fn multiple(i: i64, step: f64) -> f64 {
    let v = if step < 1.0 { i as f64 / (1.0 / step).round() } else { i as f64 * step };
    v + 0.0
}

/// 10^k, correctly rounded for |k| <= 22 (powers of ten up to 1e22 are exact doubles).
fn pow10(k: i32) -> f64 {
    if k >= 0 { 10f64.powi(k) } else { 1.0 / 10f64.powi(-k) }
}

/// The largest k with 10^k <= v, for positive v. `log10` alone can land a hair off at exact
/// powers, so the guess is checked against `pow10`.
fn decade_floor(v: f64) -> i32 {
    let k = v.log10().floor() as i32;
    if pow10(k) > v {
        k - 1
    } else if pow10(k + 1) <= v {
        k + 1
    } else {
        k
    }
}

/// The smallest k with 10^k >= v, for positive v.
fn decade_ceil(v: f64) -> i32 {
    let k = decade_floor(v);
    if pow10(k) == v { k } else { k + 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_maps_the_domain_onto_the_range_and_clamps_outside_it() {
        let y = Linear::new((-100.0, 100.0), (300.0, 100.0));
        assert_eq!(y.map(-100.0), 300.0);
        assert_eq!(y.map(0.0), 200.0);
        assert_eq!(y.map(100.0), 100.0);
        assert_eq!(y.map(250.0), 100.0);
        assert_eq!(y.map(-250.0), 300.0);
    }

    #[test]
    fn linear_ticks_step_by_one_two_or_five_and_stay_inside_the_domain() {
        let ticks = |d0, d1, n| Linear::new((d0, d1), (0.0, 1.0)).ticks(n);
        assert_eq!(ticks(-100.0, 100.0, 4), [-100.0, -50.0, 0.0, 50.0, 100.0]);
        assert_eq!(ticks(0.0, 1.0, 5), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(ticks(0.0, 0.3, 3), [0.0, 0.1, 0.2, 0.3]);
        assert_eq!(ticks(3.0, 97.0, 5), [20.0, 40.0, 60.0, 80.0]);
        assert_eq!(ticks(7.0, 7.0, 5), [7.0]);
        assert!(ticks(0.0, f64::NAN, 5).is_empty());
        assert!(ticks(f64::NEG_INFINITY, 1.0, 5).is_empty());
    }

    #[test]
    fn a_tick_at_zero_is_never_negative_zero() {
        let ticks = Linear::new((-0.5, 10.0), (0.0, 1.0)).ticks(5);
        assert_eq!(ticks[0].to_string(), "0");
    }

    #[test]
    fn nice_widens_the_domain_to_whole_steps() {
        assert_eq!(Linear::new((3.0, 97.0), (0.0, 1.0)).nice(5).ticks(5), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(Linear::new((42.0, 42.0), (0.0, 1.0)).nice(4).ticks(4), [41.0, 41.5, 42.0, 42.5, 43.0]);
    }

    #[test]
    fn log_maps_decades_evenly_and_puts_nothing_at_the_bottom() {
        let y = Log::new((100.0, 100_000.0), (300.0, 0.0));
        assert_eq!(y.map(100.0), 300.0);
        assert_eq!(y.map(1_000.0), 200.0);
        assert_eq!(y.map(100_000.0), 0.0);
        assert_eq!(y.map(0.0), 300.0);
        assert_eq!(y.map(-5.0), 300.0);
        assert_eq!(y.map(3.0), 300.0);
        assert_eq!(y.map(1e9), 0.0);
    }

    #[test]
    fn log_covering_widens_to_whole_decades() {
        assert_eq!(Log::covering(3_500.0, 72_000.0), (1_000.0, 100_000.0));
        assert_eq!(Log::covering(1_000.0, 100_000.0), (1_000.0, 100_000.0));
        assert_eq!(Log::covering(0.05, 0.5), (0.01, 1.0));
        assert_eq!(Log::covering(500.0, 500.0), (100.0, 1_000.0));
        assert_eq!(Log::covering(1_000.0, 1_000.0), (1_000.0, 10_000.0));
        assert_eq!(Log::covering(0.0, 0.0), (1.0, 10.0));
        assert_eq!(Log::covering(f64::INFINITY, -1.0), (1.0, 10.0));
        assert_eq!(Log::covering(0.0, 2_000.0), (1_000.0, 10_000.0));
    }

    #[test]
    fn log_ticks_are_the_powers_of_ten_inside_the_domain() {
        let ticks = |d0, d1, n| Log::new((d0, d1), (0.0, 1.0)).ticks(n);
        assert_eq!(ticks(1e5, 1e9, 10), [1e5, 1e6, 1e7, 1e8, 1e9]);
        assert_eq!(ticks(3e4, 5e9, 10), [1e5, 1e6, 1e7, 1e8, 1e9]);
        assert_eq!(ticks(1.0, 1e8, 5), [1.0, 1e2, 1e4, 1e6, 1e8]);
        assert_eq!(ticks(1.0, 1e8, 3), [1.0, 1e3, 1e6]);
    }

    #[test]
    fn a_log_domain_under_two_decades_also_gets_twos_and_fives() {
        let ticks = |d0, d1| Log::new((d0, d1), (0.0, 1.0)).ticks(10);
        assert_eq!(ticks(100.0, 1_000.0), [100.0, 200.0, 500.0, 1_000.0]);
        assert_eq!(ticks(0.01, 0.5), [0.01, 0.02, 0.05, 0.1, 0.2, 0.5]);
        assert_eq!(ticks(100.0, 10_000.0), [100.0, 1_000.0, 10_000.0]);
    }

    #[test]
    fn a_log_domain_that_is_not_positive_falls_back_to_one_decade() {
        assert_eq!(Log::new((0.0, 1e6), (0.0, 1.0)).ticks(10), [1.0, 2.0, 5.0, 10.0]);
    }

    #[test]
    fn money_short_is_compact() {
        let cases = [
            (0.0, "$0"),
            (95_000.0, "$950"),
            (99_960.0, "$1k"),
            (120_000.0, "$1.2k"),
            (1_000_000.0, "$10k"),
            (3_500_000.0, "$35k"),
            (99_990_000.0, "$1M"),
            (150_000_000.0, "$1.5M"),
            (200_000_000_000.0, "$2B"),
            (350.0, "$3.5"),
            (-120_000.0, "-$1.2k"),
            (-20.0, "-$0.2"),
            (-1.0, "$0"),
        ];
        for (cents, text) in cases {
            assert_eq!(money_short(cents), text, "{cents}");
        }
    }
}
