from odoo import _, api, fields, models
from odoo.osv import expression

from ..tools.language import phone_languages


class MessengerConversation(models.Model):
    """Who the customer is: their contact, found or made, the numbers they give, and one contact
    and one open lead when they turn out to be someone known."""

    # One model, one file per concern, as Odoo's mail does for res.partner: see
    # messenger_conversation.py.
    _inherit = "messenger.conversation"  # pylint: disable=consider-merging-classes-inherited

    shared_phone = fields.Char(
        string="Phone given",
        readonly=True,
        help="The last number the customer gave in the chat (E.164). Information only, unless "
        "the messenger vouched that it is their own number.",
    )

    def _ensure_customer(self, event):
        self.ensure_one()
        values = {"external_user_id": event.user_id}
        if event.username:
            values["external_username"] = event.username
        if event.language_code:
            values["language_code"] = event.language_code
        if not self.partner_id:
            values["partner_id"] = self._customer_partner(event).id
        self.write(values)

    def _customer_partner(self, event):
        """The contact of a new chat: the one known by the sender's number when the messenger
        identifies its users by number (the same customer in another messenger), else a new
        one of the bot's company."""
        phone = event.sender_phone and self.env["res.partner"]._phone_format(
            number=event.sender_phone, force_format="E164"
        )
        known = self._partner_with_phone(phone)
        if known:
            return known
        return self.env["res.partner"].create(
            {
                "name": event.display_name,
                "lang": self._customer_lang(event, phone),
                "phone": phone,
                "website": event.profile_url or False,
                "company_id": self.account_id.company_id.id,
            }
        )

    def _customer_lang(self, event, phone):
        """The language the messenger says the customer uses; WhatsApp says none: the most
        spoken one of their number's country that is installed, else the company's."""
        return (
            self._installed_lang(event.language_code, *phone_languages(phone))
            or self.account_id.company_id.partner_id.lang
            or self.env.lang
        )

    def _partner_with_phone(self, e164):
        """The customer known by this number (E.164) to the bot's company; never a user's or a
        company's own contact, which a customer could otherwise write as."""
        partners = self.env["res.partner"].with_context(active_test=False)
        if not e164:
            return partners.browse()
        companies = partners.env["res.company"].search([])
        return partners.search(
            expression.AND(
                [
                    partners._messenger_phone_domain(e164),
                    [
                        ("active", "=", True),
                        ("company_id", "in", [False, self.account_id.company_id.id]),
                        ("user_ids", "=", False),
                        ("id", "not in", companies.partner_id.ids),
                    ],
                ]
            ),
            order="id",
            limit=1,
        )

    def _join_known_customer(self, partner):
        """The customer shared the number of a contact known from another messenger: one
        contact, and one open lead (crm's merge, which keeps the history of both)."""
        own_lead = self.lead_id
        self.partner_id = partner
        other_lead = self.env["crm.lead"].search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", self.account_id.company_id.id),
                *self.env["crm.lead"]._messenger_open_domain(),
                ("id", "!=", own_lead.id),
            ],
            order="id desc",
            limit=1,
        )
        if not (own_lead and other_lead):
            own_lead.partner_id = partner
            return
        chats = self.search([("lead_id", "in", (own_lead | other_lead).ids)])
        merged = (own_lead | other_lead)._merge_opportunity(auto_unlink=True)
        chats.lead_id = merged

    @api.model
    def _installed_lang(self, *language_codes):
        """The first installed language among messenger language codes (en, pt-br, zh_Hant),
        the same region preferred (pt-br: pt_BR before pt_PT), or False."""
        installed = [code for code, _name in self.env["res.lang"].get_installed()]
        for language_code in filter(None, language_codes):
            wanted = language_code.replace("-", "_").lower()
            matches = [code for code in installed if code.lower() == wanted] + [
                code for code in installed if code.split("_")[0].lower() == wanted.split("_")[0]
            ]
            if matches:
                return matches[0]
        return False

    def _apply_shared_phone(self, phone, vouched):
        """A number the customer gave; return it in E.164, or "" when it is not valid.

        Only a number the messenger `vouched` for as the sender's own joins the contact known
        by it, or fills the customer's empty phone; any other is kept on the chat and the lead
        as information. A contact's existing number is never overwritten."""
        number = phone if phone.startswith("+") else f"+{phone}"
        e164 = self.partner_id._phone_format(number=number, force_format="E164")
        if not e164:
            self._post_notice(_("The shared number %(phone)s is not valid.", phone=phone))
            return ""
        self.shared_phone = e164
        if vouched:
            known = self._partner_with_phone(e164) - self.partner_id
            if known:
                self._join_known_customer(known)
            elif not self.partner_id.phone:
                self.partner_id.phone = e164
        if self.lead_id and not self.lead_id.phone:
            self.lead_id.write({"phone": e164, "messenger_phone_from_chat": not vouched})
        self.lead_id._messenger_register_signal("phone_shared")
        return e164
