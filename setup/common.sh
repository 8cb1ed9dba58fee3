# Shared set-up steps for run.sh, test.sh and bench.sh. Source it; every step is idempotent.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.state"                      # ignored by git: cluster, logs, configs
VENV="$ROOT/.venv"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/messenger_leads"
ODOO_CACHE="$CACHE_DIR/odoo-18.0"
ODOO_NIGHTLY_URL="${ODOO_NIGHTLY_URL:-https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz}"
ADDONS="messenger_leads,messenger_leads_bot,messenger_leads_reports"
mkdir -p "$STATE/log"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- Odoo source -------------------------------------------------------------
_is_odoo_tree() { [ -f "$1/odoo-bin" ] && [ -f "$1/odoo/release.py" ] && [ -f "$1/requirements.txt" ]; }

# Unpack an archive (path or URL) holding Odoo's source into the cache.
_fill_cache_from_archive() {
    local src="$1" tmp
    tmp="$(mktemp -d "$CACHE_DIR/unpack.XXXXXX")"
    if [[ "$src" =~ ^https?:// ]]; then
        curl -fsSL --max-time 600 -o "$tmp/src.archive" "$src" || { rm -rf "$tmp"; return 1; }
        src="$tmp/src.archive"
    fi
    case "$src" in
        *.zip) python3 -m zipfile -e "$src" "$tmp/x" ;;
        *) mkdir -p "$tmp/x" && tar -xf "$src" -C "$tmp/x" ;;
    esac || { rm -rf "$tmp"; return 1; }
    local top
    top="$(dirname "$(find "$tmp/x" -maxdepth 3 -name odoo-bin -print -quit)")"
    _is_odoo_tree "$top" || { rm -rf "$tmp"; return 1; }
    rm -rf "$ODOO_CACHE" && mv "$top" "$ODOO_CACHE" && rm -rf "$tmp"
}

# Sets ODOO_DIR: ODOO_SRC (folder or archive), else the cache, else the nightly archive.
ensure_odoo_source() {
    mkdir -p "$CACHE_DIR"
    if [ -n "${ODOO_SRC:-}" ]; then
        if [ -d "$ODOO_SRC" ]; then
            _is_odoo_tree "$ODOO_SRC" || die "ODOO_SRC=$ODOO_SRC is not an Odoo 18.0 source folder (no odoo-bin, odoo/release.py, requirements.txt)"
            if ! _is_odoo_tree "$ODOO_CACHE"; then
                log "caching Odoo source from $ODOO_SRC"
                mkdir -p "$ODOO_CACHE"
                cp -a "$ODOO_SRC/odoo" "$ODOO_SRC/odoo-bin" "$ODOO_SRC/requirements.txt" "$ODOO_CACHE/"
            fi
            ODOO_DIR="$ODOO_SRC"
        else
            log "unpacking Odoo source from $ODOO_SRC"
            _fill_cache_from_archive "$ODOO_SRC" || die "ODOO_SRC=$ODOO_SRC could not be unpacked as an Odoo 18.0 source archive"
            ODOO_DIR="$ODOO_CACHE"
        fi
    elif _is_odoo_tree "$ODOO_CACHE"; then
        ODOO_DIR="$ODOO_CACHE"
    else
        log "no cached Odoo source; trying the official 18.0 nightly archive"
        _fill_cache_from_archive "$ODOO_NIGHTLY_URL" \
            || die "no Odoo 18.0 source found: set ODOO_SRC to a folder or archive of Odoo 18.0 Community source"
        ODOO_DIR="$ODOO_CACHE"
    fi
    grep -q "version_info = (18, 0" "$ODOO_DIR/odoo/release.py" || die "Odoo source in $ODOO_DIR is not 18.0: set ODOO_SRC to Odoo 18.0"
    export ODOO_DIR
}

# --- Python virtualenv -------------------------------------------------------
# Odoo's requirements, ours at run time (setup/requirements.txt) and for the tests, benchmarks and
# lint (setup/requirements-test.txt); installed again whenever one of them changes.
ensure_venv() {
    local stamp="$VENV/.requirements.sha256" want
    want="$(cat "$ODOO_DIR/requirements.txt" "$ROOT/setup/requirements.txt" \
        "$ROOT/setup/requirements-test.txt" | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        export PATH="$VENV/bin:$PATH"
        return
    fi
    log "installing Python requirements into .venv (about a minute)"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    local constraints="$STATE/pip-constraints.txt" odoo_reqs="$STATE/odoo-requirements.txt"
    echo 'setuptools<70' > "$constraints"          # cbor2's sdist needs it at build time
    grep -v '^python-ldap' "$ODOO_DIR/requirements.txt" > "$odoo_reqs"   # only auth_ldap needs it
    PIP_CONSTRAINT="$constraints" "$VENV/bin/pip" install -q --disable-pip-version-check \
        -r "$odoo_reqs" -r "$ROOT/setup/requirements.txt" -r "$ROOT/setup/requirements-test.txt" \
        > "$STATE/log/pip.log" 2>&1 \
        || { tail -n 30 "$STATE/log/pip.log" >&2; die "pip install failed (see .state/log/pip.log)"; }
    echo "$want" > "$stamp"
    export PATH="$VENV/bin:$PATH"
}

