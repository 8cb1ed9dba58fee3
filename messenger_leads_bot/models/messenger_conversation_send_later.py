from odoo import fields, models

from odoo.addons.messenger_leads.tools.callback import hours_to_time


class MessengerConversation(models.Model):
    """A person's reply written while it is night for the customer can wait for their day: the
    composer's "Send at 10:00 their time" (static/src/discuss/composer_send_later.js)."""

    _inherit = "messenger.conversation"  # pylint: disable=consider-merging-classes-inherited

    def _civil_hour_if_night(self):
        """The hour the customer's day begins ("10:00", their time) while it is night for them,
        else False."""
        self.ensure_one()
        if self._civil_time() <= fields.Datetime.now():
            return False
        return hours_to_time(self.account_id.company_id.messenger_automated_from).strftime("%H:%M")

    def _queue_outbound(self, text, origin, *args, not_before=None, **kwargs):
        if origin == "person" and self.env.context.get("messenger_at_civil_hour"):
            not_before = self._civil_time()  # now when it is day for the customer by then
        return super()._queue_outbound(text, origin, *args, not_before=not_before, **kwargs)
