//! Define-by-run reverse-mode differentiation.
//!
//! An operation whose inputs track gradients records a [`Node`]: its inputs and a closure that
//! maps the gradient of its output to the gradients of its inputs. [`backward`] sorts the graph
//! topologically from the loss, walks it once in reverse, and accumulates gradients; the leaves
//! keep theirs in [`Tensor::grad`]. Nodes are dropped as they are visited, so a graph's memory
//! goes with its backward pass. A node also notes the versions of the storages its op read and
//! wrote; backward refuses to run a rule whose storages were written in place since.

use crate::storage::SharedStorage;
use crate::{Error, Result, Shape, Tensor};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

// ANCHOR: node
/// Maps the gradient of an op's output to the gradient of each input (`None`: not needed).
pub(crate) type BackwardFn = Box<dyn Fn(&Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync>;

/// How a tensor was computed: the graph entries of its inputs (not the inputs themselves, so
/// their values live only as long as a backward rule or a handle needs them), the rule, and the
/// versions of the storages it read and wrote.
pub(crate) struct Node {
    pub(crate) inputs: Vec<Arc<Var>>,
    pub(crate) backward: BackwardFn,
    pub(crate) seen: Vec<Seen>,
}

/// A storage an op read or wrote, its version then, and the shape it was used with (for the
/// error). Weak: checking a storage does not keep its values alive.
pub(crate) struct Seen {
    storage: Weak<SharedStorage>,
    version: u64,
    shape: Shape,
}

impl Seen {
    fn of(storage: &Arc<SharedStorage>, shape: &Shape) -> Seen {
        Seen {
            storage: Arc::downgrade(storage),
            version: storage.version(),
            shape: shape.clone(),
        }
    }

    /// An error when the storage, still alive, was written in place since.
    fn check(&self) -> Result<()> {
        match self.storage.upgrade() {
            Some(s) if s.version() != self.version => Err(Error::ModifiedInPlace {
                shape: self.shape.clone(),
            }),
            _ => Ok(()),
        }
    }
}

/// A tensor's entry in the graph, shared by its clones and reshapes of it.
pub(crate) struct Var {
    pub(crate) id: usize,
    pub(crate) requires_grad: bool,
    /// Whether this entry was recorded as an op's result (as opposed to a leaf).
    pub(crate) op_result: bool,
    /// How the tensor was computed, while the graph is alive (taken by `backward`).
    pub(crate) node: Mutex<Option<Node>>,
    /// Accumulated gradient of a leaf that requires grad.
    pub(crate) grad: Mutex<Option<Tensor>>,
}

impl Var {
    pub(crate) fn new(requires_grad: bool, node: Option<Node>) -> Var {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        Var {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            requires_grad,
            op_result: node.is_some(),
            node: Mutex::new(node),
            grad: Mutex::new(None),
        }
    }
}
// ANCHOR_END: node

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether operations on this thread record the graph.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// While alive, operations on this thread record nothing (evaluation, optimizer updates).
pub struct NoGradGuard {
    previous: bool,
}

impl NoGradGuard {
    /// Disables recording until the guard drops.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NoGradGuard {
            previous: GRAD_ENABLED.with(|g| g.replace(false)),
        }
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Runs `f` with graph recording disabled.
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = NoGradGuard::new();
    f()
}

impl Tensor {
    /// The result of an op: records `backward` when recording is on and an input tracks grad.
    pub(crate) fn from_op(
        storage: crate::Storage,
        shape: Shape,
        inputs: &[&Tensor],
        backward: impl Fn(&Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
    ) -> Tensor {
        Tensor::from_op_shared(SharedStorage::new(storage), shape, inputs, backward)
    }

    // ANCHOR: from_op
    /// [`Tensor::from_op`] over storage that other handles may share (a reshape, or a detached
    /// view of the output captured by its own backward).
    pub(crate) fn from_op_shared(
        storage: Arc<SharedStorage>,
        shape: Shape,
        inputs: &[&Tensor],
        backward: impl Fn(&Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
    ) -> Tensor {
        let track = is_grad_enabled() && inputs.iter().any(|t| t.tracks_grad());
        let node = track.then(|| Node {
            inputs: inputs.iter().map(|t| t.0.var.clone()).collect(),
            backward: Box::new(backward),
            seen: inputs
                .iter()
                .map(|t| Seen::of(&t.0.storage, t.shape()))
                .chain([Seen::of(&storage, &shape)])
                .collect(),
        });
        Tensor::with_storage(storage, shape, track, node)
    }
    // ANCHOR_END: from_op
}

// ANCHOR: topological_order
/// Graph entries reachable from `root` through recorded nodes, inputs before their users.
fn topological_order(root: &Arc<Var>) -> Vec<Arc<Var>> {
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    // (entry, whether its inputs have been pushed already)
    let mut stack = vec![(root.clone(), false)];
    while let Some((v, expanded)) = stack.pop() {
        if expanded {
            order.push(v);
            continue;
        }
        if !seen.insert(v.id) {
            continue;
        }
        let inputs: Vec<Arc<Var>> = match &*v.node.lock().expect("node lock") {
            Some(node) => node.inputs.clone(),
            None => Vec::new(),
        };
        stack.push((v, true));
        for input in inputs {
            if input.requires_grad && !seen.contains(&input.id) {
                stack.push((input, false));
            }
        }
    }
    order
}
// ANCHOR_END: topological_order

// ANCHOR: backward
/// `a + b` without recording, for accumulating gradients.
fn accumulate(a: Option<Tensor>, b: Tensor) -> Result<Tensor> {
    match a {
        Some(a) => a.add(&b),
        None => Ok(b),
    }
}

pub(crate) fn backward(root: &Tensor) -> Result<()> {
    if root.numel() != 1 {
        return Err(Error::BackwardNotScalar {
            shape: root.shape().clone(),
        });
    }
    if !root.tracks_grad() {
        return Err(Error::BackwardNoGraph);
    }
    let _guard = NoGradGuard::new();
    let order = topological_order(&root.0.var);
    let mut grads: HashMap<usize, Tensor> = HashMap::new();
    grads.insert(
        root.0.var.id,
        Tensor::full_on(root.dims(), 1.0, root.dtype(), root.device())?,
    );
    for v in order.iter().rev() {
        let Some(grad) = grads.remove(&v.id) else {
            continue;
        };
        let node = v.node.lock().expect("node lock").take();
        match node {
            Some(node) => {
                for seen in &node.seen {
                    seen.check()?;
                }
                let input_grads = (node.backward)(&grad)?;
                for (input, g) in node.inputs.iter().zip(input_grads) {
                    if let (true, Some(g)) = (input.requires_grad, g) {
                        let previous = grads.remove(&input.id);
                        grads.insert(input.id, accumulate(previous, g)?);
                    }
                }
            }
            None if v.op_result => return Err(Error::GraphFreed),
            None => {
                let mut slot = v.grad.lock().expect("grad lock");
                *slot = Some(accumulate(slot.take(), grad)?);
            }
        }
    }
    Ok(())
}
// ANCHOR_END: backward