# --- Debian packages ---------------------------------------------------------
apt_install() {
    log "installing Debian's $*"
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo -n)
    { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@"; } \
        >> "$STATE/log/apt.log" 2>&1
}

# The browser tours run in Chromium, found on PATH under one of the names Odoo looks for; without
# it Odoo skips every tour (and setup/test.sh fails on the skips).
_chromium_on_path() {
    local name
    for name in google-chrome chromium chromium-browser google-chrome-stable; do
        command -v "$name" > /dev/null && return 0
    done
    return 1
}
ensure_chromium() {
    _chromium_on_path && return
    local installed="installing it here failed, see .state/log/apt.log"
    apt_install chromium && installed="it is installed but not on this PATH ($PATH)"
    _chromium_on_path \
        || die "chromium not found on PATH: install Debian's chromium (apt-get install chromium); $installed"
}

# PDF reports (the monthly summary) are printed by wkhtmltopdf.
ensure_wkhtmltopdf() {
    command -v wkhtmltopdf > /dev/null || apt_install wkhtmltopdf \
        || die "could not install wkhtmltopdf for PDF reports (see .state/log/apt.log)"
}

# --- PostgreSQL --------------------------------------------------------------
# The server named by PG* variables if any is set, else a private cluster in ML_PG_DIR (default
# .state/pg). The private cluster runs with fsync and synchronous_commit off (fast tests on data
# that is rebuilt anyway) unless ML_PG_DURABLE=1: then with PostgreSQL's durable defaults, which
# are then required of whatever server it is (setup/bench.sh measures as production runs).
PG_PRIVATE=0
PG_AWAY=/var/tmp

# The folder that holds the private cluster $1. As root, PostgreSQL runs as `postgres`, which must
# reach it: a checkout in a folder `postgres` cannot enter (Debian's /root is 0700) keeps its
# cluster in $PG_AWAY instead, in a folder of its own named after the path of $1 (owned by
# postgres, mode 0700), and $1 becomes a link to it.
_pg_cluster_dir() {
    local dir="$1" away
    if [ "$(id -u)" != 0 ] || { [ ! -L "$dir" ] && runuser -u postgres -- test -x "$(dirname "$dir")"; }; then
        echo "$dir"
        return
    fi
    away="$PG_AWAY/messenger_leads-pg-$(printf '%s' "$dir" | sha256sum | cut -c1-16)"
    if [ -d "$dir" ] && [ ! -L "$dir" ]; then   # what an earlier failed initdb left
        [ -f "$dir/data/PG_VERSION" ] && die "postgres cannot reach the cluster in $dir: move the checkout where it can"
        rm -rf "$dir"
    fi
    [ -e "$away" ] || [ -L "$away" ] || { mkdir -m 0700 "$away" && chown postgres: "$away"; }
    [ ! -L "$away" ] && [ -d "$away" ] && [ "$(stat -c %U:%a "$away")" = postgres:700 ] \
        || die "$away is not a folder of postgres with mode 700: remove it and run again"
    ln -sfn "$away" "$dir"
    echo "$dir" > "$away/checkout"   # after the link: _sweep_away_clusters keeps it
    echo "$away"
}

# Stops and removes the clusters in $PG_AWAY whose checkout no longer links to them (its .state
# was cleaned, or the checkout removed or moved).
_sweep_away_clusters() {
    local away link
    for away in "$PG_AWAY"/messenger_leads-pg-*; do
        [ -f "$away/checkout" ] && [ ! -L "$away" ] || continue
        link="$(cat "$away/checkout")"
        [ "$(readlink "$link" 2> /dev/null)" = "$away" ] && continue
        log "removing the private PostgreSQL cluster $away: $link no longer links to it"
        runuser -u postgres -- "$1/pg_ctl" -D "$away/data" -m immediate -w stop > /dev/null 2>&1 || true
        rm -rf "$away"
    done
}

