//! Chapter 2: backward rules, topological order and backward pass of the scalar graph, against
//! finite differences and kiln's autograd on the same random graphs.

use crate::support::cases;
use kiln::tensor::Tensor;
use kiln_workbook::ch02;
use kiln_workbook::graph::{Graph, NodeId, Op};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::HashSet;

/// A recipe for a random graph: leaf values, then operations (code, two input picks), each on
/// nodes made before it; code 6 adds one more leaf.
type Recipe = (Vec<f64>, Vec<(u8, Index, Index)>);

fn recipe(smooth: bool) -> impl Strategy<Value = Recipe> {
    let codes = if smooth { 1u8..6 } else { 0u8..7 };
    (
        prop::collection::vec(-1.5f64..1.5, 1..4),
        prop::collection::vec((codes, any::<Index>(), any::<Index>()), 1..20),
    )
}

/// Builds the graph of a recipe; its root is the last node. Without `smooth`, ReLU is among
/// the operations (code 0), whose kink finite differences cannot cross. Values stay moderate,
/// so that finite differences stay accurate: a product or exponential that would exceed 4 in
/// magnitude becomes a sum or a tanh.
fn build((leaves, ops): &Recipe) -> (Graph, NodeId) {
    let mut g = Graph::new();
    let mut last = leaves.iter().map(|&v| g.leaf(v)).last().expect("a leaf");
    for (code, a, b) in ops {
        let (a, b) = (NodeId(a.index(g.len())), NodeId(b.index(g.len())));
        let (va, vb) = (g.value(a), g.value(b));
        last = match code {
            0 => g.relu(a),
            2 if (va * vb).abs() <= 4.0 => g.mul(a, b),
            1 | 2 => g.add(a, b),
            5 if va <= 1.0 => g.exp(a),
            3 | 5 => g.tanh(a),
            4 => g.sigmoid(a),
            _ => g.leaf(0.5),
        };
    }
    (g, last)
}

/// Central difference of the root's value with respect to `leaf`.
fn numeric(g: &Graph, root: NodeId, leaf: NodeId) -> f64 {
    let eps = 1e-6;
    let at = |delta: f64| g.with_leaf(leaf, g.value(leaf) + delta).value(root);
    (at(eps) - at(-eps)) / (2.0 * eps)
}

fn leaves(g: &Graph) -> Vec<NodeId> {
    (0..g.len())
        .map(NodeId)
        .filter(|&id| g.op(id) == Op::Leaf)
        .collect()
}

/// The nodes `root` depends on, found without any ordering.
fn reachable(g: &Graph, root: NodeId) -> HashSet<NodeId> {
    let mut seen = HashSet::from([root]);
    let mut todo = vec![root];
    while let Some(id) = todo.pop() {
        for input in g.op(id).inputs() {
            if seen.insert(input) {
                todo.push(input);
            }
        }
    }
    seen
}

mod local_gradients {
    use super::*;

    proptest! {
        #![proptest_config(cases(64))]
        /// Every rule against a finite difference, at a point away from ReLU's kink.
        #[test]
        fn match_finite_differences(a in -2.0f64..2.0, b in -2.0f64..2.0, code in 0u8..6) {
            prop_assume!(a.abs() > 1e-3);
            let mut g = Graph::new();
            let (x, y) = (g.leaf(a), g.leaf(b));
            let node = match code {
                0 => g.relu(x),
                1 => g.add(x, y),
                2 => g.mul(x, y),
                3 => g.exp(x),
                4 => g.tanh(x),
                _ => g.sigmoid(x),
            };
            let locals = ch02::local_gradients(&g, node);
            let inputs = g.op(node).inputs();
            prop_assert_eq!(locals.iter().map(|l| l.0).collect::<Vec<_>>(), inputs);
            for (input, d) in locals {
                let n = numeric(&g, node, input);
                let op = g.op(node);
                prop_assert!((d - n).abs() <= 1e-6 * (1.0 + n.abs()), "{:?}: {} vs {}", op, d, n);
            }
        }
    }

    /// The rules beyond the chapter's table, at values you can check with a calculator.
    #[test]
    fn tanh_and_sigmoid() {
        let mut g = Graph::new();
        let x = g.leaf(0.5);
        let (t, s) = (g.tanh(x), g.sigmoid(x));
        let zero = g.leaf(0.0);
        let s0 = g.sigmoid(zero);
        let only = |locals: Vec<(NodeId, f64)>| {
            assert_eq!(locals.len(), 1, "{locals:?}");
            locals[0].1
        };
        assert!((only(ch02::local_gradients(&g, t)) - (1.0 - 0.5f64.tanh().powi(2))).abs() < 1e-15);
        let sig = 1.0 / (1.0 + (-0.5f64).exp());
        assert!((only(ch02::local_gradients(&g, s)) - sig * (1.0 - sig)).abs() < 1e-15);
        assert_eq!(only(ch02::local_gradients(&g, s0)), 0.25);
    }

