from odoo import fields, models

from .messenger_bot_account import default_acknowledgement


class ImLivechatChannel(models.Model):
    _name = "im_livechat.channel"
    _inherit = ["im_livechat.channel", "messenger.bot.text.mixin"]
    _messenger_bot_texts = {"messenger_acknowledgement_text": ("minutes",)}

    messenger_team_id = fields.Many2one(
        "crm.team",
        string="Leads to sales team",
        help="Each visitor's chat becomes a lead of this team at the visitor's first message "
        "(channel Website chat, first-response deadline, assignment). Empty: no leads.",
    )
    messenger_acknowledgement_text = fields.Text(
        string="Acknowledgement",
        translate=True,
        default=lambda self: default_acknowledgement(self.env),
        help="Posted after the visitor's first message when no chatbot leads the chat. "
        "{minutes}: the expected wait. Empty: none.",
    )
