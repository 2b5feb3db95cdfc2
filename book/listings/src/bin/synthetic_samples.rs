//! Prints the first `per_class` images of each class of kiln's default synthetic training set
//! (`SyntheticConfig::default()`: seed 0, 50,000 training images), the data of chapter 9's
//! figure (`book/src/figures/make_figures.py` draws it):
//!
//!     cargo run --release --manifest-path book/listings/Cargo.toml --bin synthetic_samples -- 6
//!
//! One line per image: the label, the class name, the index in the training set, and the 3072
//! pixel bytes in hexadecimal, in the CIFAR-10 order (the red plane, then green, then blue).

use kiln::data::{SyntheticConfig, SYNTHETIC_CLASSES};

fn main() {
    let per_class: usize = std::env::args()
        .nth(1)
        .map_or(6, |s| s.parse().expect("an image count per class"));
    let config = SyntheticConfig::default();
    let (train, _test) = config.generate();
    for (label, name) in SYNTHETIC_CLASSES.iter().enumerate() {
        let indices = (0..train.len())
            .filter(|&i| train.label(i) as usize == label)
            .take(per_class);
        for i in indices {
            let hex: String = train.image(i).iter().map(|b| format!("{b:02x}")).collect();
            println!("{label} {name} {i} {hex}");
        }
    }
}
