import datetime
from collections import namedtuple

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools.sql import create_index

from ..tools import sla

# The fields of a model with deadlines that sla_tick reads and writes.
SlaFields = namedtuple("SlaFields", "deadline at_risk_at state escalated_at reassigned_at")


class CrmLead(models.Model):
    # One model, one file per concern, as Odoo's mail does for res.partner: see crm_lead.py.
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited
    _messenger_sla_fields = SlaFields(
        deadline="messenger_response_deadline",
        at_risk_at="messenger_sla_at_risk_at",
        state="messenger_sla_state",
        escalated_at="messenger_sla_escalated_at",
        reassigned_at="messenger_sla_reassigned_at",
    )

    messenger_first_message_at = fields.Datetime(
        string="First message",
        readonly=True,
        copy=False,
        help="When the customer first wrote (or the lead arrived, for forms and emails).",
    )
    messenger_response_deadline = fields.Datetime(
        string="Answer by",
        compute="_compute_response_deadline",
        store=True,
        copy=False,
        help="First message plus the channel's first-response target, counted in the team's "
        "working hours: a message at 22:00 is due the next working morning.",
    )
    messenger_sla_at_risk_at = fields.Datetime(
        string="At risk from",
        compute="_compute_response_deadline",
        store=True,
        copy=False,
        help="From then on the lead is at risk of missing its deadline.",
    )
    messenger_first_response_at = fields.Datetime(
        string="First answer",
        readonly=True,
        copy=False,
        help="When a person first answered: in the chat, by a logged call or by an email.",
    )
    messenger_response_minutes = fields.Float(
        string="Response time (working min)",
        compute="_compute_response",
        store=True,
        aggregator="avg",
    )
    messenger_response_band = fields.Selection(
        sla.RESPONSE_BANDS, compute="_compute_response", store=True, string="Response band"
    )
    messenger_sla_state = fields.Selection(
        sla.SLA_STATES,
        string="First response",
        compute="_compute_sla_state",
        store=True,
        readonly=True,
        copy=False,
        help="Refreshed every minute while the lead waits for its first answer.",
    )
    messenger_sla_escalated_at = fields.Datetime(
        string="Escalated",
        readonly=True,
        copy=False,
        help="When the missed deadline was escalated to the team leader (once per lead).",
    )

    messenger_sla_reassigned_at = fields.Datetime(
        string="Reassigned",
        readonly=True,
        copy=False,
        help="When the breached lead went to the next available salesperson (once per lead).",
    )
    messenger_response_ids = fields.One2many(
        "messenger.lead.response",
        "lead_id",
        string="Next responses",
        readonly=True,
        help="Each later customer message that nobody answered, with its own deadline.",
    )
    messenger_answer_deadline = fields.Datetime(
        string="Current deadline",
        compute="_compute_answer_deadline",
        store=True,
        copy=False,
        help="The deadline running now: the first response's until a person answers, then "
        "that of the customer's oldest later message nobody answered yet.",
    )
    messenger_answer_sla_state = fields.Selection(
        sla.SLA_STATES,
        string="Current response",
        compute="_compute_answer_deadline",
        store=True,
        copy=False,
        help="The state of the deadline running now, else of the last one decided.",
    )

    @api.depends(
        "messenger_first_message_at",
        "messenger_channel_id.response_target_minutes",
        "team_id.messenger_response_target_minutes",
        "team_id.messenger_resource_calendar_id",
    )
    def _compute_response_deadline(self):
        for lead in self:
            lead.messenger_response_deadline, lead.messenger_sla_at_risk_at = (
                lead._messenger_deadline(
                    lead.messenger_first_message_at, lead._messenger_response_target()
                )
            )

    @api.depends("messenger_first_message_at", "messenger_first_response_at")
    def _compute_response(self):
        for lead in self:
            if not (lead.messenger_first_message_at and lead.messenger_first_response_at):
                lead.messenger_response_minutes = 0.0
                lead.messenger_response_band = False
                continue
            minutes = lead._messenger_working_minutes(
                lead.messenger_first_message_at, lead.messenger_first_response_at
            )
            lead.messenger_response_minutes = minutes
            lead.messenger_response_band = sla.response_band(minutes)

    @api.depends("messenger_response_deadline", "messenger_first_response_at")
    def _compute_sla_state(self):
        now = fields.Datetime.now()
        share = self._messenger_at_risk_share()
        for lead in self:
            lead.messenger_sla_state = sla.sla_state(
                now,
                lead.messenger_response_deadline,
                lead.messenger_first_response_at,
                lead._messenger_response_target(),
                share,
            )

    @api.depends(
        "messenger_response_deadline",
        "messenger_sla_state",
        "messenger_first_response_at",
        "messenger_response_ids.response_deadline",
        "messenger_response_ids.sla_state",
        "messenger_response_ids.answered_at",
    )
    def _compute_answer_deadline(self):
        for lead in self:
            latest = lead.messenger_response_ids.sorted("message_at")[-1:]
            if lead.messenger_first_response_at and latest:
                lead.messenger_answer_deadline = not latest.answered_at and latest.response_deadline
                lead.messenger_answer_sla_state = latest.sla_state
            else:
                lead.messenger_answer_deadline = (
                    not lead.messenger_first_response_at and lead.messenger_response_deadline
                )
                lead.messenger_answer_sla_state = lead.messenger_sla_state

    def _messenger_deadline(self, start, target):
        """(deadline, at risk from) of an answer due `target` working minutes after `start`;
        (False, False) without a start or a target."""
        self.ensure_one()
        if not start or not target:
            return False, False
        deadline = sla.add_working_minutes(start, target, self._messenger_working_intervals(start))
        at_risk = deadline and sla.at_risk_from(deadline, target, self._messenger_at_risk_share())
        return deadline or False, at_risk or False

    def _messenger_working_minutes(self, start, end):
        """Working minutes of this lead's team from `start` to `end`."""
        self.ensure_one()
        return sla.working_minutes_between(start, end, self._messenger_working_intervals(start))

    def _messenger_next_response_target(self):
        """Minutes to answer a later message: the channel's next-response target, else the
        first-response target."""
        self.ensure_one()
        return (
            self.messenger_channel_id.next_response_target_minutes
            or self._messenger_response_target()
        )

    def _messenger_response_target(self):
        """Minutes to answer: the team's override, else the channel's target."""
        self.ensure_one()
        return self.team_id.messenger_response_target_minutes or (
            self.messenger_channel_id.response_target_minutes
        )

    def _messenger_calendar(self):
        """Working hours that count for this lead: its team's, else its company's."""
        self.ensure_one()
        return (
            self.team_id.messenger_resource_calendar_id
            or self.company_id.resource_calendar_id
            or self.env.company.resource_calendar_id
        )

    def _messenger_working_intervals(self, start):
        """The team's working intervals (naive UTC) from `start` on, holidays excluded."""
        return self._messenger_calendar()._messenger_utc_intervals(
            start, start + sla.PLANNING_HORIZON
        )

    @api.model
    def _messenger_at_risk_share(self):
        param = self.env["ir.config_parameter"].sudo().get_param("messenger_leads.at_risk_share")
        return float(param or 0.2)

    # ------------------------------------------------------------------
    # Cron: escalation
    # ------------------------------------------------------------------

    @api.model
    def _cron_messenger_sla(self):
        """Move waiting deadlines to at risk and breached, and escalate each breach once: the
        leads' first responses, then their next responses (messenger.lead.response)."""
        now = fields.Datetime.now()
        sla_tick(self, now)
        sla_tick(self.env["messenger.lead.response"], now)

    def _messenger_reassign_breached(self):
        """Step two of an escalation: each lead to the next available salesperson other than
        its own."""
        for lead in self:
            lead._messenger_assign(exclude_users=lead.user_id)

    def init(self):
        result = super().init()
        sla_indexes(self)
        return result

    def _messenger_escalate_breach(self):
        """The first-response deadline missed: escalated (see _messenger_escalate), once."""
        self._messenger_escalate(
            {
                lead.id: self.env._(
                    "First-response deadline missed (answer was due %(deadline)s).",
                    deadline=fields.Datetime.to_string(lead.messenger_response_deadline),
                )
                for lead in self
            },
            self.env._("Missed first response: answer the customer now"),
        )

    def _messenger_escalate(self, notices, summary):
        """A chatter notice per lead ({lead id: text}) and an activity for the team leader.

        Batched (one log and one activity creation per team leader): a bad morning can breach
        hundreds of leads at once.
        """
        if not self:
            return
        self._message_log_batch(
            bodies={lead_id: Markup("<p>%s</p>") % notice for lead_id, notice in notices.items()}
        )
        self._messenger_escalate_to_leaders(summary)

    def _messenger_escalate_to_leaders(self, summary):
        """A to-do per lead for its team leader (else its salesperson), and one notice each.

        Quiet activities (no e-mail per activity): an escalation can hit hundreds of leads at
        once, and the leader gets a single notification listing how many.
        """
        for leader, leads in self.grouped(
            lambda lead: lead.team_id.user_id or lead.user_id
        ).items():
            if not leader:
                continue
            leads.with_context(mail_activity_quick_update=True).activity_schedule(
                "mail.mail_activity_data_todo", summary=summary, user_id=leader.id
            )
            leader._bus_send(
                "simple_notification",
                {
                    "type": "danger",
                    "title": summary,
                    "message": self.env._("%(count)s leads escalated to you.", count=len(leads)),
                },
            )


