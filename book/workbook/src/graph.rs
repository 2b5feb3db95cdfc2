//! A tiny define-by-run graph of scalar operations, for the autograd exercises of chapter 2.
//!
//! Each operation computes its value as soon as it is added (define-by-run, as in kiln) and
//! records its inputs. Nodes are numbered in the order they were added, so an input always has
//! a smaller [`NodeId`] than its users. Do not rely on that in the exercises: a graph whose
//! nodes were numbered otherwise (merged from two graphs, say) has no such order, and the
//! depth-first search of chapter 2 does not need it.

/// A node of a [`Graph`]: its index, in the order the nodes were added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// How a node was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// An input value.
    Leaf,
    /// `a + b`.
    Add(NodeId, NodeId),
    /// `a * b`.
    Mul(NodeId, NodeId),
    /// `max(a, 0)`; its derivative at 0 is taken to be 0, as kiln's `[x > 0]`.
    Relu(NodeId),
    /// `e^a`.
    Exp(NodeId),
    /// `tanh(a)`.
    Tanh(NodeId),
    /// `1 / (1 + e^-a)`.
    Sigmoid(NodeId),
}

impl Op {
    /// The inputs, in order (an input used twice, as in `Mul(a, a)`, appears twice).
    pub fn inputs(self) -> Vec<NodeId> {
        match self {
            Op::Leaf => vec![],
            Op::Add(a, b) | Op::Mul(a, b) => vec![a, b],
            Op::Relu(a) | Op::Exp(a) | Op::Tanh(a) | Op::Sigmoid(a) => vec![a],
        }
    }

    /// The same operation on the inputs `f` maps its inputs to.
    fn map_inputs(self, f: impl Fn(NodeId) -> NodeId) -> Op {
        match self {
            Op::Leaf => Op::Leaf,
            Op::Add(a, b) => Op::Add(f(a), f(b)),
            Op::Mul(a, b) => Op::Mul(f(a), f(b)),
            Op::Relu(a) => Op::Relu(f(a)),
            Op::Exp(a) => Op::Exp(f(a)),
            Op::Tanh(a) => Op::Tanh(f(a)),
            Op::Sigmoid(a) => Op::Sigmoid(f(a)),
        }
    }

    /// The value of this operation given the values of every node so far.
    fn eval(self, values: &[f64]) -> f64 {
        let v = |id: NodeId| values[id.0];
        match self {
            Op::Leaf => unreachable!("leaves are not computed"),
            Op::Add(a, b) => v(a) + v(b),
            Op::Mul(a, b) => v(a) * v(b),
            Op::Relu(a) => v(a).max(0.0),
            Op::Exp(a) => v(a).exp(),
            Op::Tanh(a) => v(a).tanh(),
            Op::Sigmoid(a) => 1.0 / (1.0 + (-v(a)).exp()),
        }
    }
}

/// Scalar nodes and the operations that computed them.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    ops: Vec<Op>,
    values: Vec<f64>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The operation that computed `id`.
    pub fn op(&self, id: NodeId) -> Op {
        self.ops[id.0]
    }

    /// The value of `id`.
    pub fn value(&self, id: NodeId) -> f64 {
        self.values[id.0]
    }

    /// Adds an operation, computing its value now. Panics if an input is not in the graph.
    pub fn push(&mut self, op: Op) -> NodeId {
        let value = match op {
            Op::Leaf => panic!("use Graph::leaf for inputs"),
            op => {
                assert!(
                    op.inputs().iter().all(|i| i.0 < self.len()),
                    "{op:?}: an input is not in the graph"
                );
                op.eval(&self.values)
            }
        };
        self.ops.push(op);
        self.values.push(value);
        NodeId(self.len() - 1)
    }

    /// A new input with the given value.
    pub fn leaf(&mut self, value: f64) -> NodeId {
        self.ops.push(Op::Leaf);
        self.values.push(value);
        NodeId(self.len() - 1)
    }

    /// `a + b`.
    pub fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.push(Op::Add(a, b))
    }

    /// `a * b`.
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.push(Op::Mul(a, b))
    }

    /// `max(a, 0)`.
    pub fn relu(&mut self, a: NodeId) -> NodeId {
        self.push(Op::Relu(a))
    }

    /// `e^a`.
    pub fn exp(&mut self, a: NodeId) -> NodeId {
        self.push(Op::Exp(a))
    }

    /// `tanh(a)`.
    pub fn tanh(&mut self, a: NodeId) -> NodeId {
        self.push(Op::Tanh(a))
    }

    /// `1 / (1 + e^-a)`.
    pub fn sigmoid(&mut self, a: NodeId) -> NodeId {
        self.push(Op::Sigmoid(a))
    }

    /// The same graph with leaf `leaf` set to `value` and every other node recomputed, for
    /// finite differences. Panics if `leaf` is not a leaf.
    pub fn with_leaf(&self, leaf: NodeId, value: f64) -> Graph {
        assert_eq!(self.op(leaf), Op::Leaf, "{leaf:?} is not a leaf");
        let mut values = self.values.clone();
        values[leaf.0] = value;
        // Passes over the nodes, each computing those whose inputs are computed, until none is
        // left: one pass when the ids follow the dependencies, more when they do not.
        let mut done: Vec<bool> = self.ops.iter().map(|op| *op == Op::Leaf).collect();
        while done.contains(&false) {
            for (i, op) in self.ops.iter().enumerate() {
                if !done[i] && op.inputs().iter().all(|input| done[input.0]) {
                    values[i] = op.eval(&values);
                    done[i] = true;
                }
            }
        }
        Graph {
            ops: self.ops.clone(),
            values,
        }
    }

    /// The same graph with its nodes numbered backwards (node `i` becomes `len - 1 - i`), so
    /// that every input has a larger id than its users: what the tests run code on that must
    /// not rely on the numbering.
    #[doc(hidden)]
    pub fn reversed(&self) -> Graph {
        let flip = |id: NodeId| NodeId(self.len() - 1 - id.0);
        Graph {
            ops: self
                .ops
                .iter()
                .rev()
                .map(|op| op.map_inputs(flip))
                .collect(),
            values: self.values.iter().rev().copied().collect(),
        }
    }
}
