from markupsafe import Markup

from odoo import Command, _, models
from odoo.tools.mail import plaintext2html


class MessengerConversation(models.Model):
    """The chat's Discuss thread: who is in it, the customer's messages and the notices posted into
    it."""

    # One model, one file per concern, as Odoo's mail does for res.partner: see
    # messenger_conversation.py.
    _inherit = "messenger.conversation"  # pylint: disable=consider-merging-classes-inherited

    def write(self, vals):
        result = super().write(vals)
        if "lead_id" in vals:
            self._join_lead_people()
        return result

    def _thread_people(self):
        """Who the chat's thread is for: the lead's salesperson and team leader."""
        return (self.lead_id.user_id | self.lead_id.team_id.user_id).partner_id

    def _ensure_thread(self):
        """The Discuss thread of the chat, private to the lead's people (see _join_lead_people
        for later changes of them)."""
        self.ensure_one()
        if self.discuss_channel_id:
            return
        self.discuss_channel_id = self.env["discuss.channel"].create(
            {
                "name": self.display_name,
                "channel_type": "group",
                "description": _("Messenger chat of lead %(lead)s", lead=self.lead_id.name),
                "channel_member_ids": [
                    Command.create({"partner_id": partner.id}) for partner in self._thread_people()
                ],
            }
        )

    def _join_lead_people(self):
        """The lead got another salesperson, team or lead: its people join the thread at once,
        not when the customer next writes. Those who were there stay, with the history."""
        for conversation in self.filtered("discuss_channel_id"):
            thread = conversation.discuss_channel_id.sudo()  # whoever reassigns, they join
            missing = conversation._thread_people() - thread.channel_member_ids.partner_id
            if missing:
                thread.add_members(partner_ids=missing.ids, post_joined_message=False)

    def _post_customer_message(self, event):
        attachments = []
        body = event.text
        if event.kind == "location":
            url = f"https://maps.google.com/?q={event.latitude},{event.longitude}"
            body = Markup('📍 <a href="%s" target="_blank">%s, %s</a>') % (
                url,
                event.latitude,
                event.longitude,
            )
        elif event.kind == "contact":
            body = _("Shared a phone number: %(phone)s", phone=event.phone)
        elif event.file_content is not None:
            attachments = [(event.file_name, event.file_content)]
        elif event.file_id:
            note = _("[%(kind)s not fetched: %(error)s]", kind=event.kind, error=event.file_error)
            body = f"{body} {note}" if body else note
        if body and not isinstance(body, Markup):  # the lines and paragraphs they wrote
            body = plaintext2html(body)
        message = (
            self.discuss_channel_id.sudo()
            .with_context(messenger_from_bridge=True)
            .message_post(
                body=body,
                author_id=self.partner_id.id,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                attachments=attachments,
                messenger_ref=self._message_ref(event.message_id),
                # a chat message, never e-mailed: what message_post would otherwise work out
                # for e-mail replies (sender address, reply-to, alias domain) for every message
                email_from=False,
                reply_to=False,
                record_alias_domain_id=False,
                record_company_id=self.account_id.company_id.id,
            )
        )
        return message

    def _message_ref(self, external_message_id):
        return f"{self.account_id.id}:{self.external_chat_id}:{external_message_id}"

    def _edit_customer_message(self, event):
        message = self.env["mail.message"].search(
            [("messenger_ref", "=", self._message_ref(event.message_id))], limit=1
        )
        if not message:
            self._post_customer_message(event)
            return
        message.sudo().write(
            {"body": plaintext2html(event.text) + Markup("<p><em>%s</em></p>") % _("(edited)")}
        )

    def _post_notice(self, text):
        if self.discuss_channel_id:
            self.discuss_channel_id.sudo().with_context(messenger_from_bridge=True).message_post(
                body=text,
                author_id=self.env.ref("base.partner_root").id,
                message_type="notification",
                subtype_xmlid="mail.mt_note",
            )

    def action_open_discuss(self):
        """Open the chat's thread in Discuss."""
        self.ensure_one()
        self.check_access("read")
        thread = f"discuss.channel_{self.discuss_channel_id.id}"
        return {
            "type": "ir.actions.client",
            "tag": "mail.action_discuss",
            # Discuss reads the context's active_id first, which a button sets to its record's
            "context": {"active_id": thread},
            "params": {"active_id": thread},
        }
