//! The worked solutions (feature `solutions`): the same items as the stubs of
//! `src/exercises/`, filled in.

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
