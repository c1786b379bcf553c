#!/usr/bin/env bash
# Single-node load benchmark (a program run, not a test): builds release
# ve-node and the load generator, starts a fresh one-voter node with fsync on
# in a temporary home, funds the generator's accounts at genesis, runs
# single and batched submission, and writes tests/load/results/node-single.md.
#   tools/bench-node.sh [--txs N] [--clients N] [--accounts N]
set -euo pipefail
cd "$(dirname "$0")/.."
TXS=60000 CLIENTS=32 ACCOUNTS=128
while [ $# -gt 0 ]; do
  case "$1" in
    --txs) TXS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --accounts) ACCOUNTS="$2"; shift 2 ;;
    *) echo "usage: $0 [--txs N] [--clients N] [--accounts N]" >&2; exit 2 ;;
  esac
done
bazel build --config=release //src/node:ve-node //tests/load:node_load
BIN="$(bazel info --config=release bazel-bin 2>/dev/null)"
WORK="$(mktemp -d /tmp/ve-bench.XXXXXX)"
trap 'kill -TERM "${NODE_PID:-0}" 2>/dev/null || true; wait 2>/dev/null; rm -rf "$WORK"' EXIT
umask 077
head -c 32 /dev/urandom | base64 > "$WORK/pass"
ARGS=()
while read -r addr; do ARGS+=(--genesis-account "$addr=1000000000000uve"); done \
  < <("$BIN/tests/load/node_load" addresses --count "$ACCOUNTS")
"$BIN/src/node/ve-node" init --chain-id bench --home "$WORK/node" \
  --passphrase-file "$WORK/pass" --grpc-address 127.0.0.1:19090 \
  --raft-address 127.0.0.1:19656 --metrics-address 127.0.0.1:19660 "${ARGS[@]}" >/dev/null
"$BIN/src/node/ve-node" start --home "$WORK/node" --passphrase-file "$WORK/pass" \
  --insecure-no-tpm --log-level warn 2>"$WORK/node.log" &
NODE_PID=$!
sleep 2
"$BIN/tests/load/node_load" run --node 127.0.0.1:19090 --accounts "$ACCOUNTS" \
  --txs "$TXS" --clients "$CLIENTS" --modes single,batch --batch 250 --paced 1000 \
  --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --out tests/load/results/node-single.md
cat tests/load/results/node-single.md
