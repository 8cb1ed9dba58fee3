from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import html2plaintext


class DiscussChannel(models.Model):
    _inherit = "discuss.channel"

    messenger_conversation_ids = fields.One2many("messenger.conversation", "discuss_channel_id")
    messenger_lead_id = fields.Many2one(
        "crm.lead",
        string="Lead of the website chat",
        ondelete="set null",
        index="btree_not_null",
        readonly=True,
    )

    def _to_store(self, store):
        """Tell the web client which channels are messenger chats, their lead, and the hour a
        reply may wait for while it is night for the customer."""
        result = super()._to_store(store)
        conversations = (
            self.env["messenger.conversation"]
            .sudo()
            .search([("discuss_channel_id", "in", self.ids)])
        )
        for conversation in conversations:
            store.add(
                conversation.discuss_channel_id,
                {
                    "messenger_lead_id": conversation.lead_id.id or False,
                    "messenger_civil_hour": conversation._civil_hour_if_night(),
                },
            )
        return result

    def _get_message_create_valid_field_names(self):
        # the bridge names the messenger's message at creation, not in a second write
        return super()._get_message_create_valid_field_names() | {"messenger_ref"}

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, **kwargs):
        message = super().message_post(**kwargs)
        # messenger_from_bridge: the bridge posts it (a customer's message, a notice, a bot
        # text it sends itself), so it is no reply of a person's to send to the customer
        if self.env.context.get("messenger_from_bridge") or message.message_type != "comment":
            return message
        if self.channel_type == "livechat":
            self.sudo()._messenger_livechat_message(message)
            return message
        conversation = self.sudo().messenger_conversation_ids[:1]
        if conversation and self.env.user._is_internal() and not message.author_guest_id:
            conversation._register_person_reply(message)
        return message

    # ------------------------------------------------------------------
    # Website chat (im_livechat): the same pipeline as the messengers
    # ------------------------------------------------------------------

    def _messenger_livechat_message(self, message):
        """The visitor's first message makes the lead; a person's reply stops its clock."""
        author = message.author_id
        if author.user_ids.filtered(lambda user: user._is_internal()):
            self.messenger_lead_id._messenger_register_first_response(message.date)
            return
        chatbots = self.env["chatbot.script"].search([]).operator_partner_id
        if author in chatbots:
            return
        if self.messenger_lead_id:
            self.messenger_lead_id._messenger_register_customer_message(message.date)
            return
        livechat = self.livechat_channel_id
        if not livechat.messenger_team_id:
            return
        self.messenger_lead_id = self.env["crm.lead"].create(
            self._messenger_livechat_lead_values(message, livechat.messenger_team_id)
        )
        if self.chatbot_current_step_id:
            return
        acknowledgement = livechat._messenger_bot_text(
            "messenger_acknowledgement_text",
            minutes=self.messenger_lead_id._messenger_response_target(),
        )
        if acknowledgement:
            self.with_context(messenger_from_bridge=True).message_post(
                body=acknowledgement,
                author_id=self.env.ref("base.partner_root").id,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )

    def _messenger_livechat_lead_values(self, message, team):
        web_chat = self.env.ref("messenger_leads.messenger_channel_web_chat")
        visitor = message.author_id if message.author_id.partner_share else self.env["res.partner"]
        if visitor.is_public:
            visitor = self.env["res.partner"]
        name = visitor.name or message.author_guest_id.name or self.anonymous_name or _("Visitor")
        return {
            "name": _("%(channel)s: %(visitor)s", channel=web_chat.name, visitor=name),
            "partner_id": visitor.id,
            "contact_name": name,
            "messenger_channel_id": web_chat.id,
            "source_id": web_chat.source_id.id,
            "medium_id": web_chat.medium_id.id,
            "team_id": team.id,
            "user_id": False,
            "company_id": team.company_id.id or self.env.company.id,
            "messenger_first_message_at": message.date,
            "description": Markup("<p>%s</p>") % html2plaintext(message.body or ""),
        }

    def _convert_visitor_to_lead(self, partner, key):
        """crm_livechat's /lead command: name the chat's lead rather than make a second one."""
        lead = self.messenger_lead_id
        if not lead:
            lead = super()._convert_visitor_to_lead(partner, key)
            self.sudo().messenger_lead_id = lead
            return lead
        lead.write(
            {
                "name": html2plaintext(key[5:]) or lead.name,
                "description": self._get_channel_history(),
                "referred": partner.name,
            }
        )
        return lead
