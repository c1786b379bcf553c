#!/usr/bin/env bash
# Cluster benchmark (a program run, not a test): builds release ve-node and
# cluster_load, then in one run measures a 3-node ve-node cluster (loopback,
# fsync on) and a 3-member etcd 3.4 cluster (Debian etcd-server) with the
# same client concurrency, and writes tests/load/results/cluster.md.
#   tools/bench-cluster.sh [--txs N] [--clients N] [--accounts N]
# Env: BAZEL (default "bazel"), COMMIT (default: git's short HEAD).
set -euo pipefail
cd "$(dirname "$0")/.."
TXS=30000 CLIENTS=16 ACCOUNTS=128
while [ $# -gt 0 ]; do
  case "$1" in
    --txs) TXS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --accounts) ACCOUNTS="$2"; shift 2 ;;
    *) echo "usage: $0 [--txs N] [--clients N] [--accounts N]" >&2; exit 2 ;;
  esac
done
command -v etcd >/dev/null || { echo "etcd not installed (apt-get install etcd-server)" >&2; exit 1; }
BAZEL="${BAZEL:-bazel}"
# No convenience symlinks: other builds in this clone keep theirs.
$BAZEL build --config=release --experimental_convenience_symlinks=ignore \
  //tests/load:cluster_load
BIN="$($BAZEL info --config=release bazel-bin 2>/dev/null)"
WORK="$(mktemp -d /tmp/ve-cluster-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
COMMIT="${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
# ve-node is found through the binary's runfiles, as in tests.
TEST_SRCDIR="$BIN/tests/load/cluster_load.runfiles" TEST_WORKSPACE=virtengine \
TEST_TMPDIR="$WORK" \
  "$BIN/tests/load/cluster_load" --workdir "$WORK" --accounts "$ACCOUNTS" \
  --txs "$TXS" --clients "$CLIENTS" --batch 250 --paced 1000 \
  --commit "$COMMIT" --out tests/load/results/cluster.md
cat tests/load/results/cluster.md
