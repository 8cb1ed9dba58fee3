from odoo import _, models
from odoo.exceptions import AccessError


class MessengerUpdate(models.Model):
    """The Retry of the bot accounts' health screen."""

    _inherit = "messenger.update"

    def action_retry(self):
        """Process these failed updates again now, as the retry cron does. Sales managers and
        administrators only, on the updates of bot accounts they may read; the processing is
        the engine's (as from the webhook), not the user's."""
        user = self.env.user
        if not (self.env.is_system() or user.has_group("sales_team.group_sale_manager")):
            raise AccessError(_("Only sales managers and administrators can retry updates."))
        self.check_access("read")
        self.account_id.check_access("read")
        for update in self.sudo().filtered(lambda u: u.state == "failed"):
            update._process_again()
