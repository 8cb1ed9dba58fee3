from odoo import fields, models, tools


class MessengerLeadReport(models.Model):
    """One row per lead with what the funnel-by-channel analysis groups and sums."""

    _name = "messenger.lead.report"
    _description = "Messenger leads analysis"
    _auto = False
    _rec_name = "lead_id"
    _order = "create_date desc"

    lead_id = fields.Many2one("crm.lead", string="Lead", readonly=True)
    create_date = fields.Datetime(string="Created on", readonly=True)
    channel_id = fields.Many2one("messenger.channel", string="Channel", readonly=True)
    source_id = fields.Many2one("utm.source", string="Source", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", string="Campaign", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    lost_reason_id = fields.Many2one("crm.lost.reason", string="Lost reason", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    lead_count = fields.Integer(string="Leads", readonly=True, aggregator="sum")
    opportunity_count = fields.Integer(string="Opportunities", readonly=True, aggregator="sum")
    won_count = fields.Integer(string="Won", readonly=True, aggregator="sum")
    lost_count = fields.Integer(string="Lost", readonly=True, aggregator="sum")
    won_revenue = fields.Float(string="Won revenue", readonly=True, aggregator="sum")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE OR REPLACE VIEW {self._table} AS (
                SELECT
                    lead.id AS id,
                    lead.id AS lead_id,
                    lead.create_date,
                    lead.channel_id,
                    lead.source_id,
                    lead.campaign_id,
                    lead.team_id,
                    lead.user_id,
                    lead.stage_id,
                    lead.lost_reason_id,
                    lead.company_id,
                    1 AS lead_count,
                    CASE WHEN lead.type = 'opportunity' THEN 1 ELSE 0 END AS opportunity_count,
                    CASE WHEN stage.is_won THEN 1 ELSE 0 END AS won_count,
                    CASE WHEN NOT lead.active AND lead.probability = 0 THEN 1 ELSE 0 END
                        AS lost_count,
                    CASE WHEN stage.is_won THEN lead.expected_revenue ELSE 0 END AS won_revenue
                FROM crm_lead lead
                LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
            )
            """
        )
