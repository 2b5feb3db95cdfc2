#!/usr/bin/env bash
# The CPU comparisons of the performance targets, printed as one table. Each kiln program runs
# alternated with its PyTorch counterpart (`benches/torch_reference.py --device cpu`, with as
# many threads as kiln's pool) $PAIRS times, because a virtual machine's speed drifts by 10-30%
# within minutes: one pair can land on either side of a target. The table gives each side's
# median, and the median and range of the ratios of the pairs.
#
#   bash benches/cpu_session.sh
#
# Comparisons (their flags are common to `train_step` and the PyTorch script):
#   - the article model's training step at batch 128 with and without batch norm, and at
#     batch $BATCH with batch norm;
#   - f32 products of 512, 1024 and 2048 squared (GFLOP/s: there a higher ratio is better);
#   - the ResNet-9 step at batch $RESNET_BATCH.
# Sizes come from the environment: PAIRS (5), STEPS (10 timed steps after two warm-up steps; 3
# at batch $BATCH and for ResNet-9), BATCH (5000), RESNET_BATCH (512), ONLY (a regular
# expression: only the comparisons whose names match it) and TIMEOUT (1800 s per program). It writes the table to $OUT (else
# ./cpu-session) as table.md, beside each program's output in logs/.
set -euo pipefail

cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-5}
STEPS=${STEPS:-10}
BATCH=${BATCH:-5000}
RESNET_BATCH=${RESNET_BATCH:-512}
ONLY=${ONLY:-.}
TIMEOUT=${TIMEOUT:-1800}
out=${OUT:-cpu-session}

cargo build --release --example train_step
kiln=target/release/examples/train_step
# Both sides get as many threads as the machine has cores: rayon's pool is told so too.
export RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-$(nproc)}
torch=(python3 benches/torch_reference.py --device cpu --threads "$RAYON_NUM_THREADS")
mkdir -p "$out/logs"
results=$out/pairs.tsv
: >"$results"

# compare NAME FIELD ARGS...: alternates kiln and PyTorch with ARGS, $PAIRS times, reading the
# number after FIELD (`step_ms=` or `GFLOP/s `) from the last output line that has it.
compare() {
    local name=$1 field=$2
    shift 2
    [[ $name =~ $ONLY ]] || return 0
    local pair side log
    for ((pair = 1; pair <= PAIRS; pair++)); do
        declare -A values=()
        # Odd pairs start with kiln, even ones with PyTorch, so that a drift of the machine's
        # speed during a pair does not favour one side.
        local order=(kiln torch)
        ((pair % 2)) || order=(torch kiln)
        for side in "${order[@]}"; do
            log=$out/logs/${name//[^A-Za-z0-9]/_}.$side.$pair.log
            echo "== $name, pair $pair of $PAIRS: $side" >&2
            { if [ $side = kiln ]; then timeout "$TIMEOUT" "$kiln" "$@"; else
                timeout "$TIMEOUT" "${torch[@]}" "$@"; fi; } >"$log" 2>&1 ||
                echo "   failed, see $log" >&2
            values[$side]=$(grep -o "$field[0-9.]*" "$log" | tail -1 | sed "s|$field||" || true)
        done
        printf '%s\t%s\t%s\n' "$name" "${values[kiln]}" "${values[torch]}" >>"$results"
    done
}

compare "step, batch 128, with BN (ms)" step_ms= --batch 128 --steps "$STEPS"
compare "step, batch 128, without BN (ms)" step_ms= --batch 128 --steps "$STEPS" --no-bn
compare "step, batch $BATCH, with BN (ms)" step_ms= --batch "$BATCH" --steps 3
for n in 512 1024 2048; do
    compare "sgemm $n (GFLOP/s)" "GFLOP/s " --batch 8 --steps 1 --matmul $n
done
compare "ResNet-9 step, batch $RESNET_BATCH (ms)" step_ms= --model resnet9 \
    --batch "$RESNET_BATCH" --steps 3

python3 - "$results" "$PAIRS" <<'PY' | tee "$out/table.md"
import collections, os, re, statistics, sys

cpuinfo = open("/proc/cpuinfo").read()
model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
avx512 = "with" if re.search(r"\bavx512f\b", cpuinfo) else "without"
print(f"CPU: {model.group(1) if model else 'unknown'}, {avx512} AVX-512; "
      f"{len(os.sched_getaffinity(0))} threads; "
      f"{sys.argv[2]} alternated pairs per comparison")
print()
print("| comparison | kiln (median) | PyTorch (median) | kiln / PyTorch: median | range |")
print("|---|---|---|---|---|")
pairs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, kiln, torch = line.rstrip("\n").split("\t")
    pairs[name].append((float(kiln) if kiln else None, float(torch) if torch else None))
for name, runs in pairs.items():
    done = [(k, t) for k, t in runs if k is not None and t]
    if len(done) < len(runs):
        print(f"| {name} | {len(runs) - len(done)} of {len(runs)} pairs failed (see logs/) "
              "| | | |")
    if not done:
        continue
    ratios = [k / t for k, t in done]
    print(f"| {name} | {statistics.median(k for k, _ in done):.1f} | "
          f"{statistics.median(t for _, t in done):.1f} | {statistics.median(ratios):.2f} | "
          f"{min(ratios):.2f}-{max(ratios):.2f} |")
PY
