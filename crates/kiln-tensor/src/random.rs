//! kiln's one random generator: weights, gradient-check inputs, synthetic data, data order,
//! augmentation and dropout masks all draw from here.
//!
//! Everything a seed determines must stay the same across dependency upgrades and devices, so
//! the algorithms are written out here and versioned ([`VERSION`]); a change to any value this
//! module produces for a given seed is a new version.
//!
//! - [`Rng`] is a sequential generator (SplitMix64) whose stream is keyed by a tuple of
//!   integers: `Rng::from_key(&[seed, epoch, image])` gives independent streams for parallel,
//!   order-free generation.
//! - [`uniform_hash`] is counter-based: the value for `(seed, index)` is a pure function, so the
//!   CPU and a WGSL kernel compute the same dropout mask element by element.

/// Version of the streams below: the same seed gives the same values within one version.
pub const VERSION: u32 = 1;

/// SplitMix64's increment (2^64 divided by the golden ratio).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function, a bijection of `u64` with good avalanche.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded SplitMix64 generator. Fast, statistically sound for simulation, not cryptographic.
///
/// ```
/// use kiln_tensor::random::Rng;
///
/// let mut a = Rng::from_key(&[42, 7]);
/// let mut b = Rng::from_key(&[42, 7]);
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!((0.0..1.0).contains(&a.uniform()));
/// ```
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// The stream of one seed; the same as `Rng::from_key(&[seed])`.
    pub fn new(seed: u64) -> Rng {
        Rng::from_key(&[seed])
    }

    /// A stream determined by every value of `key`, in order (`[1, 2]`, `[2, 1]` and
    /// `[1, 2, 0]` are unrelated streams).
    pub fn from_key(key: &[u64]) -> Rng {
        let state = key
            .iter()
            .fold(GAMMA, |acc, &k| mix(acc.wrapping_add(GAMMA) ^ mix(k)));
        Rng { state }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix(self.state)
    }

    /// Uniform in `[0, 1)` with 24 random bits (every value exact in `f32`).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `[0, 1)` with 53 random bits (every value exact in `f64`).
    pub fn uniform_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)` (`lo` when `hi <= lo`). A value that rounds up to `hi` becomes the
    /// largest `f32` below it.
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        let v = lo + (hi - lo) * self.uniform();
        if v < hi {
            v
        } else {
            hi.next_down().max(lo)
        }
    }

    /// `len` values uniform in `[lo, hi)`.
    pub fn uniform_vec(&mut self, len: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..len).map(|_| self.range(lo, hi)).collect()
    }

    /// Uniform integer in `0..n` by Lemire's multiply-shift (bias below `n / 2^64`).
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0): the range 0..0 is empty");
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// One of `items`, uniformly.
    ///
    /// # Panics
    ///
    /// If `items` is empty.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f32) -> bool {
        self.uniform() < p
    }

    /// Standard normal, exact in distribution (Box-Muller on two 53-bit uniforms, one value per
    /// call).
    pub fn normal(&mut self) -> f64 {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.uniform_f64()).ln()).sqrt();
        radius * (std::f64::consts::TAU * self.uniform_f64()).cos()
    }

    /// Approximately standard normal from one draw: the centred sum of four 16-bit uniforms,
    /// scaled to unit variance (Irwin-Hall), so bounded by ±2√3. For cheap noise, such as
    /// synthetic pixels, where the tails do not matter.
    pub fn normal_approx(&mut self) -> f32 {
        let bits = self.next_u64();
        let sum: u64 = (0..4).map(|i| (bits >> (16 * i)) & 0xFFFF).sum();
        (sum as f32 / 65536.0 - 2.0) * 3f32.sqrt()
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// An independent seed for stream `stream` of `seed`: the first value of
/// `Rng::from_key(&[seed, stream])`. One user-facing seed can so drive several generators (one
/// per layer, one per dropout call) without repeating values.
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    Rng::from_key(&[seed, stream]).next_u64()
}

// ANCHOR: hash
/// A 32-bit integer hash (a PCG output permutation), good enough for dropout masks. The WGSL
/// dropout kernel computes the same function.
pub fn pcg_hash(input: u32) -> u32 {
    let state = input.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// A uniform value in `[0, 1)` for element `index` of the stream `seed`.
///
/// Defined as `pcg_hash(index ^ pcg_hash(lo ^ pcg_hash(hi)))` with `lo`, `hi` the halves of the
/// seed, keeping 24 bits so that the value is exact in `f32`.
pub fn uniform_hash(seed: u64, index: u32) -> f32 {
    let key = pcg_hash(seed as u32 ^ pcg_hash((seed >> 32) as u32));
    let bits = pcg_hash(index ^ key) >> 8;
    bits as f32 / (1u32 << 24) as f32
}
// ANCHOR_END: hash

#[cfg(test)]
mod tests {
    use super::*;

    /// Version 1's values, pinned: a change here changes every seeded result in kiln (weights,
    /// data, dropout masks), so it must come with a new [`VERSION`].
    #[test]
    fn the_streams_of_this_version_do_not_change() {
        assert_eq!(VERSION, 1);
        // SplitMix64's published reference: from state 0 the first output is 0xE220A8397B1DCDAF.
        assert_eq!(Rng { state: 0 }.next_u64(), 0xE220_A839_7B1D_CDAF);
        let mut rng = Rng::new(0);
        assert_eq!(
            [rng.next_u64(), rng.next_u64()],
            [0x46B7_3E79_F0C3_7C00, 0x3743_27C6_3D0C_C8A6]
        );
        let mut rng = Rng::from_key(&[1, 2]);
        assert_eq!(rng.next_u64(), 0x062A_32F1_3BD6_0E1D);
        assert_eq!(rng.normal(), 1.325_943_415_502_792_3);
        assert_eq!(rng.uniform(), 0.129_768_25);
        assert_eq!(derive_seed(3, 4), 0x7B97_1F7C_C494_66D6);
        assert_eq!(pcg_hash(0), 129_708_002);
        assert_eq!(uniform_hash(5, 7), 0.996_391_83);
    }

    #[test]
    fn ranges_exclude_their_upper_end() {
        // Between 1 and the next f32, half of the products round up to the upper end.
        let (lo, hi) = (1.0f32, 1.0f32.next_up());
        let mut rng = Rng::new(3);
        assert!((0..100).all(|_| rng.range(lo, hi) == lo));
        assert_eq!(rng.range(2.0, 2.0), 2.0);
    }

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
        assert_ne!(derive_seed(5, 0), derive_seed(5, 1));
    }

    fn mean_var(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        (m, xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n)
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut rng = Rng::new(7);
        let n = 100_000;
        let u: Vec<f64> = (0..n).map(|_| f64::from(rng.uniform())).collect();
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
        let (m, _) = mean_var(&u);
        assert!((m - 0.5).abs() < 0.01, "uniform mean {m}");
        for (name, z) in [
            ("normal", (0..n).map(|_| rng.normal()).collect::<Vec<_>>()),
            (
                "normal_approx",
                (0..n).map(|_| f64::from(rng.normal_approx())).collect(),
            ),
        ] {
            let (m, v) = mean_var(&z);
            assert!(m.abs() < 0.02 && (v - 1.0).abs() < 0.03, "{name}: {m} {v}");
        }
        // Box-Muller has tails: about 0.27% of draws lie beyond 3 sigma.
        let beyond = (0..n).filter(|_| rng.normal().abs() > 3.0).count();
        assert!((150..400).contains(&beyond), "{beyond} beyond 3 sigma");
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
        Rng::new(3).shuffle(&mut v);
        assert_ne!(v, (0..1000).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..1000).collect::<Vec<_>>());
    }
}
