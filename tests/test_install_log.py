"""The install of our addons logs no warning or error of ours."""

import os
import re

OUR_ADDONS = ("messenger_leads", "messenger_leads_bot", "messenger_leads_reports")
# "2026-11-22 10:00:00,000 1234 WARNING ml_test odoo.addons.x.models: text"
LOG_LINE = re.compile(r"^\S+ \S+ \d+ (?P<level>[A-Z]+) \S+ (?P<logger>\S+): (?P<text>.*)$")


def our_problems(lines):
    """Return the WARNING/ERROR/CRITICAL lines logged by, or about, our addons."""
    found = []
    for line in lines:
        match = LOG_LINE.match(line)
        if not match or match["level"] not in ("WARNING", "ERROR", "CRITICAL"):
            continue
        ours = match["logger"].startswith(tuple(f"odoo.addons.{a}" for a in OUR_ADDONS))
        if ours or any(addon in match["text"] for addon in OUR_ADDONS):
            found.append(line.rstrip())
    return found


def test_log_check_recognises_our_warnings():
    lines = [
        "2026-11-22 10:00:00,000 1 WARNING db odoo.addons.messenger_leads.models.x: bad field",
        "2026-11-22 10:00:00,000 1 ERROR db odoo.modules.loading: messenger_leads_bot failed",
        "2026-11-22 10:00:00,000 1 WARNING db odoo.addons.crm.models.crm_lead: not ours",
        "2026-11-22 10:00:00,000 1 INFO db odoo.addons.messenger_leads.tests: fine",
    ]
    assert our_problems(lines) == lines[:2]


def test_install_log_has_no_warning_from_our_addons():
    path = os.environ["ML_INSTALL_LOG"]
    with open(path, encoding="utf-8", errors="replace") as log:
        lines = log.readlines()
    assert any("messenger_leads" in line for line in lines), f"{path} shows no install of ours"
    assert our_problems(lines) == []
