import datetime
from collections import defaultdict

import pytz
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools.misc import format_datetime

from ..adapters import DeliveryError
from ..tools.health import failure_alert_due, silence_alert_due

MANAGERS = "sales_team.group_sale_manager"
FAILURE_WINDOW = datetime.timedelta(hours=1)  # failures count over the last hour
SILENCE_LOOKBACK = datetime.timedelta(days=31)  # working time of a silence is counted within it


class MessengerBotAccount(models.Model):
    """How a bot account is doing: what arrived last, what waits or failed, the messenger's own
    view of the webhook, and To-Dos for the administrators when something is wrong."""

    _name = "messenger.bot.account"
    _inherit = ["messenger.bot.account", "mail.activity.mixin"]

    health_last_update_at = fields.Datetime(
        string="Last update received", compute="_compute_health", groups=MANAGERS
    )
    health_updates_waiting = fields.Integer(
        string="Updates waiting",
        compute="_compute_health",
        groups=MANAGERS,
        help="Updates received and not processed yet.",
    )
    health_updates_failed = fields.Integer(
        string="Failed updates",
        compute="_compute_health",
        groups=MANAGERS,
        help="Updates whose processing failed; the retry cron tries them again a few times.",
    )
    health_outbox_queued = fields.Integer(
        string="Messages waiting",
        compute="_compute_health",
        groups=MANAGERS,
        help="Messages to customers waiting for delivery.",
    )
    health_outbox_failed = fields.Integer(
        string="Messages failed",
        compute="_compute_health",
        groups=MANAGERS,
        help="Messages to customers the messenger did not take.",
    )
    health_failed_update_ids = fields.One2many(
        "messenger.update",
        "account_id",
        string="Failed updates list",
        domain=[("state", "=", "failed")],
        groups=MANAGERS,
    )
    health_can_check_webhook = fields.Boolean(compute="_compute_health_can_check_webhook")
    health_silence_hours = fields.Integer(
        string="Alert when silent for (hours)",
        default=4,
        help="The administrators get a To-Do when the account received nothing for this many "
        "working hours of its team (the company's hours without a team). 0: never.",
    )
    health_failure_threshold = fields.Integer(
        string="Alert after failures in an hour",
        default=10,
        help="The administrators get a To-Do when this many updates or messages failed within "
        "an hour. 0: never.",
    )
    # the alerts of the current incidents: none is raised again while one is open
    health_silence_alerted_at = fields.Datetime(copy=False, groups="base.group_system")
    health_failure_alerted_at = fields.Datetime(copy=False, groups="base.group_system")
    health_silence_activity_ids = fields.Many2many(
        "mail.activity",
        "messenger_bot_account_silence_activity_rel",
        copy=False,
        groups="base.group_system",
    )
    health_failure_activity_ids = fields.Many2many(
        "mail.activity",
        "messenger_bot_account_failure_activity_rel",
        copy=False,
        groups="base.group_system",
    )

    def _compute_health(self):
        """Three grouped queries for all the accounts at once."""
        domain = [("account_id", "in", self.filtered("id").ids)]
        last_update = dict(
            self.env["messenger.update"]._read_group(domain, ["account_id"], ["create_date:max"])
        )
        updates = {
            (account, state): count
            for account, state, count in self.env["messenger.update"]._read_group(
                expression.AND([domain, [("state", "in", ("received", "failed"))]]),
                ["account_id", "state"],
                ["__count"],
            )
        }
        outbox = {
            (account, state): count
            for account, state, count in self.env["messenger.outbox"]._read_group(
                expression.AND([domain, [("state", "in", ("queued", "failed"))]]),
                ["account_id", "state"],
                ["__count"],
            )
        }
        for account in self:
            origin = account._origin
            account.health_last_update_at = last_update.get(origin, False)
            account.health_updates_waiting = updates.get((origin, "received"), 0)
            account.health_updates_failed = updates.get((origin, "failed"), 0)
            account.health_outbox_queued = outbox.get((origin, "queued"), 0)
            account.health_outbox_failed = outbox.get((origin, "failed"), 0)

    @api.depends("provider")
    def _compute_health_can_check_webhook(self):
        for account in self:
            account.health_can_check_webhook = account._provider().capabilities.webhook_status

    def action_health_check_webhook(self):
        """Show how the messenger sees the webhook: its URL, the updates it holds for us and
        its last error posting to us."""
        self.ensure_one()
        self._check_administrator()
        messenger = self._provider_name()
        if not self.health_can_check_webhook:
            raise UserError(
                _("%(messenger)s does not tell how it sees the webhook.", messenger=messenger)
            )
        try:
            info = self._client().webhook_info()
        except DeliveryError as exc:
            raise UserError(
                _("%(messenger)s refused: %(error)s", messenger=messenger, error=exc)
            ) from exc
        lines = [
            _("Webhook: %(url)s.", url=info["url"])
            if info["url"]
            else _("%(messenger)s has no webhook for this bot.", messenger=messenger),
            _(
                "Updates waiting at %(messenger)s: %(count)s.",
                messenger=messenger,
                count=info["pending_update_count"],
            ),
        ]
        if info["last_error_message"]:
            error_date = info["last_error_date"]
            lines.append(
                _(
                    "Last error (%(date)s): %(error)s",
                    date=format_datetime(
                        self.env, error_date.astimezone(pytz.utc).replace(tzinfo=None)
                    )
                    if error_date
                    else "",
                    error=info["last_error_message"],
                )
            )
        action = self._notify("\n".join(lines))
        if info["last_error_message"] or info["pending_update_count"]:
            action["params"].update(type="warning", sticky=True)
        return action

    # ------------------------------------------------------------------
    # Alerts
    # ------------------------------------------------------------------

    @api.model
    def _cron_health_alerts(self):
        """A To-Do for the administrators when an account is silent during working hours for
        longer than its setting, or when failures pile up; once per incident."""
        accounts = self.search([])
        now = fields.Datetime.now()
        for account in accounts.filtered(lambda a: a._health_silence_due(now)):
            account._health_alert("silence")
        window = now - FAILURE_WINDOW
        failures = accounts._health_failures_since(
            {
                account: max(window, account.health_failure_alerted_at or window)
                for account in accounts
            }
        )
        for account in accounts:
            if not account.health_failure_activity_ids and failure_alert_due(
                failures[account], account.health_failure_threshold
            ):
                account._health_alert("failure")

    def _health_silence_due(self, now):
        """Silent for too long and not told yet: the silence that began with the last update
        (or the account's creation) is alerted once, and never while an alert is open."""
        self.ensure_one()
        silent_since = self.health_last_update_at or self.create_date
        alerted_at = self.health_silence_alerted_at
        if (
            self.health_silence_hours <= 0
            or self.health_silence_activity_ids
            or (alerted_at and alerted_at >= silent_since)
        ):
            return False
        intervals = self._health_working_intervals(max(silent_since, now - SILENCE_LOOKBACK), now)
        return silence_alert_due(silent_since, now, intervals, self.health_silence_hours)

    def _health_working_intervals(self, start, end):
        """The working intervals (naive UTC) of the account's team, else of its company, from
        `start` to a minute past `end`."""
        self.ensure_one()
        calendar = (
            self.team_id.messenger_resource_calendar_id or self.company_id.resource_calendar_id
        )
        if not calendar:
            return []
        return calendar._messenger_utc_intervals(start, end + datetime.timedelta(minutes=1))

    def _health_failures_since(self, since):
        """Failed updates and outbox rows of each account written since `since[account]`."""
        accounts_by_since = defaultdict(list)
        for account in self:
            accounts_by_since[since[account]].append(account.id)
        domain = expression.AND(
            [
                [("state", "=", "failed")],
                expression.OR(
                    [
                        [("account_id", "in", ids), ("write_date", ">=", moment)]
                        for moment, ids in accounts_by_since.items()
                    ]
                ),
            ]
        )
        failures = defaultdict(int)
        for model in ("messenger.update", "messenger.outbox"):
            for account, count in self.env[model]._read_group(domain, ["account_id"], ["__count"]):
                failures[account] += count
        return failures

    def _health_administrators(self):
        """Who hears of the account's troubles: the administrators of its company, as only they
        can see its credentials and set its webhook."""
        self.ensure_one()
        return self.env["res.users"].search(
            [
                ("groups_id", "in", self.env.ref("base.group_system").id),
                ("company_ids", "in", self.company_id.id),
                ("share", "=", False),
            ]
        )

    def _health_alert(self, kind):
        """A To-Do per administrator, in their language, for this incident of `kind` (silence
        or failure)."""
        self.ensure_one()
        activities = self.env["mail.activity"]
        for user in self._health_administrators():
            account = self.with_context(lang=user.lang)
            summary, note = getattr(account, f"_health_{kind}_message")(user)
            activities |= account.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=Markup("<p>%s</p>") % note,
                user_id=user.id,
                automated=True,
            )
        self[f"health_{kind}_activity_ids"] |= activities
        self[f"health_{kind}_alerted_at"] = fields.Datetime.now()

    def _health_silence_message(self, user):
        since = self.health_last_update_at
        return (
            self.env._("%(account)s: no messages", account=self.name),
            self.env._(
                "Nothing arrived from %(messenger)s since %(since)s, for more than %(hours)s "
                "working hours. Check the webhook on the Health tab and the bot in the messenger.",
                messenger=self._provider_name(),
                since=format_datetime(self.env, since, tz=user.tz)
                if since
                else self.env._("it was set up"),
                hours=self.health_silence_hours,
            ),
        )

    def _health_failure_message(self, _user):
        return (
            self.env._("%(account)s: failures pile up", account=self.name),
            self.env._(
                "Updates or messages to customers of %(account)s failed %(threshold)s times or "
                "more within an hour. See the errors on the Health tab.",
                account=self.name,
                threshold=self.health_failure_threshold,
            ),
        )