def sla_tick(records, now):
    """One run of the SLA cron over a model with deadlines (crm.lead, messenger.lead.response):
    waiting deadlines become at risk and breached, each breach is escalated once and, where the
    team asks, reassigned once a while after the escalation.

    The model names its fields in `_messenger_sla_fields` and has a team_id; its
    `_messenger_escalate_breach` and `_messenger_reassign_breached` act, and the cron marks each
    step done. Three range queries on partial indexes (see sla_indexes): the cron reads only what
    changes.
    """
    names = records._messenger_sla_fields
    records.search([(names.state, "in", sla.WAITING), (names.deadline, "<=", now)]).write(
        {names.state: "breached"}
    )
    records.search([(names.state, "=", "on_track"), (names.at_risk_at, "<=", now)]).write(
        {names.state: "at_risk"}
    )
    breached = records.search([(names.state, "=", "breached"), (names.escalated_at, "=", False)])
    breached._messenger_escalate_breach()
    breached.write({names.escalated_at: now})
    due = records.search(
        [
            (names.state, "=", "breached"),
            (names.reassigned_at, "=", False),
            ("team_id.messenger_reassign_after_minutes", ">", 0),
        ]
    ).filtered(
        lambda record: (
            record[names.escalated_at]
            + datetime.timedelta(minutes=record.team_id.messenger_reassign_after_minutes)
            <= now
        )
    )
    due._messenger_reassign_breached()
    due.write({names.reassigned_at: now})


def sla_indexes(model):
    """The partial indexes sla_tick reads, on the table of `model`."""
    names = model._messenger_sla_fields
    waiting = ", ".join(f"'{state}'" for state in sla.WAITING)
    for name, column, where in (
        ("waiting", names.deadline, f"{names.state} IN ({waiting})"),
        ("on_track", names.at_risk_at, f"{names.state} = 'on_track'"),
        ("breached", "id", f"{names.state} = 'breached' AND {names.escalated_at} IS NULL"),
    ):
        create_index(
            model.env.cr,
            f"{model._table}_messenger_sla_{name}_index",
            model._table,
            [column],
            where=where,
        )
