#!/usr/bin/env bash
# The README's run command: installs what is missing, builds the release
# binaries and starts the main job, a single-node ledger (ve-node) with its
# data under ${VE_HOME:-$HOME/.virtengine} (tools/run-node.sh does the rest).
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install.sh
bazel build --config=release //src/node:ve-node //src/cli:vectl
exec ./tools/run-node.sh "$@"
