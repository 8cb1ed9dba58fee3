from odoo import models


class BusPresence(models.Model):
    _inherit = "bus.presence"

    def _send_presence(self, im_status=None, bus_target=None):
        """Someone came online: the leads waiting in their teams' queues for a salesperson
        online (live chats) may go to them at once."""
        result = super()._send_presence(im_status=im_status, bus_target=bus_target)
        online = self.filtered(lambda presence: presence.status == "online").user_id
        if online:
            teams = online.sudo().crm_team_member_ids.crm_team_id
            teams.filtered("messenger_require_presence")._messenger_hand_out_queue()
        return result
