//! The data the page trains on: synthetic CIFAR-10-format data generated from the seed, or
//! CIFAR-10's own binary files given to the page (dropped on it or picked), parsed by
//! kiln-data's reader.

use crate::settings::Settings;
use anyhow::bail;
use kiln::data::{Cifar10, Dataset, IMAGE_BYTES};

/// Training and test images, and the line that says which data they are.
pub struct TrainingData {
    pub train: Dataset,
    pub test: Dataset,
    /// Shown on the page and in the table, e.g. `synthetic CIFAR-10-format data (seed 0, 1024
    /// train / 128 test)`.
    pub description: String,
    pub synthetic: bool,
}

impl TrainingData {
    /// The synthetic data of `settings`, `(train, test)` as its generator made them.
    pub fn synthetic(settings: &Settings, (train, test): (Dataset, Dataset)) -> Self {
        let config = settings.synthetic();
        let description = format!(
            "synthetic CIFAR-10-format data (seed {}, {} train / {} test)",
            config.seed, config.train, config.test
        );
        Self {
            train,
            test,
            description,
            synthetic: true,
        }
    }
}

/// Files of the CIFAR-10 folder that hold no records; given to the page, they are skipped.
const OTHER_FILES: [&str; 2] = [Cifar10::META_FILE, "readme.html"];

/// CIFAR-10 record files given to the page: any of the five training batches, and the test
/// batch.
#[derive(Debug, Default)]
pub struct Cifar10Files {
    /// In [`Cifar10::TRAIN_FILES`] order.
    train: [Option<Dataset>; 5],
    test: Option<Dataset>,
}

impl Cifar10Files {
    /// Parses the file `name` and keeps it, in place of an earlier one of that name. A file
    /// that is not a CIFAR-10 record file (by its name, its size or a label byte) is an error
    /// that names it and its size. The folder's other files are skipped.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let slot = match Cifar10::TRAIN_FILES.iter().position(|&f| f == name) {
            Some(i) => &mut self.train[i],
            None if name == Cifar10::TEST_FILE => &mut self.test,
            None if OTHER_FILES.contains(&name) => return Ok(()),
            None => bail!(
                "{name} ({} bytes) is not a CIFAR-10 binary file: the page takes \
                 data_batch_1.bin to data_batch_5.bin and test_batch.bin",
                bytes.len()
            ),
        };
        *slot = Some(Cifar10::parse_batch(name, bytes)?);
        Ok(())
    }

    /// Whether no record file was given.
    pub fn is_empty(&self) -> bool {
        self.given().next().is_none()
    }

    /// One line on the files given: each with its number of images, and what is still needed.
    pub fn status(&self) -> String {
        let files: Vec<String> = self
            .given()
            .map(|(name, data)| match data.len() {
                1 => format!("{name} (1 image)"),
                n => format!("{name} ({n} images)"),
            })
            .collect();
        match self.missing() {
            Some(missing) => format!("{}; {missing} still needed", files.join(", ")),
            None => format!("{}: ready", files.join(", ")),
        }
    }

    /// The data under `settings`: the first `train_images` images of the training batches
    /// given, in file order, and the first `test_images` of the test batch. An error says what
    /// is missing while no training batch or no test batch was given.
    pub fn data(&self, settings: &Settings) -> anyhow::Result<TrainingData> {
        let train: Vec<&Dataset> = self.train.iter().flatten().collect();
        let (false, Some(test)) = (train.is_empty(), &self.test) else {
            bail!(
                "{} still needed: the page trains on test_batch.bin and at least one of \
                 data_batch_1.bin to data_batch_5.bin",
                self.missing().unwrap_or_default()
            );
        };
        let names: Vec<&str> = self.given().map(|(name, _)| name).collect();
        let (train, all_train) = first(&train, settings.train_images)?;
        let (test, all_test) = first(&[test], settings.test_images)?;
        let share = |used: usize, all: usize| {
            if used == all {
                format!("{used}")
            } else {
                format!("{used} of {all}")
            }
        };
        let description = format!(
            "CIFAR-10 from the files given ({}; {} train / {} test)",
            names.join(", "),
            share(train.len(), all_train),
            share(test.len(), all_test)
        );
        Ok(TrainingData {
            train,
            test,
            description,
            synthetic: false,
        })
    }

    /// The files given, in file order, the test batch last.
    fn given(&self) -> impl Iterator<Item = (&'static str, &Dataset)> {
        let names = Cifar10::TRAIN_FILES.into_iter().chain([Cifar10::TEST_FILE]);
        names
            .zip(self.train.iter().chain([&self.test]))
            .filter_map(|(name, data)| Some((name, data.as_ref()?)))
    }

    /// What the data still lacks, if anything.
    fn missing(&self) -> Option<&'static str> {
        match (self.train.iter().any(Option::is_some), self.test.is_some()) {
            (true, true) => None,
            (true, false) => Some(Cifar10::TEST_FILE),
            (false, true) => Some("a training batch"),
            (false, false) => Some("test_batch.bin and a training batch"),
        }
    }
}

