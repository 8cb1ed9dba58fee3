import collections
import datetime

from markupsafe import Markup

from odoo import _, api, fields, models

LIVE_CHAT_WINDOW = datetime.timedelta(hours=1)  # a chat is live while the customer wrote lately


class CrmLead(models.Model):
    _inherit = "crm.lead"

    messenger_conversation_ids = fields.One2many("messenger.conversation", "lead_id")
    messenger_conversation_count = fields.Integer(compute="_compute_messenger_conversation_count")
    messenger_discuss_channel_id = fields.Many2one(
        "discuss.channel",
        string="Chat",
        compute="_compute_messenger_discuss_channel_id",
        help="The Discuss thread of the lead's messenger chat, for those who may read it: the "
        "lead's salesperson and team leader.",
    )
    messenger_phone_from_chat = fields.Boolean(
        string="Phone given in the chat",
        readonly=True,
        copy=False,
        help="The customer typed or forwarded this number in the chat and the messenger does not "
        "vouch that it is theirs: it stays on the lead and is not copied to the contact.",
    )

    # the listing (classified ad) the customer wrote about, as the messenger's API tells it
    messenger_listing_ref = fields.Char(string="Listing ID", readonly=True, copy=False)
    messenger_listing_title = fields.Char(string="Listing", readonly=True, copy=False)
    messenger_listing_price = fields.Char(string="Listing price", readonly=True, copy=False)
    messenger_listing_url = fields.Char(string="Listing URL", readonly=True, copy=False)

    @api.depends("messenger_conversation_ids")
    def _compute_messenger_conversation_count(self):
        for lead in self:
            lead.messenger_conversation_count = len(lead.messenger_conversation_ids)

    @api.depends("messenger_conversation_ids.discuss_channel_id")
    @api.depends_context("uid")
    def _compute_messenger_discuss_channel_id(self):
        """The chat's thread, only for a reader of the thread: others get nothing from it."""
        threads = self.sudo().messenger_conversation_ids.discuss_channel_id
        readable = threads.with_env(self.env)._filtered_access("read")
        for lead in self:
            thread = lead.sudo().messenger_conversation_ids.discuss_channel_id[:1]
            lead.messenger_discuss_channel_id = thread if thread in readable else False

    def _messenger_set_listing(self, event):
        """The listing the customer writes about now (what they want to buy), where the
        messenger tells it."""
        values = {
            "messenger_listing_ref": event.listing_ref,
            "messenger_listing_title": event.listing_title,
            "messenger_listing_price": event.listing_price,
            "messenger_listing_url": event.listing_url,
        }
        if event.listing_ref and any(self[name] != value for name, value in values.items()):
            self.write(values)

    def action_open_messenger_chat(self):
        """Open the lead's messenger chat in Discuss."""
        self.ensure_one()
        return self.messenger_conversation_ids[:1].action_open_discuss()

    def _get_partner_phone_update(self, force_void=True):
        # a number a customer merely claimed never reaches a contact, nor is replaced by its own
        if self.messenger_phone_from_chat:
            return False
        return super()._get_partner_phone_update(force_void=force_void)

    def write(self, vals):
        if "phone" in vals and "messenger_phone_from_chat" not in vals:
            vals = {**vals, "messenger_phone_from_chat": False}  # a person typed it
        result = super().write(vals)
        if "user_id" in vals or "team_id" in vals:  # whoever reassigns sees the chats or not
            self.sudo().messenger_conversation_ids._join_lead_people()
        return result

    @api.model
    def _messenger_live_chat_loads(self, users):
        """Live chats per salesperson: open leads whose customer wrote within the last hour."""
        loads = collections.Counter()
        if users:
            # the chat's salesperson is stored on it: one grouped query on recent chats
            groups = self.env["messenger.conversation"]._read_group(
                [
                    ("last_message_at", ">=", fields.Datetime.now() - LIVE_CHAT_WINDOW),
                    ("user_id", "in", users.ids),
                    ("muted", "=", False),
                    ("lead_id.probability", "<", 100),
                ],
                ["user_id"],
                ["lead_id:count_distinct"],
            )
            loads.update({user.id: count for user, count in groups})
        return loads

    def _callback_offer_messenger(self):
        """Unreachable by phone: the bot asks in the customer's chat when to call instead."""
        conversation = self.messenger_conversation_ids._reachable()[:1]
        if not conversation:
            return super()._callback_offer_messenger()
        account = conversation.account_id.with_context(
            lang=conversation.partner_id.lang or self.env.lang
        )
        return conversation._say(
            account, account._messenger_bot_text("callback_unreachable_text"), at_civil_hour=True
        )

    def _messenger_record_answer(self, question, answer):
        """A qualification answer from the messenger, kept in the chatter of the lead."""
        self.message_post(
            body=Markup("<p><b>%s</b></p><p>%s</p>") % (question or "", answer or ""),
            subtype_xmlid="mail.mt_note",
        )

    def _messenger_register_closed(self):
        """Won or lost: the customer is asked to rate the conversation in the chat (never in a
        muted, spam, chat: see _request_rating)."""
        result = super()._messenger_register_closed()
        for lead in self:
            lead.sudo().messenger_conversation_ids._request_rating(lead)
        return result

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
