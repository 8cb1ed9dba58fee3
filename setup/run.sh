#!/usr/bin/env bash
# Sets up everything on first use, then runs Odoo with the Messenger Leads addons and demo data
# on http://127.0.0.1:8069 (ODOO_PORT) until Ctrl-C, with workers as in production.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_odoo_source
ensure_venv
ensure_wkhtmltopdf
ensure_postgres

DB="${ML_DB:-messenger_leads}"
port="${ODOO_PORT:-8069}"
(echo > "/dev/tcp/127.0.0.1/$port") 2> /dev/null && die "port $port is in use: stop what uses it or set ODOO_PORT"
PIDS=()
shutdown() {
    trap - INT TERM EXIT
    trap '' PIPE   # a closed terminal or pipe must not stop the clean-up half-way
    log "stopping"
    for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
    stop_postgres
}
trap shutdown EXIT
trap 'exit 130' INT TERM

write_odoo_conf "$DB"
if ! db_exists "$DB"; then
    log "creating database $DB with the three addons and demo data (about two minutes, once)"
    # English and Russian: the bot answers each customer in their messenger's language
    odoo_bin -c "$ODOO_CONF" -d "$DB" -i "$ADDONS" --load-language=en_US,ru_RU --stop-after-init \
        --logfile "$STATE/log/install-$DB.log" \
        || die "install failed, see .state/log/install-$DB.log"
else
    odoo_bin -c "$ODOO_CONF" -d "$DB" -u "$ADDONS" --stop-after-init \
        --logfile "$STATE/log/install-$DB.log" \
        || die "update failed, see .state/log/install-$DB.log"
fi

# As the README's Scaling section says to run it in production: HTTP workers, a cron worker and
# the gevent process for the browsers' live updates, behind a reverse proxy on $url that sends
# /websocket to the gevent port. Every client is on loopback, so Odoo takes the peer's address as
# it is (proxy_mode off). In a session of its own, so that Ctrl-C reaches its workers and gevent
# process only through its graceful stop (the shutdown above), and not through the odoo_bin
# function: $! must be Odoo itself.
http_port="$(_free_port $((port + 1)))"
gevent_port="$(_free_port $((http_port + 1)))"
setsid "$VENV/bin/python" "$ODOO_DIR/odoo-bin" -c "$ODOO_CONF" -d "$DB" --logfile "$STATE/log/odoo-$DB.log" \
    --workers "${ML_WORKERS:-2}" --max-cron-threads 2 --http-port "$http_port" \
    --gevent-port "$gevent_port" &
PIDS+=($!)
"$VENV/bin/python" "$ROOT/setup/loopback_proxy.py" "$port" "$http_port" "$gevent_port" &
PIDS+=($!)
url="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
    curl -fs -o /dev/null "$url/web/login" && break
    kill -0 "${PIDS[0]}" 2> /dev/null || die "Odoo stopped, see .state/log/odoo-$DB.log"
    sleep 0.5
done

# The polling relay serves bot accounts in "Polling relay" mode (installs without public HTTPS);
# it idles until an account uses that mode and picks new ones up within a minute.
"$VENV/bin/python" "$ODOO_DIR/odoo-bin" --addons-path="$ODOO_DIR/odoo/addons,$ROOT" \
    telegram_relay -c "$ODOO_CONF" --odoo-url "$url" --logfile "$STATE/log/relay-$DB.log" &
PIDS+=($!)

cat <<EOF

  Messenger Leads is running: $url
  Log in as admin / admin. Demo team "Messenger Sales": head lead / lead;
  salespeople anna / anna, boris / boris, vera / vera.
  Logs: .state/log/odoo-$DB.log, .state/log/relay-$DB.log      Stop: Ctrl-C

EOF
wait "${PIDS[0]}"
