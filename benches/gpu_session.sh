#!/usr/bin/env bash
# Every GPU comparison of the performance targets, run once and printed as one table: for a
# machine with a GPU and PyTorch with CUDA but no Rust toolchain, where time is short.
#
#   bash benches/gpu_session.sh prepare   # here: release binaries and the Vulkan loader, in .gpu/
#   bash benches/gpu_session.sh run       # there, in the repository root, with .gpu/ copied along
#
# `.gpu/` is ignored by git: the call that runs `run` must carry it (`carry: [".gpu"]`, about
# 50 MB). `prepare` records the tree it built from in `.gpu/REV`, and the table names it.
#
# `run` compares, each kiln program alternated with its PyTorch counterpart
# (`benches/torch_reference.py`, TF32 off):
#   - the article model's training step at batch $BATCH, with and without batch norm, and the
#     kernel profile of one step with batch norm;
#   - an $SGEMM x $SGEMM f32 product, through the runtime and (kiln) its kernel's own time;
#   - the ResNet-9 step at batch $RESNET_BATCH;
#   - the cifar_bn example end to end ($PROTOCOL protocol, synthetic data generated first);
#   - variants of the kernels against this tree's, in the step with batch norm (total, the
#     kernel time of the convolutions, of the split-K sums and of batch norm) and the product's kernel: the GEMM core
#     without its barrier after the prefetch (not needed for correctness; does a driver still
#     overlap the fetches with the multiply-adds without it?), with the operands' k coordinates
#     recomputed by division at every load, as before they were carried, and the two opt-in
#     paths: f16 operands (`--f16-operands`: tiles staged as f16, half the workgroup memory
#     traffic) and subgroup reductions in batch norm (`--subgroups`).
# The most telling comparisons run first. After each program the table is written again to $OUT
# (else ./gpu-session) as table.md, beside logs.tar.gz with every program's output, so that a
# session cut short still returns what it measured. A first short run checks that kiln finds the
# NVIDIA adapter ($ADAPTER); if not, kiln's programs are skipped (the log says why) and PyTorch's still run.
# Sizes come from the environment: BATCH (5000), SGEMM (4096), RESNET_BATCH (512), PROTOCOL
# (article), STEPS (20), TORCH_DEVICE (cuda), EXAMPLE_ARGS (more flags for the example),
# TIMEOUT (150 s per program), BUDGET (480 s for all of `run`: a program that would start
# with less than 15 s left is skipped, and none runs past it) and ADAPTER (nvidia: a regular
# expression that kiln's adapter must match, case aside). A lost comparison (an error, a
# timeout, a skip) shows as "failed" and the others still run.
set -uo pipefail

cd "$(dirname "$0")/.."
DIR=.gpu
BATCH=${BATCH:-5000}
SGEMM=${SGEMM:-4096}
RESNET_BATCH=${RESNET_BATCH:-512}
PROTOCOL=${PROTOCOL:-article}
STEPS=${STEPS:-20}
TORCH_DEVICE=${TORCH_DEVICE:-cuda}
TIMEOUT=${TIMEOUT:-150}
BUDGET=${BUDGET:-480}
ADAPTER=${ADAPTER:-nvidia}
# The Vulkan loader and the GL dispatch libraries NVIDIA's Vulkan driver links against.
PACKAGES=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)

prepare() {
    set -e
    cargo build --release --example train_step --example cifar_bn
    rm -rf "$DIR/bin" "$DIR/deb"
    mkdir -p "$DIR/bin" "$DIR/deb"
    echo "$(git describe --always --dirty) ($(git status --porcelain | wc -l) files changed)" \
        >"$DIR/REV"
    for p in train_step cifar_bn; do
        strip -o "$DIR/bin/$p" "target/release/examples/$p"
    done
    variant no_barrier without_prefetch_barrier
    variant divisions with_divisions
    # wgpu's Vulkan backend needs the loader, which such a machine may lack, and NVIDIA's
    # driver the GL dispatch libraries.
    local lists=/tmp/gpu-session-apt
    local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
    mkdir -p "$lists/partial"
    apt-get "${o[@]}" update -qq
    (cd "$DIR/deb" && apt-get "${o[@]}" download "${PACKAGES[@]}")
    du -sh "$DIR"
}

