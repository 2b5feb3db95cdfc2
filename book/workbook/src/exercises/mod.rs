//! The exercises: one module per chapter, each function a stub for you to fill in. Replace a
//! `todo!()` with your code, then run the chapter's tests, for example
//! `cargo test --release --manifest-path book/workbook/Cargo.toml ch01`.

// A stub ignores its arguments until you fill it in.
#![allow(unused_variables)]

pub mod ch01;
pub mod ch02;
pub mod ch03;
pub mod ch04;
pub mod ch05;
pub mod ch06;
pub mod ch07;
pub mod ch08;
pub mod ch09;
pub mod ch10;
pub mod ch11;
