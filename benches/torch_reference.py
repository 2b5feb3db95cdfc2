#!/usr/bin/env python3
"""PyTorch reference timings for `examples/train_step.rs`, to compare in one run on one machine.

The model is the example's: batch norm at the input of every layer (epsilon 1e-3, PyTorch
momentum 0.25), valid 3x3 convolutions with 30, 50 and 60 filters and strides 2, 1, 1, ReLU,
dense layers of 3500 and 700 units, 10 classes. One step: forward, softmax cross-entropy,
backward, Adam (lr 1e-3). On CUDA, TF32 is off, so matrix products run in full fp32 like kiln's.

With --model resnet9, the ResNet-9 of `crates/kiln-experiments/src/resnet9.rs` (width 64, every
conv 3x3 with padding 1, batch norm or a conv bias, max-pooling, two residual blocks, global
max-pool, a bias-free linear layer, logits times 0.125), and its step: cross-entropy with label
smoothing 0.2, SGD with Nesterov momentum 0.9, lr 0.4, weight decay 5e-4.

usage: python3 benches/torch_reference.py [--device cuda|cpu] [--model cifar_bn|resnet9]
                                          [--batch 128] [--no-bn] [--steps 20] [--matmul 4096]
                                          [--threads N]
prints 'torch <version> model=M device=D batch=B bn=X step_ms=... images_per_s=...' and, with
--matmul N, 'sgemm N GFLOP/s ...'. Needs `pip install torch`.
"""
import argparse
import math
import time

import torch
import torch.nn as nn


def model(with_bn: bool) -> nn.Module:
    def bn2(c):
        return [nn.BatchNorm2d(c, eps=1e-3, momentum=0.25)] if with_bn else []

    def bn1(c):
        return [nn.BatchNorm1d(c, eps=1e-3, momentum=0.25)] if with_bn else []

    return nn.Sequential(
        *bn2(3), nn.Conv2d(3, 30, 3, 2), nn.ReLU(),
        *bn2(30), nn.Conv2d(30, 50, 3, 1), nn.ReLU(),
        *bn2(50), nn.Conv2d(50, 60, 3, 1), nn.ReLU(),
        nn.Flatten(),
        *bn1(7260), nn.Linear(7260, 3500), nn.ReLU(),
        *bn1(3500), nn.Linear(3500, 700), nn.ReLU(),
        *bn1(700), nn.Linear(700, 10))


def resnet9(with_bn: bool, width: int = 64) -> nn.Module:
    def cbr(c_in, c_out):
        conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=not with_bn)
        return nn.Sequential(conv, *([nn.BatchNorm2d(c_out)] if with_bn else []), nn.ReLU())

    class Residual(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return x + self.inner(x)

    class Scale(nn.Module):
        def forward(self, x):
            return x * 0.125

    w = width
    return nn.Sequential(
        cbr(3, w),
        nn.Sequential(cbr(w, 2 * w), nn.MaxPool2d(2)),
        Residual(nn.Sequential(cbr(2 * w, 2 * w), cbr(2 * w, 2 * w))),
        nn.Sequential(cbr(2 * w, 4 * w), nn.MaxPool2d(2)),
        nn.Sequential(cbr(4 * w, 8 * w), nn.MaxPool2d(2)),
        Residual(nn.Sequential(cbr(8 * w, 8 * w), cbr(8 * w, 8 * w))),
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(8 * w, 10, bias=False), Scale())


def timed(f, reps: int, device: str) -> float:
    """Seconds per call of `f`, after the device has finished the work."""
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(reps):
        f()
    sync()
    return (time.perf_counter() - start) / reps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--model", default="cifar_bn", choices=["cifar_bn", "resnet9"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--no-bn", dest="bn", action="store_false")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--matmul", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = a.device
    if a.model == "resnet9":
        m = resnet9(a.bn).to(dev)
        opt = torch.optim.SGD(m.parameters(), lr=0.4, momentum=0.9, nesterov=True,
                              weight_decay=5e-4)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=0.2)
    else:
        m = model(a.bn).to(dev)
        opt = torch.optim.Adam(m.parameters(), 1e-3)
        loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(a.batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (a.batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(m(x), y)
        loss.backward()
        opt.step()
        return loss.item()  # a read-back per step, as kiln's loop does

    for _ in range(2):
        step()
    dt = timed(step, a.steps, dev)
    print(f"torch {torch.__version__} model={a.model} device={dev} batch={a.batch} bn={a.bn} "
          f"step_ms={dt * 1e3:.1f} images_per_s={a.batch / dt:.0f} "
          f"tf32={torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32}")
    if a.matmul:
        n = a.matmul
        p = torch.rand(n, n, device=dev)
        q = torch.rand(n, n, device=dev)
        for _ in range(3):
            p @ q
        # At least 10 products and about 2e11 flops in all on the CPU, 2e13 (at most 1000
        # products) on a GPU, as in kiln's `train_step`.
        reps = 2e11 / (2 * n ** 3) if dev == "cpu" else min(1000, 2e13 / (2 * n ** 3))
        reps = max(10, math.ceil(reps))
        dt = timed(lambda: p @ q, reps, dev)
        print(f"sgemm {n} GFLOP/s {2 * n ** 3 / dt / 1e9:.1f}")


if __name__ == "__main__":
    main()
