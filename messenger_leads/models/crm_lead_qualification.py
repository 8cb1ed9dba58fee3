from odoo import api, fields, models

from ..tools import qualification


class CrmLead(models.Model):
    # One model, one file per concern, as Odoo's mail does for res.partner: see crm_lead.py.
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    messenger_qualification = fields.Boolean(compute="_compute_messenger_qualification")
    messenger_score_ids = fields.One2many(
        "messenger.lead.score", "lead_id", string="Qualification criteria", copy=True
    )
    messenger_signal_ids = fields.One2many(
        "messenger.lead.signal", "lead_id", string="Behaviour signals", readonly=True
    )
    messenger_qualification_score = fields.Integer(
        string="Score",
        compute="_compute_qualification_score",
        store=True,
        tracking=True,
        aggregator="avg",
        help="The sum of the qualification criteria (1..5 each) and the behaviour signals.",
    )
    messenger_qualification_grade = fields.Selection(
        qualification.GRADES,
        string="Grade",
        compute="_compute_qualification_score",
        store=True,
        index=True,
        tracking=True,
        help="Hot, warm or cold by the score thresholds in Settings.",
    )
    messenger_budget = fields.Monetary(
        string="Declared budget",
        currency_field="company_currency",
        tracking=True,
        help="What the customer said they can spend; above the threshold in Settings the lead "
        "gets the top priority and an activity for its salesperson at once.",
    )
    messenger_budget_flagged_at = fields.Datetime(
        string="Big budget flagged", readonly=True, copy=False
    )

    @api.depends("company_id.messenger_qualification")
    def _compute_messenger_qualification(self):
        for lead in self:
            lead.messenger_qualification = (lead._messenger_company()).messenger_qualification

    @api.depends(
        "messenger_score_ids.points",
        "messenger_signal_ids.points",
        "company_id.messenger_qualification",
        "company_id.messenger_hot_score",
        "company_id.messenger_warm_score",
    )
    def _compute_qualification_score(self):
        for lead in self:
            company = lead._messenger_company()
            if not company.messenger_qualification:
                lead.messenger_qualification_score = 0
                lead.messenger_qualification_grade = False
                continue
            total = qualification.score(
                [int(line.points or 0) for line in lead.messenger_score_ids],
                lead.messenger_signal_ids.mapped("points"),
            )
            lead.messenger_qualification_score = total
            lead.messenger_qualification_grade = qualification.grade(
                total, company.messenger_hot_score, company.messenger_warm_score
            )

    def _messenger_add_score_lines(self, criteria):
        """Give the leads a line to score for each criterion of their company they lack."""
        missing = [
            {"lead_id": lead.id, "criterion_id": criterion.id}
            for lead in self
            for criterion in criteria
            if criterion.company_id in (lead.company_id, lead.company_id.browse())
            or not lead.company_id
            if criterion not in lead.messenger_score_ids.criterion_id
        ]
        self.env["messenger.lead.score"].create(missing)

    def _messenger_register_signal(self, code):
        """The customer did something that counts (messenger.behaviour.signal), once per lead."""
        leads = self.filtered(
            lambda lead: (
                lead.messenger_qualification
                and code not in lead.messenger_signal_ids.signal_id.mapped("code")
            )
        )
        # most calls are a chat's later messages, whose lead has the signal: no search then
        signal = leads and self.env["messenger.behaviour.signal"].search(
            [("code", "=", code)], limit=1
        )
        if signal:
            self.env["messenger.lead.signal"].create(
                [
                    {"lead_id": lead.id, "signal_id": signal.id, "points": signal.points}
                    for lead in leads
                ]
            )

    def _messenger_set_criterion_points(self, criterion, points):
        """Score one criterion on the lead (e.g. from a qualification answer in the chat)."""
        self.ensure_one()
        line = self.messenger_score_ids.filtered(lambda score: score.criterion_id == criterion)
        if line:
            line.points = str(points)
        elif self.messenger_qualification:
            self.env["messenger.lead.score"].create(
                {"lead_id": self.id, "criterion_id": criterion.id, "points": str(points)}
            )

    def _messenger_take_declared_budget(self, text):
        """The customer wrote their budget: keep the amount; a big one goes to a person."""
        amount = qualification.parse_amount(text)
        if amount:
            self.messenger_budget = amount

    def _messenger_flag_big_budget(self):
        """A budget above the threshold: top priority and an activity for a person, once."""
        big = self.filtered(
            lambda lead: (
                not lead.messenger_budget_flagged_at
                and qualification.needs_person_for_budget(
                    lead.messenger_budget,
                    lead._messenger_company().messenger_budget_threshold,
                )
            )
        )
        if not big:
            return
        big.write({"priority": "3", "messenger_budget_flagged_at": fields.Datetime.now()})
        for lead in big:
            lead.activity_schedule(
                "mail.mail_activity_data_call",
                summary=self.env._(
                    "Big budget declared (%(budget)s): contact the customer now",
                    budget=lead.messenger_budget,
                ),
                user_id=(lead.user_id or lead.team_id.user_id).id or self.env.uid,
            )