# Builds $DIR/bin/train_step_$1 from a copy of this tree changed by the function $2 (run in the
# copy, given this tree's path). Every variant is built in one place into its own target folder:
# cargo keys a workspace's build by paths relative to its root and by modification times, so a
# variant built into this tree's target folder would pass for this tree's build, and one copied
# with older times than the last build would pass for that build.
variant() {
    local name=$1 change=$2 tree=/tmp/gpu-session-variant root=$PWD
    rm -rf "$tree" && mkdir -p "$tree"
    git ls-files -co --exclude-standard | tar -cf - -T - | tar -xmf - -C "$tree"
    (cd "$tree" && "$change" "$root" && touch crates/kiln-tensor/shaders/*.wgsl &&
        CARGO_TARGET_DIR="$root/target/gpu-variants" cargo build --release --example train_step)
    strip -o "$DIR/bin/train_step_$name" target/gpu-variants/release/examples/train_step
}

# The GEMM core without its barrier after the prefetch.
without_prefetch_barrier() {
    python3 - crates/kiln-tensor/shaders/matmul.wgsl <<'PY'
import re, sys
path = sys.argv[1]
core = open(path).read()
prefetch_barrier = r"(is untested\.\n)\s*workgroupBarrier\(\);\n"
core, found = re.subn(prefetch_barrier, r"\1", core)
assert found == 1, f"{path}: the prefetch barrier was not found once but {found} times"
open(path, "w").write(core)
PY
}

# The GEMM core and its operand files as they were before their k coordinates were carried
# instead of divided (the parent of the commit that added `add_digits`), from the tree at $1,
# with today's GEMM parameters and numbering of slices in the core, which the host sets.
with_divisions() {
    local added
    added=$(git -C "$1" log --format=%H -S add_digits -- crates/kiln-tensor/shaders/conv2d.wgsl |
        tail -1)
    git -C "$1" archive "$added^" crates/kiln-tensor/shaders/{matmul,matmul_batched}.wgsl \
        crates/kiln-tensor/shaders/conv2d{,_forward,_backward_data,_backward_weight}.wgsl |
        tar -xf -
    python3 - "$1/crates/kiln-tensor/shaders/matmul.wgsl" crates/kiln-tensor/shaders/matmul.wgsl <<'PY'
import re, sys
today, path = open(sys.argv[1]).read(), sys.argv[2]
core = open(path).read()
def part(text, pattern):
    found = re.findall(pattern, text, re.S)
    assert len(found) == 1, f"{pattern!r} found {len(found)} times"
    return found[0]
# The parameters' struct, and the slice and block of a workgroup (up to its first row).
for pattern in (r"struct Gemm \{.*?\n\}\n", r"    let g = params\.gemm;\n.*?(?=    let row0)"):
    core = core.replace(part(core, pattern), part(today, pattern))
open(path, "w").write(core)
PY
}

# Runs a program into $logs/$1.log (its command line first), bounded by $TIMEOUT and by what is
# left of $BUDGET, then writes the table and the logs to $out again; says whether it succeeded.
logged() {
    local name=$1
    shift
    local left=$((deadline - SECONDS))
    if ((left < 15)); then
        echo "== $name: skipped, the $BUDGET s of the session are spent" >&2
        echo "skipped: the $BUDGET s of the session were spent" >"$logs/$name.log"
        return 1
    fi
    echo "== $name: $*" >&2
    echo "\$ $*" >"$logs/$name.log"
    timeout -k 10 "$((left < TIMEOUT ? left : TIMEOUT))" "$@" >>"$logs/$name.log" 2>&1
    local rc=$?
    [ $rc -eq 0 ] || echo "   failed (exit $rc), see $name.log in logs.tar.gz" >&2
    report
    return $rc
}

# `logged` for a kiln program, unless the adapter check found no NVIDIA adapter.
kiln_logged() {
    if [ -n "$no_adapter" ]; then
        echo "skipped: $no_adapter" >"$logs/$1.log"
        return 1
    fi
    logged "$@"
}

# The table (from the logs so far) and the logs, into $out.
report() {
    table >"$out/table.md.tmp" 2>&1 && mv "$out/table.md.tmp" "$out/table.md"
    tar -czf "$out/logs.tar.gz" -C "$logs" .
}

run() {
    out=${OUT:-gpu-session}
    logs=$(mktemp -d)
    deadline=$((SECONDS + BUDGET))
    no_adapter=
    mkdir -p "$out"
    for f in "$DIR"/deb/*.deb; do dpkg -x "$f" /; done
    ldconfig
    chmod +x "$DIR"/bin/*
    local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    if [ -f "$icd" ]; then
        export VK_DRIVER_FILES=${VK_DRIVER_FILES:-$icd} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-$icd}
    fi
    export WGPU_BACKEND=${WGPU_BACKEND:-vulkan}
    local kiln=$DIR/bin/train_step torch=(python3 benches/torch_reference.py --device "$TORCH_DEVICE")
    {
        echo "gpu $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1)"
        echo "cpu $(lscpu | sed -n 's/^Model name: *//p')"
        echo "rev $(cat "$DIR/REV" 2>/dev/null || echo unknown)"
    } >"$logs/machine.log"

    # A short run that must find the NVIDIA adapter, or kiln's numbers would be of another one.
    logged adapter env VK_LOADER_DEBUG=error,warn "$kiln" --device gpu --batch 8 --steps 1
    if ! grep -qiE "^adapter gpu \(.*($ADAPTER)" "$logs/adapter.log"; then
        no_adapter="kiln found no adapter matching '$ADAPTER' (see adapter.log)"
        echo "   $no_adapter: kiln's programs are skipped" >&2
        ldd /usr/local/nvidia/lib64/libGLX_nvidia.so.0 2>&1 | grep "not found" >>"$logs/adapter.log"
    fi

    kiln_logged kiln_bn "$kiln" --device gpu --batch "$BATCH" --steps "$STEPS" --profile
    logged torch_bn "${torch[@]}" --batch "$BATCH" --steps "$STEPS"
    kiln_logged kiln_sgemm "$kiln" --device gpu --batch 64 --steps 1 --matmul "$SGEMM" --profile
    logged torch_sgemm "${torch[@]}" --batch 64 --steps 1 --matmul "$SGEMM"
    kiln_logged kiln_nobn "$kiln" --device gpu --batch "$BATCH" --steps "$STEPS" --no-bn
    logged torch_nobn "${torch[@]}" --batch "$BATCH" --steps "$STEPS" --no-bn

    # The example: a short run generates the synthetic data, then the protocol runs in full,
    # timed from the program's start to its end.
    local data=/tmp/gpu-session-data example=(--device gpu --synthetic --no-download --overwrite)
    kiln_logged example_setup "$DIR/bin/cifar_bn" "${example[@]}" --data "$data" \
        --out /tmp/gpu-session-setup --batch-size 8 --steps-no-bn 1 --steps-bn 1 --eval-every 1 \
        --eval-images 100
    local start
    start=$(date +%s.%N)
    kiln_logged example "$DIR/bin/cifar_bn" "${example[@]}" --data "$data" \
        --out /tmp/gpu-session-run --protocol "$PROTOCOL" ${EXAMPLE_ARGS:-} &&
        echo "$start $(date +%s.%N)" >"$logs/example.times" && report

    kiln_logged kiln_resnet9 "$kiln" --device gpu --model resnet9 --batch "$RESNET_BATCH" --steps 10
    logged torch_resnet9 "${torch[@]}" --model resnet9 --batch "$RESNET_BATCH" --steps 10

    # The variants; subgroup reductions change batch norm only, so they have no product of
    # their own.
    local variants=(no_barrier "${kiln}_no_barrier" divisions "${kiln}_divisions"
        f16 "$kiln --f16-operands" subgroups "$kiln --subgroups")
    for ((i = 0; i < ${#variants[@]}; i += 2)); do
        local v=${variants[i]} program
        read -ra program <<<"${variants[i + 1]}"
        kiln_logged "kiln_bn_$v" "${program[@]}" --device gpu --batch "$BATCH" --steps "$STEPS" \
            --profile
        [ "$v" = subgroups ] || kiln_logged "kiln_sgemm_$v" "${program[@]}" --device gpu \
            --batch 64 --steps 1 --matmul "$SGEMM" --profile
    done
    report
    cat "$out/table.md"
}

# The table of the comparisons, from the logs in $logs (a missing or failed one: "failed").
table() {
    python3 - "$logs" <<'PY'
import pathlib, re, sys

logs = pathlib.Path(sys.argv[1])

def log(name):
    p = logs / f"{name}.log"
    return p.read_text(errors="replace") if p.exists() else ""

def num(name, pattern):
    m = re.search(pattern, log(name))
    return float(m.group(1)) if m else None

def fmt(v, unit):
    return "failed" if v is None else f"{v:.1f} {unit}"

def row(what, kiln, torch, unit):
    ratio = "-" if None in (kiln, torch) or not torch else f"{kiln / torch:.2f}"
    print(f"| {what} | {fmt(kiln, unit)} | {fmt(torch, unit)} | {ratio} |")

def line(name, key):
    m = re.search(rf"^{key} (.*)$", log(name), re.M)
    return m.group(1) if m else "unknown"

print(f"nvidia-smi: {line('machine', 'gpu')}; kiln: {line('adapter', 'adapter')}; "
      f"host CPU: {line('machine', 'cpu')}; kiln built from {line('machine', 'rev')}")
print()
print("| comparison | kiln | PyTorch | kiln / PyTorch |")
print("|---|---|---|---|")
step = r"step_ms=([0-9.]+)"
row("article model step with BN", num("kiln_bn", step), num("torch_bn", step), "ms")
row("article model step without BN", num("kiln_nobn", step), num("torch_nobn", step), "ms")
row("ResNet-9 step", num("kiln_resnet9", step), num("torch_resnet9", step), "ms")
gemm = r"sgemm \d+ GFLOP/s ([0-9.]+)"
row("sgemm through the runtime (GFLOP/s)", num("kiln_sgemm", gemm), num("torch_sgemm", gemm),
    "GFLOP/s")
kernel_gemm = r"kernel_GFLOP/s ([0-9.]+)"
row("sgemm, kiln's kernel time against cuBLAS through PyTorch (GFLOP/s)",
    num("kiln_sgemm", kernel_gemm), num("torch_sgemm", gemm), "GFLOP/s")
times = logs / "example.times"
start, end = map(float, times.read_text().split()) if times.exists() else (None, None)
example = end - start if times.exists() else None
protocol = re.search(r"--protocol (\S+)", log("example"))
print(f"| cifar_bn example end to end ({protocol.group(1) if protocol else '?'} protocol, data "
      f"cached) | {fmt(example, 's')} | - | - |")
print()
totals = re.search(r"^kernels .*$", log("kiln_bn"), re.M)
print(f"profile of one step with BN: {totals.group(0) if totals else 'failed'}")

def kernels_ms(name, prefix):
    times = re.findall(rf"^{prefix}\S*\s+\d+\s+([0-9.]+)", log(name), re.M)
    return sum(map(float, times)) if times else None

print()
print("| kernels | step with BN | its convolutions' kernels | its split-K sums | "
      "its batch norm's kernels | sgemm kernel |")
print("|---|---|---|---|---|---|")
for name, what in [("", "this tree's"), ("_no_barrier", "GEMM without the prefetch barrier"),
                   ("_divisions", "GEMM k coordinates divided at every load"),
                   ("_f16", "this tree's, f16 operands (opt-in)"),
                   ("_subgroups", "this tree's, subgroup reductions (opt-in)")]:
    # Subgroup reductions change batch norm only: the product is this tree's.
    sgemm = "-" if name == "_subgroups" else fmt(num('kiln_sgemm' + name, kernel_gemm), 'GFLOP/s')
    print(f"| {what} | {fmt(num('kiln_bn' + name, step), 'ms')} | "
          f"{fmt(kernels_ms('kiln_bn' + name, 'conv2d_'), 'ms')} | "
          f"{fmt(kernels_ms('kiln_bn' + name, 'gemm_reduce_splits'), 'ms')} | "
          f"{fmt(kernels_ms('kiln_bn' + name, 'batch_norm'), 'ms')} | {sgemm} |")
PY
}

case "${1:-}" in
prepare) prepare ;;
run) run ;;
*)
    echo "usage: bash benches/gpu_session.sh prepare|run" >&2
    exit 2
    ;;
esac
