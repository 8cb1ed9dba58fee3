import os
import select
from unittest.mock import patch

import psycopg2

from odoo import sql_db
from odoo.tests import TransactionCase, tagged

from ..tools import cron_wakeup


@tagged("post_install", "-at_install")
class TestCronWakeup(TransactionCase):
    """Every webhook call wakes the intake: the cron workers are told over one connection kept
    by the process, not a new PostgreSQL connection per call (ir.cron._notifydb)."""

    def listen(self):
        """A connection listening as Odoo's cron workers do."""
        _dbname, info = sql_db.connection_info_for("postgres")
        listener = psycopg2.connect(**info)
        listener.autocommit = True
        self.addCleanup(listener.close)
        listener.cursor().execute("LISTEN cron_trigger")
        return listener

    def heard(self, listener, count):
        while len(listener.notifies) < count and select.select([listener], [], [], 5)[0]:
            listener.poll()
        return [notify.payload for notify in listener.notifies]

    def test_cron_workers_are_woken_over_one_kept_connection(self):
        listener = self.listen()
        self.env["ir.cron"]._notifydb()
        kept = cron_wakeup._kept[os.getpid()]
        self.env["ir.cron"]._notifydb()
        self.assertEqual(self.heard(listener, 2), [self.env.cr.dbname] * 2)
        self.assertIs(cron_wakeup._kept[os.getpid()], kept, "the same connection both times")
        self.assertFalse(kept.closed)

    def test_a_connection_postgresql_dropped_is_made_again(self):
        listener = self.listen()
        self.env["ir.cron"]._notifydb()
        dropped = cron_wakeup._kept[os.getpid()]
        listener.cursor().execute("SELECT pg_terminate_backend(%s)", [dropped.get_backend_pid()])
        self.env["ir.cron"]._notifydb()
        self.assertEqual(self.heard(listener, 2), [self.env.cr.dbname] * 2)
        self.assertIsNot(cron_wakeup._kept[os.getpid()], dropped)

    def test_when_postgresql_cannot_be_told_the_caller_goes_on(self):
        """Called after the commit that made the job due: the job runs at the workers' next
        check, and the webhook that stored the update still answers."""
        failure = psycopg2.OperationalError("server closed the connection unexpectedly")
        with (
            patch.object(cron_wakeup.psycopg2, "connect", side_effect=failure),
            self.assertLogs("odoo.addons.messenger_leads_bot.models.ir_cron", "WARNING") as logs,
        ):
            cron_wakeup._kept.pop(os.getpid(), None)
            self.env["ir.cron"]._notifydb()
        self.assertIn("could not wake the cron workers", logs.output[0])
