from odoo import fields, models


class ChatbotScriptStep(models.Model):
    _inherit = "chatbot.script.step"

    messenger_asks_budget = fields.Boolean(
        string="Asks for the budget",
        help="The customer's answer is read as an amount and kept as the lead's declared budget.",
    )

    def _process_step_create_lead(self, discuss_channel):
        """crm_livechat's 'Create Lead' step: complete the chat's lead rather than make another."""
        lead = discuss_channel.sudo().messenger_lead_id
        if not lead:
            return super()._process_step_create_lead(discuss_channel)
        customer = self._chatbot_prepare_customer_values(
            discuss_channel, create_partner=False, update_partner=True
        )
        values = self._chatbot_crm_prepare_lead_values(discuss_channel, customer["description"])
        lead.write(
            {
                "description": values["description"],
                "email_from": lead.email_from or customer["email"],
                "phone": lead.phone or customer["phone"],
            }
        )
        return lead
