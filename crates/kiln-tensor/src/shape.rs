//! Shapes: the dimensions of a row-major tensor, and NumPy broadcasting between them.

use crate::cpu::pool;
use crate::{DType, Error, Result};
use std::fmt;

/// The dimensions of a tensor, outermost first. A scalar has no dimensions.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(Vec<usize>);

/// Bytes of the widest element type (`f64`): shapes are checked to fit in memory at this size.
const MAX_ELEMENT_BYTES: usize = 8;

impl Shape {
    /// A shape with the given dimensions, unchecked: see [`Shape::checked`].
    pub fn new(dims: &[usize]) -> Self {
        Shape(dims.to_vec())
    }

    /// A shape with the given dimensions, or an error naming `op` and the dimensions when they
    /// describe more than an address space holds: the product of the nonzero dimensions, in
    /// bytes of the widest element type (`f64`), must fit in `isize` (as Rust allocations
    /// must). Every tensor's shape passes this check, so its element count, strides and the
    /// partial products of its dimensions never overflow.
    pub fn checked(op: &'static str, dims: &[usize]) -> Result<Shape> {
        let bytes = dims
            .iter()
            .filter(|&&d| d != 0)
            .try_fold(MAX_ELEMENT_BYTES, |acc, &d| acc.checked_mul(d))
            .filter(|&b| b <= isize::MAX as usize);
        match bytes {
            Some(_) => Ok(Shape(dims.to_vec())),
            None => Err(Error::invalid(
                op,
                format!(
                    "shape {} has more elements than fit in memory (the product of its \
                     dimensions overflows)",
                    Shape::new(dims)
                ),
            )),
        }
    }

    /// Checks that host memory for a tensor of this shape and `dtype` can be allocated now: an
    /// error naming `op` when the shape does not fit in memory ([`Shape::checked`]) or the
    /// allocator refuses that many bytes ([`Error::OutOfMemory`]). The memory is reserved and
    /// released at once without being written, so the check costs about one allocation. It
    /// guards code that builds a large tensor through a constructor that cannot return an error,
    /// such as [`Tensor::rand_uniform`](crate::Tensor::rand_uniform).
    pub fn check_host_alloc(&self, op: &'static str, dtype: DType) -> Result<()> {
        let len = Shape::checked(op, self.dims())?.numel();
        let reserved = match dtype {
            DType::F32 => pool::with_capacity::<f32>(len).map(drop),
            DType::F64 => pool::with_capacity::<f64>(len).map(drop),
        };
        reserved.map_err(|e| e.during(op))
    }

    /// This shape with its last two axes swapped: a matrix transpose, and how a lazy transpose
    /// ([`Tensor::t`](crate::Tensor::t)) is stored. A shape of rank below 2 is returned as is.
    pub(crate) fn transposed(&self) -> Shape {
        let mut dims = self.0.clone();
        if let [.., a, b] = dims.as_mut_slice() {
            std::mem::swap(a, b);
        }
        Shape(dims)
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
        Shape::checked(op, &out)
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
    fn shapes_beyond_memory_are_refused_with_op_and_dims() {
        let err = Shape::checked("from_vec", &[1 << 62, 4]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "from_vec: shape [4611686018427387904, 4] has more elements than fit in memory \
             (the product of its dimensions overflows)"
        );
        // Zeros do not hide an overflowing product of the other dimensions.
        assert!(Shape::checked("zeros", &[0, 1 << 40, 1 << 40]).is_err());
        // The byte count of f64 elements must fit `isize`.
        assert!(Shape::checked("zeros", &[1 << 60]).is_err());
        assert!(Shape::checked("zeros", &[1 << 59, 0]).is_ok());
        assert!(Shape::checked("zeros", &[]).is_ok());
        // Broadcasting two valid shapes can overflow.
        let err = Shape::new(&[1 << 40, 1])
            .broadcast(&Shape::new(&[1, 1 << 40]), "add")
            .unwrap_err();
        assert!(err
            .to_string()
            .starts_with("add: shape [1099511627776, 1099511627776]"));
    }

    #[test]
    fn host_allocations_are_checked_without_keeping_memory() {
        assert!(Shape::new(&[1000, 1000])
            .check_host_alloc("Linear", DType::F32)
            .is_ok());
        // 2^50 bytes: more than a 47-bit address space.
        let err = Shape::new(&[1 << 24, 1 << 24])
            .check_host_alloc("Linear", DType::F32)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Linear: cannot allocate 281474976710656 elements of 4 bytes (1125899906842624 \
             bytes) in host memory"
        );
        let err = Shape::new(&[1 << 62, 4])
            .check_host_alloc("zeros", DType::F64)
            .unwrap_err();
        assert!(err.to_string().contains("more elements than fit in memory"));
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
