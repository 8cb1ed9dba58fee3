from odoo import fields, models
from odoo.tools import SQL

from odoo.addons.messenger_leads.models.messenger_channel import LIVE_CHAT_CODES
from odoo.addons.messenger_leads.tools.qualification import GRADES
from odoo.addons.messenger_leads.tools.sla import DECIDED, MISSED, RESPONSE_BANDS, SLA_STATES

from ..tools.report_view import create_view


class MessengerLeadReport(models.Model):
    """One row per lead: the funnel, response, salesperson and quality figures all read it.

    The funnel steps nest: won ⊂ opportunity ⊂ qualified ⊂ leads. A lead is an opportunity once
    it is of type opportunity and past the first stage (or won); qualified once it is an
    opportunity or graded warm or hot. Rates are 0 or 100 per lead, averaged by the pivot; a
    rate is NULL on the leads it does not apply to (e.g. the won rate of leads that never
    became opportunities), which AVG skips.
    """

    _name = "messenger.lead.report"
    _description = "Messenger leads analysis"
    _auto = False
    _rec_name = "lead_id"
    _order = "create_date desc"

    lead_id = fields.Many2one("crm.lead", string="Lead", readonly=True)
    create_date = fields.Datetime(string="Created on", readonly=True)
    date_closed = fields.Datetime(string="Closed on", readonly=True)
    channel_id = fields.Many2one("messenger.channel", string="Channel", readonly=True)
    source_id = fields.Many2one("utm.source", string="Source", readonly=True)
    medium_id = fields.Many2one("utm.medium", string="Medium", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", string="Campaign", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    lost_reason_id = fields.Many2one("crm.lost.reason", string="Lost reason", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    qualification_grade = fields.Selection(GRADES, string="Grade", readonly=True)
    response_band = fields.Selection(RESPONSE_BANDS, string="Response band", readonly=True)
    sla_state = fields.Selection(SLA_STATES, string="First response", readonly=True)
    arrival_hour = fields.Integer(string="Hour of arrival", readonly=True, aggregator=None)

    lead_count = fields.Integer(string="Leads", readonly=True, aggregator="sum")
    qualified_count = fields.Integer(string="Qualified", readonly=True, aggregator="sum")
    opportunity_count = fields.Integer(string="Opportunities", readonly=True, aggregator="sum")
    won_count = fields.Integer(string="Won", readonly=True, aggregator="sum")
    lost_count = fields.Integer(string="Lost", readonly=True, aggregator="sum")
    qualified_rate = fields.Float(string="Lead → qualified (%)", readonly=True, aggregator="avg")
    opportunity_rate = fields.Float(
        string="Qualified → opportunity (%)", readonly=True, aggregator="avg"
    )
    won_rate = fields.Float(string="Opportunity → won (%)", readonly=True, aggregator="avg")
    conversion_rate = fields.Float(string="Conversion (%)", readonly=True, aggregator="avg")
    won_revenue = fields.Float(string="Won revenue", readonly=True, aggregator="sum")
    won_amount = fields.Float(string="Average deal", readonly=True, aggregator="avg")
    deal_cycle_days = fields.Float(string="Deal cycle (days)", readonly=True, aggregator="avg")

    response_minutes = fields.Float(
        string="First response (working min)", readonly=True, aggregator="avg"
    )
    within_target_rate = fields.Float(
        string="Answered within target (%)", readonly=True, aggregator="avg"
    )
    breach_count = fields.Integer(string="SLA breaches", readonly=True, aggregator="sum")
    qualification_score = fields.Float(string="Score", readonly=True, aggregator="avg")
    call_attempts = fields.Float(string="Call attempts per lead", readonly=True, aggregator="avg")
    chat_count = fields.Integer(string="Chats handled", readonly=True, aggregator="sum")
    customer_rating = fields.Float(string="Customer rating", readonly=True, aggregator="avg")

    def _select(self):
        return SQL(
            """
            SELECT
                lead.id AS id,
                lead.id AS lead_id,
                lead.create_date,
                lead.date_closed,
                lead.messenger_channel_id AS channel_id,
                lead.source_id,
                lead.medium_id,
                lead.campaign_id,
                lead.team_id,
                lead.user_id,
                lead.stage_id,
                lead.lost_reason_id,
                lead.company_id,
                lead.messenger_qualification_grade AS qualification_grade,
                lead.messenger_response_band AS response_band,
                lead.messenger_sla_state AS sla_state,
                EXTRACT(hour FROM lead.messenger_first_message_at AT TIME ZONE 'UTC'
                        AT TIME ZONE COALESCE(calendar.tz, 'UTC'))::int AS arrival_hour,
                1 AS lead_count,
                step.qualified::int AS qualified_count,
                step.opportunity::int AS opportunity_count,
                step.won::int AS won_count,
                step.lost::int AS lost_count,
                CASE WHEN step.qualified THEN 100.0 ELSE 0.0 END AS qualified_rate,
                CASE WHEN step.qualified THEN
                    (CASE WHEN step.opportunity THEN 100.0 ELSE 0.0 END)
                END AS opportunity_rate,
                CASE WHEN step.opportunity THEN
                    (CASE WHEN step.won THEN 100.0 ELSE 0.0 END)
                END AS won_rate,
                CASE WHEN step.won THEN 100.0 ELSE 0.0 END AS conversion_rate,
                CASE WHEN step.won THEN lead.expected_revenue ELSE 0 END AS won_revenue,
                CASE WHEN step.won THEN lead.expected_revenue END AS won_amount,
                CASE WHEN step.won THEN
                    EXTRACT(epoch FROM lead.date_closed - lead.create_date) / 86400.0
                END AS deal_cycle_days,
                CASE WHEN lead.messenger_first_response_at IS NOT NULL
                    THEN lead.messenger_response_minutes END AS response_minutes,
                CASE WHEN lead.messenger_sla_state IN %(decided)s THEN
                    (CASE WHEN lead.messenger_sla_state = 'met' THEN 100.0 ELSE 0.0 END)
                END AS within_target_rate,
                (lead.messenger_sla_state IN %(missed)s)::int AS breach_count,
                lead.messenger_qualification_score AS qualification_score,
                CASE WHEN lead.messenger_callback_state IS NOT NULL
                    THEN lead.messenger_callback_attempts_done END AS call_attempts,
                (channel.code IN %(live_codes)s
                    AND lead.messenger_first_response_at IS NOT NULL)::int AS chat_count,
                NULLIF(lead.messenger_rating, 0) AS customer_rating
            """,
            live_codes=LIVE_CHAT_CODES,
            decided=DECIDED,
            missed=MISSED,
        )

    def _from(self):
        return SQL("FROM crm_lead lead")

    def _join(self):
        """The stage, channel and team of each lead, and its funnel steps.

        Won is crm.lead._messenger_won_domain (in a won stage), read from the stage joined here:
        the domain's SQL is a sub-select, which PostgreSQL ran again for every figure that
        reads it, on every lead (a third of the time of a report over a year of leads).
        """
        leads = self.env["crm.lead"]
        return SQL(
            """
            LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
            LEFT JOIN messenger_channel channel ON channel.id = lead.messenger_channel_id
            LEFT JOIN crm_team team ON team.id = lead.team_id
            LEFT JOIN resource_calendar calendar
                   ON calendar.id = team.messenger_resource_calendar_id
            CROSS JOIN LATERAL (
                SELECT COALESCE(stage.is_won, false) AS won,
                       COALESCE(%(lost)s, false) AS lost,
                       COALESCE(stage.is_won, false) OR (
                           lead.type = 'opportunity'
                           AND stage.sequence > (SELECT min(sequence) FROM crm_stage)
                       ) AS opportunity
            ) funnel
            CROSS JOIN LATERAL (
                SELECT funnel.won, funnel.lost, funnel.opportunity,
                       funnel.opportunity OR lead.messenger_qualification_grade IN ('hot', 'warm')
                           AS qualified
            ) step
            """,
            lost=leads._messenger_domain_sql(leads._messenger_lost_domain(), "lead"),
        )

    def _where(self):
        """Active leads and lost ones; leads archived otherwise do not count.

        In parentheses, so that an override can add its own `AND ...`.
        """
        leads = self.env["crm.lead"]
        return SQL(
            "WHERE (lead.active OR %s)",
            leads._messenger_domain_sql(leads._messenger_lost_domain(), "lead"),
        )

    def init(self):
        create_view(self)
        self.env["messenger.lead.report.aggregate"]._create()