ensure_postgres() {
    if [ -n "${PGHOST:-}${PGPORT:-}${PGUSER:-}${PGDATABASE:-}" ]; then
        DB_HOST="${PGHOST:-}" DB_PORT="${PGPORT:-5432}" DB_USER="${PGUSER:-$(id -un)}" DB_PASSWORD="${PGPASSWORD:-}"
        export DB_HOST DB_PORT DB_USER DB_PASSWORD
        _require_durable "set fsync=on and synchronous_commit=on on the server PG* names"
        return
    fi
    PG_PRIVATE=1
    local pgbin dir as=() fast="-c fsync=off -c synchronous_commit=off" data run
    [ "${ML_PG_DURABLE:-0}" = 1 ] && fast=""
    pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$pgbin" ]; then
        apt_install postgresql || die "could not install postgresql (see .state/log/apt.log); or set PGHOST/PGPORT/PGUSER to a server"
        pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    if [ "$(id -u)" = 0 ]; then   # PostgreSQL refuses to run as root
        as=(runuser -u postgres --)
        _sweep_away_clusters "$pgbin"
    fi
    dir="$(_pg_cluster_dir "${ML_PG_DIR:-$STATE/pg}")"
    data="$dir/data" run="$dir/run"
    mkdir -p "$run"
    if [ ! -f "$data/PG_VERSION" ]; then
        log "creating a private PostgreSQL cluster in ${dir#"$ROOT/"}"
        mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
        "${as[@]}" "$pgbin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 > "$STATE/log/initdb.log" 2>&1 \
            || die "initdb failed (see .state/log/initdb.log)"
    fi
    [ "$(id -u)" = 0 ] && chown postgres: "$run"
    DB_HOST="$run" DB_USER="messenger_leads" DB_PASSWORD=""
    if ! "${as[@]}" "$pgbin/pg_ctl" -D "$data" status > /dev/null 2>&1; then
        DB_PORT="$(_free_port "${ML_PGPORT:-55432}")"
        "${as[@]}" "$pgbin/pg_ctl" -D "$data" -w -t 60 -l "$dir/postgres.log" \
            -o "-k $run -p $DB_PORT -c listen_addresses=127.0.0.1 -c max_connections=200 $fast" start > /dev/null \
            || die "PostgreSQL did not start (see ${dir#"$ROOT/"}/postgres.log)"
        PG_STARTED_HERE=1
    fi
    DB_PORT="$(sed -n 4p "$data/postmaster.pid")"
    "$pgbin/psql" -h "$run" -p "$DB_PORT" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_roles WHERE rolname='messenger_leads'" | grep -q 1 \
        || "$pgbin/psql" -h "$run" -p "$DB_PORT" -U postgres -d postgres -qc \
            "CREATE ROLE messenger_leads LOGIN CREATEDB" > /dev/null
    PG_BIN="$pgbin" PG_DATA="$data" PG_AS="${as[*]}"
    export DB_HOST DB_PORT DB_USER DB_PASSWORD PG_BIN PG_DATA PG_AS
    _require_durable "it was started without them: stop it ($PG_AS $pgbin/pg_ctl -D $data stop) and run again"
}

# "fsync=..., synchronous_commit=..." as the server reports them.
pg_durability() {
    psql_admin -c "SELECT 'fsync=' || current_setting('fsync')
                          || ', synchronous_commit=' || current_setting('synchronous_commit')"
}

# With ML_PG_DURABLE=1, stops unless the server commits durably ($1: how to get there).
_require_durable() {
    [ "${ML_PG_DURABLE:-0}" = 1 ] || return 0
    local settings
    settings="$(pg_durability)"
    case "$settings" in
        "fsync=on, synchronous_commit=off" | "fsync=off, "*)
            die "PostgreSQL runs with $settings, not the durable defaults this needs: $1" ;;
    esac
}

_free_port() {
    local port="$1"
    while (echo > "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do port=$((port + 1)); done
    echo "$port"
}

# Stops the private cluster if this script started it and nobody else uses it (trap target).
stop_postgres() {
    if [ "${PG_STARTED_HERE:-0}" = 1 ]; then
        local others tries=20
        while :; do   # an Odoo's workers may still be closing their connections
            others="$(psql_admin -c "SELECT count(*) FROM pg_stat_activity
                      WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()" 2> /dev/null || echo 0)"
            [ "$others" != 0 ] && [ $((tries -= 1)) -gt 0 ] || break
            sleep 0.5
        done
        if [ "$others" != 0 ]; then
            log "PostgreSQL left running: $others other connection(s) still use it"
            return
        fi
        # shellcheck disable=SC2086
        $PG_AS "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop > /dev/null 2>&1 || true
        PG_STARTED_HERE=0
    fi
}

psql_admin() {
    if [ "$PG_PRIVATE" = 1 ]; then
        "$PG_BIN/psql" -h "$DB_HOST" -p "$DB_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
    else
        psql -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
    fi
}

db_exists() { [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname='$1'")" = 1 ]; }

# --- Odoo configuration ------------------------------------------------------
# Writes an odoo.conf for database $1 into .state and sets ODOO_CONF. db_name alone exposes only
# that database; a dbfilter would make Odoo list the cluster's databases on every request.
write_odoo_conf() {
    local db="$1" conf="$STATE/odoo-$1.conf"
    cat > "$conf" <<EOF
[options]
addons_path = $ODOO_DIR/odoo/addons,$ROOT
data_dir = $STATE/filestore
db_host = ${DB_HOST}
db_port = ${DB_PORT}
db_user = ${DB_USER}
db_password = ${DB_PASSWORD:-False}
db_name = $db
list_db = False
http_interface = 127.0.0.1
http_port = ${ODOO_PORT:-8069}
gevent_port = ${ODOO_GEVENT_PORT:-8072}
proxy_mode = False
EOF
    ODOO_CONF="$conf"
    export ODOO_CONF
}

odoo_bin() { "$VENV/bin/python" "$ODOO_DIR/odoo-bin" "$@"; }
