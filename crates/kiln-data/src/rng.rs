//! A small counter-based random generator (SplitMix64).
//!
//! The synthetic dataset is cached on disk under its seed, and loaders promise the same order
//! for the same seed, so the bit stream must never change with a dependency upgrade. SplitMix64
//! is fixed, fast, and derives independent streams from a tuple of integers (seed, image index,
//! epoch...), which is what parallel deterministic generation needs.

/// SplitMix64 generator. Not cryptographic.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A stream determined by every value of `key`, in order.
    pub(crate) fn from_key(key: &[u64]) -> Self {
        let state = key
            .iter()
            .fold(GAMMA, |acc, &k| mix(acc.wrapping_add(GAMMA) ^ mix(k)));
        Self { state }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix(self.state)
    }

    /// Uniform in `[0, 1)`, 24 random bits.
    pub(crate) fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift (bias below `n / 2^64`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// `true` with probability `p`.
    pub(crate) fn chance(&mut self, p: f32) -> bool {
        self.uniform() < p
    }

    /// Approximately standard normal: the centred sum of four 16-bit uniforms, scaled to unit
    /// variance (Irwin-Hall), so bounded by ±2√3. One draw per sample keeps pixel noise cheap.
    pub(crate) fn normal(&mut self) -> f32 {
        let bits = self.next_u64();
        let sum: u64 = (0..4).map(|i| (bits >> (16 * i)) & 0xFFFF).sum();
        (sum as f32 / 65536.0 - 2.0) * 3f32.sqrt()
    }

    /// Fisher-Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::from_key(&[1, 2]).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::from_key(&[1, 2]).next_u64(),
            Rng::from_key(&[2, 1]).next_u64()
        );
        assert_ne!(
            Rng::from_key(&[1]).next_u64(),
            Rng::from_key(&[1, 0]).next_u64()
        );
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut rng = Rng::from_key(&[7]);
        let n = 100_000;
        let u: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = u.iter().sum::<f32>() / n as f32;
        assert!((mean - 0.5).abs() < 0.01, "uniform mean {mean}");
        let z: Vec<f32> = (0..n).map(|_| rng.normal()).collect();
        let zm = z.iter().sum::<f32>() / n as f32;
        let zv = z.iter().map(|x| (x - zm) * (x - zm)).sum::<f32>() / n as f32;
        assert!(
            zm.abs() < 0.02 && (zv - 1.0).abs() < 0.03,
            "normal {zm} {zv}"
        );
        let mut counts = [0usize; 7];
        (0..70_000).for_each(|_| counts[rng.below(7)] += 1);
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: Vec<usize> = (0..1000).collect();
        Rng::from_key(&[3]).shuffle(&mut v);
        assert_ne!(v, (0..1000).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..1000).collect::<Vec<_>>());
    }
}
