from odoo import fields, models


class MessengerCallbackLaterWizard(models.TransientModel):
    """The customer asked to be called at a given time: the next call is planned then."""

    _name = "messenger.callback.later.wizard"
    _description = "Call me later"

    lead_id = fields.Many2one("crm.lead", required=True)
    call_at = fields.Datetime(string="Call at", required=True)

    def action_confirm(self):
        self.lead_id._callback_log("call_later", call_at=self.call_at)
        return {"type": "ir.actions.act_window_close"}
