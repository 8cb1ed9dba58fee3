import json

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from odoo.addons.messenger_leads.tests.common import office_hours

from .common import BotCase, tg_update

LOGGER = "odoo.addons.messenger_leads_bot.models.messenger_update"


@tagged("post_install", "-at_install")
class TestBotAccountHealth(BotCase):
    """The administrators' health screen of the bot accounts, and its alerts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.seller = new_test_user(env, "health_seller", groups="sales_team.group_sale_salesman")
        cls.manager = new_test_user(env, "health_manager", groups="sales_team.group_sale_manager")
        cls.admin = new_test_user(
            env, "health_admin", groups="base.group_system,sales_team.group_sale_manager"
        )
        cls.other_company = env["res.company"].create({"name": "Health: other company"})
        cls.other_manager = new_test_user(
            env,
            "health_other_manager",
            groups="sales_team.group_sale_manager",
            company_id=cls.other_company.id,
            company_ids=[Command.set(cls.other_company.ids)],
        )
        cls.office_hours = office_hours(env, "UTC")  # Monday to Friday, 9:00 to 18:00

    def stored_update(self, state, account=None):
        return self.env["messenger.update"].create(
            {
                "account_id": (account or self.account).id,
                "external_id": str(tg_update(1)["update_id"]),
                "payload": "{}",
                "state": state,
            }
        )

    def failing_update(self, chat_id):
        update = tg_update(chat_id, "Hello")
        update["message"]["from"] = "not a user"
        with self.assertLogs(LOGGER, "ERROR"):
            self.receive(update)
        stored = self.env["messenger.update"].search(
            [("external_id", "=", str(update["update_id"]))]
        )
        self.assertEqual(stored.state, "failed")
        return stored, update

    def set_create_date(self, update, moment):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE messenger_update SET create_date = %s WHERE id = %s", (moment, update.id)
        )
        self.env.invalidate_all()

    # figures -----------------------------------------------------------------------------

    def test_figures_per_account(self):
        other = self.env["messenger.bot.account"].create({"name": "@health_other", "token": "1:H"})
        self.receive(tg_update(9401, "Hello"))
        self.stored_update("received")
        self.stored_update("received")
        latest = self.stored_update("failed")
        for update in self.env["messenger.update"].search([("account_id", "=", self.account.id)]):
            self.set_create_date(update, "2026-11-02 10:00:00")
        self.set_create_date(latest, "2026-11-03 10:00:00")
        self.stored_update("failed", account=other)
        outbox = self.env["messenger.outbox"].search([("account_id", "=", self.account.id)])
        self.assertTrue(outbox, "the bot acknowledged the message")
        outbox.write({"state": "failed", "error": "Forbidden"})
        outbox.create(
            [
                {"conversation_id": self.conversation(9401).id, "text": text, "origin": "person"}
                for text in ("One", "Two")
            ]
        )

        accounts = (self.account | other).with_user(self.manager)
        figures = [
            (
                str(account.health_last_update_at),
                account.health_updates_waiting,
                account.health_updates_failed,
                account.health_outbox_queued,
                account.health_outbox_failed,
            )
            for account in accounts
        ]
        self.assertEqual(
            figures,
            [
                ("2026-11-03 10:00:00", 2, 1, 2, len(outbox)),
                (str(other.health_last_update_at), 0, 1, 0, 0),
            ],
        )
        self.assertEqual(accounts[0].health_failed_update_ids, latest)

        def queries(records):
            records.invalidate_recordset()
            before = self.env.cr.sql_log_count
            records.mapped("health_outbox_failed")
            return self.env.cr.sql_log_count - before

        self.assertEqual(
            queries(accounts), queries(accounts[:1]), "one query per figure for all accounts"
        )

    def test_figures_are_the_managers(self):
        def form(user):
            views = self.env["messenger.bot.account"].with_user(user).get_views([(False, "form")])
            return views["views"]["form"]["arch"]

        self.assertIn('name="health_updates_failed"', form(self.manager))
        self.assertNotIn('name="health_updates_failed"', form(self.seller))
        self.assertNotIn("action_health_check_webhook", form(self.manager))
        self.assertIn("action_health_check_webhook", form(self.admin))

    # retry -------------------------------------------------------------------------------

    def test_retry_processes_a_failed_update_again(self):
        stored, update = self.failing_update(9410)
        update["message"]["from"] = tg_update(9410)["message"]["from"]  # fixed
        stored.payload = json.dumps(update)
        stored.with_user(self.manager).action_retry()
        self.assertEqual((stored.state, stored.attempts, stored.error), ("done", 2, False))
        self.assertTrue(self.conversation(9410).lead_id)

    def test_retry_is_refused_to_a_salesperson_and_another_company(self):
        stored, _update = self.failing_update(9411)
        for user in (self.seller, self.other_manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                stored.with_user(user).action_retry()
        self.assertEqual((stored.state, stored.attempts), ("failed", 1))

    # the messenger's view of the webhook ---------------------------------------------------

    def test_check_webhook_shows_telegram_pending_count_and_last_error(self):
        self.patch(self.api, "webhook", {"url": "https://shop.example.com/hook"})
        self.patch(
            self.api,
            "webhook_status",
            {
                "pending_update_count": 37,
                "last_error_date": 1795000000,
                "last_error_message": "Wrong response from the webhook: 502 Bad Gateway",
            },
        )
        action = self.account.with_user(self.admin).action_health_check_webhook()
        params = action["params"]
        self.assertIn("https://shop.example.com/hook", params["message"])
        self.assertIn("37", params["message"])
        self.assertIn("Wrong response from the webhook: 502 Bad Gateway", params["message"])
        self.assertEqual((params["type"], params["sticky"]), ("warning", True))

    def test_check_webhook_is_the_administrators(self):
        calls = len(self.api.calls)
        for user in (self.seller, self.manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.account.with_user(user).action_health_check_webhook()
        self.assertEqual(len(self.api.calls), calls, "Telegram was not asked")

    def test_check_webhook_only_where_the_messenger_tells(self):
        whatsapp = self.env["messenger.bot.account"].create(
            {"name": "WhatsApp", "provider": "whatsapp", "token": "W"}
        )
        self.assertTrue(self.account.health_can_check_webhook)
        self.assertFalse(whatsapp.health_can_check_webhook)

    # alerts ------------------------------------------------------------------------------

    def run_alerts(self, moment=None):
        if moment is None:
            self.env["messenger.bot.account"]._cron_health_alerts()
            return
        with freeze_time(moment):
            self.env["messenger.bot.account"]._cron_health_alerts()

    def test_silence_alert_fires_once_during_working_hours(self):
        self.team.messenger_resource_calendar_id = self.office_hours
        self.receive(tg_update(9420, "Hello"))
        last = self.env["messenger.update"].search([("account_id", "=", self.account.id)])
        self.set_create_date(last, "2026-11-23 08:00:00")  # a Monday, before work
        admins = self.account._health_administrators()
        self.assertIn(self.admin, admins)

        self.run_alerts("2026-11-23 12:00:00")  # 3 working hours: not yet
        self.assertFalse(self.account.activity_ids)
        self.run_alerts("2026-11-23 13:30:00")  # 4.5 working hours
        alerts = self.account.activity_ids
        self.assertEqual(alerts.user_id, admins)
        self.assertEqual(alerts.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.run_alerts("2026-11-23 13:45:00")
        self.assertEqual(self.account.activity_ids, alerts, "no new To-Do while one is open")
        alerts.action_feedback()
        self.run_alerts("2026-11-23 14:00:00")
        self.assertFalse(self.account.activity_ids, "once per silence, even once done")

        newer = self.stored_update("done")
        self.set_create_date(newer, "2026-11-23 14:30:00")
        self.run_alerts("2026-11-24 09:30:00")  # 3.5 + 0.5 working hours: a new silence
        self.assertEqual(len(self.account.activity_ids), len(admins))

    def test_no_silence_alert_outside_working_hours(self):
        self.team.messenger_resource_calendar_id = self.office_hours
        self.receive(tg_update(9421, "Hello"))
        last = self.env["messenger.update"].search([("account_id", "=", self.account.id)])
        self.set_create_date(last, "2026-11-23 10:00:00")
        self.run_alerts("2026-11-23 20:00:00")  # 8 working hours, but the office is closed
        self.run_alerts("2026-11-28 12:00:00")  # Saturday
        self.assertFalse(self.account.activity_ids)
        self.account.health_silence_hours = 0  # never
        self.run_alerts("2026-11-24 10:00:00")
        self.assertFalse(self.account.activity_ids)

    def failed(self, count, moment):
        """`count` updates that failed at `moment`."""
        updates = self.env["messenger.update"]
        for _i in range(count):
            updates |= self.stored_update("failed")
        self.set_write_date(updates, moment)

    def set_write_date(self, records, moment):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET write_date = %s WHERE id = ANY(%s)",
                SQL.identifier(records._table),
                moment,
                records.ids,
            )
        )
        self.env.invalidate_all()

    def test_failure_alert_fires_once(self):
        self.receive(tg_update(9430, "Hello"))
        outbox = self.env["messenger.outbox"].search([("account_id", "=", self.account.id)])
        outbox.write({"state": "failed", "error": "Forbidden"})
        self.set_write_date(outbox, "2026-11-25 10:10:00")
        self.failed(9 - len(outbox), "2026-11-25 10:00:00")
        self.run_alerts("2026-11-25 10:15:00")
        self.assertFalse(self.account.activity_ids, "9 failures in the hour: below 10")

        self.failed(1, "2026-11-25 10:20:00")
        self.run_alerts("2026-11-25 10:30:00")
        alerts = self.account.activity_ids
        self.assertEqual(alerts.user_id, self.account._health_administrators())
        self.assertIn("failures", alerts[0].summary)
        self.failed(10, "2026-11-25 10:40:00")
        self.run_alerts("2026-11-25 10:45:00")
        self.assertEqual(self.account.activity_ids, alerts, "no new To-Do while one is open")

        alerts.action_feedback()
        self.run_alerts("2026-11-25 10:50:00")
        alerts = self.account.activity_ids
        self.assertEqual(len(alerts), len(self.account._health_administrators()), "10 new ones")
        alerts.action_feedback()
        self.run_alerts("2026-11-25 11:00:00")
        self.assertFalse(self.account.activity_ids, "nothing failed since the last alert")

        self.account.health_failure_threshold = 0  # never
        self.failed(20, "2026-11-25 11:05:00")
        self.run_alerts("2026-11-25 11:10:00")
        self.assertFalse(self.account.activity_ids)
