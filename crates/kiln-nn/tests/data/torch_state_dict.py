"""Writes the PyTorch files that tests/torch_weights.rs loads.

A small CNN in PyTorch's `nn.Sequential`, its `state_dict()` saved with
`safetensors.torch.save_file` in float32, float64 and float16 (with PyTorch's
`num_batches_tracked` counter), and an input batch with the model's eval-mode output.

    python3 crates/kiln-nn/tests/data/torch_state_dict.py
"""

import pathlib

import torch
from safetensors.torch import save_file
from torch import nn

HERE = pathlib.Path(__file__).parent

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(3, 4, 3),  # 0: [n, 3, 5, 5] -> [n, 4, 3, 3]
    nn.BatchNorm2d(4),  # 1
    nn.ReLU(),  # 2
    nn.Flatten(),  # 3
    nn.Linear(4 * 3 * 3, 5),  # 4
)
# A few training-mode batches, so that the running statistics are not their initial values.
model.train()
with torch.no_grad():
    for _ in range(3):
        model(torch.randn(8, 3, 5, 5) * 2 + 1)
model.eval()
x = torch.randn(2, 3, 5, 5)
with torch.no_grad():
    y = model(x)

state = model.state_dict()


def converted(dtype):
    return {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}


save_file(state, HERE / "torch_f32.safetensors")
save_file(converted(torch.float64), HERE / "torch_f64.safetensors")
save_file(converted(torch.float16), HERE / "torch_f16.safetensors")
save_file({"x": x, "y": y}, HERE / "torch_io.safetensors")
