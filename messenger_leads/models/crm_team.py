import datetime

from odoo import api, fields, models

from ..tools import assignment


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
            ("conversion", "Weighted by conversion"),
            ("threshold", "Minimum conversion, then least loaded"),
            ("rating", "By manager rating"),
            ("score_tiers", "Hot leads to the best converters"),
        ],
        string="Assign new leads",
        default="none",
        required=True,
        help="Even: to who waited longest for a lead. Least loaded: fewest open leads. Weighted "
        "by conversion: a salesperson converting twice as well carries twice the open leads. "
        "Minimum conversion: those below the threshold get none, the rest by load. Manager "
        "rating: the best rated first. Hot leads: hot leads to the better-converting half of "
        "the team, the others to the rest. All assign at once, only to members at work with "
        "room; Odoo's own periodic assignment then skips this team.",
    )
    messenger_conversion_days = fields.Integer(
        string="Conversion over (days)",
        default=90,
        help="Conversion rates count the leads each member received in this many last days.",
    )
    messenger_min_conversion = fields.Float(
        string="Minimum conversion (%)",
        default=10.0,
        help="With 'Minimum conversion', members converting less get no new leads "
        "(members without leads in the period still get some, to earn a rate).",
    )
    messenger_require_presence = fields.Boolean(
        string="Live chats only to people online",
        default=True,
        help="Leads from messengers and the website chat go only to members online in Odoo "
        "now, within their live chat limit.",
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

    def _messenger_conversion_rates(self, users):
        """{user id: won / received} over the team's window, for users who received leads."""
        self.ensure_one()
        if not users:
            return {}
        since = fields.Datetime.now() - datetime.timedelta(days=self.messenger_conversion_days)
        leads = self.env["crm.lead"].with_context(active_test=False)
        domain = [
            ("team_id", "=", self.id),
            ("user_id", "in", users.ids),
            ("create_date", ">=", since),
        ]
        received = dict(leads._read_group(domain, ["user_id"], ["__count"]))
        won = dict(
            leads._read_group([*domain, ("probability", "=", 100)], ["user_id"], ["__count"])
        )
        return assignment.conversion_rates(
            {user.id: count for user, count in received.items()},
            {user.id: count for user, count in won.items()},
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
