#!/usr/bin/env bash
# Brings up a single-node VirtEngine ledger for a first look (called by
# tools/run.sh after the release build):
#   - a home under ${VE_HOME:-$HOME/.virtengine}: node/ (ve-node --home),
#     vectl/ (the CLI's key store), secrets/ (passphrase files, 0600);
#   - on first run: two vectl keys ("demo", funded at genesis, and "bob"),
#     `ve-node init`, then a demo transfer demo -> bob with its receipt;
#   - runs ve-node until Ctrl-C (SIGINT/SIGTERM stop it cleanly).
# The passphrase files stand in for the TPM-sealed secrets of the appliance
# (attestation issue); keep them 0600 and off shared disks.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${VE_HOME:-$HOME/.virtengine}"
BIN="$(bazel info --config=release bazel-bin 2>/dev/null)"
VE_NODE="$BIN/src/node/ve-node"
VECTL_BIN="$BIN/src/cli/vectl"
NODE_HOME="$ROOT/node"
export VECTL_HOME="$ROOT/vectl"
export VECTL_PASSPHRASE_FILE="$ROOT/secrets/vectl.pass"
NODE_PASS="$ROOT/secrets/node.pass"
GRPC="${VE_GRPC_ADDRESS:-127.0.0.1:9090}"
export VECTL_NODE="$GRPC"
vectl() { "$VECTL_BIN" "$@"; }

mkdir -p "$ROOT"
umask 077
if [ ! -f "$NODE_HOME/config/genesis.json" ]; then
  mkdir -p "$ROOT/secrets"
  head -c 32 /dev/urandom | base64 > "$NODE_PASS"
  head -c 32 /dev/urandom | base64 > "$VECTL_PASSPHRASE_FILE"
  chmod 600 "$NODE_PASS" "$VECTL_PASSPHRASE_FILE"
  vectl keys add demo >/dev/null
  vectl keys add bob >/dev/null
  DEMO="$(vectl keys show demo --address)"
  "$VE_NODE" init --chain-id virtengine-local --home "$NODE_HOME" \
    --passphrase-file "$NODE_PASS" --grpc-address "$GRPC" \
    --genesis-account "$DEMO=1000000000uve"
  FIRST_RUN=1
fi
DEMO="$(vectl keys show demo --address)"
BOB="$(vectl keys show bob --address)"

# A development machine has no TPM: the node runs without attestation unless
# VE_TPM_TCTI names one (e.g. device:/dev/tpmrm0). The appliance image always
# runs with its TPM.
if [ -n "${VE_TPM_TCTI:-}" ]; then TPM_ARGS=(--tpm-tcti "$VE_TPM_TCTI")
else TPM_ARGS=(--insecure-no-tpm)
  echo "note: no TPM configured (VE_TPM_TCTI unset): ve-node runs with --insecure-no-tpm" >&2
fi
"$VE_NODE" start --home "$NODE_HOME" --passphrase-file "$NODE_PASS" \
  "${TPM_ARGS[@]}" 2>>"$ROOT/node.log" &
NODE_PID=$!
trap 'kill -TERM "$NODE_PID" 2>/dev/null || true' INT TERM
for _ in $(seq 1 100); do
  if vectl status >/dev/null 2>&1; then break; fi
  if ! kill -0 "$NODE_PID" 2>/dev/null; then
    echo "ve-node exited during start-up; its log: $ROOT/node.log" >&2
    tail -n 20 "$ROOT/node.log" >&2
    exit 1
  fi
  sleep 0.2
done
vectl status
NODE_KEY="$(vectl status --output json | sed -n 's/.*"node_public_key": *"\([0-9a-f]*\)".*/\1/p')"

if [ "${FIRST_RUN:-0}" = 1 ]; then
  echo
  echo "Demo transfer: 1000uve from demo to bob, waiting for the commit..."
  TX_JSON="$(vectl tx bank send demo "$BOB" 1000uve --wait --output json)"
  echo "$TX_JSON"
  TX_HASH="$(printf '%s' "$TX_JSON" | sed -n 's/.*"tx_hash": *"\([0-9a-f]*\)".*/\1/p')"
  if [ -n "$TX_HASH" ]; then
    vectl receipt get "$TX_HASH" --output json > "$ROOT/demo-receipt.json"
    vectl receipt verify "$ROOT/demo-receipt.json" --node-key "$NODE_KEY"
  fi
fi

cat <<MSG

ve-node is running (chain virtengine-local, gRPC $GRPC, metrics
http://127.0.0.1:26660/metrics, JSON log in $ROOT/node.log).
In another shell:

  export VECTL_HOME=$VECTL_HOME VECTL_PASSPHRASE_FILE=$VECTL_PASSPHRASE_FILE
  export VECTL_ADMIN_SOCKET=$NODE_HOME/admin.sock
  alias vectl=$VECTL_BIN
  vectl query bank balance $DEMO
  vectl tx bank send demo $BOB 2500uve --memo "hello" --wait
  vectl query bank balance $BOB
  vectl receipt get <tx hash> --output json > receipt.json
  vectl receipt verify receipt.json --node-key $NODE_KEY
                                         # offline: signature + Merkle proof
  vectl cluster status                   # leader, term, Raft servers
  vectl admin backup --name first        # online backup, verified by replay

Growing this node into a cluster, backups and restores:
docs/operator/cluster.md.

Ctrl-C stops the node; run ./tools/run.sh again to resume where it stopped.
MSG
wait "$NODE_PID"
