#!/usr/bin/env python3
"""Draws the book's diagrams as SVG files beside this script.

    python3 book/src/figures/make_figures.py            # every figure from its source
    python3 book/src/figures/make_figures.py --samples samples.txt   # also chapter 9's figure

Each figure takes its numbers from where the book and the code keep them, never from a copy:
the tile shapes of chapter 5 are parsed from `crates/kiln-tensor/src/gpu/matmul.rs` and
`shaders/matmul.wgsl`, the worked examples of chapters 2 and 6 are recomputed from their inputs
(the same inputs as the tests in `book/listings/tests/`), the GFLOP/s chart and chapter 5's
table (`book/src/results/matmul_ladder.md`) are drawn from `book/src/results/matmul_ladder.csv`
(written by `book/listings/src/bin/matmul_ladder.rs`), and the synthetic samples of chapter 9 are the pixels
that `kiln-data` generates, printed by `book/listings/src/bin/synthetic_samples.rs`:

    cargo run --release --manifest-path book/listings/Cargo.toml --bin synthetic_samples -- 6 > samples.txt

Only Python 3's standard library is needed.
"""
import argparse
import base64
import csv
import re
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
INK = "#222"
MUTED = "#777"
BLUE = "#3b6fb6"
BLUE_LIGHT = "#dce8f7"
ORANGE = "#d9822b"
ORANGE_LIGHT = "#fbe6cf"
GREEN = "#3c9a5f"
GREEN_LIGHT = "#d9f0e1"
GREY_LIGHT = "#eeeeee"
RED = "#c0392b"


class Svg:
    def __init__(self, width, height, title):
        self.w, self.h = width, height
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="13" fill="{INK}">',
            f"<title>{esc(title)}</title>",
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
            "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
            f"<path d=\"M0,0 L10,5 L0,10 z\" fill=\"{INK}\"/></marker></defs>",
            f'<rect width="{width}" height="{height}" fill="white"/>',
        ]

    def add(self, s):
        self.parts.append(s)

    def rect(self, x, y, w, h, fill="none", stroke=INK, sw=1, extra=""):
        self.add(
            f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{sw}" {extra}/>'
        )

    def text(self, x, y, s, size=13, anchor="start", fill=INK, weight="normal", mono=False,
             italic=False):
        family = f' font-family="{MONO}"' if mono else ""
        style = ' font-style="italic"' if italic else ""
        self.add(
            f'<text x="{x:g}" y="{y:g}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}" font-weight="{weight}"{family}{style}>{esc(s)}</text>'
        )

    def line(self, x1, y1, x2, y2, stroke=INK, sw=1, arrow=False, dash=None):
        a = ' marker-end="url(#arrow)"' if arrow else ""
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(
            f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{stroke}" '
            f'stroke-width="{sw}"{a}{d}/>'
        )

    def path(self, d, stroke=INK, sw=1, fill="none", arrow=False, dash=None):
        a = ' marker-end="url(#arrow)"' if arrow else ""
        da = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<path d="{d}" stroke="{stroke}" stroke-width="{sw}" fill="{fill}"{a}{da}/>')

    def save(self, name):
        (HERE / name).write_text("\n".join(self.parts + ["</svg>"]) + "\n")
        print("wrote", HERE / name)


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def num(v):
    """A value as the chapters write it: 2, 2.5, -6."""
    return f"{v:g}"


def grid(svg, x, y, values, cell=30, fill="white", fills=None, size=13, mono=True):
    """A matrix of values, row by row; `fills[r][c]` overrides the fill of a cell."""
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            f = fills[r][c] if fills else fill
            svg.rect(x + c * cell, y + r * cell, cell, cell, fill=f)
            if v is not None:
                svg.text(x + c * cell + cell / 2, y + r * cell + cell / 2 + size * 0.36, v,
                         size=size, anchor="middle", mono=mono)


# ---------------------------------------------------------------- chapter 1: broadcasting


def strides(dims):
    out, acc = [], 1
    for d in reversed(dims):
        out.append(acc)
        acc *= d
    return out[::-1]


def broadcast_strides(dims, out):
    """kiln's Shape::broadcast_strides: 0 on broadcast axes, aligned from the right."""
    pad = len(out) - len(dims)
    dims = [1] * pad + list(dims)
    s = [0] * pad + strides(dims[pad:])
    return [0 if d == 1 and o != 1 else st for d, o, st in zip(dims, out, s)]


