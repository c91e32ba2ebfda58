#!/usr/bin/env bash
# The prepared GPU check of the ILGPU backend (issue 6). On a machine with an NVIDIA GPU and the
# .NET 10 SDK it builds, runs the ILGPU tests on CUDA, and times the book's CNN training step at
# batch 128 on CUDA against the CPU (C#) backend. It writes a short result file
# (default bench/results/gpu-check.txt, or $OUT/gpu-check.txt) and finishes in under 8 minutes.
#   bash bench/gpu-check.sh [--no-build]
# --no-build: use the Release outputs already in the tree (a machine that cannot reach NuGet:
# build here with `dotnet build GraphNet.sln -c Release`, then copy the tree with its bin/ folders).
set -uo pipefail
prebuilt=0; [ "${1:-}" = "--no-build" ] && prebuilt=1
cd "$(dirname "$0")/.."
out_dir=${OUT:-bench/results}
mkdir -p "$out_dir"
result="$out_dir/gpu-check.txt"
log="$out_dir/gpu-check.log"
: > "$log"
step() { echo "== $*" | tee -a "$log"; }
deadline=$((SECONDS + 470))
left() { echo $((deadline - SECONDS)); }

{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "host=$(hostname)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) ($(nproc) cores)"
  echo "gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo 'none found by nvidia-smi')"
  echo "dotnet=$(dotnet --version 2>/dev/null || echo missing)"
} > "$result"

if [ $prebuilt -eq 0 ]; then
  step "build"
  if ! timeout "$(left)" dotnet build GraphNet.sln -c Release >> "$log" 2>&1; then
    echo "build=failed (see $log)" >> "$result"; cat "$result"; exit 1
  fi
  echo "build=ok" >> "$result"
else
  echo "build=prebuilt" >> "$result"
fi

step "ILGPU tests on CUDA"
start=$SECONDS
GRAPHNET_TEST_ACCELERATOR=cuda timeout $(( $(left) > 300 ? 300 : $(left) )) \
  dotnet test tests/Compiler.Tests -c Release --no-build --filter "FullyQualifiedName~IlgpuTests" >> "$log" 2>&1
rc=$?
summary=$(grep -E "Passed!|Failed!" "$log" | tail -1 | sed 's/ - GraphNet.*//')
echo "ilgpu_tests_cuda=$([ $rc -eq 0 ] && echo pass || echo "fail rc=$rc") ${summary} ($((SECONDS - start)) s)" >> "$result"

bench() { timeout $(( $(left) > 120 ? 120 : $(left) )) dotnet run -c Release --project bench --no-build -- "$@" 2>>"$log"; }

step "CNN step, batch 128, ILGPU on CUDA"
gpu=$(bench step --model cnn --batch 128 --mode compiled --backend ilgpu --accelerator cuda --steps 30 | tee -a "$log")
step "CNN step, batch 128, C# on the CPU"
cpu=$(bench step --model cnn --batch 128 --mode compiled --backend csharp --steps 5 | tee -a "$log")
get() { echo "$1" | grep "^$2=" | cut -d= -f2; }
echo "cnn_train_b128_ilgpu_cuda_ms=$(get "$gpu" median_step_ms) samples_per_second=$(get "$gpu" samples_per_second) compile_seconds=$(get "$gpu" compile_seconds)" >> "$result"
echo "cnn_train_b128_csharp_cpu_ms=$(get "$cpu" median_step_ms) samples_per_second=$(get "$cpu" samples_per_second)" >> "$result"
g=$(get "$gpu" median_step_ms); c=$(get "$cpu" median_step_ms)
if [ -n "$g" ] && [ -n "$c" ]; then echo "speedup_gpu_over_cpu=$(awk "BEGIN{printf \"%.2f\", $c/$g}")" >> "$result"; fi
step "CNN inference, batch 128, ILGPU on CUDA"
inf=$(bench step --model cnn --batch 128 --mode compiled --backend ilgpu --accelerator cuda --task infer --steps 30 | tee -a "$log")
echo "cnn_infer_b128_ilgpu_cuda_ms=$(get "$inf" median_step_ms)" >> "$result"
echo "seconds=$SECONDS" >> "$result"
cat "$result"
