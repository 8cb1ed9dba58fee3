from odoo import fields, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    messenger_auto_close_hours = fields.Integer(
        string="Close idle chats after (hours)",
        default=0,
        help="A messenger chat where nobody wrote for this many hours is closed by itself; it "
        "opens again when the customer writes. 0: chats are closed by hand only.",
    )
