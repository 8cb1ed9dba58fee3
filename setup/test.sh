#!/usr/bin/env bash
# Runs every check: lint, the addons' Odoo tests on a fresh database, and the root tests/.
# Ends with one line "N passed, N failed[, N skipped]" and a non-zero status if anything failed,
# was skipped or did not run (an addon of ours that ran no test counts as a failure).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_odoo_source
ensure_venv
ensure_wkhtmltopdf
ensure_chromium
ensure_postgres
trap stop_postgres EXIT

TEST_DB="${ML_TEST_DB:-ml_test}"
INSTALL_LOG="$STATE/log/test-install.log"
PYTEST_XML="$STATE/pytest.xml"
export ML_TEST_DB="$TEST_DB" ML_INSTALL_LOG="$INSTALL_LOG"

lint_failed=0
log "lint: ruff and pylint-odoo through pre-commit"
if ! (cd "$ROOT" && pre-commit run --all-files --show-diff-on-failure > "$STATE/log/lint.log" 2>&1); then
    cat "$STATE/log/lint.log" >&2
    lint_failed=1
fi

log "fresh test database $TEST_DB: install our addons with demo data and run their Odoo tests"
psql_admin -c "DROP DATABASE IF EXISTS \"$TEST_DB\" WITH (FORCE)"
rm -rf "$STATE/filestore/filestore/$TEST_DB"
ODOO_PORT="${ML_TEST_ODOO_PORT:-18069}" write_odoo_conf "$TEST_DB"
rm -f "$INSTALL_LOG"
odoo_bin -c "$ODOO_CONF" -d "$TEST_DB" -i "$ADDONS" --test-enable \
    --test-tags "/messenger_leads,/messenger_leads_bot,/messenger_leads_reports" \
    --stop-after-init --http-port "${ML_TEST_ODOO_PORT:-18069}" --logfile "$INSTALL_LOG" \
    --log-level info || true
# passed, failed, skipped; each addon's counts, every skip and why the run cannot pass on stderr
read -r odoo_passed odoo_failed odoo_skipped \
    <<< "$(python "$ROOT/setup/odoo_test_counts.py" "$INSTALL_LOG" "$ADDONS")"
log "Odoo tests: $odoo_passed passed, $odoo_failed failed, $odoo_skipped skipped (log: .state/log/test-install.log)"
grep -E " (ERROR|CRITICAL) " "$INSTALL_LOG" | grep -E "FAIL|ERROR:" | head -n 40 >&2 || true

log "root tests/ with pytest"
rm -f "$PYTEST_XML"   # a pytest that dies before its report must not leave the last run's passes
py_status=0
(cd "$ROOT" && python -m pytest tests -q -p no:cacheprovider --junitxml "$PYTEST_XML") >&2 || py_status=$?
read -r py_passed py_failed py_skipped <<< "$(python "$ROOT/setup/junit_counts.py" "$PYTEST_XML")"
if [ "$py_status" -ne 0 ] && [ "$py_failed" -eq 0 ]; then
    log "pytest exited with status $py_status though its report shows no failure"
    py_failed=1
fi

passed=$((odoo_passed + py_passed))
failed=$((odoo_failed + py_failed + lint_failed))
skipped=$((odoo_skipped + py_skipped))
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped (a skipped test is a failed run)"
echo "$summary"
[ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$odoo_passed" -gt 0 ] && [ "$py_passed" -gt 0 ]