def fig_broadcast():
    # The outer product of book/listings/tests/ch01_tensors.rs: [2, 1] * [1, 3] -> [2, 3].
    col, col_dims = [1, 2], [2, 1]
    row, row_dims = [1, 10, 100], [1, 3]
    out = [max(a, b) for a, b in zip(col_dims, row_dims)]
    cs, rs = broadcast_strides(col_dims, out), broadcast_strides(row_dims, out)
    svg = Svg(780, 260, "Broadcasting with stride 0")
    cell = 34
    svg.text(20, 28, "col.mul(&row): [2, 1] × [1, 3] → [2, 3], each operand read through its "
             "broadcast strides", size=14, weight="bold")

    def operand(x, y, name, data, dims, st, color, light):
        svg.text(x, y - 34, f"{name}: storage {dims}", size=13, weight="bold", fill=color)
        for i, v in enumerate(data):
            svg.rect(x + i * cell, y - 26, cell, 22, fill=light, stroke=color)
            svg.text(x + i * cell + cell / 2, y - 10, num(v), anchor="middle", mono=True)
        svg.text(x, y + 14, f"read as {out} with strides {st}", size=12, fill=MUTED)
        top = y + 26
        for r in range(out[0]):
            for c in range(out[1]):
                off = r * st[0] + c * st[1]
                svg.rect(x + c * cell, top + r * cell, cell, cell, fill=light, stroke=color)
                svg.text(x + c * cell + cell / 2, top + r * cell + 15, num(data[off]),
                         anchor="middle", mono=True)
                svg.text(x + c * cell + cell / 2, top + r * cell + 28, f"[{off}]",
                         size=9, anchor="middle", fill=MUTED, mono=True)
        return top

    top = operand(30, 90, "col", col, col_dims, cs, BLUE, BLUE_LIGHT)
    operand(270, 90, "row", row, row_dims, rs, ORANGE, ORANGE_LIGHT)
    svg.text(30 + 3 * cell + 50, top + cell + 6, "×", size=26, anchor="middle")
    svg.text(560, top + cell + 6, "=", size=26, anchor="middle")
    x0 = 630
    svg.text(x0, 56, f"result {out}", size=13, weight="bold")
    svg.text(x0, 74, f"strides {strides(out)}", size=12, fill=MUTED)
    res = [[col[r * cs[0] + c * cs[1]] * row[r * rs[0] + c * rs[1]] for c in range(out[1])]
           for r in range(out[0])]
    grid(svg, x0 - 30, top, [[num(v) for v in r] for r in res], cell=cell + 8,
         fill=GREEN_LIGHT)
    svg.text(20, 222, "A stride of 0: moving along that axis re-reads the same element. Under "
             "each value, [k] is the storage offset i·s₀ + j·s₁ read;", size=12, fill=MUTED)
    svg.text(20, 240, "nothing is copied. The same rule in 3-D: [5, 1] read as [4, 5, 3] "
             f"has strides {broadcast_strides([5, 1], [4, 5, 3])}.", size=12, fill=MUTED)
    svg.save("broadcast.svg")


# ---------------------------------------------------------------- chapter 2: the worked example


def matmul(a, b):
    return [[sum(a[i][p] * b[p][j] for p in range(len(b))) for j in range(len(b[0]))]
            for i in range(len(a))]


