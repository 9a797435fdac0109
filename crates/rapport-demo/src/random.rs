//! Deterministic randomness: one RNG per account, seeded from (seed, index), so any account
//! can be generated alone, in any order, on any thread, and come out the same.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator every account draws from: ChaCha8 is portable (same stream on every
/// platform and rand version in the 0.8 line) and fast enough for millions of draws.
pub(crate) type DemoRng = ChaCha8Rng;

/// SplitMix64's finaliser: turns neighbouring integers into unrelated ones.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The RNG of account `index` in a portfolio generated from `seed`.
pub(crate) fn account_rng(seed: u64, index: usize) -> DemoRng {
    DemoRng::seed_from_u64(splitmix64(seed ^ splitmix64(index as u64 ^ 0x5EED_ACC0_0000_0000)))
}

/// A standard normal draw (Box-Muller; one of the pair is thrown away, which is cheaper
/// than carrying state around).
pub(crate) fn normal(rng: &mut DemoRng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// An index into `weights`, drawn in proportion to them.
pub(crate) fn weighted(rng: &mut DemoRng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut pick = rng.gen_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if pick < w {
            return i;
        }
        pick -= w;
    }
    weights.len() - 1
}

/// One element of a non-empty slice.
pub(crate) fn pick<T: Copy>(rng: &mut DemoRng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

/// A bijection of `0..domain` keyed by `key`: a four-round Feistel network over the next
/// even power of two, walked until it lands inside the domain. It hands every account a
/// distinct name without remembering the names already given, and without the visible
/// stride an affine map would leave.
pub(crate) fn permute(x: u64, domain: u64, key: u64) -> u64 {
    debug_assert!(x < domain);
    let bits = (64 - domain.saturating_sub(1).leading_zeros()).max(2);
    let half = bits.div_ceil(2);
    let mask = (1u64 << half) - 1;
    let mut v = x;
    loop {
        let (mut left, mut right) = (v >> half, v & mask);
        for round in 0..4u64 {
            let f = splitmix64(right ^ key.wrapping_add(round.wrapping_mul(0xA24B_AED4_963E_E407))) & mask;
            (left, right) = (right, left ^ f);
        }
        v = (left << half) | right;
        if v < domain {
            return v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_is_a_bijection() {
        for domain in [1u64, 2, 7, 100, 2688] {
            let mut seen = vec![false; domain as usize];
            for x in 0..domain {
                let y = permute(x, domain, 42) as usize;
                assert!(!seen[y], "{domain}: {x} collides");
                seen[y] = true;
            }
        }
    }

    #[test]
    fn normal_draws_have_unit_spread() {
        let mut rng = account_rng(7, 0);
        let xs: Vec<f64> = (0..20_000).map(|_| normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.05 && (var - 1.0).abs() < 0.05, "{mean} {var}");
    }
}
