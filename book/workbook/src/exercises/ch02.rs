//! Chapter 2: reverse-mode differentiation of a tiny scalar graph ([`crate::graph`]): the
//! backward rules, the topological order, and the backward pass.
//!
//! Tests: `cargo test --release --manifest-path book/workbook/Cargo.toml ch02`. They compare
//! with finite differences and with kiln's own autograd on the same random graphs.

use crate::graph::{Graph, NodeId};

/// The local derivatives of node `id`: one `(input, ∂value(id)/∂value(input))` pair per input
/// slot, in the order of [`Op::inputs`](crate::graph::Op::inputs) (so `Mul(a, a)` gives two
/// pairs for `a`). A leaf has none.
///
/// Hint: a `match` on `graph.op(id)` (an [`Op`](crate::graph::Op)), one line per operation of
/// the table in chapter 2. Rules may use the output's value `graph.value(id)`: the derivative
/// of `e^a` is `e^a` itself, that of `tanh(a)` is `1 − tanh²(a)` and that of `sigmoid(a)` is
/// `σ(a)(1 − σ(a))`. ReLU's derivative at 0 is 0.
pub fn local_gradients(graph: &Graph, id: NodeId) -> Vec<(NodeId, f64)> {
    todo!()
}

/// The nodes that `root` depends on, `root` included, each once, every node after all of its
/// inputs (so `root` comes last).
///
/// Hint: a depth-first post-order, with an explicit stack of `(node, inputs_pushed)` pairs
/// rather than recursion, so that a chain a million nodes deep cannot overflow the call stack
/// (one of the tests builds one). Pop a pair: if its inputs were pushed, emit the node;
/// otherwise, unless already seen, push it back marked and push its unseen inputs.
pub fn topological_order(graph: &Graph, root: NodeId) -> Vec<NodeId> {
    todo!()
}

/// `∂value(root)/∂value(node)` for every node of the graph, indexed by [`NodeId`]: 1 for
/// `root`, 0 for the nodes `root` does not depend on. Each node's rule runs once, with the
/// sum of the gradients of all its uses.
///
/// Hint: one vector of gradients, `root`'s set to 1; walk your [`topological_order`] in reverse
/// and, for each node, add `gradient × local derivative` (your [`local_gradients`]) to each of
/// its inputs. By the time a node is reached, all of its users have added their share.
pub fn backward(graph: &Graph, root: NodeId) -> Vec<f64> {
    todo!()
}
