from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL, Query


class CrmLead(models.Model):
    """The lead's channel, its life cycle and the API the other addons call.

    The lead is split by concern like Odoo's mail splits res.partner: crm_lead_sla.py (first
    response), crm_lead_qualification.py (score and grade), crm_lead_assignment.py (who gets
    it), crm_lead_callback.py (the call-back plan). create() and write() here run them in order.
    """

    _inherit = "crm.lead"

    messenger_channel_id = fields.Many2one(
        "messenger.channel",
        string="Channel",
        compute="_compute_channel_id",
        store=True,
        readonly=False,
        index=True,
        tracking=True,
        help="How the customer reached us: set by the messenger bridge, "
        "or derived from the lead's UTM source and medium.",
    )
    messenger_rating = fields.Integer(
        string="Customer rating",
        readonly=True,
        tracking=True,
        help="1 (bad) to 5 (excellent): the customer's rating of the conversation, "
        "asked by the messenger bot once the lead is closed.",
    )

    # ------------------------------------------------------------------
    # Open, won, lost: one definition for every addon and the reports
    # ------------------------------------------------------------------

    @api.model
    def _messenger_open_domain(self):
        """Open: active and not in a won stage, crm's own test (crm.lead._get_lead_duplicates)."""
        return [
            ("active", "=", True),
            "|",
            ("stage_id", "=", False),
            ("stage_id.is_won", "=", False),
        ]

    @api.model
    def _messenger_won_domain(self):
        """Won: in a won stage (crm sets the probability to 100 with it)."""
        return [("stage_id.is_won", "=", True)]

    @api.model
    def _messenger_lost_domain(self):
        """Lost: archived with no chance left, as crm's action_set_lost leaves a lead."""
        return [("active", "=", False), ("probability", "=", 0)]

    def _messenger_open(self):
        """The open leads among these."""
        return self.filtered_domain(self._messenger_open_domain())

    @api.model
    def _messenger_domain_sql(self, domain, alias):
        """`domain` as an SQL condition on the crm_lead table named `alias`, for report views."""
        query = Query(self.env, alias, SQL.identifier(self._table))
        return expression.expression(domain, self.sudo(), alias, query).query.where_clause

    def _messenger_company(self):
        """The company whose settings rule this lead: its own, else the current one."""
        self.ensure_one()
        return self.company_id or self.env.company

    @api.depends("source_id", "medium_id")
    def _compute_channel_id(self):
        channels = self.env["messenger.channel"].search([])
        for lead in self:
            if not lead.messenger_channel_id:
                lead.messenger_channel_id = channels._match_utm(lead.source_id, lead.medium_id)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        # forms, emails and walk-ins arrive with the lead; messengers set it from the message
        leads.filtered(
            lambda lead: lead.messenger_channel_id and not lead.messenger_first_message_at
        ).write({"messenger_first_message_at": fields.Datetime.now()})
        leads.filtered("messenger_qualification")._messenger_add_score_lines(
            self.env["messenger.qualification.criterion"].search([])
        )
        leads._messenger_flag_big_budget()
        leads.filtered(lambda lead: not lead.user_id)._messenger_assign()
        leads._callback_start()
        return leads

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A lead from an e-mail alias: the e-mail channel, its clock from the e-mail's date.

        The alias's own defaults (custom_values) win, e.g. an alias for a web form's channel.
        """
        email = self.env.ref("messenger_leads.messenger_channel_email", raise_if_not_found=False)
        values = {}
        if email:
            values = {"messenger_channel_id": email.id, "medium_id": email.medium_id.id}
        if msg_dict.get("date"):
            values["messenger_first_message_at"] = msg_dict["date"]
        return super().message_new(msg_dict, {**values, **(custom_values or {})})

    def write(self, vals):
        closing = "stage_id" in vals or "active" in vals
        was_open = self._messenger_open() if closing or "user_id" in vals else self.browse()
        # salespeople whose open leads these were: a lead closed or handed on frees their room
        owners = {lead: lead.user_id for lead in was_open}
        result = super().write(vals)
        if vals.get("messenger_budget"):
            self._messenger_flag_big_budget()
        if vals.get("phone"):
            self._callback_start()
        if closing:
            (was_open - self._messenger_open())._messenger_register_closed()
        freed = was_open.filtered(
            lambda lead: (
                owners[lead] and (not lead._messenger_open() or lead.user_id != owners[lead])
            )
        )
        if freed:
            freed.team_id._messenger_hand_out_queue()
        return result

    # ------------------------------------------------------------------
    # Business events (the messenger bridge calls these)
    # ------------------------------------------------------------------

    def _messenger_register_customer_message(self, when):
        """A customer wrote: the clock starts at the first message; once a person answered,
        a later message starts a next-response deadline (messenger.lead.response)."""
        self.filtered(lambda lead: not lead.messenger_first_message_at).write(
            {"messenger_first_message_at": when}
        )
        self.env["messenger.lead.response"]._register_customer_message(self, when)

    def _messenger_register_closed(self):
        """These open leads were just won or lost: their call-back plan stops. Other addons add
        what follows a closed lead (the bot asks the customer for a rating)."""
        self._callback_stop()

    def _messenger_register_rating(self, rating):
        """The customer rated the conversation 1..5; a low rating (1-2) asks the team leader to
        look at it."""
        self.ensure_one()
        self.messenger_rating = rating
        if rating <= 2:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Low customer rating: %(rating)s of 5", rating=rating),
                user_id=(self.team_id.user_id or self.user_id).id or self.env.uid,
            )

    def _messenger_register_first_response(self, when):
        """A person answered: the first answer stops the first-response clock, each later one
        the next-response deadlines of the messages before it."""
        self.filtered(
            lambda lead: lead.messenger_first_message_at and not lead.messenger_first_response_at
        ).write({"messenger_first_response_at": when})
        self.env["messenger.lead.response"]._register_answer(self, when)

    def _messenger_register_chat_closed(self, when):
        """A person (or the idle-chat cron) closed the chat: what the customer wrote before
        needs no answer any more; a deadline still running counts as handled then, in time or
        late."""
        self.env["messenger.lead.response"]._register_answer(self, when)

    def _message_post_after_hook(self, message, msg_vals):
        """An email to the customer or a logged call from the lead is a first answer."""
        result = super()._message_post_after_hook(message, msg_vals)
        author_user = message.author_id.user_ids[:1]
        is_person = author_user and not author_user.share
        is_call = message.mail_activity_type_id.category == "phonecall"
        is_sent = message.message_type in ("comment", "email") and (
            message.subtype_id == self.env.ref("mail.mt_comment")
        )
        if is_person and (is_call or is_sent):
            self._messenger_register_first_response(message.date or fields.Datetime.now())
        return result
