from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestLeadOutcome(TransactionCase):
    """Open, won and lost: one definition that the engine, the call-backs and the reports share."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        stages = cls.env["crm.stage"].search([])
        cls.won_stage = stages.filtered("is_won")[:1]
        cls.first_stage = stages.filtered(lambda stage: not stage.is_won)[:1]
        cls.seller = cls.env["res.users"].create(
            {
                "name": "Outcome seller",
                "login": "outcome_seller",
                "groups_id": [(6, 0, cls.env.ref("sales_team.group_sale_salesman").ids)],
            }
        )
        names = ("open", "won", "lost", "sure", "archived")
        leads = cls.env["crm.lead"].create(
            [
                {"name": name, "user_id": cls.seller.id, "stage_id": cls.first_stage.id}
                for name in names
            ]
        )
        cls.leads = dict(zip(names, leads, strict=True))
        cls.leads["won"].action_set_won()
        cls.leads["lost"].action_set_lost()
        # the salesperson is sure, the deal is not won yet: still open
        cls.leads["sure"].probability = 100
        cls.leads["archived"].write({"active": False, "probability": 20})

    def outcome(self, domain):
        """The test's leads in `domain`, read by the ORM and by the report's SQL."""
        lead_model = self.env["crm.lead"].with_context(active_test=False)
        ids = [lead.id for lead in self.leads.values()]
        by_orm = lead_model.search([("id", "in", ids), *domain])
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT lead.id FROM crm_lead lead WHERE lead.id IN %s AND %s",
                tuple(ids),
                lead_model._messenger_domain_sql(domain, "lead"),
            )
        )
        by_sql = lead_model.browse(sorted(row[0] for row in self.env.cr.fetchall()))
        self.assertEqual(by_orm.sorted("id"), by_sql, "the report reads the same definition")
        return sorted(by_orm.mapped("name"))

    def test_one_definition_of_open_won_and_lost(self):
        lead_model = self.env["crm.lead"]
        self.assertEqual(self.outcome(lead_model._messenger_open_domain()), ["open", "sure"])
        self.assertEqual(self.outcome(lead_model._messenger_won_domain()), ["won"])
        self.assertEqual(self.outcome(lead_model._messenger_lost_domain()), ["lost"])
        every = lead_model.with_context(active_test=False).browse(
            [lead.id for lead in self.leads.values()]
        )
        self.assertEqual(sorted(every._messenger_open().mapped("name")), ["open", "sure"])

    def test_a_lead_sure_to_win_still_weighs_on_its_salesperson(self):
        self.assertEqual(
            self.env["crm.lead"]._messenger_open_loads(self.seller), {self.seller.id: 2}
        )
