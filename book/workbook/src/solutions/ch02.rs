//! Chapter 2, solutions: the backward rules, topological order and backward pass of a tiny
//! scalar graph ([`crate::graph`]).

use crate::graph::{Graph, NodeId, Op};
use std::collections::HashSet;

/// The local derivatives of node `id`: one `(input, ∂value(id)/∂value(input))` pair per input
/// slot, in the order of [`Op::inputs`] (so `Mul(a, a)` gives two pairs for `a`). A leaf has
/// none.
pub fn local_gradients(graph: &Graph, id: NodeId) -> Vec<(NodeId, f64)> {
    let y = graph.value(id);
    let v = |id: NodeId| graph.value(id);
    match graph.op(id) {
        Op::Leaf => vec![],
        Op::Add(a, b) => vec![(a, 1.0), (b, 1.0)],
        Op::Mul(a, b) => vec![(a, v(b)), (b, v(a))],
        Op::Relu(a) => vec![(a, if v(a) > 0.0 { 1.0 } else { 0.0 })],
        Op::Exp(a) => vec![(a, y)],
        Op::Tanh(a) => vec![(a, 1.0 - y * y)],
        Op::Sigmoid(a) => vec![(a, y * (1.0 - y))],
    }
}

/// The nodes that `root` depends on, `root` included, each once, every node after all of its
/// inputs (so `root` comes last). Iterative, so that a chain a million nodes deep cannot
/// overflow the call stack.
pub fn topological_order(graph: &Graph, root: NodeId) -> Vec<NodeId> {
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    // (node, whether its inputs have been pushed already)
    let mut stack = vec![(root, false)];
    while let Some((id, expanded)) = stack.pop() {
        if expanded {
            order.push(id);
            continue;
        }
        if !seen.insert(id) {
            continue;
        }
        stack.push((id, true));
        for input in graph.op(id).inputs() {
            if !seen.contains(&input) {
                stack.push((input, false));
            }
        }
    }
    order
}

/// `∂value(root)/∂value(node)` for every node of the graph, indexed by [`NodeId`]: 1 for
/// `root`, 0 for the nodes `root` does not depend on. Each node's rule runs once, with the
/// sum of the gradients of all its uses.
pub fn backward(graph: &Graph, root: NodeId) -> Vec<f64> {
    let mut grads = vec![0.0; graph.len()];
    grads[root.0] = 1.0;
    for &id in topological_order(graph, root).iter().rev() {
        let g = grads[id.0];
        for (input, local) in local_gradients(graph, id) {
            grads[input.0] += g * local;
        }
    }
    grads
}
