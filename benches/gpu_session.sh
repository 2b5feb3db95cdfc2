#!/usr/bin/env bash
# Every GPU comparison of the performance targets, run once and printed as one table: for a
# machine with a GPU and PyTorch with CUDA but no Rust toolchain, where time is short.
#
#   bash benches/gpu_session.sh prepare   # here: release binaries and the Vulkan loader, in .gpu/
#   bash benches/gpu_session.sh run       # there, in the repository root, with .gpu/ copied along
#
# `run` compares, each kiln program alternated with its PyTorch counterpart
# (`benches/torch_reference.py`, TF32 off):
#   - the article model's training step at batch $BATCH, with and without batch norm, and the
#     kernel profile of one step with batch norm;
#   - an $SGEMM x $SGEMM f32 product, through the runtime and (kiln) its kernel's own time;
#   - the ResNet-9 step at batch $RESNET_BATCH;
#   - the cifar_bn example end to end ($PROTOCOL protocol, synthetic data generated first).
# It prints the table and writes it to $OUT (else ./gpu-session) as table.md, beside logs.tar.gz
# with each program's output. Sizes come from the environment: BATCH (5000), SGEMM (4096), RESNET_BATCH (512),
# PROTOCOL (article), STEPS (20), TORCH_DEVICE (cuda), and EXAMPLE_ARGS (more flags for the
# example). A lost comparison (an error, or its TIMEOUT of 300 s) shows as "failed" and the
# others still run.
set -uo pipefail

cd "$(dirname "$0")/.."
DIR=.gpu
BATCH=${BATCH:-5000}
SGEMM=${SGEMM:-4096}
RESNET_BATCH=${RESNET_BATCH:-512}
PROTOCOL=${PROTOCOL:-article}
STEPS=${STEPS:-20}
TORCH_DEVICE=${TORCH_DEVICE:-cuda}
TIMEOUT=${TIMEOUT:-300}

prepare() {
    set -e
    cargo build --release --example train_step --example cifar_bn
    mkdir -p "$DIR/bin" "$DIR/deb"
    for p in train_step cifar_bn; do
        strip -o "$DIR/bin/$p" "target/release/examples/$p"
    done
    # wgpu's Vulkan backend needs the loader, which such a machine may lack.
    local lists=/tmp/gpu-session-apt
    local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
    mkdir -p "$lists/partial"
    apt-get "${o[@]}" update -qq
    (cd "$DIR/deb" && apt-get "${o[@]}" download libvulkan1)
    du -sh "$DIR"
}

# Runs a program into $logs/$1.log (its command line first), bounded by $TIMEOUT; says whether
# it succeeded.
logged() {
    local name=$1
    shift
    echo "== $name: $*" >&2
    echo "\$ $*" >"$logs/$name.log"
    timeout "$TIMEOUT" "$@" >>"$logs/$name.log" 2>&1
    local rc=$?
    [ $rc -eq 0 ] || echo "   failed (exit $rc), see $name.log in logs.tar.gz" >&2
    return $rc
}

run() {
    out=${OUT:-gpu-session}
    logs=$(mktemp -d)
    mkdir -p "$out"
    if ! ldconfig -p | grep -q libvulkan.so.1; then
        for f in "$DIR"/deb/*.deb; do dpkg -x "$f" /; done
        ldconfig
    fi
    local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    [ -f "$icd" ] && export VK_DRIVER_FILES=${VK_DRIVER_FILES:-$icd}
    local kiln=$DIR/bin/train_step torch=(python3 benches/torch_reference.py --device "$TORCH_DEVICE")
    {
        echo "gpu $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1)"
        echo "cpu $(lscpu | sed -n 's/^Model name: *//p')"
    } >"$logs/machine.log"

    logged kiln_bn "$kiln" --device gpu --batch "$BATCH" --steps "$STEPS" --profile
    logged torch_bn "${torch[@]}" --batch "$BATCH" --steps "$STEPS"
    logged kiln_nobn "$kiln" --device gpu --batch "$BATCH" --steps "$STEPS" --no-bn
    logged torch_nobn "${torch[@]}" --batch "$BATCH" --steps "$STEPS" --no-bn
    logged kiln_sgemm "$kiln" --device gpu --batch 64 --steps 1 --matmul "$SGEMM" --profile
    logged torch_sgemm "${torch[@]}" --batch 64 --steps 1 --matmul "$SGEMM"
    logged kiln_resnet9 "$kiln" --device gpu --model resnet9 --batch "$RESNET_BATCH" --steps 10
    logged torch_resnet9 "${torch[@]}" --model resnet9 --batch "$RESNET_BATCH" --steps 10

    # The example: a short run generates the synthetic data, then the protocol runs in full,
    # timed from the program's start to its end.
    local data=/tmp/gpu-session-data example=(--device gpu --synthetic --no-download --overwrite)
    logged example_setup "$DIR/bin/cifar_bn" "${example[@]}" --data "$data" --out /tmp/gpu-session-setup \
        --batch-size 8 --steps-no-bn 1 --steps-bn 1 --eval-every 1 --eval-images 100
    local start
    start=$(date +%s.%N)
    logged example "$DIR/bin/cifar_bn" "${example[@]}" --data "$data" --out /tmp/gpu-session-run \
        --protocol "$PROTOCOL" ${EXAMPLE_ARGS:-} &&
        echo "$start $(date +%s.%N)" >"$logs/example.times"

    python3 - "$logs" <<'PY' | tee "$out/table.md"
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

print(f"nvidia-smi: {line('machine', 'gpu')}; kiln: {line('kiln_bn', 'adapter')}; "
      f"host CPU: {line('machine', 'cpu')}")
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
row("sgemm, kiln's kernel time against cuBLAS through PyTorch (GFLOP/s)",
    num("kiln_sgemm", r"kernel_GFLOP/s ([0-9.]+)"), num("torch_sgemm", gemm), "GFLOP/s")
times = logs / "example.times"
start, end = map(float, times.read_text().split()) if times.exists() else (None, None)
example = end - start if times.exists() else None
protocol = re.search(r"--protocol (\S+)", log("example"))
print(f"| cifar_bn example end to end ({protocol.group(1) if protocol else '?'} protocol, data "
      f"cached) | {fmt(example, 's')} | - | - |")
print()
totals = re.search(r"^kernels .*$", log("kiln_bn"), re.M)
print(f"profile of one step with BN: {totals.group(0) if totals else 'failed'}")
PY
    tar -czf "$out/logs.tar.gz" -C "$logs" .
}

case "${1:-}" in
prepare) prepare ;;
run) run ;;
*)
    echo "usage: bash benches/gpu_session.sh prepare|run" >&2
    exit 2
    ;;
esac
