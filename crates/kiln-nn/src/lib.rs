//! Layers, losses, optimizers and checkpoints for kiln.
