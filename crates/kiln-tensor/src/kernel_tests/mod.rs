//! Kernel-level tests, inside the crate because the kernel interface is private to it: every
//! GPU kernel against the CPU reference on seeded random inputs of awkward sizes, and every
//! shader through `naga`'s validator.

mod gpu_vs_cpu;
mod matmul_conv;
mod shaders;
mod support;
