import base64

from odoo.tests import tagged

from .common import ReportCase


@tagged("post_install", "-at_install")
class TestReportAccess(ReportCase):
    def test_figures_of_other_companies_are_hidden(self):
        other = self.env["res.company"].create({"name": "Report: other company"})
        lead = self.env["crm.lead"].create(
            {"name": "Other company's", "company_id": other.id, "team_id": self.team.id}
        )
        report = self.env["messenger.lead.report"].with_user(self.manager)
        self.assertTrue(report.search([("lead_id", "=", self.leads["L1"].id)]), "all leads")
        self.assertFalse(report.search([("lead_id", "=", lead.id)]))

    def test_monthly_summary_mail_holds_what_its_leader_sees(self):
        """The cron runs as the superuser; a leader who sees only their own leads gets those."""
        self.team.user_id = self.alice
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = create_date - interval '1 month' WHERE team_id = %s",
            (self.team.id,),
        )
        self.env.invalidate_all()
        self.env["crm.team"]._cron_send_messenger_monthly_summary()
        mail = self.env["mail.mail"].search(
            [("model", "=", "crm.team"), ("res_id", "=", self.team.id)]
        )
        (attachment,) = mail.attachment_ids
        summary = base64.b64decode(attachment.datas).decode()  # HTML: tests render no PDF
        self.assertIn(self.alice.name, summary)
        self.assertNotIn(self.bob.name, summary)
