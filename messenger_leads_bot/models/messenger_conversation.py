from odoo import api, fields, models


class MessengerConversation(models.Model):
    """One customer chat in a messenger, bridged to a Discuss channel and tied to a lead."""

    _name = "messenger.conversation"
    _description = "Messenger conversation"
    _order = "last_message_at desc, id desc"
    _rec_name = "display_name"

    account_id = fields.Many2one(
        "messenger.bot.account", required=True, ondelete="cascade", index=True
    )
    channel_id = fields.Many2one(related="account_id.channel_id", store=True)
    external_chat_id = fields.Char(string="Chat ID", required=True)
    external_user_id = fields.Char(string="User ID", index=True)
    external_username = fields.Char(string="Username")
    partner_id = fields.Many2one("res.partner", string="Customer", index=True)
    discuss_channel_id = fields.Many2one(
        "discuss.channel", string="Discuss thread", ondelete="set null", index=True
    )
    lead_id = fields.Many2one("crm.lead", string="Lead", ondelete="set null", index=True)
    team_id = fields.Many2one(related="lead_id.team_id", store=True)
    user_id = fields.Many2one(related="lead_id.user_id", store=True, string="Salesperson")
    last_message_at = fields.Datetime(string="Last message")
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
