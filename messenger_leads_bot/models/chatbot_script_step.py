from odoo import _, fields, models


class ChatbotScriptStep(models.Model):
    """The qualification dialogue in a messenger chat runs on the steps, as im_livechat's
    `_process_answer` and `_process_step` run them in the website chat."""

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

    def _messenger_process_answer(self, conversation, event):
        """The customer's answer to this question in a messenger chat, kept on its lead (the
        chosen answer's points, the budget, a phone, an e-mail); return the step to say next."""
        self.ensure_one()
        lead = conversation.lead_id
        answer_text = event.phone if event.kind == "contact" else event.text.strip()
        if self.step_type == "question_selection":
            chosen = self.answer_ids.filtered(
                lambda answer: answer.name.strip().lower() == answer_text.lower()
            )[:1]
            conversation.chatbot_answer_ids |= chosen
            if chosen.messenger_criterion_id and chosen.messenger_points:
                lead._messenger_set_criterion_points(
                    chosen.messenger_criterion_id, chosen.messenger_points
                )
        elif self.messenger_asks_budget:
            lead._messenger_take_declared_budget(answer_text)
        elif self.step_type == "question_phone" and answer_text:
            # typed, or a contact card: only the messenger's word makes it the customer's own
            conversation._apply_shared_phone(answer_text, vouched=event.phone_is_senders)
        elif self.step_type == "question_email" and "@" in answer_text:
            lead.email_from = lead.email_from or answer_text
        lead._messenger_record_answer(self.message, answer_text)
        return self._fetch_next_step(conversation.chatbot_answer_ids)

    def _messenger_process_steps(self, conversation, account):
        """Say this step and the next ones in a messenger chat until one waits for the customer,
        hands over to a person, or the script ends (or the bot may say no more); return the step
        waiting for an answer, or none."""
        step = self
        while step:
            step = step.with_context(lang=account.env.lang)
            if step.step_type == "forward_operator":
                conversation.lead_id._messenger_request_person(
                    _("The qualification questions handed over to a person.")
                )
                conversation._say(
                    account, step.message or account._messenger_bot_text("handoff_text")
                )
                return self.browse()
            answers = step.answer_ids if step.step_type == "question_selection" else None
            if not conversation._say(account, step.message, answers):
                return self.browse()
            if step.step_type != "text":
                return step
            step = step._fetch_next_step(conversation.chatbot_answer_ids)
        return self.browse()
