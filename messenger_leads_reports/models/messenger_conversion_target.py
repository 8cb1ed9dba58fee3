from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import funnel


class MessengerConversionTarget(models.Model):
    """A conversion target for a channel over a period, e.g. 10 % in March, 40 % by May."""

    _name = "messenger.conversion.target"
    _description = "Conversion target"
    _order = "date_from desc, channel_id"

    channel_id = fields.Many2one("messenger.channel", string="Channel", required=True)
    team_id = fields.Many2one(
        "crm.team", string="Sales team", help="Empty: the target applies to all teams."
    )
    date_from = fields.Date(string="From", required=True)
    date_to = fields.Date(string="To", required=True, help="Last day of the period, included.")
    target_rate = fields.Float(string="Target (%)", required=True, help="Won / leads received.")
    lead_count = fields.Integer(string="Leads", compute="_compute_actual")
    won_count = fields.Integer(string="Won", compute="_compute_actual")
    actual_rate = fields.Float(string="Actual (%)", compute="_compute_actual")
    reached = fields.Boolean(compute="_compute_actual")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )

    _sql_constraints = [
        ("period_order", "CHECK (date_from <= date_to)", "A target period ends after it starts."),
        (
            "rate_range",
            "CHECK (target_rate >= 0 AND target_rate <= 100)",
            "A conversion target is a percentage between 0 and 100.",
        ),
    ]

    @api.constrains("channel_id", "team_id", "date_from", "date_to")
    def _check_overlap(self):
        for target in self:
            overlapping = self.search_count(
                [
                    ("id", "!=", target.id),
                    ("channel_id", "=", target.channel_id.id),
                    ("team_id", "=", target.team_id.id),
                    ("date_from", "<=", target.date_to),
                    ("date_to", ">=", target.date_from),
                ]
            )
            if overlapping:
                raise ValidationError(
                    self.env._(
                        "%(channel)s already has a target in this period: "
                        "one target per channel and team at a time.",
                        channel=target.channel_id.display_name,
                    )
                )

    @api.depends("channel_id", "team_id", "date_from", "date_to", "target_rate")
    def _compute_actual(self):
        """One read of the leads analysis's daily totals for all the targets, added up per
        target by the database.

        A target with a team reads that team's leads of its channel, one without the channel's
        leads of every team. Days are UTC days, as the periods' bounds are compared; the read is
        the user's, so record rules apply.
        """
        dated = self.filtered(lambda target: target.date_from and target.date_to)
        figures = {}
        if dated:
            periods = [
                (target.channel_id.id, target.team_id.id, target.date_from, target.date_to)
                for target in dated
            ]
            read = self.env["messenger.lead.report.aggregate"]._read_periods(periods)
            figures = dict(zip(dated, read, strict=True))
        for target in self:
            leads, won = figures.get(target, (0, 0))
            target.lead_count = leads
            target.won_count = won
            target.actual_rate = funnel.rate(won, leads) or 0.0
            target.reached = bool(leads) and target.actual_rate >= target.target_rate

    def _dashboard_rows(self, start, end):
        """The targets overlapping [start, end), with their actual figures."""
        targets = self.search([("date_from", "<", end), ("date_to", ">=", start)])
        return [
            {
                "channel": target.channel_id.display_name,
                "team": target.team_id.display_name or "",
                "date_from": fields.Date.to_string(target.date_from),
                "date_to": fields.Date.to_string(target.date_to),
                "target": target.target_rate,
                "actual": target.actual_rate if target.lead_count else None,
                "leads": target.lead_count,
                "reached": target.reached,
            }
            for target in targets
        ]
