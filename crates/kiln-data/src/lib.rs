//! CIFAR-10 data for kiln: the binary format, download, a synthetic dataset in the same format,
//! and a batch loader.
