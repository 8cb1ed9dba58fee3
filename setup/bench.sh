#!/usr/bin/env bash
# Runs the benchmarks in tests/bench/ (all, or those named), each on a fresh database of its own.
# Each prints one line per figure: "bench NAME: VALUE UNIT (goal GOAL) [fsync=..., synchronous_commit=...]".
#
# PostgreSQL runs as in production: a private cluster of the benchmarks' own in .state/pg-bench
# with PostgreSQL's durable defaults (fsync, synchronous_commit on), or the server PG* names,
# which must have them too. The database ml_bench (ML_BENCH_DB) holds the installed addons
# without demo data and is never measured on: each benchmark NAME gets ml_bench_NAME, copied from
# it, and drops it afterwards (ML_BENCH_KEEP=1 keeps it for a look). ML_BENCH_SCALE=0.1 runs a
# tenth of the sizes of the benchmarks that take it (assign, ingest, reports): a quick check.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ML_PG_DIR="${ML_PG_DIR:-$STATE/pg-bench}" ML_PG_DURABLE=1

ensure_odoo_source
ensure_venv
ensure_postgres
trap stop_postgres EXIT
log "PostgreSQL for the benchmarks: $(pg_durability)"

TEMPLATE_DB="${ML_BENCH_DB:-ml_bench}"
INSTALL_LOG="$STATE/log/install-$TEMPLATE_DB.log"
ODOO_PORT="${ML_BENCH_ODOO_PORT:-28069}" write_odoo_conf "$TEMPLATE_DB"
if ! db_exists "$TEMPLATE_DB"; then
    log "creating the benchmarks' template database $TEMPLATE_DB (no demo data)"
    odoo_bin -c "$ODOO_CONF" -d "$TEMPLATE_DB" -i "$ADDONS" --without-demo=all --stop-after-init \
        --logfile "$INSTALL_LOG" || die "install failed, see .state/log/install-$TEMPLATE_DB.log"
else
    odoo_bin -c "$ODOO_CONF" -d "$TEMPLATE_DB" -u "$ADDONS" --stop-after-init \
        --logfile "$INSTALL_LOG" || die "update failed, see .state/log/install-$TEMPLATE_DB.log"
fi
export ML_BENCH_INSTALL_LOG="$INSTALL_LOG"

# A fresh copy of the template (database and filestore) for one benchmark.
fresh_bench_db() {
    local db="$1" filestore="$STATE/filestore/filestore"
    drop_bench_db "$db"
    psql_admin -c "CREATE DATABASE \"$db\" TEMPLATE \"$TEMPLATE_DB\""
    if [ -d "$filestore/$TEMPLATE_DB" ]; then cp -a "$filestore/$TEMPLATE_DB" "$filestore/$db"; fi
}

drop_bench_db() {
    PGOPTIONS="-c client_min_messages=warning" psql_admin -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"
    rm -rf "$STATE/filestore/filestore/$1"
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for file in "$ROOT"/tests/bench/bench_*.py; do names+=("$(basename "$file" .py | sed 's/^bench_//')"); done
fi
status=0
for name in "${names[@]}"; do
    file="$ROOT/tests/bench/bench_$name.py"
    [ -f "$file" ] || die "no benchmark '$name' (tests/bench/bench_$name.py)"
    db="${TEMPLATE_DB}_$name"
    fresh_bench_db "$db"
    ODOO_PORT="${ML_BENCH_ODOO_PORT:-28069}" write_odoo_conf "$db"
    log "benchmark $name on a fresh $db"
    ML_BENCH_DB="$db" PYTHONPATH="$ROOT/tests:$ROOT/tests/bench" python "$file" \
        || { log "benchmark $name failed"; status=1; }
    [ "${ML_BENCH_KEEP:-0}" = 1 ] || drop_bench_db "$db"
done
exit $status
