from odoo import api, fields, models

from ..tools import sla
from .crm_lead_sla import SlaFields, sla_indexes


class MessengerLeadResponse(models.Model):
    """A later customer message that nobody answered yet, and its next-response deadline.

    Once a person gave the lead its first answer, each later message of the customer starts a
    deadline of its own, unless an earlier one still waits: a customer writing twice before
    the answer has one deadline, from the first unanswered message. The SLA cron
    (crm_lead_sla.sla_tick) runs on both models, each naming its fields in _messenger_sla_fields.
    """

    _name = "messenger.lead.response"
    _description = "Next-response deadline"
    _order = "message_at desc, id desc"
    _rec_name = "lead_id"
    _messenger_sla_fields = SlaFields(
        deadline="response_deadline",
        at_risk_at="sla_at_risk_at",
        state="sla_state",
        escalated_at="sla_escalated_at",
        reassigned_at="sla_reassigned_at",
    )

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="lead_id.company_id", store=True, index=True)
    team_id = fields.Many2one(related="lead_id.team_id", store=True, string="Sales team")
    channel_id = fields.Many2one(related="lead_id.messenger_channel_id", store=True)
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        compute="_compute_user_id",
        store=True,
        index=True,
        help="The lead's salesperson while the deadline runs; kept once it is met or missed.",
    )
    message_at = fields.Datetime(
        string="Customer wrote",
        required=True,
        readonly=True,
        help="The customer's first later message that nobody answered.",
    )
    response_deadline = fields.Datetime(
        string="Answer by",
        compute="_compute_response_deadline",
        store=True,
        help="The message plus the channel's next-response target, in the team's working hours.",
    )
    sla_at_risk_at = fields.Datetime(
        string="At risk from", compute="_compute_response_deadline", store=True
    )
    answered_at = fields.Datetime(string="Answered", readonly=True)
    response_minutes = fields.Float(
        string="Response time (working min)",
        compute="_compute_response_minutes",
        store=True,
        aggregator="avg",
    )
    sla_state = fields.Selection(
        sla.SLA_STATES,
        string="Next response",
        compute="_compute_sla_state",
        store=True,
        readonly=True,
        help="Refreshed every minute while the customer waits for the answer.",
    )
    sla_escalated_at = fields.Datetime(string="Escalated", readonly=True)
    sla_reassigned_at = fields.Datetime(string="Reassigned", readonly=True)

    @api.depends("lead_id.user_id")
    def _compute_user_id(self):
        for response in self:
            if not response.user_id or response.sla_state in sla.WAITING:
                response.user_id = response.lead_id.user_id

    @api.depends(
        "message_at",
        "lead_id.messenger_channel_id.next_response_target_minutes",
        "lead_id.messenger_channel_id.response_target_minutes",
        "lead_id.team_id.messenger_response_target_minutes",
        "lead_id.team_id.messenger_resource_calendar_id",
    )
    def _compute_response_deadline(self):
        for response in self:
            lead = response.lead_id
            response.response_deadline, response.sla_at_risk_at = lead._messenger_deadline(
                response.message_at, lead._messenger_next_response_target()
            )

    @api.depends("message_at", "answered_at")
    def _compute_response_minutes(self):
        for response in self:
            response.response_minutes = response.answered_at and (
                response.lead_id._messenger_working_minutes(
                    response.message_at, response.answered_at
                )
            )

    @api.depends("response_deadline", "answered_at")
    def _compute_sla_state(self):
        now = fields.Datetime.now()
        share = self.env["crm.lead"]._messenger_at_risk_share()
        for response in self:
            response.sla_state = sla.sla_state(
                now,
                response.response_deadline,
                response.answered_at,
                response.lead_id._messenger_next_response_target(),
                share,
            )

    def init(self):
        sla_indexes(self)

    @api.model
    def _register_customer_message(self, leads, when):
        """The customer of `leads` wrote at `when`: a deadline for the leads answered before
        (or in the same second: messengers date to the second) whose later messages were all
        answered; an unanswered one keeps its own."""
        # to the second, as Odoo keeps a person's answer (fields.Datetime.now()): a message and
        # its answer in the same second are in order
        when = when.replace(microsecond=0)
        answered = leads.filtered(
            lambda lead: (
                lead.messenger_first_response_at and lead.messenger_first_response_at <= when
            )
        )
        if not answered:  # before a person's first answer, as most messages of a new chat
            return
        waiting = self.sudo().search([("lead_id", "in", answered.ids), ("answered_at", "=", False)])
        self.sudo().create(
            [{"lead_id": lead.id, "message_at": when} for lead in answered - waiting.lead_id]
        )

    @api.model
    def _register_answer(self, leads, when):
        """A person answered the customer of `leads` at `when`: it meets (or meets late) the
        deadlines of the messages written before."""
        self.sudo().search(
            [
                ("lead_id", "in", leads.ids),
                ("answered_at", "=", False),
                ("message_at", "<=", when),
            ]
        ).write({"answered_at": when})

    def _messenger_escalate_breach(self):
        """A next-response deadline missed: escalated like a first response, once."""
        self.lead_id._messenger_escalate(
            {
                response.lead_id.id: self.env._(
                    "Next-response deadline missed: the customer wrote at %(message)s and the "
                    "answer was due %(deadline)s.",
                    message=fields.Datetime.to_string(response.message_at),
                    deadline=fields.Datetime.to_string(response.response_deadline),
                )
                for response in self
            },
            self.env._("Missed next response: the customer waits for your answer"),
        )

    def _messenger_reassign_breached(self):
        """Step two of an escalation, as for a first response."""
        self.lead_id._messenger_reassign_breached()
