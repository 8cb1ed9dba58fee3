import datetime

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import callback, phone
from .messenger_callback_attempt import OUTCOMES

CALLBACK_STATES = [
    ("planned", "Calling"),
    ("reached", "Reached"),
    ("exhausted", "Unreachable"),
    ("wrong_number", "Wrong number"),
    ("stopped", "Stopped"),
]


class CrmLead(models.Model):
    # One model, one file per concern, as Odoo's mail does for res.partner: see crm_lead.py.
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    messenger_phone_kind = fields.Selection(
        phone.KINDS, string="Phone type", compute="_compute_phone_info", store=True
    )
    messenger_phone_valid = fields.Boolean(
        string="Phone Valid", compute="_compute_phone_info", store=True
    )
    messenger_customer_tz = fields.Char(
        string="Customer time zone",
        compute="_compute_phone_info",
        store=True,
        help="From the phone number when it has a single zone, else the contact's, else the "
        "company's working hours'.",
    )
    messenger_callback_state = fields.Selection(
        CALLBACK_STATES, string="Call-back", readonly=True, copy=False, index=True
    )
    messenger_callback_attempt_ids = fields.One2many(
        "messenger.callback.attempt", "lead_id", string="Call attempts", readonly=True
    )
    messenger_callback_next_at = fields.Datetime(
        string="Next call", compute="_compute_callback_next_at", store=True
    )
    messenger_callback_attempts_done = fields.Integer(
        string="Calls made",
        compute="_compute_callback_attempts_done",
        store=True,
        help="Call-back attempts made to the customer, whatever their outcome.",
    )

    @api.depends("phone", "partner_id.tz", "company_id")
    def _compute_phone_info(self):
        for lead in self:
            company = lead._messenger_company()
            fallback_tz = lead.partner_id.tz or company.resource_calendar_id.tz or "UTC"
            try:
                info = phone.phone_info(lead.phone or "", company.country_id.code)
            except phone.InvalidPhone:
                lead.messenger_phone_kind = lead.messenger_phone_valid = False
                lead.messenger_customer_tz = fallback_tz
                continue
            lead.messenger_phone_kind = info.kind
            lead.messenger_phone_valid = True
            lead.messenger_customer_tz = info.tz or fallback_tz

    @api.depends(
        "messenger_callback_attempt_ids.state", "messenger_callback_attempt_ids.planned_at"
    )
    def _compute_callback_next_at(self):
        for lead in self:
            planned = lead.messenger_callback_attempt_ids.filtered(lambda a: a.state == "planned")
            lead.messenger_callback_next_at = min(planned.mapped("planned_at"), default=False)

    @api.depends("messenger_callback_attempt_ids.state")
    def _compute_callback_attempts_done(self):
        for lead in self:
            lead.messenger_callback_attempts_done = len(
                lead.messenger_callback_attempt_ids.filtered(lambda a: a.state == "done")
            )

    @api.onchange("phone")
    def _onchange_messenger_phone_check(self):
        if warning := self.env["res.partner"]._messenger_phone_warning(self.phone):
            return {"warning": warning}
        return None

    # ------------------------------------------------------------------
    # Plan
    # ------------------------------------------------------------------

    def _callback_start(self):
        """Plan the first call of open leads with a valid phone and no plan yet."""
        for lead in self._messenger_open().filtered(
            lambda lead: (
                lead.messenger_phone_valid
                and not lead.messenger_callback_state
                and lead._messenger_company().messenger_callback
            )
        ):
            lead._callback_plan_next(fields.Datetime.now())

    def _callback_rules(self):
        company = self._messenger_company()
        return callback.CallRules(
            window_start=callback.hours_to_time(company.messenger_callback_window_start),
            window_end=callback.hours_to_time(company.messenger_callback_window_end),
            mobile_per_day=company.messenger_callback_mobile_per_day,
            mobile_gap=datetime.timedelta(minutes=company.messenger_callback_mobile_gap),
            fixed_gap=datetime.timedelta(minutes=company.messenger_callback_fixed_gap),
        )

    def _callback_plan_next(self, now, exact=False):
        """Plan the next attempt: the next allowed slot, or `now` itself when `exact`."""
        self.ensure_one()
        made = self.messenger_callback_attempt_ids.filtered(lambda a: a.state == "done")
        slot = (
            now
            if exact
            else callback.next_slot(
                now,
                made.mapped("done_at"),
                self.messenger_phone_kind,
                self.messenger_customer_tz,
                self._callback_rules(),
            )
        )
        number = len(made) + 1
        user = self.user_id or self.team_id.user_id or self.env.user
        local = fields.Datetime.context_timestamp(
            self.with_context(tz=self.messenger_customer_tz), slot
        )
        activity = self.activity_schedule(
            "mail.mail_activity_data_call",
            date_deadline=fields.Datetime.context_timestamp(
                self.with_context(tz=user.tz or "UTC"), slot
            ).date(),
            summary=self.env._(
                "Call-back %(number)s of %(total)s at %(time)s customer's time",
                number=number,
                total=self._messenger_company().messenger_callback_attempts,
                time=local.strftime("%H:%M"),
            ),
            user_id=user.id,
        )
        self.env["messenger.callback.attempt"].create(
            {
                "lead_id": self.id,
                "sequence": number,
                "planned_at": slot,
                "user_id": user.id,
                "activity_id": activity.id,
            }
        )
        self.messenger_callback_state = "planned"

    # ------------------------------------------------------------------
    # Outcomes (one click each in the lead)
    # ------------------------------------------------------------------

    def action_callback_reached(self):
        return self._callback_log("reached")

    def action_callback_no_answer(self):
        return self._callback_log("no_answer")

    def action_callback_busy(self):
        return self._callback_log("busy")

    def action_callback_wrong_number(self):
        return self._callback_log("wrong_number")

    def _callback_log(self, outcome, call_at=None):
        """Record how the current call went and plan what follows."""
        for lead in self:
            current = lead.messenger_callback_attempt_ids.filtered(lambda a: a.state == "planned")[
                :1
            ]
            if not current:
                raise UserError(
                    self.env._("No call is planned for %(lead)s.", lead=lead.display_name)
                )
            now = fields.Datetime.now()
            current.write({"state": "done", "done_at": now, "outcome": outcome})
            label = dict(OUTCOMES)[outcome]
            if current.activity_id:
                current.activity_id.action_feedback(feedback=label)
            lead._callback_follow_up(outcome, now, call_at)
        return True

    def _callback_follow_up(self, outcome, now, call_at):
        company = self._messenger_company()
        if outcome == "reached":
            self.messenger_callback_state = "reached"
        elif outcome == "wrong_number":
            self.messenger_callback_state = "wrong_number"
            self.message_post(
                body=Markup("<p>%s</p>")
                % self.env._(
                    "Wrong number: %(phone)s. Check it with the customer.", phone=self.phone
                ),
                subtype_xmlid="mail.mt_note",
            )
        elif outcome == "call_later" and call_at:
            self._callback_plan_next(call_at, exact=True)
        elif (
            len(self.messenger_callback_attempt_ids.filtered("done_at"))
            >= company.messenger_callback_attempts
        ):
            self._callback_exhausted()
        else:
            self._callback_plan_next(now)

    def _callback_exhausted(self):
        """Every attempt failed: a messenger chat gets the bot's message, else the lead moves."""
        self.messenger_callback_state = "exhausted"
        if self._callback_offer_messenger():
            return
        company = self._messenger_company()
        if (
            company.messenger_callback_exhausted == "stage"
            and company.messenger_callback_exhausted_stage_id
        ):
            self.stage_id = company.messenger_callback_exhausted_stage_id
        else:
            self.action_set_lost(
                lost_reason_id=self.env.ref("messenger_leads.crm_lost_reason_unreachable").id
            )

    def _callback_offer_messenger(self):
        """Write to the customer in their messenger instead; True when done (see the bridge)."""
        return False

    def _callback_stop(self):
        """Won or lost: planned calls are cancelled with their activities."""
        planned = self.messenger_callback_attempt_ids.filtered(lambda a: a.state == "planned")
        planned.activity_id.unlink()
        planned.write({"state": "cancelled"})
        self.filtered(
            lambda lead: lead.messenger_callback_state == "planned"
        ).messenger_callback_state = "stopped"

    # ------------------------------------------------------------------
    # Cron: reminders and escalation
    # ------------------------------------------------------------------

    @api.model
    def _cron_messenger_callbacks(self):
        """Remind salespeople of due calls; escalate calls overdue to the team leader, once."""
        now = fields.Datetime.now()
        attempts = self.env["messenger.callback.attempt"]
        due = attempts.search(
            [("state", "=", "planned"), ("reminded_at", "=", False), ("planned_at", "<=", now)]
        )
        for user, user_due in due.grouped("user_id").items():
            if user:
                user._bus_send(
                    "simple_notification",
                    {
                        "type": "warning",
                        "sticky": True,
                        "title": self.env._("Call-backs due"),
                        "message": self.env._(
                            "%(count)s calls to make now: %(leads)s",
                            count=len(user_due),
                            leads=", ".join(user_due[:5].lead_id.mapped("display_name")),
                        ),
                    },
                )
        due.reminded_at = now
        # each lead's company says when its calls are overdue: read from the earliest limit
        limits = self.env["res.company"].sudo().search([]).mapped("messenger_callback_overdue")
        overdue = attempts.search(
            [
                ("state", "=", "planned"),
                ("escalated_at", "=", False),
                ("planned_at", "<=", now - datetime.timedelta(minutes=min(limits, default=0))),
            ]
        ).filtered(
            lambda attempt: (
                attempt.planned_at
                + datetime.timedelta(
                    minutes=attempt.lead_id._messenger_company().messenger_callback_overdue
                )
                <= now
            )
        )
        overdue.lead_id._messenger_escalate_to_leaders(
            self.env._("A planned call-back is overdue: make sure the customer is called")
        )
        overdue.escalated_at = now
