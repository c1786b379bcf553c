#!/usr/bin/env bash
# The README's run command: installs what is missing, builds the release
# binaries and starts the main job, a single-node ledger (ve-node) with its
# data under ${VE_HOME:-$HOME/.virtengine}.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install.sh
if [ ! -f src/node/BUILD.bazel ]; then
  cat <<'MSG'
run: the ledger node (ve-node, issue "Ledger node, single-node default") is not
built yet in this version, so there is no main job to start. What exists today
is the build foundation and whatever security libraries have landed:
  ./tools/test.sh     builds everything and runs every test
See docs/developer-guide.md.
MSG
  exit 0
fi
bazel build --config=release //src/node:ve-node //src/cli:vectl
exec ./tools/run-node.sh "$@"
