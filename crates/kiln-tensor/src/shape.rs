//! Shapes: the dimensions of a row-major tensor, and NumPy broadcasting between them.

use crate::{Error, Result};
use std::fmt;

/// The dimensions of a tensor, outermost first. A scalar has no dimensions.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(Vec<usize>);

impl Shape {
    /// A shape with the given dimensions.
    pub fn new(dims: &[usize]) -> Self {
        Shape(dims.to_vec())
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (1 for a scalar).
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    // ANCHOR: strides
    /// Row-major strides, in elements.
    pub fn strides(&self) -> Vec<usize> {
        let mut strides = vec![1; self.rank()];
        for i in (0..self.rank().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * self.0[i + 1];
        }
        strides
    }
    // ANCHOR_END: strides

    /// Checks that `axis` is a valid axis of this shape.
    pub fn check_axis(&self, op: &'static str, axis: usize) -> Result<()> {
        if axis < self.rank() {
            Ok(())
        } else {
            Err(Error::invalid(
                op,
                format!("axis {axis} out of range for shape {self}"),
            ))
        }
    }

    // ANCHOR: broadcast
    /// The shape both operands broadcast to, NumPy style: dimensions are aligned from the right
    /// and each pair must be equal or contain a 1.
    pub fn broadcast(&self, other: &Shape, op: &'static str) -> Result<Shape> {
        let rank = self.rank().max(other.rank());
        let mut out = vec![0; rank];
        for (i, o) in out.iter_mut().enumerate() {
            let a = self.dim_from_right(rank - 1 - i);
            let b = other.dim_from_right(rank - 1 - i);
            *o = match (a, b) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => {
                    return Err(Error::ShapeMismatch {
                        op,
                        lhs: self.clone(),
                        rhs: other.clone(),
                    })
                }
            };
        }
        Ok(Shape(out))
    }

    /// Dimension `i` counted from the right (0 = last), or 1 past the rank.
    fn dim_from_right(&self, i: usize) -> usize {
        if i < self.rank() {
            self.0[self.rank() - 1 - i]
        } else {
            1
        }
    }

    /// Strides for reading this shape as if broadcast to `out`: broadcast dimensions get
    /// stride 0. `out` must be a broadcast of `self`.
    pub fn broadcast_strides(&self, out: &Shape) -> Vec<usize> {
        let own = self.strides();
        let offset = out.rank() - self.rank();
        (0..out.rank())
            .map(|i| {
                if i < offset || self.0[i - offset] == 1 {
                    0
                } else {
                    own[i - offset]
                }
            })
            .collect()
    }
    // ANCHOR_END: broadcast
}

impl From<&[usize]> for Shape {
    fn from(dims: &[usize]) -> Self {
        Shape::new(dims)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(dims: [usize; N]) -> Self {
        Shape::new(&dims)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(dims: Vec<usize>) -> Self {
        Shape(dims)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_aligns_from_the_right() {
        let a = Shape::new(&[4, 1, 3]);
        let b = Shape::new(&[5, 1]);
        assert_eq!(a.broadcast(&b, "add").unwrap().dims(), &[4, 5, 3]);
        assert_eq!(a.broadcast_strides(&Shape::new(&[4, 5, 3])), vec![3, 0, 1]);
    }

    #[test]
    fn broadcast_error_names_both_shapes() {
        let err = Shape::new(&[2, 3])
            .broadcast(&Shape::new(&[4]), "add")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "add: shape mismatch between [2, 3] and [4]"
        );
    }
}
