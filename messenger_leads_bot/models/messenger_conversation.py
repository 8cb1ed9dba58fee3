import dataclasses

from odoo import _, api, fields, models
from odoo.osv import expression

from ..tools.clock import message_time

INBOX_STATES = [
    ("waiting_us", "Waiting for us"),
    ("waiting_customer", "Waiting for the customer"),
    ("closed", "Closed"),
]


class MessengerConversation(models.Model):
    """One customer chat in a messenger, bridged to a Discuss thread and tied to a lead.

    This file bridges a customer's message (`_bridge_inbound`: the chat, its open lead); the
    model is split by concern like Odoo's mail splits res.partner:
    messenger_conversation_contact.py (the customer's contact and numbers, merging with a known
    one), _thread.py (the Discuss thread), _inbox.py (who waits, close, transfer), _outbound.py
    (replies, files, reply windows), _chatbot.py (the bot's answers and qualification
    questions), _moderation.py (blocking, /stop, spam).
    """

    _name = "messenger.conversation"
    _description = "Messenger conversation"
    # the inbox's urgency: the closest first-response deadline, then who waited longest
    _order = "answer_by, waiting_since, last_message_at desc, id desc"
    _rec_name = "display_name"

    account_id = fields.Many2one(
        "messenger.bot.account", required=True, ondelete="cascade", index=True
    )
    channel_id = fields.Many2one(related="account_id.channel_id", store=True)
    provider = fields.Selection(related="account_id.provider")
    uses_templates = fields.Boolean(related="account_id.uses_templates")
    external_chat_id = fields.Char(string="Chat ID", required=True)
    external_user_id = fields.Char(string="User ID", index=True)
    external_username = fields.Char(string="Username")
    language_code = fields.Char(string="Language")
    partner_id = fields.Many2one("res.partner", string="Customer", index=True)
    discuss_channel_id = fields.Many2one(
        "discuss.channel", string="Discuss thread", ondelete="set null", index=True
    )
    lead_id = fields.Many2one("crm.lead", string="Lead", ondelete="set null", index=True)
    team_id = fields.Many2one(related="lead_id.team_id", store=True)
    user_id = fields.Many2one(related="lead_id.user_id", store=True, string="Salesperson")
    last_message_at = fields.Datetime(string="Last message", index=True)  # live chats
    person_replied_at = fields.Datetime(
        string="Person replied", help="When a person last wrote: the bot stays silent after it."
    )
    last_customer_text = fields.Char(
        string="Last customer message",
        readonly=True,
        help="The first line of the customer's last message.",
    )
    inbox_state = fields.Selection(
        INBOX_STATES,
        string="Status",
        default="waiting_customer",
        required=True,
        readonly=True,
        index=True,
        help="Waiting for us: the customer wrote last and nobody answered yet. A closed chat "
        "opens again when the customer writes.",
    )
    waiting_since = fields.Datetime(
        readonly=True,
        help="The customer's first message that nobody answered yet.",
    )
    answer_by = fields.Datetime(
        compute="_compute_answer_by",
        store=True,
        help="The lead's deadline running now: the first response's, then the next ones'.",
    )
    sla_state = fields.Selection(related="lead_id.messenger_answer_sla_state")
    company_id = fields.Many2one(related="account_id.company_id", store=True)

    _sql_constraints = [
        (
            "chat_unique",
            "UNIQUE(account_id, external_chat_id)",
            "A chat is bridged once per bot account.",
        ),
    ]

    @api.depends("partner_id", "external_username", "external_chat_id", "channel_id")
    def _compute_display_name(self):
        for conversation in self:
            who = (
                conversation.partner_id.name
                or conversation.external_username
                or conversation.external_chat_id
            )
            conversation.display_name = f"{conversation.channel_id.name or ''} · {who}"

    @api.depends("lead_id.messenger_answer_deadline")
    def _compute_answer_by(self):
        for conversation in self:
            conversation.answer_by = conversation.lead_id.messenger_answer_deadline

    # ------------------------------------------------------------------
    # Inbound
    # ------------------------------------------------------------------

    @api.model
    def _bridge_inbound(self, account, event, received_at=None):
        """Tie one customer event to its conversation, thread and lead; return the conversation.

        `received_at`: when its update was stored, the message's date when that date cannot be
        (see tools/clock.py)."""
        sent_at = event.date and event.date.replace(tzinfo=None)
        event = dataclasses.replace(
            event,
            date=message_time(sent_at, account.create_date, received_at or fields.Datetime.now()),
        )
        conversation = self._lock_or_create(account, event.chat_id)
        conversation._ensure_customer(event)
        if conversation._take_bot_control(event) or conversation._take_rating(event):
            return conversation
        if conversation.muted:
            conversation._ensure_thread()
            conversation._post_customer_message(event)
            return conversation
        is_new_lead = conversation._ensure_open_lead(event)
        conversation.lead_id._messenger_set_listing(event)
        conversation._ensure_thread()
        if event.edited:
            conversation._edit_customer_message(event)
            return conversation
        message = conversation._post_customer_message(event)
        conversation._register_customer_message(event)
        conversation.lead_id._messenger_register_customer_message(conversation.last_message_at)
        if not is_new_lead:
            conversation.lead_id._messenger_register_signal("customer_replied")
        if event.kind == "contact" and event.phone:
            conversation._apply_shared_phone(event.phone, vouched=event.phone_is_senders)
        conversation._bot_answer(event, is_new_lead, message)
        return conversation

    @api.model
    def _prefetch_chats(self, chats):
        """Read and return the known chats among `chats` ((account id, chat id) pairs) with their
        customers, leads (their stage and qualification signals) and Discuss threads, a few
        queries for all of them: bridged one by one, each would read its own, and a batch's
        updates are mostly of different chats. Locking each chat later changes nothing read
        here: the transaction reads one snapshot throughout, and a chat changed since fails the
        lock (its update goes back to the queue)."""
        if not chats:
            return self.browse()
        conversations = self.search(
            expression.OR(
                [("account_id", "=", account_id), ("external_chat_id", "=", chat_id)]
                for account_id, chat_id in chats
            )
        )
        conversations.partner_id.mapped("name")
        conversations.lead_id.stage_id.mapped("is_won")
        conversations.lead_id.messenger_signal_ids.signal_id.mapped("code")
        # what Discuss reads of a thread when a message is posted into it (its last_interest_dt
        # write compares the thread's basic information before and after)
        for thread in conversations.discuss_channel_id:
            thread._channel_basic_info()
        return conversations

    @api.model
    def _lock_or_create(self, account, chat_id):
        """The conversation of a chat, created at most once even under concurrent requests.

        ON CONFLICT makes the second of two racing transactions fail to serialise, and Odoo
        retries its whole request, which then finds the row the first one committed.
        """
        self.env.cr.execute(
            """
            INSERT INTO messenger_conversation
                (account_id, external_chat_id, channel_id, company_id, blocked, inbox_state,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%(account)s, %(chat)s, %(channel)s, %(company)s, false, 'waiting_customer',
                    %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC')
            ON CONFLICT (account_id, external_chat_id) DO NOTHING
            """,
            {
                "account": account.id,
                "chat": chat_id,
                "channel": account.channel_id.id,
                "company": account.company_id.id,
                "uid": self.env.uid,
            },
            log_exceptions=False,  # a lost race is retried, not an error
        )
        self.env.cr.execute(
            "SELECT id FROM messenger_conversation"
            " WHERE account_id = %s AND external_chat_id = %s FOR UPDATE",
            (account.id, chat_id),
        )
        return self.browse(self.env.cr.fetchone()[0])

    def _ensure_open_lead(self, event):
        """Link the customer's open lead, or make one; return True when a lead was created."""
        self.ensure_one()
        if self.lead_id._messenger_open():
            return False
        account = self.account_id
        lead = self.env["crm.lead"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", account.company_id.id),
                *self.env["crm.lead"]._messenger_open_domain(),
            ],
            order="id desc",
            limit=1,
        )
        if lead:
            self.lead_id = lead
            return False
        channel = account.channel_id
        values = {
            "name": _(
                "%(channel)s: %(customer)s", channel=channel.name, customer=self.partner_id.name
            ),
            "partner_id": self.partner_id.id,
            "contact_name": self.partner_id.name,
            "messenger_channel_id": channel.id,
            "source_id": channel.source_id.id,
            "medium_id": channel.medium_id.id,
            "company_id": account.company_id.id,
            "messenger_first_message_at": event.date.replace(tzinfo=None),
            # the team's engine picks the salesperson; without a team the lead waits
            # unassigned in the company's pipeline (never the webhook's public user's)
            "team_id": account.team_id.id,
            "user_id": False,
        }
        if event.start_payload:
            values["campaign_id"] = self._campaign(event.start_payload).id
        self.lead_id = self.env["crm.lead"].create(values)
        return True

    def _campaign(self, payload):
        """The UTM campaign of a /start deep-link payload, created the first time it is seen."""
        campaign = self.env["utm.campaign"].search([("name", "=", payload)], limit=1)
        return campaign or self.env["utm.campaign"].create({"name": payload})

    def action_open_lead(self):
        """Open the chat's lead."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "views": [(False, "form")],
        }
