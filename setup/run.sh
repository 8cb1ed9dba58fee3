#!/usr/bin/env bash
# Sets up everything on first use, then runs Odoo with the Messenger Leads addons and demo data
# on http://127.0.0.1:8069 until Ctrl-C.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_odoo_source
ensure_venv
ensure_wkhtmltopdf
ensure_postgres

DB="${ML_DB:-messenger_leads}"
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

# Not through the odoo_bin function: $! must be Odoo itself so that Ctrl-C stops it.
"$VENV/bin/python" "$ODOO_DIR/odoo-bin" -c "$ODOO_CONF" -d "$DB" --logfile "$STATE/log/odoo-$DB.log" &
PIDS+=($!)
url="http://127.0.0.1:${ODOO_PORT:-8069}"
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
