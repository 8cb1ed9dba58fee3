from markupsafe import Markup

from odoo import _, api, fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    messenger_conversation_ids = fields.One2many("messenger.conversation", "lead_id")
    messenger_conversation_count = fields.Integer(compute="_compute_messenger_conversation_count")

    @api.depends("messenger_conversation_ids")
    def _compute_messenger_conversation_count(self):
        for lead in self:
            lead.messenger_conversation_count = len(lead.messenger_conversation_ids)

    def action_open_messenger_chat(self):
        """Open the lead's messenger chat in Discuss."""
        self.ensure_one()
        channel = self.messenger_conversation_ids[:1].discuss_channel_id
        return {
            "type": "ir.actions.client",
            "tag": "mail.action_discuss",
            "params": {"active_id": f"discuss.channel_{channel.id}"},
        }

    def action_messenger_reject_spam(self):
        self.messenger_conversation_ids.action_reject_spam()
        return True

    def _messenger_request_person(self, reason):
        """The customer wants a person: an activity for the salesperson (or the team leader)."""
        for lead in self:
            responsible = lead.user_id or lead.team_id.user_id
            lead.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=_("Answer the customer in the messenger"),
                note=Markup("<p>%s</p>") % reason,
                user_id=responsible.id or self.env.uid,
            )
