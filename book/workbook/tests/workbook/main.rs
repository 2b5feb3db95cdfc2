//! The workbook's tests: one module per chapter, one module per exercise inside it, so that
//! `cargo test ... ch05` runs a chapter and `cargo test ... ch05::matmul_tiled_wgsl` one
//! exercise. Each compares the exercise with kiln's own implementation where kiln has the same
//! function, and otherwise with finite differences, hand-computed values or properties.

mod support;

mod ch01;
mod ch02;
mod ch03;
mod ch04;
mod ch05;
mod ch06;
mod ch07;
mod ch08;
mod ch09;
mod ch10;
mod ch11;
