from odoo import fields, models


class MessengerAssignmentLog(models.Model):
    """Why each lead went to whom: shown on the lead, read by the reports."""

    _name = "messenger.assignment.log"
    _description = "Lead assignment log"
    _order = "id desc"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade", index=True)
    team_id = fields.Many2one("crm.team", index=True)
    user_id = fields.Many2one("res.users", string="Assigned to", index=True)
    strategy = fields.Char(required=True)
    reason = fields.Char(required=True)
    company_id = fields.Many2one(related="lead_id.company_id", store=True)
