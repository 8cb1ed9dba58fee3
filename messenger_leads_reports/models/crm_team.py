from odoo import api, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    def _messenger_monthly_summary(self):
        """Last month's figures of this team, for the monthly PDF."""
        self.ensure_one()
        return self.env["messenger.report.dashboard"].get_dashboard_data(
            period="last_month", team_id=self.id
        )

    @api.model
    def _cron_send_messenger_monthly_summary(self):
        """E-mail each team leader last month's summary as a PDF (the cron is off by default).

        Each summary is made as its leader, so it holds what the leader may see, not all the
        cron (the superuser) sees.
        """
        template = self.env.ref("messenger_leads_reports.mail_template_monthly_summary")
        for team in self.search([("user_id.email", "!=", False)]):
            template.with_user(team.user_id).send_mail(team.id)