def zipm(f, a, b):
    return [[f(x, y) for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]


def transpose(a):
    return [list(r) for r in zip(*a)]


def mat(m):
    return "[" + "; ".join(" ".join(num(v) for v in r) for r in m) + "]"


def fig_autograd():
    # The inputs of ch02's worked example (book/listings/tests/ch02_autograd.rs).
    X = [[1, 2], [3, -1]]
    W = [[1, -1], [0.5, 2]]
    b = [0, -1]
    XW = matmul(X, W)
    H = [[v + b[j] for j, v in enumerate(r)] for r in XW]
    R = [[max(v, 0) for v in r] for r in H]
    RR = zipm(lambda p, q: p * q, R, R)
    L = sum(sum(r) for r in RR)
    # Backward, by the chapter's rules.
    gRR = [[1, 1], [1, 1]]
    gR = zipm(lambda g, r: 2 * g * r, gRR, R)  # both inputs of r*r are r: 1·r + 1·r
    gH = zipm(lambda g, h: g if h > 0 else 0, gR, H)
    gXW = gH
    gb = [sum(gH[i][j] for i in range(2)) for j in range(2)]
    gW = matmul(transpose(X), gH)
    gX = matmul(gH, transpose(W))
    nodes = {
        "X": ("leaf X", mat(X), mat(gX), []),
        "W": ("leaf W", mat(W), mat(gW), []),
        "b": ("leaf b", "[" + " ".join(num(v) for v in b) + "]",
              "[" + " ".join(num(v) for v in gb) + "]", []),
        "XW": ("x.matmul(&w)", mat(XW), mat(gXW), ["X", "W"]),
        "H": ("h = .add(&b)", mat(H), mat(gH), ["XW", "b"]),
        "R": ("r = h.relu()", mat(R), mat(gR), ["H"]),
        "RR": ("r.mul(&r)", mat(RR), mat(gRR), ["R", "R"]),
        "L": ("loss = .sum_all()", num(L), "1", ["RR"]),
    }
    # kiln's topological_order (autograd.rs): depth-first post-order with an explicit stack.
    order, seen, stack = [], set(), [("L", False)]
    while stack:
        v, expanded = stack.pop()
        if expanded:
            order.append(v)
            continue
        if v in seen:
            continue
        seen.add(v)
        stack.append((v, True))
        for i in nodes[v][3]:
            if i not in seen:
                stack.append((i, False))
    pos = {
        "X": (40, 300), "W": (40, 420), "b": (300, 420), "XW": (300, 300),
        "H": (560, 300), "R": (560, 175), "RR": (560, 50), "L": (300, 50),
    }
    bw, bh = 210, 84
    svg = Svg(840, 560, "The worked example's graph")
    svg.text(20, 22, "H = XW + b, R = max(H, 0), L = Σ R²: values, gradients and the order of "
             "the walk", size=14, weight="bold")
    # Edges first, from input to user.
    for name, (_, _, _, inputs) in nodes.items():
        x2, y2 = pos[name]
        uses = {i: inputs.count(i) for i in inputs}
        for i, count in uses.items():
            x1, y1 = pos[i]
            for k in range(count):
                off = (k - (count - 1) / 2) * 36
                if y1 == y2 and x1 < x2:
                    sx, sy, ex, ey = x1 + bw, y1 + bh / 2, x2, y2 + bh / 2
                elif y1 == y2:
                    sx, sy, ex, ey = x1, y1 + bh / 2, x2 + bw, y2 + bh / 2
                elif x1 == x2:
                    # Vertical, left of the label above the box.
                    sx, sy, ex, ey = x1 + 50 + off, y1, x2 + 50 + off, y2 + bh
                else:
                    sx, sy, ex, ey = x1 + bw, y1 + bh / 2, x2 + 30, y2 + bh
                svg.line(sx, sy, ex, ey, sw=1.4, arrow=True)
            if count > 1:
                svg.text(x1 - 6, (y1 + y2 + bh) / 2 + 4, "r is both inputs", size=11,
                         anchor="end", fill=MUTED)
    back = list(reversed(order))
    for name, (label, value, grad, _) in nodes.items():
        x, y = pos[name]
        leaf = not nodes[name][3]
        svg.rect(x, y, bw, bh, fill=BLUE_LIGHT if leaf else "white", stroke=BLUE, sw=1.4,
                 extra='rx="6"')
        svg.text(x + 10, y + 20, label, size=13, weight="bold", mono=True)
        svg.text(x + 10, y + 44, "value " + value, size=12, mono=True)
        svg.text(x + 10, y + 66, "grad  " + grad, size=12, mono=True, fill=ORANGE)
        # Topological position (forward) and the step at which backward visits it.
        svg.text(x + bw, y - 7, f"order {order.index(name) + 1} · backward {back.index(name) + 1}",
                 size=11.5, anchor="end", fill=GREEN, weight="bold")
    svg.text(20, 530, "Green: order n is the position in topological_order (inputs before users); "
             "backward n, the step at which backward reaches the tensor.", size=12, fill=MUTED)
    svg.text(20, 548, "Values in black, gradients ∂L/∂· in orange; blue boxes are leaves, "
             "which keep their gradient. Rows of a matrix are separated by ';'.",
             size=12, fill=MUTED)
    svg.save("autograd_graph.svg")


# ---------------------------------------------------------------- chapter 4: grid and host


def fig_grid():
    # saxpy of book/listings: @workgroup_size(64), the test's 1000 elements.
    text = (ROOT / "book/listings/shaders/saxpy.wgsl").read_text()
    wg = int(re.search(r"@workgroup_size\((\d+)\)", text).group(1))
    length = 1000
    groups = -(-length // wg)
    svg = Svg(880, 385, "Grid, workgroup, invocation")
    svg.text(20, 28, f"saxpy over {length} elements: dispatch_workgroups({groups}, 1, 1) "
             f"with @workgroup_size({wg})", size=14, weight="bold")
    cw, ch = 9, 14
    x0, y0 = 175, 52
    shown = list(range(0, 3)) + [None] + list(range(groups - 2, groups))
    rows = {}
    y = y0
    for g in shown:
        if g is None:
            svg.text(x0 + wg * cw / 2, y + 12, "⋮", size=16, anchor="middle", fill=MUTED)
            y += 24
            continue
        rows[g] = y
        svg.text(x0 - 10, y + 11, f"workgroup_id.x = {g}", size=12, anchor="end", mono=True)
        for i in range(wg):
            idle = g * wg + i >= length
            svg.rect(x0 + i * cw, y, cw, ch, fill=GREY_LIGHT if idle else BLUE_LIGHT,
                     stroke="#ccc" if idle else "#9ab", sw=0.6)
        svg.rect(x0, y, wg * cw, ch, stroke=BLUE, sw=1.2)
        y += ch + 10
    # One invocation, highlighted, and the end of the data.
    g, i = groups - 1, 10
    hx, hy = x0 + i * cw, rows[g]
    svg.rect(hx, hy, cw, ch, fill=ORANGE, stroke=ORANGE)
    label_y = rows[groups - 1] + ch + 50
    svg.line(hx + cw / 2, hy + ch, hx + cw / 2, label_y - 14, stroke=ORANGE, sw=1.2)
    svg.text(hx - 60, label_y,
             f"local_invocation_id.x = {i}, so global_invocation_id.x = {g} · {wg} + {i} = "
             f"{g * wg + i}", size=12, mono=True, fill=ORANGE)
    ly = rows[groups - 1]
    first_idle = length - (groups - 1) * wg
    ex = x0 + first_idle * cw
    svg.line(ex, ly - 4, ex, ly + ch + 22, stroke=RED, sw=1.5)
    svg.text(ex + 5, ly + ch + 20, f"index {length}: past the end, the bounds check returns",
             size=12, fill=RED)
    yl = label_y + 34
    svg.rect(x0, yl, 14, 12, fill=BLUE_LIGHT, stroke="#9ab")
    svg.text(x0 + 22, yl + 10, "an invocation with an element to compute", size=12)
    svg.rect(x0, yl + 20, 14, 12, fill=GREY_LIGHT, stroke="#ccc")
    svg.text(x0 + 22, yl + 30,
             f"an idle invocation: {groups} × {wg} = {groups * wg} invocations for {length} "
             "elements", size=12)
    svg.rect(x0 - 40, yl + 40, 54, 12, stroke=BLUE, sw=1.2)
    svg.text(x0 + 22, yl + 50, f"a workgroup: {wg} invocations that can share workgroup "
             "memory and meet at barriers", size=12)
    svg.text(20, yl + 84, "The grid is a whole number of workgroups. Each invocation knows its "
             "workgroup_id, its local_invocation_id in the", size=12, fill=MUTED)
    svg.text(20, yl + 102, "workgroup, and global_invocation_id = workgroup_id · workgroup_size "
             "+ local_invocation_id.", size=12, fill=MUTED)
    svg.save("grid.svg")


def fig_host_sequence():
    steps = [
        ("1. buffers", ["create_buffer_init: x, y (STORAGE; y also COPY_SRC),",
                        "params (UNIFORM)"], "data on the device"),
        ("2. pipeline", ["create_shader_module: WGSL → module", "create_compute_pipeline"],
         "bind group layout derived from the @binding slots"),
        ("3. bind group", ["create_bind_group: buffer i at @binding(i)"],
         "which buffers this dispatch reads and writes"),
        ("4. dispatch", ["encoder → begin_compute_pass", "set_pipeline, set_bind_group",
                         "dispatch_workgroups(⌈len / 64⌉, 1, 1); submit"],
         "recorded, then submitted: runs later, in order"),
        ("5. read back", ["copy y → staging buffer (MAP_READ); submit", "map_async(Read);"
                          " device.poll(wait)", "get_mapped_range → Vec<f32>; unmap"],
         "the one place where the host waits"),
    ]
    svg = Svg(940, 498, "The host's sequence")
    svg.text(20, 28, "saxpy's host code (book/listings/src/first_shader.rs), step by step",
             size=14, weight="bold")
    x, y, bw, bh, gap = 20, 50, 150, 58, 26
    for k, (title, calls, note) in enumerate(steps):
        by = y + k * (bh + gap)
        color, light = (ORANGE, ORANGE_LIGHT) if k >= 3 else (BLUE, BLUE_LIGHT)
        svg.rect(x, by, bw, bh, fill=light, stroke=color, sw=1.4, extra='rx="6"')
        svg.text(x + 14, by + bh / 2 + 5, title, size=15, weight="bold")
        top = by + bh / 2 - (len(calls) - 1) * 9 + 4
        for i, line in enumerate(calls):
            svg.text(x + bw + 20, top + i * 18, line, size=11.5, mono=True)
        svg.text(x + bw + 410, by + bh / 2 + 4, note, size=12, fill=MUTED)
        if k:
            svg.line(x + bw / 2, by - gap + 2, x + bw / 2, by - 2, sw=1.4, arrow=True)
    svg.text(20, 488 - 20, "Steps 1-3 are set-up, which kiln's runtime caches (pipelines, bind groups) "
             "or pools (buffers); a training step records its dispatches", size=12,
             fill=MUTED)
    svg.text(20, 488 - 2, "into one encoder and reads back at most the loss.", size=12,
             fill=MUTED)
    svg.save("host_sequence.svg")


# ---------------------------------------------------------------- chapter 5: the GEMM tile


def tile_128x64():
    src = (ROOT / "crates/kiln-tensor/src/gpu/matmul.rs").read_text()
    m = re.search(r"const TILE_128X64: Tile = Tile \{(.*?)\};", src, re.S)
    return {k: int(v) for k, v in re.findall(r"(\w+): (\d+)", m.group(1))}


def tile_padding():
    """`A_STRIDE = BM / V + P`: the vec width V and the padding P, in vec4s."""
    src = (ROOT / "shaders/matmul.wgsl").read_text()
    m = re.search(r"const A_STRIDE: u32 = BM / (\d+)u \+ (\d+)u;", src)
    return int(m.group(1)), int(m.group(2))


def fig_matmul_block():
    t = tile_128x64()
    bm, bn, bk, tm, tn = t["rows"], t["cols"], t["depth"], t["micro_rows"], t["micro_cols"]
    vec, pad = tile_padding()
    wg_x, wg_y = bn // tn, bm // tm
    s = 3.2  # pixels per element
    svg = Svg(900, 870, "The 128 x 64 block")
    svg.text(20, 28, f"A workgroup of {wg_x} × {wg_y} invocations computes a {bm} × {bn} block "
             f"of C; each invocation an {tm} × {tn} micro-tile", size=14, weight="bold")
    # C block.
    cx, cy = 330, 215
    svg.rect(cx, cy, bn * s, bm * s, fill="white", stroke=INK, sw=1.5)
    for i in range(1, wg_y):
        svg.line(cx, cy + i * tm * s, cx + bn * s, cy + i * tm * s, stroke="#bbb", sw=0.6)
    for j in range(1, wg_x):
        svg.line(cx + j * tn * s, cy, cx + j * tn * s, cy + bm * s, stroke="#bbb", sw=0.6)
    hi, hj = 5, 2  # the highlighted invocation: lid = (hj, hi)
    svg.rect(cx + hj * tn * s, cy + hi * tm * s, tn * s, tm * s, fill=ORANGE, stroke=ORANGE)
    svg.text(cx + bn * s / 2, cy + bm * s + 20, f"block of C: {bm} × {bn}", size=13,
             anchor="middle", weight="bold")
    svg.text(cx + bn * s / 2, cy + bm * s + 37, f"{wg_y} rows × {wg_x} columns of micro-tiles",
             size=12, anchor="middle", fill=MUTED)
    svg.line(cx + (hj + 1) * tn * s + 2, cy + (hi + 0.5) * tm * s, cx + bn * s + 60,
             cy + (hi + 0.5) * tm * s, stroke=ORANGE, sw=1)
    svg.text(cx + bn * s + 64, cy + (hi + 0.5) * tm * s - 6,
             f"invocation lid = ({hj}, {hi}):", size=12, fill=ORANGE)
    svg.text(cx + bn * s + 64, cy + (hi + 0.5) * tm * s + 10,
             f"{tm} × {tn} = {tm * tn} sums in registers", size=12, fill=ORANGE)
    # A tile (left), BK wide, BM tall; B tile (top), BK tall, BN wide.
    ax = cx - 40 - bk * s * 2
    svg.rect(ax, cy, bk * s * 2, bm * s, fill=BLUE_LIGHT, stroke=BLUE, sw=1.2)
    svg.rect(ax, cy + hi * tm * s, bk * s * 2, tm * s, fill=BLUE, stroke=BLUE)
    svg.text(ax + bk * s, cy - 8, f"A: {bm} × {bk}", size=12, anchor="middle", fill=BLUE,
             weight="bold")
    by = cy - 40 - bk * s * 2
    svg.rect(cx, by, bn * s, bk * s * 2, fill=GREEN_LIGHT, stroke=GREEN, sw=1.2)
    svg.rect(cx + hj * tn * s, by, tn * s, bk * s * 2, fill=GREEN, stroke=GREEN)
    svg.text(cx - 8, by + bk * s + 4, f"B: {bk} × {bn}", size=12, anchor="end", fill=GREEN,
             weight="bold")
    svg.text(20, 70, f"Each step of k loads a {bm} × {bk} tile of A and a {bk} × {bn} tile of B "
             "into workgroup memory.", size=12)
    svg.text(20, 88, f"For each of the {bk} values of kk, the invocation reads its {tm} values "
             f"of A (dark blue) and {tn} of B (dark green)", size=12)
    svg.text(20, 106, f"and does all {tm * tn} multiply-adds between them: "
             f"{tm + tn} workgroup-memory loads per {tm * tn} FMAs.", size=12)
    # The padded shared tile of A, k-major, in vec4s.
    px, py = 40, 735
    cw = 11
    row_len = bm // vec + pad
    svg.text(px, py - 26, f"a_tile in workgroup memory: {bk} rows (one per kk) of A_STRIDE = "
             f"BM / {vec} + {pad} = {row_len} vec{vec}s", size=13, weight="bold")
    svg.text(px, py - 10, f"(the last vec{vec} of each row is padding, so that stores along "
             "k spread over memory banks; b_tile likewise: "
             f"BN / {vec} + {pad} = {bn // vec + pad})", size=12, fill=MUTED)
    for r in range(bk):
        for c in range(row_len):
            padc = c >= bm // vec
            mine = hi * tm // vec <= c < (hi + 1) * tm // vec
            fill = "#f6d5d1" if padc else (BLUE if mine else BLUE_LIGHT)
            svg.rect(px + c * cw, py + r * 11, cw, 11, fill=fill,
                     stroke=RED if padc else "#8aa7cf", sw=0.6)
    svg.text(px + row_len * cw + 8, py + 4 * 11 + 4, "← padding", size=12, fill=RED)
    svg.text(px, py + bk * 11 + 16, f"row kk holds A[row0 .. row0 + {bm}, k0 + kk] as "
             f"{bm // vec} vec{vec}s; the invocation reads its {tm} rows as {tm // vec} "
             f"consecutive vec{vec}s (dark)", size=12, fill=MUTED)
    svg.save("matmul_block.svg")


# ---------------------------------------------------------------- chapter 6: convolution


def fig_im2col():
    # ch06's example by hand: a 3 x 3 image 1..9, one 2 x 2 filter [1 0; 0 -1], valid, stride 1.
    h = w = 3
    x = [[r * w + c + 1 for c in range(w)] for r in range(h)]
    k = [[1, 0], [0, -1]]
    kh = kw = 2
    oh, ow = h - kh + 1, w - kw + 1
    cols = [[x[i + p][j + q] for i in range(oh) for j in range(ow)]
            for p in range(kh) for q in range(kw)]
    y = [sum(k[p][q] * cols[p * kw + q][c] for p in range(kh) for q in range(kw))
         for c in range(oh * ow)]
    svg = Svg(860, 350, "im2col")
    svg.text(20, 28, "im2col: one row per filter tap (c, p, q), one column per output pixel "
             "(i, j); then Y = W · X̂", size=14, weight="bold")
    cell = 34
    colors = [BLUE_LIGHT, ORANGE_LIGHT, GREEN_LIGHT, "#eadcf5"]
    strong = [BLUE, ORANGE, GREEN, "#8e5cb8"]
    # The image with the window of output (0, 1).
    ix, iy = 30, 80
    svg.text(ix, iy - 12, f"x: {h} × {w}", size=13, weight="bold")
    grid(svg, ix, iy, [[num(v) for v in r] for r in x], cell=cell)
    wi, wj = 0, 1
    svg.rect(ix + wj * cell, iy + wi * cell, kw * cell, kh * cell, stroke=ORANGE, sw=3)
    svg.text(ix, iy + h * cell + 22, f"window of output ({wi}, {wj})", size=12, fill=ORANGE)
    # The filter.
    fx, fy = 30, 250
    svg.text(fx, fy - 10, "w: 1 × 1 × 2 × 2", size=13, weight="bold")
    grid(svg, fx, fy, [[num(v) for v in r] for r in k], cell=28,
         fills=[[colors[p * kw + q] for q in range(kw)] for p in range(kh)])
    # The im2col matrix.
    mx, my = 260, 80
    svg.text(mx, my - 12, f"X̂: {kh * kw} taps × {oh * ow} output pixels", size=13,
             weight="bold")
    for t in range(kh * kw):
        svg.text(mx - 8, my + t * cell + 22, f"({t // kw},{t % kw})", size=11, anchor="end",
                 mono=True, fill=strong[t])
    for c in range(oh * ow):
        svg.text(mx + c * cell + cell / 2, my + kh * kw * cell + 16, f"({c // ow},{c % ow})",
                 size=10, anchor="middle", mono=True, fill=MUTED)
    grid(svg, mx, my, [[num(v) for v in r] for r in cols], cell=cell,
         fills=[[colors[t]] * (oh * ow) for t in range(kh * kw)])
    col = wi * ow + wj
    svg.rect(mx + col * cell, my, cell, kh * kw * cell, stroke=ORANGE, sw=3)
    svg.text(mx + 2 * cell, my + kh * kw * cell + 36, "column (0, 1) = the window, unrolled",
             size=12, anchor="middle", fill=ORANGE)
    # W as a row times X̂ = Y.
    rx, ry = 470, 150
    svg.text(rx, ry - 40, "W as [c_out, c_in·kh·kw] = [1, 4]", size=13, weight="bold")
    grid(svg, rx, ry - 30, [[num(k[t // kw][t % kw]) for t in range(kh * kw)]], cell=cell,
         fills=[colors])
    svg.text(rx + 4 * cell + 12, ry - 8, "· X̂  =", size=15)
    svg.text(rx, ry + 40, f"Y: 1 × {oh * ow}, read as y: 1 × 1 × {oh} × {ow}", size=13,
             weight="bold")
    grid(svg, rx, ry + 52, [[num(v) for v in y]], cell=cell, fill=GREEN_LIGHT)
    svg.text(rx, ry + 110, "each entry: x[i][j] − x[i+1][j+1] = −4", size=12, fill=MUTED)
    svg.text(20, 338, "The matrix holds every pixel up to kh·kw times, which is why the GPU "
             "gathers its entries while loading tiles instead of storing it.", size=12,
             fill=MUTED)
    svg.save("im2col.svg")


def fig_holes():
    # Backward-data of a 3 x 3 filter with stride 2 and no padding on a 5 x 5 image.
    h = w = 5
    kh = kw = 3
    s = 2
    oh, ow = (h - kh) // s + 1, (w - kw) // s + 1
    names = [["a", "b"], ["c", "d"]]
    u, v = 1, 2  # the input pixel whose gradient is worked out
    svg = Svg(780, 420, "Backward-data with stride 2")
    svg.text(20, 28, f"Backward-data, {kh} × {kw} filter, stride {s}, no padding: "
             f"ȳ is {oh} × {ow}, x̄ is {h} × {w}", size=14, weight="bold")
    cell = 32
    # Panel 1: ȳ.
    x1, y1 = 30, 90
    svg.text(x1, y1 - 14, "ȳ (output gradient)", size=13, weight="bold")
    grid(svg, x1, y1, names, cell=cell, fill=ORANGE_LIGHT, mono=True)
    # Panel 2: ȳ spread out with stride 2, holes between, padded by kh - 1.
    pad = kh - 1
    dim_h, dim_w = (oh - 1) * s + 1 + 2 * pad, (ow - 1) * s + 1 + 2 * pad
    x2, y2 = 190, 90
    svg.text(x2, y2 - 30, "ȳ spread out by the stride (holes = 0),", size=13, weight="bold")
    svg.text(x2, y2 - 12, f"padded by kh − 1 = {pad}; the flipped filter", size=13,
             weight="bold")
    for r in range(dim_h):
        for c in range(dim_w):
            rr, cc = r - pad, c - pad
            val = None
            fill = "white"
            if 0 <= rr < (oh - 1) * s + 1 and 0 <= cc < (ow - 1) * s + 1:
                if rr % s == 0 and cc % s == 0:
                    val = names[rr // s][cc // s]
                    fill = ORANGE_LIGHT
                else:
                    fill = GREY_LIGHT
            svg.rect(x2 + c * cell, y2 + r * cell, cell, cell, fill=fill,
                     stroke="#bbb" if fill == "white" else INK, sw=0.8)
            if val:
                svg.text(x2 + c * cell + cell / 2, y2 + r * cell + 21, val, anchor="middle",
                         mono=True)
            elif fill == GREY_LIGHT:
                svg.text(x2 + c * cell + cell / 2, y2 + r * cell + 21, "0", anchor="middle",
                         mono=True, fill="#aaa")
    # The flipped filter over the window of x̄[u][v]: rows u .. u + kh - 1 of the padded grid.
    svg.rect(x2 + v * cell, y2 + u * cell, kw * cell, kh * cell, stroke=BLUE, sw=3)
    used = []
    for p in range(kh):
        for q in range(kw):
            # Tap (p, q) of w meets padded cell (u + kh - 1 - p, v + kw - 1 - q): flipped.
            r, c = u + kh - 1 - p, v + kw - 1 - q
            svg.text(x2 + c * cell + 3, y2 + r * cell + 10, f"w{p}{q}", size=8.5, fill=BLUE,
                     mono=True)
            rr, cc = r - pad, c - pad
            if 0 <= rr < (oh - 1) * s + 1 and 0 <= cc < (ow - 1) * s + 1 and rr % s == 0 \
                    and cc % s == 0:
                used.append((p, q, names[rr // s][cc // s]))
    # Panel 3: x̄.
    x3, y3 = 515, 90
    svg.text(x3, y3 - 14, "x̄ (input gradient)", size=13, weight="bold")
    fills = [[BLUE if (r, c) == (u, v) else BLUE_LIGHT for c in range(w)] for r in range(h)]
    grid(svg, x3, y3, [[None] * w for _ in range(h)], cell=cell, fills=fills)
    terms = " + ".join(f"w{p}{q}·{n}" for p, q, n in used)
    svg.text(x3, y3 + h * cell + 24, f"x̄[{u}][{v}] = {terms}", size=13, mono=True,
             fill=BLUE)
    svg.text(x3, y3 + h * cell + 44, f"{len(used)} of the {kh * kw} taps land on a value;",
             size=12, fill=MUTED)
    svg.text(x3, y3 + h * cell + 60, f"the other {kh * kw - len(used)} on a hole or padding",
             size=12, fill=MUTED)
    svg.text(20, 366, "As a convolution, backward-data slides the flipped filter over ȳ spread "
             "out by the stride, and most taps meet holes.", size=12, fill=MUTED)
    svg.text(20, 384, "kiln never builds this grid: each input pixel (u, v) gathers only the taps "
             "(p, q) for which (u + π − p) / s", size=12, fill=MUTED)
    svg.text(20, 402, "and (v + π − q) / s are exact and land inside ȳ. Skipping the other "
             "taps is skipping the holes.", size=12, fill=MUTED)
    svg.save("backward_data_holes.svg")


# ---------------------------------------------------------------- chapter 9: synthetic samples


def png(width, height, rgb_rows):
    raw = b"".join(b"\x00" + bytes(row) for row in rgb_rows)

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def fig_samples(path):
    samples = {}
    for line in Path(path).read_text().split("\n"):
        if not line.strip():
            continue
        label, name, index, hexdata = line.split()
        samples.setdefault((int(label), name), []).append((int(index), bytes.fromhex(hexdata)))
    classes = sorted(samples)
    per = max(len(v) for v in samples.values())
    side, gap = 32, 4
    mw, mh = per * (side + gap) - gap, len(classes) * (side + gap) - gap
    rows = [[255] * (mw * 3) for _ in range(mh)]
    for ci, key in enumerate(classes):
        for k, (_, img) in enumerate(samples[key]):
            for y in range(side):
                for x in range(side):
                    r, g, b = (img[c * 1024 + y * 32 + x] for c in range(3))
                    px = (k * (side + gap) + x) * 3
                    rows[ci * (side + gap) + y][px:px + 3] = [r, g, b]
    data = base64.b64encode(png(mw, mh, rows)).decode()
    scale = 3
    left = 110
    svg = Svg(left + mw * scale + 20, mh * scale + 90, "Synthetic samples per class")
    svg.text(20, 24, "kiln-data's synthetic CIFAR-10-format data", size=14, weight="bold")
    svg.text(20, 44, f"the first {per} training images of each class, SyntheticConfig::default() "
             "(seed 0)", size=12, fill=MUTED)
    svg.add(f'<image x="{left}" y="60" width="{mw * scale}" height="{mh * scale}" '
            'preserveAspectRatio="none" style="image-rendering:pixelated" '
            f'href="data:image/png;base64,{data}"/>')
    for ci, (label, name) in enumerate(classes):
        svg.text(left - 10, 60 + (ci * (side + gap) + side / 2) * scale + 5, f"{label} {name}",
                 size=13, anchor="end")
    svg.text(20, mh * scale + 80, f"32 × 32 pixels each, shown {scale}× enlarged without "
             "smoothing.", size=12, fill=MUTED)
    svg.save("synthetic_samples.svg")


# ---------------------------------------------------------------- chapter 5: GFLOP/s chart


def read_ladder():
    """`book/src/results/matmul_ladder.csv`, one or more runs of the `matmul_ladder` program
    concatenated: {kernel: [(n, best gflops over the runs)]}, the adapter, the machine, the
    load averages seen, and the number of runs."""
    path = ROOT / "book/src/results/matmul_ladder.csv"
    text = path.read_text()
    comments = [l[2:].split(": ", 1) for l in text.split("\n") if l.startswith("# ")]
    first = {}
    for key, value in comments:
        first.setdefault(key, value)
    loads = [float(v) for k, v in comments if k.startswith("load") and v != "unknown"]
    runs = sum(1 for k, _ in comments if k == "adapter")
    best = {}
    rows = (l for l in text.split("\n") if l and not l.startswith("#") and l != "kernel,n,gflops")
    for kernel, n, g in csv.reader(rows):
        key = (kernel, int(n))
        best[key] = max(best.get(key, 0.0), float(g))
    series = {}
    for (kernel, n), g in best.items():
        series.setdefault(kernel, []).append((n, g))
    for pts in series.values():
        pts.sort()
    return series, first.get("adapter", "?"), first.get("machine", "?"), loads, runs


def ladder_table():
    """Chapter 5's lavapipe table, `book/src/results/matmul_ladder.md`, from the CSV."""
    series, adapter, machine, loads, runs = read_ladder()
    ns = sorted({n for pts in series.values() for n, _ in pts})
    lines = [
        "<!-- Generated by book/src/figures/make_figures.py from matmul_ladder.csv; do not edit. -->",
        f"Adapter `{adapter}`; machine: {machine}; load average {min(loads):.1f} to "
        f"{max(loads):.1f} (other builds). GFLOP/s, each cell the best of {3 * runs} "
        f"measurements ({runs} run{'s' if runs > 1 else ''} of three).",
        "",
        "| kernel | " + " | ".join(f"n = {n}" for n in ns) + " |",
        "|---|" + "---:|" * len(ns),
    ]
    for name, pts in series.items():
        cells = dict(pts)
        label = f"*for comparison:* {name}, same machine" if "CPU" in name else name
        lines.append(f"| {label} | " + " | ".join((f"{cells[n]:.2f}" if cells[n] < 10 else f"{cells[n]:.1f}") if n in cells else "–"
                                                  for n in ns) + " |")
    out = ROOT / "book/src/results/matmul_ladder.md"
    out.write_text("\n".join(lines) + "\n")
    print("wrote", out)


def fig_ladder_chart():
    series, adapter, machine, loads, runs = read_ladder()
    series = {k: v for k, v in series.items() if "CPU" not in k}
    W, H = 840, 470
    left, right, top, bottom = 70, 330, 50, 80
    pw, ph = W - left - right, H - top - bottom
    ns = sorted({n for pts in series.values() for n, _ in pts})
    ymax = max(g for pts in series.values() for _, g in pts)
    step = 0.5 if ymax <= 4 else 1 if ymax <= 8 else 2 if ymax <= 16 else 5
    ytop = step * (int(ymax / step) + 1)
    svg = Svg(W, H, "GFLOP/s against n")
    svg.text(left, 28, "Square products on lavapipe: GFLOP/s against n", size=14,
             weight="bold")

    def px(n):
        return left + (n - ns[0]) / (ns[-1] - ns[0]) * pw

    def py(g):
        return top + ph - g / ytop * ph

    y = 0
    while y <= ytop + 1e-9:
        svg.line(left, py(y), left + pw, py(y), stroke="#e4e4e4")
        svg.text(left - 8, py(y) + 4, num(y), size=11, anchor="end", fill=MUTED)
        y += step
    for n in ns:
        svg.line(px(n), top + ph, px(n), top + ph + 5)
        svg.text(px(n), top + ph + 20, n, size=11, anchor="middle", fill=MUTED)
    svg.rect(left, top, pw, ph, stroke="#999")
    svg.text(left + pw / 2, top + ph + 42, "n (C = AB, all three n × n)", size=12,
             anchor="middle")
    svg.add(f'<text x="22" y="{top + ph / 2}" font-size="12" text-anchor="middle" '
            f'transform="rotate(-90 22 {top + ph / 2})">GFLOP/s</text>')
    colors = [MUTED, "#8e5cb8", BLUE, GREEN, ORANGE]
    marks = ["circle", "square", "diamond", "triangle", "circle"]
    for k, (name, pts) in enumerate(series.items()):
        color = colors[k % len(colors)]
        d = " ".join(f"{'M' if i == 0 else 'L'}{px(n):.1f},{py(g):.1f}"
                     for i, (n, g) in enumerate(pts))
        svg.path(d, stroke=color, sw=2)
        for n, g in pts:
            svg.add(marker(marks[k % len(marks)], px(n), py(g), color))
        ly = top + 14 + k * 42
        svg.line(W - right + 20, ly, W - right + 44, ly, stroke=color, sw=2)
        svg.add(marker(marks[k % len(marks)], W - right + 32, ly, color))
        words = name.split(" (", 1)
        svg.text(W - right + 52, ly + 4, words[0], size=12)
        if len(words) > 1:
            svg.text(W - right + 52, ly + 20, "(" + words[1], size=11, fill=MUTED)
    svg.text(20, H - 22, f"Adapter: {adapter}", size=11, fill=MUTED)
    svg.text(20, H - 6, f"Machine: {machine}, load average {min(loads):.1f} to {max(loads):.1f}. "
             f"Each point the best of {3 * runs} measurements.", size=11, fill=MUTED)
    svg.save("matmul_ladder.svg")


def marker(kind, x, y, color):
    if kind == "square":
        return f'<rect x="{x - 4}" y="{y - 4}" width="8" height="8" fill="{color}"/>'
    if kind == "diamond":
        return f'<path d="M{x},{y - 5} L{x + 5},{y} L{x},{y + 5} L{x - 5},{y} z" fill="{color}"/>'
    if kind == "triangle":
        return f'<path d="M{x},{y - 5} L{x + 5},{y + 4} L{x - 5},{y + 4} z" fill="{color}"/>'
    return f'<circle cx="{x}" cy="{y}" r="4" fill="{color}"/>'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", help="output of the synthetic_samples program")
    args = ap.parse_args()
    fig_broadcast()
    fig_autograd()
    fig_grid()
    fig_host_sequence()
    fig_matmul_block()
    fig_im2col()
    fig_holes()
    if (ROOT / "book/src/results/matmul_ladder.csv").exists():
        ladder_table()
        fig_ladder_chart()
    if args.samples:
        fig_samples(args.samples)


if __name__ == "__main__":
    main()
