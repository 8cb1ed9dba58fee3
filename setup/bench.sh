#!/usr/bin/env bash
# Runs the benchmarks in tests/bench/ (all, or those named) against a benchmark database.
# Each prints one line per figure: "bench NAME: VALUE UNIT (goal GOAL) [fsync=..., synchronous_commit=...]".
#
# PostgreSQL runs as in production: a private cluster of the benchmarks' own in .state/pg-bench
# with PostgreSQL's durable defaults (fsync, synchronous_commit on), or the server PG* names,
# which must have them too.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ML_PG_DIR="${ML_PG_DIR:-$STATE/pg-bench}" ML_PG_DURABLE=1

ensure_odoo_source
ensure_venv
ensure_postgres
trap stop_postgres EXIT
log "PostgreSQL for the benchmarks: $(pg_durability)"

BENCH_DB="${ML_BENCH_DB:-ml_bench}"
ODOO_PORT="${ML_BENCH_ODOO_PORT:-28069}" write_odoo_conf "$BENCH_DB"
if ! db_exists "$BENCH_DB"; then
    log "creating benchmark database $BENCH_DB (no demo data)"
    odoo_bin -c "$ODOO_CONF" -d "$BENCH_DB" -i "$ADDONS" --without-demo=all --stop-after-init \
        --logfile "$STATE/log/install-$BENCH_DB.log" || die "install failed, see .state/log/install-$BENCH_DB.log"
else
    odoo_bin -c "$ODOO_CONF" -d "$BENCH_DB" -u "$ADDONS" --stop-after-init \
        --logfile "$STATE/log/install-$BENCH_DB.log" || die "update failed, see .state/log/install-$BENCH_DB.log"
fi
export ML_BENCH_DB="$BENCH_DB"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for file in "$ROOT"/tests/bench/bench_*.py; do names+=("$(basename "$file" .py | sed 's/^bench_//')"); done
fi
status=0
for name in "${names[@]}"; do
    file="$ROOT/tests/bench/bench_$name.py"
    [ -f "$file" ] || die "no benchmark '$name' (tests/bench/bench_$name.py)"
    PYTHONPATH="$ROOT/tests:$ROOT/tests/bench" python "$file" || { log "benchmark $name failed"; status=1; }
done
exit $status
