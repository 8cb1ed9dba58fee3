from odoo import fields, models

CHANNEL_CODES = [
    ("telegram", "Telegram"),
    ("whatsapp", "WhatsApp"),
    ("viber", "Viber"),
    ("max", "MAX"),
    ("instagram", "Instagram"),
    ("facebook", "Facebook Messenger"),
    ("vk", "VK"),
    ("avito", "Avito"),
    ("web_chat", "Website chat"),
    ("web_form", "Web form"),
    ("phone", "Phone call"),
    ("email", "Email"),
    ("walk_in", "Walk-in"),
]
# where the customer waits in a chat; such leads always arrive with their channel or source
LIVE_CHAT_CODES = (
    "telegram",
    "whatsapp",
    "viber",
    "max",
    "vk",
    "instagram",
    "facebook",
    "avito",
    "web_chat",
)


class MessengerChannel(models.Model):
    """A way customers reach the company, with its first-response target."""

    _name = "messenger.channel"
    _description = "Customer channel"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Selection(CHANNEL_CODES, required=True, index=True)
    sequence = fields.Integer(default=10)
    source_id = fields.Many2one(
        "utm.source",
        string="UTM source",
        help="Leads with this source belong to this channel; "
        "leads created from this channel get it.",
    )
    medium_id = fields.Many2one(
        "utm.medium",
        string="UTM medium",
        help="Leads with this medium (and no source of another channel) belong to this channel.",
    )
    response_target_minutes = fields.Integer(
        string="First response target (min)",
        default=5,
        help="Working minutes within which a person must answer a new lead from this channel.",
    )
    next_response_target_minutes = fields.Integer(
        string="Next response target (min)",
        help="Working minutes within which a person must answer each later message of the "
        "customer that nobody answered yet; 0 uses the first-response target.",
    )
    score_points = fields.Integer(
        string="Channel points",
        default=3,
        help="Points (1..5) this channel gives to the lead's channel qualification criterion.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)

    _sql_constraints = [
        (
            "score_points_range",
            "CHECK(score_points BETWEEN 1 AND 5)",
            "Channel points must be between 1 and 5.",
        ),
        (
            "response_target_positive",
            "CHECK(response_target_minutes > 0)",
            "The first response target must be at least one minute.",
        ),
        (
            "next_response_target_positive",
            "CHECK(next_response_target_minutes >= 0)",
            "The next response target cannot be negative.",
        ),
    ]

    def _match_utm(self, source, medium):
        """Return the channel of a source/medium pair: the source decides, then the medium.

        Among channels sharing a medium (e.g. Website, set by website_crm on every form), a
        form, a call or an e-mail comes before a chat: chats are recognised by their source.
        """
        if source:
            by_source = self.filtered(lambda channel: channel.source_id == source)
            if by_source:
                return by_source[:1]
        if medium:
            by_medium = self.filtered(lambda channel: channel.medium_id == medium)
            return by_medium.sorted(lambda channel: channel.code in LIVE_CHAT_CODES)[:1]
        return self.browse()
