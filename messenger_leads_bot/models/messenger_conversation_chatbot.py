import datetime

from odoo import _, fields, models


class MessengerConversation(models.Model):
    """The bot's own answers: acknowledgement, qualification questions (the chatbot script), hand-
    off and ratings, within the daily cap and the customer's civil hours."""

    # One model, one file per concern, as Odoo's mail does for res.partner: see
    # messenger_conversation.py.
    _inherit = "messenger.conversation"  # pylint: disable=consider-merging-classes-inherited

    rating_lead_id = fields.Many2one(
        "crm.lead",
        string="Rating asked for",
        ondelete="set null",
        help="The closed lead whose rating the bot asked for and is waiting for.",
    )
    chatbot_step_id = fields.Many2one(
        "chatbot.script.step",
        string="Waiting for the answer to",
        ondelete="set null",
        help="The qualification question the bot asked and waits for.",
    )
    chatbot_answer_ids = fields.Many2many(
        "chatbot.script.answer", string="Answers chosen", help="They decide the next question."
    )

    # ------------------------------------------------------------------
    # The bot
    # ------------------------------------------------------------------

    def _bot_answer(self, event, is_new_lead, message):
        """Answer what the bot can; silent once a person replied and within the daily cap."""
        self.ensure_one()
        if self.person_replied_at:
            return
        account = self.account_id.with_context(lang=self.partner_id.lang or self.env.lang)
        handoff = account._messenger_bot_text("handoff_button")
        if event.kind == "text" and handoff and event.text.strip() == handoff:
            self.chatbot_step_id = False
            self.lead_id._messenger_request_person(_("The customer asked for a person."))
            self._say(account, account._messenger_bot_text("handoff_text"))
        elif event.kind == "contact" and not self.chatbot_step_id:
            self._say(
                account,
                account._messenger_bot_text(
                    "phone_thanks_text", phone=self.shared_phone or event.phone
                ),
            )
        elif self.chatbot_step_id:
            next_step = self.chatbot_step_id._messenger_process_answer(self, event)
            self.chatbot_step_id = next_step._messenger_process_steps(self, account)
        elif is_new_lead:
            self._say(account, self._greeting(account))
            first_step = account.chatbot_script_id.script_step_ids.sorted("sequence")[:1]
            self.chatbot_step_id = first_step._messenger_process_steps(self, account)

    def _say(self, account, text, answers=None, at_civil_hour=False):
        """One bot message with its reply buttons, within the daily cap; True when sent (see
        _post_bot_message for `at_civil_hour`)."""
        if not text or self.unsubscribed or self._automated_today() >= account.daily_automated_cap:
            return False
        buttons = [[(f"answer_{answer.id}", answer.name)] for answer in answers or []]
        if not self.partner_id.phone:
            buttons.append([("share_phone", account._messenger_bot_text("share_phone_button"))])
        buttons.append([("handoff", account._messenger_bot_text("handoff_button"))])
        self._post_bot_message(text, buttons, at_civil_hour=at_civil_hour)
        return True

    def _request_rating(self, lead):
        """Ask the customer to rate the conversation of a lead that was just won or lost."""
        for conversation in self._reachable():
            account = conversation.account_id.with_context(
                lang=conversation.partner_id.lang or self.env.lang
            )
            if conversation._automated_today() >= account.daily_automated_cap:
                continue
            conversation.rating_lead_id = lead
            conversation._post_bot_message(
                account._messenger_bot_text("rating_request_text"),
                [[(str(n), str(n)) for n in range(1, 6)]],
                at_civil_hour=True,
            )

    def _take_rating(self, event):
        """Keep the customer's 1..5 answer to a rating request; return True when it was one."""
        self.ensure_one()
        answer = event.text.strip() if event.kind == "text" else ""
        if not self.rating_lead_id or answer not in {"1", "2", "3", "4", "5"}:
            return False
        lead = self.rating_lead_id
        self.rating_lead_id = False
        self._ensure_thread()
        self._post_customer_message(event)
        lead._messenger_register_rating(int(answer))
        account = self.account_id.with_context(lang=self.partner_id.lang or self.env.lang)
        if self._automated_today() < account.daily_automated_cap:
            self._post_bot_message(account._messenger_bot_text("rating_thanks_text"), [])
        return True

    def _greeting(self, account):
        """The acknowledgement in working hours, the out-of-hours text otherwise."""
        lead = self.lead_id
        now = fields.Datetime.now()
        intervals = lead._messenger_working_intervals(now)
        next_open = max(intervals[0][0], now) if intervals else now
        if next_open <= now:
            return self._queue_greeting(account) or account._messenger_bot_text(
                "acknowledgement_text", minutes=lead._messenger_response_target()
            )
        local = fields.Datetime.context_timestamp(
            self.with_context(tz=lead._messenger_calendar().tz or "UTC"), next_open
        )
        return account._messenger_bot_text(
            "out_of_hours_text", next_open=local.strftime("%d.%m %H:%M")
        )

    def _automated_today(self):
        return self.env["messenger.outbox"].search_count(
            [
                ("conversation_id", "=", self.id),
                ("origin", "=", "bot"),
                ("create_date", ">=", fields.Datetime.now() - datetime.timedelta(days=1)),
            ]
        )

    def _post_bot_message(self, text, buttons, at_civil_hour=False):
        """A bot message in the thread, queued for the customer; `at_civil_hour`: one the bot
        sends on its own (not an answer), which waits for the window of the customer's day set
        in Settings."""
        message = (
            self.discuss_channel_id.sudo()
            .with_context(messenger_from_bridge=True)
            .message_post(
                body=text,
                author_id=self.env.ref("base.partner_root").id,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        )
        not_before = self._civil_time() if at_civil_hour else None
        self._queue_outbound(text, "bot", message=message, buttons=buttons, not_before=not_before)

    def _civil_time(self):
        """When an automated message may reach the customer: now, or the start of the window of
        their day (their lead's time zone: the number's, the contact's or the company's)."""
        self.ensure_one()
        tz = self.lead_id.messenger_customer_tz or self.partner_id.tz or "UTC"
        return self.account_id.company_id._messenger_civil_time(fields.Datetime.now(), tz)
