#!/usr/bin/env bash
# Fails when packages/proto/src/gen differs from what `buf generate` writes
# from proto/. Run after editing any .proto file: `npm run generate`.
set -euo pipefail
cd "$(dirname "$0")/.."
(cd proto && npx --no-install buf generate)
if ! git diff --exit-code --stat -- packages/proto/src/gen || [ -n "$(git status --porcelain -- packages/proto/src/gen)" ]; then
  echo "generated code is stale: run 'npm run generate' and commit packages/proto/src/gen" >&2
  git status --porcelain -- packages/proto/src/gen >&2
  exit 1
fi
echo "generated code is fresh"