/// The first `n` images of `parts` one after the other, and how many they hold in all.
fn first(parts: &[&Dataset], n: usize) -> anyhow::Result<(Dataset, usize)> {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for part in parts {
        let take = (n - labels.len()).min(part.len());
        images.extend_from_slice(&part.images()[..take * IMAGE_BYTES]);
        labels.extend_from_slice(&part.labels()[..take]);
    }
    let names = parts[0].class_names().to_vec();
    let all = parts.iter().map(|part| part.len()).sum();
    Ok((Dataset::new(images, labels, names)?, all))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` CIFAR-10 records whose label and pixels are `first + i` (mod 10 and 256).
    fn records(first: u8, n: u8) -> Vec<u8> {
        (first..first + n)
            .flat_map(|v| std::iter::once(v % 10).chain(std::iter::repeat_n(v, IMAGE_BYTES)))
            .collect()
    }

    fn settings(train_images: usize, test_images: usize) -> Settings {
        Settings {
            batch_size: 2,
            hidden: (4, 4),
            train_images,
            test_images,
            steps_no_bn: 1,
            steps_bn: 1,
            eval_every: 1,
            seed: 0,
            lr: 1e-3,
        }
    }

    #[test]
    fn training_batches_are_read_in_file_order_and_cut_to_the_settings() {
        let mut files = Cifar10Files::default();
        files.add("data_batch_3.bin", &records(20, 3)).unwrap();
        files.add("test_batch.bin", &records(50, 4)).unwrap();
        files.add("data_batch_1.bin", &records(1, 2)).unwrap();
        files.add("batches.meta.txt", b"airplane\n").unwrap();
        assert_eq!(
            files.status(),
            "data_batch_1.bin (2 images), data_batch_3.bin (3 images), \
             test_batch.bin (4 images): ready"
        );
        let data = files.data(&settings(4, 10)).unwrap();
        assert!(!data.synthetic);
        assert_eq!(data.train.labels(), [1, 2, 0, 1]);
        assert_eq!(data.train.image(3), [21; IMAGE_BYTES]);
        assert_eq!(data.test.len(), 4);
        assert_eq!(
            data.description,
            "CIFAR-10 from the files given (data_batch_1.bin, data_batch_3.bin, \
             test_batch.bin; 4 of 5 train / 4 test)"
        );
        // A file given again replaces the first one.
        files.add("data_batch_1.bin", &records(7, 1)).unwrap();
        assert_eq!(files.data(&settings(1, 1)).unwrap().train.labels(), [7]);
    }

    #[test]
    fn files_of_the_wrong_name_or_size_are_refused_by_name_and_size() {
        let mut files = Cifar10Files::default();
        let err = files.add("cat.jpg", &[0; 100]).unwrap_err().to_string();
        assert_eq!(
            err,
            "cat.jpg (100 bytes) is not a CIFAR-10 binary file: the page takes \
             data_batch_1.bin to data_batch_5.bin and test_batch.bin"
        );
        let mut cut = records(0, 2);
        cut.push(0);
        let err = files.add("data_batch_2.bin", &cut).unwrap_err().to_string();
        assert!(
            err.starts_with("data_batch_2.bin: size 6147 bytes"),
            "{err}"
        );
        assert!(files.is_empty());
    }

    #[test]
    fn the_data_needs_a_training_batch_and_the_test_batch() {
        let mut files = Cifar10Files::default();
        files.add("test_batch.bin", &records(0, 1)).unwrap();
        assert_eq!(
            files.status(),
            "test_batch.bin (1 image); a training batch still needed"
        );
        let err = files.data(&settings(1, 1)).err().unwrap().to_string();
        assert_eq!(
            err,
            "a training batch still needed: the page trains on test_batch.bin and at least \
             one of data_batch_1.bin to data_batch_5.bin"
        );
        let mut files = Cifar10Files::default();
        files.add("data_batch_5.bin", &records(0, 2)).unwrap();
        assert_eq!(
            files.status(),
            "data_batch_5.bin (2 images); test_batch.bin still needed"
        );
    }
}
