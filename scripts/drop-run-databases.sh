#!/usr/bin/env bash
# Drops the databases one run created: those whose name starts with
# "<prefix>_", and nothing else on the server (which other runs share).
# Usage: drop-run-databases.sh <prefix>; psql's PGHOST, PGPORT and PGUSER
# name the server. The prefix must be unique to the run (see .ci/run).
set -euo pipefail
prefix="${1:-}"
if ! [[ "$prefix" =~ ^[a-z][a-z0-9_]{7,39}$ ]]; then
  echo "drop-run-databases: give the run's prefix (8-40 of a-z, 0-9, _), got '$prefix'" >&2
  exit 2
fi
psql -d postgres -Atc "select datname from pg_database where starts_with(datname, '${prefix}_')" |
  while read -r db; do
    psql -d postgres -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
    echo "dropped $db"
  done
