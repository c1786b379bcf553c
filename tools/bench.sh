#!/usr/bin/env bash
# Runs the Google Benchmark programs of the security core (optimised build)
# and writes tests/load/results/security-bench.md: how it was run, a table,
# and a final fenced json block whose keys carry their units.
#
#   tools/bench.sh [--min-time SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
min_time=0.5
if [ "${1:-}" = "--min-time" ]; then min_time="$2"; fi

targets=(
  //security/crypto:crypto_bench
  //security/envelope:envelope_bench
  //security/path:path_bench
  //security/exec:exec_bench
)
bazel build -c opt "${targets[@]}"
bin=$(bazel info -c opt bazel-bin)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for t in "${targets[@]}"; do
  name=${t##*:}
  pkg=${t#//}; pkg=${pkg%%:*}
  "$bin/$pkg/$name" --benchmark_min_time="$min_time" \
    --benchmark_format=json --benchmark_out="$out/$name.json" \
    --benchmark_out_format=json >/dev/null
done
/usr/bin/python3 tools/bench_report.py \
  --title "Security core benchmarks" \
  --command "tools/bench.sh --min-time $min_time" \
  --out tests/load/results/security-bench.md "$out"/*.json
echo "wrote tests/load/results/security-bench.md"
