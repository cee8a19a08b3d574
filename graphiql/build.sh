#!/usr/bin/env bash
# Builds the self-hosted GraphiQL assets into gateway/static/graphiql/ (see graphiql/build.mjs).
#
#   graphiql/build.sh          install (npm ci, from package-lock.json) if needed, then bundle
#   FORCE=1 graphiql/build.sh  bundle even if the output looks up to date
#
# Skips everything when the output is newer than the lockfile and the sources. Needs Node.js
# and the npm registry at set-up time only; the gateway serves the result with no network.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(realpath -m "${GRAPHIQL_OUT_DIR:-$here/../gateway/static/graphiql}")"
stamp="$out/.build-stamp"
cd "$here"

inputs=(package.json package-lock.json build.mjs build.sh src)

if [[ -z "${FORCE:-}" && -f "$stamp" && -f "$out/graphiql.js" && -f "$out/graphiql.css" ]] \
  && [[ -z "$(find "${inputs[@]}" -newer "$stamp" -print -quit)" ]]; then
  echo "graphiql: up to date ($out)"
  exit 0
fi

# npm ci wipes and reinstalls node_modules: only when the lockfile changed since the last one.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

GRAPHIQL_OUT_DIR="$out" node build.mjs
