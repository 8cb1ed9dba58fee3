"""A database of the previous release upgrades to this one and keeps every lead's data.

messenger_leads 18.0.1.1.0 prefixes our stored fields on crm.lead and crm.team with messenger_
(channel_id became messenger_channel_id, ...). The test installs the previous release's addons,
with their demo data, from this repository's history, then upgrades the database with the
addons of this checkout, as an administrator does with `-u`, and compares the data.
"""

import configparser
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parent.parent
# the last commit of messenger_leads 18.0.1.0.0, before the rename
PREVIOUS_RELEASE = "348846d12d96764d8cc70779e147f2599287b74d"
ADDONS = ("messenger_leads", "messenger_leads_bot", "messenger_leads_reports")
LEAD_FIELDS = (
    "channel_id",
    "first_message_at",
    "first_response_at",
    "response_deadline",
    "sla_state",
    "answer_deadline",
    "answer_sla_state",
    "qualification_score",
    "qualification_grade",
    "phone_kind",
    "customer_tz",
)
SAVED_FILTER = ("[('sla_state', '=', 'breached')]", "{'group_by': ['channel_id']}")


def _options():
    config = configparser.ConfigParser()
    config.read(os.environ["ODOO_CONF"])
    return config["options"]


@contextlib.contextmanager
def _cursor(dbname):
    options = _options()
    password = options.get("db_password", "False")
    connection = psycopg2.connect(
        host=options["db_host"],
        port=options["db_port"],
        user=options["db_user"],
        password=None if password == "False" else password,
        dbname=dbname,
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cr:
            yield cr
    finally:
        connection.close()


def _odoo(database, log, *args, addons_path=None):
    odoo_dir = os.environ["ODOO_DIR"]
    command = [
        sys.executable,
        os.path.join(odoo_dir, "odoo-bin"),
        "-c",
        os.environ["ODOO_CONF"],
        "-d",
        database,
        "--stop-after-init",
        "--max-cron-threads",
        "0",
        "--logfile",
        str(log),
        *(["--addons-path", addons_path] if addons_path else []),
        *args,
    ]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=900)
    text = log.read_text(encoding="utf-8", errors="replace")
    problems = [line for line in text.splitlines() if " ERROR " in line or " CRITICAL " in line]
    assert done.returncode == 0 and not problems, (done.stderr[-3000:], problems[:20])
    return text


def _previous_release(target):
    """The previous release's addons, from this repository's history."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", PREVIOUS_RELEASE, *ADDONS],
        check=False,
        capture_output=True,
    )
    assert archive.returncode == 0, (
        f"commit {PREVIOUS_RELEASE} not found: the upgrade test needs the repository's history "
        f"(a full clone): {archive.stderr.decode(errors='replace')}"
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


def _lead_rows(cr, names):
    cr.execute(f"SELECT id, {', '.join(names)} FROM crm_lead ORDER BY id")
    return cr.fetchall()


@pytest.fixture
def upgrade_db():
    name = f"{os.environ['ML_TEST_DB']}_upgrade"
    with _cursor("postgres") as cr:
        cr.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    yield name
    with _cursor("postgres") as cr:
        cr.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(Path(_options()["data_dir"]) / "filestore" / name, ignore_errors=True)


def test_previous_release_upgrades_with_its_data_under_the_new_names(upgrade_db, tmp_path):
    old_addons = _previous_release(tmp_path / "previous")
    odoo_addons = os.path.join(os.environ["ODOO_DIR"], "odoo", "addons")
    _odoo(
        upgrade_db,
        tmp_path / "install.log",
        "-i",
        ",".join(ADDONS),
        addons_path=f"{odoo_addons},{old_addons}",
    )
    with _cursor(upgrade_db) as cr:
        before = _lead_rows(cr, LEAD_FIELDS)
        cr.execute("SELECT id, resource_calendar_id FROM crm_team ORDER BY id")
        calendars = cr.fetchall()
        cr.execute(
            """INSERT INTO ir_filters (name, model_id, domain, context, sort, active)
               VALUES ('Breached by channel', 'crm.lead', %s, %s, '[]', true) RETURNING id""",
            SAVED_FILTER,
        )
        (filter_id,) = cr.fetchone()
    assert any(row[1] for row in before), "the previous release's demo has leads with a channel"
    assert any(row[5] for row in before), "and leads with a first-response state"

    log = _odoo(upgrade_db, tmp_path / "upgrade.log", "-u", "messenger_leads")
    assert "crm.lead.channel_id renamed to messenger_channel_id" in log

    with _cursor(upgrade_db) as cr:
        assert _lead_rows(cr, [f"messenger_{name}" for name in LEAD_FIELDS]) == before
        cr.execute("SELECT id, messenger_resource_calendar_id FROM crm_team ORDER BY id")
        assert cr.fetchall() == calendars
        cr.execute(
            """SELECT column_name FROM information_schema.columns
                WHERE table_name = 'crm_lead' AND column_name = ANY(%s)""",
            [list(LEAD_FIELDS)],
        )
        assert cr.fetchall() == [], "no column left under an old name"
        cr.execute(
            """SELECT name FROM ir_model_fields WHERE model = 'crm.lead' AND name = ANY(%s)""",
            [list(LEAD_FIELDS)],
        )
        assert cr.fetchall() == [], "no field left under an old name"
        cr.execute(
            """SELECT count(*) FROM ir_model_data
                WHERE module = 'messenger_leads'
                  AND name IN ('field_crm_lead__messenger_sla_state',
                               'selection__crm_lead__messenger_sla_state__breached')"""
        )
        assert cr.fetchone() == (2,), "the fields keep their xml ids, renamed"
        cr.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'crm_lead'")
        indexes = {name for (name,) in cr.fetchall()}
        assert "crm_lead__messenger_channel_id_index" in indexes
        assert "crm_lead__channel_id_index" not in indexes
        cr.execute("SELECT domain, context FROM ir_filters WHERE id = %s", [filter_id])
        assert cr.fetchone() == (
            "[('messenger_sla_state', '=', 'breached')]",
            "{'group_by': ['messenger_channel_id']}",
        ), "a saved filter follows the rename"
