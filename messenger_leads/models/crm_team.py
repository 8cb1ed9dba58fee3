from odoo import api, fields, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    resource_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working hours",
        default=lambda self: self.env.company.resource_calendar_id,
        help="Hours the team answers customers in: "
        "first-response deadlines count only these hours.",
    )
    messenger_response_target_minutes = fields.Integer(
        string="First response target (min)",
        help="Working minutes this team has to answer a new lead; "
        "0 uses the target of the lead's channel.",
    )
    messenger_assignment = fields.Selection(
        [
            ("none", "Odoo's own assignment"),
            ("round_robin", "Even (round robin)"),
            ("least_loaded", "Least loaded"),
        ],
        string="Assign new leads",
        default="none",
        required=True,
        help="Even: each lead to the salesperson who waited longest for one. Least loaded: to "
        "the one with the fewest open leads. Both assign at once, only to members at work with "
        "room; Odoo's own periodic assignment then skips this team.",
    )
    messenger_nobody_available = fields.Selection(
        [("leader", "Give it to the team leader"), ("queue", "Leave it unassigned")],
        string="When nobody is available",
        default="leader",
        required=True,
        help="Unassigned leads wait in the 'Unassigned' filter; the leader gets an activity.",
    )

    messenger_reassign_after_minutes = fields.Integer(
        string="Reassign a breached lead after (min)",
        help="When a lead missed its first-response deadline and nobody answered this many "
        "minutes after the escalation, it goes to the next available salesperson. 0: never.",
    )

    def action_messenger_assign_backlog(self):
        """Assign the team's unassigned open leads now."""
        leads = self.env["crm.lead"].search(
            [("team_id", "in", self.ids), ("user_id", "=", False), ("probability", "<", 100)],
            order="id",
        )
        leads._messenger_assign()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._(
                    "%(count)s leads assigned.", count=len(leads.filtered("user_id"))
                ),
                "type": "success",
            },
        }

    @api.onchange("messenger_assignment")
    def _onchange_messenger_assignment(self):
        # our engine assigns on arrival: Odoo's periodic assignment must not reshuffle
        if self.messenger_assignment != "none":
            self.assignment_optout = True

    def write(self, vals):
        if vals.get("messenger_assignment", "none") != "none":
            vals = dict(vals, assignment_optout=True)
        return super().write(vals)
