import html
import io
import json
import re
import zipfile

from odoo import http
from odoo.tests import HttpCase, tagged

from .common import ReportCase


@tagged("post_install", "-at_install")
class TestReportExports(HttpCase, ReportCase):
    def test_xlsx_export_of_the_funnel(self):
        self.authenticate("admin", "admin")
        params = {
            "model": "messenger.lead.report",
            "fields": [
                {"name": "channel_id", "label": "Channel", "type": "many2one"},
                {"name": "lead_count", "label": "Leads", "type": "integer"},
                {"name": "won_count", "label": "Won", "type": "integer"},
            ],
            "domain": [("team_id", "=", self.team.id)],
            "groupby": ["channel_id"],
            "ids": False,
            "import_compat": False,
        }
        response = self.url_open(
            "/web/export/xlsx",
            data={"data": json.dumps(params), "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("spreadsheetml", response.headers["Content-Type"])
        cells = xlsx_cells(response.content)
        # a group row per channel with its sums, then one row per lead
        self.assertEqual([cells["A1"], cells["B1"], cells["C1"]], ["Channel", "Leads", "Won"])
        self.assertEqual([cells["A2"], cells["B2"], cells["C2"]], ["Telegram (6)", "6", "2"])
        self.assertEqual([cells["A9"], cells["B9"], cells["C9"]], ["Web form (4)", "4", "0"])

    def test_monthly_summary_pdf(self):
        # the summary covers last month: move the data set there
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = create_date - interval '1 month' WHERE team_id = %s",
            (self.team.id,),
        )
        self.env.invalidate_all()
        report = self.env["ir.actions.report"]
        html = report._render_qweb_html(
            "messenger_leads_reports.messenger_monthly_summary_report", self.team.ids
        )[0].decode()
        self.assertRegex(html, r"Messenger leads: <span[^>]*>Report team</span>")
        self.assertRegex(html, r"Telegram</td>\s*<td class=\"text-end\">6</td>")
        self.assertRegex(html, r"Median\s+12.5\s+min")
        pdf, kind = report.with_context(force_report_rendering=True)._render_qweb_pdf(
            "messenger_leads_reports.messenger_monthly_summary_report", self.team.ids
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"), "wkhtmltopdf did not produce a PDF")

    def test_monthly_summary_mail_to_the_team_leader(self):
        self.manager.email = "head@example.com"
        self.env["crm.team"].search([("id", "!=", self.team.id)]).user_id = False
        teams = self.env["crm.team"].with_context(force_report_rendering=True)
        teams._cron_send_messenger_monthly_summary()
        mail = self.env["mail.mail"].search([("email_to", "=", "head@example.com")])
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.subject, "Messenger leads last month: Report team")
        self.assertEqual(
            mail.attachment_ids.mapped("name"), ["Messenger summary - Report team.pdf"]
        )
        cron = self.env.ref("messenger_leads_reports.ir_cron_monthly_summary")
        self.assertFalse(cron.active, "the monthly e-mail is off until an admin turns it on")

    def test_dashboard_tour(self):
        self.start_tour(
            "/odoo/action-messenger_leads_reports.messenger_report_dashboard_action",
            "messenger_leads_reports_dashboard_tour",
            login="report_manager",
        )


def xlsx_cells(content):
    """{"B2": "6", ...}: the cells of the first sheet, shared strings resolved."""
    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        shared = workbook.read("xl/sharedStrings.xml").decode()
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
    strings = [html.unescape(text) for text in re.findall(r"<t[^>]*>([^<]*)</t>", shared)]
    return {
        ref: strings[int(value)] if 't="s"' in attrs else value
        for ref, attrs, value in re.findall(
            r'<c r="([A-Z]+[0-9]+)"([^>]*)><v>([^<]*)</v></c>', sheet
        )
    }