    /// `a * a` has two input slots, both `a`: one pair each.
    #[test]
    fn a_product_with_itself() {
        let mut g = Graph::new();
        let a = g.leaf(3.0);
        let sq = g.mul(a, a);
        assert_eq!(ch02::local_gradients(&g, sq), [(a, 3.0), (a, 3.0)]);
        assert!(ch02::local_gradients(&g, a).is_empty());
    }
}

mod topological_order {
    use super::*;

    proptest! {
        #![proptest_config(cases(64))]
        #[test]
        fn puts_inputs_first(r in recipe(false), pick in any::<Index>(), reversed: bool) {
            let (g, _) = build(&r);
            // Numbered backwards, inputs have larger ids than their users.
            let g = if reversed { g.reversed() } else { g };
            let root = NodeId(pick.index(g.len())); // any node, so that some are unreachable
            let order = ch02::topological_order(&g, root);
            prop_assert_eq!(order.last(), Some(&root));
            let position: std::collections::HashMap<NodeId, usize> =
                order.iter().enumerate().map(|(i, &id)| (id, i)).collect();
            prop_assert_eq!(position.len(), order.len(), "a node appears twice: {:?}", order);
            prop_assert_eq!(position.keys().copied().collect::<HashSet<_>>(), reachable(&g, root));
            for &id in &order {
                for input in g.op(id).inputs() {
                    let (before, after) = (position[&input], position[&id]);
                    prop_assert!(before < after, "{:?} before its input {:?}", id, input);
                }
            }
        }
    }

    /// A chain a million nodes deep: recursion would overflow the test thread's stack.
    #[test]
    fn survives_a_deep_chain() {
        let mut g = Graph::new();
        let mut last = g.leaf(0.1);
        for _ in 0..1_000_000 {
            last = g.tanh(last);
        }
        let order = ch02::topological_order(&g, last);
        assert_eq!(order.len(), g.len());
        assert!(order.windows(2).all(|w| w[0].0 + 1 == w[1].0));
    }
}

mod backward {
    use super::*;

    /// Chapter 2's `r * r`: the shared node gets the sum of both uses.
    #[test]
    fn by_hand() {
        let mut g = Graph::new();
        let x = g.leaf(3.0);
        let unused = g.leaf(7.0);
        let r = g.relu(x);
        let loss = g.mul(r, r);
        let grads = ch02::backward(&g, loss);
        assert_eq!(grads.len(), g.len());
        assert_eq!((grads[loss.0], grads[r.0], grads[x.0]), (1.0, 6.0, 6.0));
        assert_eq!(grads[unused.0], 0.0);
    }

    proptest! {
        #![proptest_config(cases(64))]
        /// The same graph built from kiln `f64` tensors of one element gives kiln's gradients.
        #[test]
        fn matches_kiln_autograd(r in recipe(false)) {
            let (g, root) = build(&r);
            let mut tensors: Vec<Tensor> = Vec::new();
            for i in 0..g.len() {
                let t = |id: NodeId| &tensors[id.0];
                let tensor = match g.op(NodeId(i)) {
                    Op::Leaf => {
                        let value = vec![g.value(NodeId(i))];
                        Tensor::from_vec_f64(value, &[1]).map(Tensor::requires_grad)
                    }
                    Op::Add(a, b) => t(a).add(t(b)),
                    Op::Mul(a, b) => t(a).mul(t(b)),
                    Op::Relu(a) => t(a).relu(),
                    Op::Exp(a) => t(a).exp(),
                    Op::Tanh(a) => t(a).tanh(),
                    Op::Sigmoid(a) => t(a).sigmoid(),
                };
                tensors.push(tensor.expect("kiln op"));
            }
            tensors[root.0].backward().expect("kiln backward");
            let grads = ch02::backward(&g, root);
            for leaf in leaves(&g) {
                let kiln = tensors[leaf.0].grad().map_or(0.0, |t| t.to_vec_f64().unwrap()[0]);
                let ours = grads[leaf.0];
                prop_assert!(
                    (ours - kiln).abs() <= 1e-12 * (1.0 + kiln.abs()),
                    "leaf {:?}: {} vs kiln {}", leaf, ours, kiln
                );
            }
        }

        #[test]
        fn matches_finite_differences(r in recipe(true), reversed: bool) {
            let (g, root) = build(&r);
            // Numbered backwards, inputs have larger ids than their users.
            let (g, root) = if reversed {
                (g.reversed(), NodeId(g.len() - 1 - root.0))
            } else {
                (g, root)
            };
            let grads = ch02::backward(&g, root);
            for leaf in leaves(&g) {
                let n = numeric(&g, root, leaf);
                let ours = grads[leaf.0];
                prop_assert!(
                    (ours - n).abs() <= 1e-5 + 1e-4 * n.abs(),
                    "leaf {:?}: {} vs {}", leaf, ours, n
                );
            }
        }
    }
}
