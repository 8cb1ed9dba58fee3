from odoo import fields, models
from odoo.tools import SQL

from odoo.addons.messenger_leads.tools.sla import DECIDED, MISSED, SLA_STATES

from ..tools.report_view import create_view


class MessengerResponseReport(models.Model):
    """One row per next-response deadline (a later customer message nobody had answered): the
    share answered within target and the breaches, by salesperson, team and channel.

    Built like the leads analysis (_select, _from, _join, _where), over the same leads: active
    ones and lost ones.
    """

    _name = "messenger.response.report"
    _description = "Messenger next responses analysis"
    _auto = False
    _rec_name = "lead_id"
    _order = "message_at desc"

    lead_id = fields.Many2one("crm.lead", string="Lead", readonly=True)
    message_at = fields.Datetime(string="Customer wrote", readonly=True)
    channel_id = fields.Many2one("messenger.channel", string="Channel", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    sla_state = fields.Selection(SLA_STATES, string="Next response", readonly=True)
    response_count = fields.Integer(string="Messages to answer", readonly=True, aggregator="sum")
    response_minutes = fields.Float(
        string="Next response (working min)", readonly=True, aggregator="avg"
    )
    within_target_rate = fields.Float(
        string="Answered within target (%)", readonly=True, aggregator="avg"
    )
    breach_count = fields.Integer(string="SLA breaches", readonly=True, aggregator="sum")

    def _select(self):
        return SQL(
            """
            SELECT
                response.id AS id,
                response.lead_id,
                response.message_at,
                response.channel_id,
                response.team_id,
                response.user_id,
                response.company_id,
                response.sla_state,
                1 AS response_count,
                CASE WHEN response.answered_at IS NOT NULL
                    THEN response.response_minutes END AS response_minutes,
                CASE WHEN response.sla_state IN %(decided)s THEN
                    (CASE WHEN response.sla_state = 'met' THEN 100.0 ELSE 0.0 END)
                END AS within_target_rate,
                (response.sla_state IN %(missed)s)::int AS breach_count
            """,
            decided=DECIDED,
            missed=MISSED,
        )

    def _from(self):
        return SQL("FROM messenger_lead_response response")

    def _join(self):
        return SQL("JOIN crm_lead lead ON lead.id = response.lead_id")

    def _where(self):
        """The leads the leads analysis counts (crm.lead report: active or lost)."""
        return self.env["messenger.lead.report"]._where()

    def init(self):
        create_view(self)
