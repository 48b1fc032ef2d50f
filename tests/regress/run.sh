#!/usr/bin/env bash
# SQL regression tests (pg_regress, expected output) against a private cluster
# started as the postgres user, with the extension as currently installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}
scripts/cluster.sh start regress "$PORT"
out=$PERSONA_STATE/regress-results
rm -rf "$out"; mkdir -p "$out"
pg_regress=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress
set +e
"$pg_regress" \
    --bindir="$PG_BIN" --host=127.0.0.1 --port="$PORT" --user=postgres \
    --inputdir=tests/regress --outputdir="$out" \
    --schedule=tests/regress/schedule --dbname=persona_regress \
    --load-extension=persona --launcher="env PGTZ=UTC PGDATESTYLE=ISO" "$@"
rc=$?
set -e
if [ $rc -ne 0 ] && [ -f "$out/regression.diffs" ]; then
    cat "$out/regression.diffs"
fi
exit $rc
