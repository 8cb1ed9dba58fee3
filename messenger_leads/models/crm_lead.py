import collections
import datetime

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.sql import create_index

from ..tools import assignment, callback, phone, qualification, sla
from .messenger_callback_attempt import OUTCOMES
from .messenger_channel import LIVE_CHAT_CODES

CALLBACK_STATES = [
    ("planned", "Calling"),
    ("reached", "Reached"),
    ("exhausted", "Unreachable"),
    ("wrong_number", "Wrong number"),
    ("stopped", "Stopped"),
]


class CrmLead(models.Model):
    _inherit = "crm.lead"

    channel_id = fields.Many2one(
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
    first_message_at = fields.Datetime(
        string="First message",
        readonly=True,
        copy=False,
        help="When the customer first wrote (or the lead arrived, for forms and emails).",
    )
    response_deadline = fields.Datetime(
        string="Answer by",
        compute="_compute_response_deadline",
        store=True,
        copy=False,
        help="First message plus the channel's first-response target, counted in the team's "
        "working hours: a message at 22:00 is due the next working morning.",
    )
    sla_at_risk_at = fields.Datetime(
        string="At risk from",
        compute="_compute_response_deadline",
        store=True,
        copy=False,
        help="From then on the lead is at risk of missing its deadline.",
    )
    first_response_at = fields.Datetime(
        string="First answer",
        readonly=True,
        copy=False,
        help="When a person first answered: in the chat, by a logged call or by an email.",
    )
    response_minutes = fields.Float(
        string="Response time (working min)",
        compute="_compute_response",
        store=True,
        aggregator="avg",
    )
    response_band = fields.Selection(
        sla.RESPONSE_BANDS, compute="_compute_response", store=True, string="Response band"
    )
    sla_state = fields.Selection(
        sla.SLA_STATES,
        string="First response",
        compute="_compute_sla_state",
        store=True,
        readonly=True,
        copy=False,
        help="Refreshed every minute while the lead waits for its first answer.",
    )
    sla_escalated_at = fields.Datetime(
        string="Escalated",
        readonly=True,
        copy=False,
        help="When the missed deadline was escalated to the team leader (once per lead).",
    )

    sla_reassigned_at = fields.Datetime(
        string="Reassigned",
        readonly=True,
        copy=False,
        help="When the breached lead went to the next available salesperson (once per lead).",
    )
    messenger_assignment_log_ids = fields.One2many(
        "messenger.assignment.log", "lead_id", string="Assignment log", readonly=True
    )
    messenger_assignment_reason = fields.Char(
        string="Why this salesperson",
        compute="_compute_messenger_assignment_reason",
        help="How the assignment engine chose the salesperson (see the team's settings).",
    )

    messenger_qualification = fields.Boolean(compute="_compute_messenger_qualification")
    messenger_score_ids = fields.One2many(
        "messenger.lead.score", "lead_id", string="Qualification criteria", copy=True
    )
    messenger_signal_ids = fields.One2many(
        "messenger.lead.signal", "lead_id", string="Behaviour signals", readonly=True
    )
    qualification_score = fields.Integer(
        string="Score",
        compute="_compute_qualification_score",
        store=True,
        tracking=True,
        aggregator="avg",
        help="The sum of the qualification criteria (1..5 each) and the behaviour signals.",
    )
    qualification_grade = fields.Selection(
        qualification.GRADES,
        string="Grade",
        compute="_compute_qualification_score",
        store=True,
        index=True,
        tracking=True,
        help="Hot, warm or cold by the score thresholds in Settings.",
    )
    messenger_rating = fields.Integer(
        string="Customer rating",
        readonly=True,
        tracking=True,
        help="1 (bad) to 5 (excellent): the customer's rating of the conversation, "
        "asked by the messenger bot once the lead is closed.",
    )
    messenger_budget = fields.Monetary(
        string="Declared budget",
        currency_field="company_currency",
        tracking=True,
        help="What the customer said they can spend; above the threshold in Settings the lead "
        "gets the top priority and an activity for its salesperson at once.",
    )
    messenger_budget_flagged_at = fields.Datetime(
        string="Big budget flagged", readonly=True, copy=False
    )

    phone_kind = fields.Selection(
        phone.KINDS, string="Phone type", compute="_compute_phone_info", store=True
    )
    phone_valid = fields.Boolean(compute="_compute_phone_info", store=True)
    customer_tz = fields.Char(
        string="Customer time zone",
        compute="_compute_phone_info",
        store=True,
        help="From the phone number when it has a single zone, else the contact's, else the "
        "company's working hours'.",
    )
    callback_state = fields.Selection(
        CALLBACK_STATES, string="Call-back", readonly=True, copy=False, index=True
    )
    callback_attempt_ids = fields.One2many(
        "messenger.callback.attempt", "lead_id", string="Call attempts", readonly=True
    )
    callback_next_at = fields.Datetime(
        string="Next call", compute="_compute_callback_next_at", store=True
    )
    callback_attempts_done = fields.Integer(
        string="Calls made",
        compute="_compute_callback_attempts_done",
        store=True,
        help="Call-back attempts made to the customer, whatever their outcome.",
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("messenger_assignment_log_ids")
    def _compute_messenger_assignment_reason(self):
        latest = {}
        for log in self.messenger_assignment_log_ids.sorted("id"):
            latest[log.lead_id.id] = log.reason
        for lead in self:
            lead.messenger_assignment_reason = latest.get(lead.id, False)

    @api.depends("company_id.messenger_qualification")
    def _compute_messenger_qualification(self):
        for lead in self:
            lead.messenger_qualification = (
                lead.company_id or self.env.company
            ).messenger_qualification

    @api.depends(
        "messenger_score_ids.points",
        "messenger_signal_ids.points",
        "company_id.messenger_qualification",
        "company_id.messenger_hot_score",
        "company_id.messenger_warm_score",
    )
    def _compute_qualification_score(self):
        for lead in self:
            company = lead.company_id or self.env.company
            if not company.messenger_qualification:
                lead.qualification_score = 0
                lead.qualification_grade = False
                continue
            total = qualification.score(
                [int(line.points or 0) for line in lead.messenger_score_ids],
                lead.messenger_signal_ids.mapped("points"),
            )
            lead.qualification_score = total
            lead.qualification_grade = qualification.grade(
                total, company.messenger_hot_score, company.messenger_warm_score
            )

    @api.depends("source_id", "medium_id")
    def _compute_channel_id(self):
        channels = self.env["messenger.channel"].search([])
        for lead in self:
            if not lead.channel_id:
                lead.channel_id = channels._match_utm(lead.source_id, lead.medium_id)

    @api.depends(
        "first_message_at",
        "channel_id.response_target_minutes",
        "team_id.messenger_response_target_minutes",
        "team_id.resource_calendar_id",
    )
    def _compute_response_deadline(self):
        share = self._messenger_at_risk_share()
        for lead in self:
            target = lead._messenger_response_target()
            if not lead.first_message_at or not target:
                lead.response_deadline = lead.sla_at_risk_at = False
                continue
            intervals = lead._messenger_working_intervals(lead.first_message_at)
            deadline = sla.add_working_minutes(lead.first_message_at, target, intervals)
            lead.response_deadline = deadline
            lead.sla_at_risk_at = deadline and sla.at_risk_from(deadline, target, share)

    @api.depends("first_message_at", "first_response_at")
    def _compute_response(self):
        for lead in self:
            if not (lead.first_message_at and lead.first_response_at):
                lead.response_minutes = 0.0
                lead.response_band = False
                continue
            intervals = lead._messenger_working_intervals(lead.first_message_at)
            minutes = sla.working_minutes_between(
                lead.first_message_at, lead.first_response_at, intervals
            )
            lead.response_minutes = minutes
            lead.response_band = sla.response_band(minutes)

    @api.depends("response_deadline", "first_response_at")
    def _compute_sla_state(self):
        now = fields.Datetime.now()
        share = self._messenger_at_risk_share()
        for lead in self:
            lead.sla_state = sla.sla_state(
                now,
                lead.response_deadline,
                lead.first_response_at,
                lead._messenger_response_target(),
                share,
            )

    def _messenger_response_target(self):
        """Minutes to answer: the team's override, else the channel's target."""
        self.ensure_one()
        return self.team_id.messenger_response_target_minutes or (
            self.channel_id.response_target_minutes
        )

    def _messenger_calendar(self):
        """Working hours that count for this lead: its team's, else its company's."""
        self.ensure_one()
        return (
            self.team_id.resource_calendar_id
            or self.company_id.resource_calendar_id
            or self.env.company.resource_calendar_id
        )

    def _messenger_working_intervals(self, start):
        """The team's working intervals (naive UTC) from `start` on, holidays excluded."""
        return self._messenger_calendar()._messenger_utc_intervals(
            start, start + sla.PLANNING_HORIZON
        )

    @api.model
    def _messenger_at_risk_share(self):
        param = self.env["ir.config_parameter"].sudo().get_param("messenger_leads.at_risk_share")
        return float(param or 0.2)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create([self._messenger_e164(vals) for vals in vals_list])
        # forms, emails and walk-ins arrive with the lead; messengers set it from the message
        leads.filtered(lambda lead: lead.channel_id and not lead.first_message_at).write(
            {"first_message_at": fields.Datetime.now()}
        )
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
            values = {"channel_id": email.id, "medium_id": email.medium_id.id}
        if msg_dict.get("date"):
            values["first_message_at"] = msg_dict["date"]
        return super().message_new(msg_dict, {**values, **(custom_values or {})})

    def write(self, vals):
        result = super().write(self._messenger_e164(vals))
        if vals.get("messenger_budget"):
            self._messenger_flag_big_budget()
        if vals.get("phone"):
            self._callback_start()
        if "stage_id" in vals or "active" in vals or "probability" in vals:
            self.filtered(lambda lead: not lead.active or lead.probability >= 100)._callback_stop()
        return result

    # ------------------------------------------------------------------
    # Qualification
    # ------------------------------------------------------------------

    def _messenger_add_score_lines(self, criteria):
        """Give the leads a line to score for each criterion of their company they lack."""
        missing = [
            {"lead_id": lead.id, "criterion_id": criterion.id}
            for lead in self
            for criterion in criteria
            if criterion.company_id in (lead.company_id, lead.company_id.browse())
            or not lead.company_id
            if criterion not in lead.messenger_score_ids.criterion_id
        ]
        self.env["messenger.lead.score"].create(missing)

    def _messenger_register_signal(self, code):
        """The customer did something that counts (messenger.behaviour.signal), once per lead."""
        signal = self.env["messenger.behaviour.signal"].search([("code", "=", code)], limit=1)
        leads = self.filtered(
            lambda lead: (
                lead.messenger_qualification
                and signal
                and signal not in lead.messenger_signal_ids.signal_id
            )
        )
        self.env["messenger.lead.signal"].create(
            [
                {"lead_id": lead.id, "signal_id": signal.id, "points": signal.points}
                for lead in leads
            ]
        )

    def _messenger_set_criterion_points(self, criterion, points):
        """Score one criterion on the lead (e.g. from a qualification answer in the chat)."""
        self.ensure_one()
        line = self.messenger_score_ids.filtered(lambda score: score.criterion_id == criterion)
        if line:
            line.points = str(points)
        elif self.messenger_qualification:
            self.env["messenger.lead.score"].create(
                {"lead_id": self.id, "criterion_id": criterion.id, "points": str(points)}
            )

    def _messenger_take_declared_budget(self, text):
        """The customer wrote their budget: keep the amount; a big one goes to a person."""
        amount = qualification.parse_amount(text)
        if amount:
            self.messenger_budget = amount

    def _messenger_flag_big_budget(self):
        """A budget above the threshold: top priority and an activity for a person, once."""
        big = self.filtered(
            lambda lead: (
                not lead.messenger_budget_flagged_at
                and qualification.needs_person_for_budget(
                    lead.messenger_budget,
                    (lead.company_id or self.env.company).messenger_budget_threshold,
                )
            )
        )
        if not big:
            return
        big.write({"priority": "3", "messenger_budget_flagged_at": fields.Datetime.now()})
        for lead in big:
            lead.activity_schedule(
                "mail.mail_activity_data_call",
                summary=self.env._(
                    "Big budget declared (%(budget)s): contact the customer now",
                    budget=lead.messenger_budget,
                ),
                user_id=(lead.user_id or lead.team_id.user_id).id or self.env.uid,
            )

    # ------------------------------------------------------------------
    # Assignment engine
    # ------------------------------------------------------------------

    def _messenger_assign(self, exclude_users=None):
        """Give each lead of a team using our engine to a salesperson, at once.

        Leads that already have a salesperson keep them unless that salesperson is excluded
        (escalation). Concurrency: the team's member rows are locked and the chosen members'
        rows are written, so a worker assigning at the same moment fails to serialise and Odoo
        replays it with the loads this one committed: nobody goes over capacity.
        """
        exclude_users = exclude_users or self.env["res.users"]
        todo = self.filtered(
            lambda lead: (
                lead.team_id.messenger_assignment not in (False, "none")
                and lead.active
                and (not lead.user_id or lead.user_id in exclude_users)
            )
        )
        # The engine is the company's, not the user's who made the lead: it counts every lead
        # and chat of the team and keeps its members' turns, whoever triggered it.
        for team, leads in todo.sudo().grouped("team_id").items():
            leads._messenger_assign_in_team(team, exclude_users)

    def _messenger_assign_in_team(self, team, exclude_users):
        self.env.cr.execute(
            "SELECT id FROM crm_team_member WHERE crm_team_id = %s ORDER BY id FOR UPDATE",
            (team.id,),
            log_exceptions=False,  # a lost race is replayed by Odoo, not an error
        )
        now = fields.Datetime.now()
        members = team.crm_team_member_ids.filtered(
            lambda member: not member.messenger_opt_out and member.user_id not in exclude_users
        )
        at_work = members.user_id._messenger_at_work(now, team)
        members = members.filtered(lambda member: member.user_id in at_work)
        users = members.user_id
        loads = self._messenger_open_loads(users)
        chats = self._messenger_live_chat_loads(users)
        rates = (
            team._messenger_conversion_rates(users)
            if team.messenger_assignment in assignment.BY_CONVERSION
            else {}
        )
        online = users.filtered(lambda user: user.im_status == "online")
        owners = self._messenger_previous_owners(users)
        # Built once and updated after each choice: a backlog of 10,000 leads reads no member
        # field again. A live chat goes to members online (if the team asks) with chat room.
        pools = {
            live: [
                assignment.Candidate(
                    member.user_id.id,
                    loads[member.user_id.id],
                    member.messenger_capacity,
                    member.messenger_last_assigned_at,
                    conversion=rates.get(member.user_id.id),
                    rating=int(member.messenger_rating or 0),
                    chats=chats.get(member.user_id.id, 0),
                    chat_capacity=member.messenger_chat_capacity if live else None,
                )
                for member in members
                if not live or member.user_id in online or not team.messenger_require_presence
            ]
            for live in (False, True)
        }
        choices = []
        for order, lead in enumerate(self):
            live = lead.channel_id.code in LIVE_CHAT_CODES
            chosen, reason = lead._messenger_choose(team, pools[live], owners)
            if chosen:
                # ordered within the same second, for the next lead and the next batch
                at = now + datetime.timedelta(microseconds=order + 1)
                pools = {
                    pool_live: assignment.took_lead(pool, chosen.user_id, live, at)
                    for pool_live, pool in pools.items()
                }
            choices.append((lead, chosen and chosen.user_id, reason))
        waited = {candidate.user_id: candidate.last_assigned for candidate in pools[False]}
        for member in members.filtered(
            lambda m: waited[m.user_id.id] != m.messenger_last_assigned_at
        ):
            member.messenger_last_assigned_at = waited[member.user_id.id]
        self._messenger_apply_assignments(team, choices)

    def _messenger_previous_owners(self, users):
        """{customer: salesperson} of the customers' latest other leads owned by `users`."""
        partners = self.partner_id
        if not partners or not users:
            return {}
        previous = self.with_context(active_test=False).search_read(
            [
                ("partner_id", "in", partners.ids),
                ("id", "not in", self.ids),
                ("user_id", "in", users.ids),
            ],
            ["partner_id", "user_id"],
            order="id desc",
        )
        owners = {}
        for row in previous:
            owners.setdefault(row["partner_id"][0], row["user_id"][0])
        return owners

    def _messenger_choose(self, team, candidates, owners):
        """(candidate or None, reason): the returning customer's salesperson first."""
        self.ensure_one()
        with_room = {c.user_id: c for c in candidates if c.has_room}
        owner = owners.get(self.partner_id.id)
        if owner in with_room:
            return with_room[owner], self.env._("Returning customer: back to their salesperson")
        strategy = team.messenger_assignment
        chosen = assignment.choose(
            candidates,
            strategy,
            min_conversion=team.messenger_min_conversion / 100,
            hot=self.qualification_grade == "hot",
        )
        if not chosen:
            return None, self.env._("Nobody available (at work, with room)")
        return chosen, self._messenger_reason(strategy, chosen, with_room.values())

    def _messenger_reason(self, strategy, chosen, available):
        """Why `chosen` got the lead, in the words of the strategy."""
        rate = "-" if chosen.conversion is None else f"{chosen.conversion:.0%}"
        others = sorted(c.load for c in available if c is not chosen)
        reasons = {
            "round_robin": lambda: self.env._("Even: waited longest for a new lead"),
            "least_loaded": lambda: self.env._(
                "Least loaded: %(load)s open vs %(others)s",
                load=chosen.load,
                others=others[0] if others else "-",
            ),
            "conversion": lambda: self.env._(
                "Conversion-weighted: %(rate)s won, %(load)s open", rate=rate, load=chosen.load
            ),
            "threshold": lambda: self.env._(
                "Conversion %(rate)s meets the threshold; least loaded: %(load)s open",
                rate=rate,
                load=chosen.load,
            ),
            "rating": lambda: self.env._(
                "Manager rating %(rating)s of 5, %(load)s open",
                rating=chosen.rating,
                load=chosen.load,
            ),
            "score_tiers": lambda: (
                self.env._("Hot lead to a top converter (%(rate)s won)", rate=rate)
                if self.qualification_grade == "hot"
                else self.env._("Not hot: to the next tier, %(load)s open", load=chosen.load)
            ),
        }
        return reasons[strategy]()

    def _messenger_apply_assignments(self, team, choices):
        """Write the choices (one write per salesperson) and the log; the fallback for the rest.

        choices: [(lead, user id or None, reason)].
        """
        leader = team.user_id
        to_leader = team.messenger_nobody_available == "leader" and leader
        logged = []
        by_user = collections.defaultdict(list)
        for lead, chosen_id, why in choices:
            user_id, reason = chosen_id, why
            if not user_id and to_leader:
                user_id = leader.id
                reason = self.env._("%(reason)s: to the team leader", reason=why)
            elif not user_id and leader:
                lead.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("A new lead waits in the queue: nobody is available"),
                    user_id=leader.id,
                )
            by_user[user_id or False].append(lead.id)
            logged.append((lead, user_id or False, reason))
        # One write per salesperson, without a chatter message and an e-mail per lead (the
        # assignment log on the lead tells who and why); the salesperson follows their leads.
        quiet = self.with_context(tracking_disable=True)
        for user_id, lead_ids in by_user.items():
            leads = quiet.browse(lead_ids)
            user = self.env["res.users"].browse(user_id)
            steady = leads._messenger_keeping_team_and_company(team, user)
            # The team and the company stay (see above): the ORM would still recompute every
            # field that depends on them, and check every company field of every lead, for
            # thousands of leads; protect those fields and check the one written, user_id.
            with self.env.protecting(self._messenger_team_and_company_fields(), steady):
                steady.write({"user_id": user_id})
            (leads - steady).write({"user_id": user_id})
            if user:
                leads.message_subscribe(partner_ids=user.partner_id.ids)
        self.env["messenger.assignment.log"]._record(self, team, logged)

    def _messenger_keeping_team_and_company(self, team, user):
        """The leads (all of `team`) whose team and company crm keeps when `user` takes them.

        crm recomputes the team when the salesperson changes and keeps it when they are a
        member or the leader (ours always are); it keeps the company when the salesperson
        works for it and it is the team's, if the team has one.
        """
        if not user or user not in team.member_ids | team.user_id:
            return self.browse()
        kept = set((team.company_id or user.company_ids).ids) & set(user.company_ids.ids)
        return self.filtered(lambda lead: lead.company_id.id in kept)

    def _messenger_team_and_company_fields(self):
        """The team, the company and every stored field of the lead computed from them."""
        own = [self._fields["team_id"], self._fields["company_id"]]
        dependents = self.pool.get_trigger_tree(own).root
        return own + [field for field in dependents if field.model_name == self._name]

    def _check_company(self, fnames=None):
        # _messenger_apply_assignments protects the team and company of leads it gives to a
        # salesperson of their company: nothing to check then. Only code can protect fields;
        # a context key would be anyone's over RPC.
        kept = (self._fields["team_id"], self._fields["company_id"])
        if self and all(self.env.is_protected(field, lead) for field in kept for lead in self):
            return None
        return super()._check_company(fnames)

    @api.model
    def _messenger_open_loads(self, users):
        """Open leads (active, not won) per user, as a dict with every user in it."""
        loads = dict.fromkeys(users.ids, 0)
        if users:
            groups = self._read_group(
                [("user_id", "in", users.ids), ("active", "=", True), ("probability", "<", 100)],
                ["user_id"],
                ["__count"],
            )
            loads.update({user.id: count for user, count in groups})
        return loads

    @api.model
    def _messenger_live_chat_loads(self, users):
        """Live chats in progress per user; the messenger bridge knows them (no chats here)."""
        return {}

    @api.model
    def _cron_messenger_assign(self):
        """The backlog: unassigned open leads of teams using the engine."""
        self.search(
            [
                ("user_id", "=", False),
                ("team_id.messenger_assignment", "not in", (False, "none")),
                ("probability", "<", 100),
            ],
            order="id",
        )._messenger_assign()

    # ------------------------------------------------------------------
    # Business events (the messenger bridge calls these)
    # ------------------------------------------------------------------

    def _messenger_register_customer_message(self, when):
        """A customer wrote: the clock starts at the first message."""
        self.filtered(lambda lead: not lead.first_message_at).write({"first_message_at": when})

    def _messenger_register_first_response(self, when):
        """A person answered: the first answer stops the clock, later ones change nothing."""
        self.filtered(lambda lead: lead.first_message_at and not lead.first_response_at).write(
            {"first_response_at": when}
        )

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

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_messenger_sla(self):
        """Move waiting leads to at risk and breached, and escalate each breach once.

        Three range queries on partial indexes (see init): the cron reads only what changes.
        """
        now = fields.Datetime.now()
        self.search([("sla_state", "in", sla.WAITING), ("response_deadline", "<=", now)]).write(
            {"sla_state": "breached"}
        )
        self.search([("sla_state", "=", "on_track"), ("sla_at_risk_at", "<=", now)]).write(
            {"sla_state": "at_risk"}
        )
        self.search(
            [("sla_state", "=", "breached"), ("sla_escalated_at", "=", False)]
        )._messenger_escalate_breach()
        self.search(
            [
                ("sla_state", "=", "breached"),
                ("sla_reassigned_at", "=", False),
                ("team_id.messenger_reassign_after_minutes", ">", 0),
            ]
        ).filtered(
            lambda lead: (
                lead.sla_escalated_at
                + datetime.timedelta(minutes=lead.team_id.messenger_reassign_after_minutes)
                <= now
            )
        )._messenger_reassign_breached()

    def _messenger_reassign_breached(self):
        """Step two of an escalation: the next available salesperson takes over, once."""
        for lead in self:
            lead._messenger_assign(exclude_users=lead.user_id)
        self.write({"sla_reassigned_at": fields.Datetime.now()})

    def init(self):
        result = super().init()
        waiting = ", ".join(f"'{state}'" for state in sla.WAITING)
        for name, column, where in (
            ("waiting", "response_deadline", f"sla_state IN ({waiting})"),
            ("on_track", "sla_at_risk_at", "sla_state = 'on_track'"),
            ("breached", "id", "sla_state = 'breached' AND sla_escalated_at IS NULL"),
        ):
            create_index(
                self.env.cr,
                f"crm_lead_messenger_sla_{name}_index",
                "crm_lead",
                [column],
                where=where,
            )
        return result

    def _messenger_escalate_breach(self):
        """A chatter notice and an activity for the team leader; marked so it happens once.

        Batched (one log and one activity creation per team leader): a bad morning can breach
        hundreds of leads at once.
        """
        if not self:
            return
        self._message_log_batch(
            bodies={
                lead.id: Markup("<p>%s</p>")
                % self.env._(
                    "First-response deadline missed (answer was due %(deadline)s).",
                    deadline=fields.Datetime.to_string(lead.response_deadline),
                )
                for lead in self
            }
        )
        self._messenger_escalate_to_leaders(
            self.env._("Missed first response: answer the customer now")
        )
        self.write({"sla_escalated_at": fields.Datetime.now()})

    def _messenger_escalate_to_leaders(self, summary):
        """A to-do per lead for its team leader (else its salesperson), and one notice each.

        Quiet activities (no e-mail per activity): an escalation can hit hundreds of leads at
        once, and the leader gets a single notification listing how many.
        """
        for leader, leads in self.grouped(
            lambda lead: lead.team_id.user_id or lead.user_id
        ).items():
            if not leader:
                continue
            leads.with_context(mail_activity_quick_update=True).activity_schedule(
                "mail.mail_activity_data_todo", summary=summary, user_id=leader.id
            )
            leader._bus_send(
                "simple_notification",
                {
                    "type": "danger",
                    "title": summary,
                    "message": self.env._("%(count)s leads escalated to you.", count=len(leads)),
                },
            )

    # ------------------------------------------------------------------
    # Call-back plan
    # ------------------------------------------------------------------

    @api.depends("phone", "partner_id.tz", "company_id")
    def _compute_phone_info(self):
        for lead in self:
            company = lead.company_id or self.env.company
            fallback_tz = lead.partner_id.tz or company.resource_calendar_id.tz or "UTC"
            try:
                info = phone.phone_info(lead.phone or "", company.country_id.code)
            except phone.InvalidPhone:
                lead.phone_kind = lead.phone_valid = False
                lead.customer_tz = fallback_tz
                continue
            lead.phone_kind = info.kind
            lead.phone_valid = True
            lead.customer_tz = info.tz or fallback_tz

    @api.depends("callback_attempt_ids.state", "callback_attempt_ids.planned_at")
    def _compute_callback_next_at(self):
        for lead in self:
            planned = lead.callback_attempt_ids.filtered(lambda a: a.state == "planned")
            lead.callback_next_at = min(planned.mapped("planned_at"), default=False)

    @api.depends("callback_attempt_ids.state")
    def _compute_callback_attempts_done(self):
        for lead in self:
            lead.callback_attempts_done = len(
                lead.callback_attempt_ids.filtered(lambda a: a.state == "done")
            )

    @api.onchange("phone")
    def _onchange_messenger_phone_check(self):
        if warning := self.env["res.partner"]._messenger_phone_warning(self.phone):
            return {"warning": warning}
        return None

    @api.model
    def _messenger_e164(self, vals):
        """vals with its phone in E.164 when it is a valid number; kept as typed otherwise."""
        if not vals.get("phone"):
            return vals
        return dict(vals, phone=phone.e164(vals["phone"], self.env.company.country_id.code))

    # ------------------------------------------------------------------
    # Plan
    # ------------------------------------------------------------------

    def _callback_start(self):
        """Plan the first call of open leads with a valid phone and no plan yet."""
        for lead in self.filtered(
            lambda lead: (
                lead.phone_valid
                and not lead.callback_state
                and lead.active
                and lead.probability < 100
                and (lead.company_id or self.env.company).messenger_callback
            )
        ):
            lead._callback_plan_next(fields.Datetime.now())

    def _callback_rules(self):
        company = self.company_id or self.env.company
        return callback.CallRules(
            window_start=callback.hours_to_time(company.messenger_callback_window_start),
            window_end=callback.hours_to_time(company.messenger_callback_window_end),
            mobile_per_day=company.messenger_callback_mobile_per_day,
            mobile_gap=datetime.timedelta(minutes=company.messenger_callback_mobile_gap),
            fixed_gap=datetime.timedelta(minutes=company.messenger_callback_fixed_gap),
        )

    def _callback_plan_next(self, now, exact=False):
        """Plan the next attempt: the next allowed slot, or `now` itself when `exact`."""
        self.ensure_one()
        made = self.callback_attempt_ids.filtered(lambda a: a.state == "done")
        slot = (
            now
            if exact
            else callback.next_slot(
                now,
                made.mapped("done_at"),
                self.phone_kind,
                self.customer_tz,
                self._callback_rules(),
            )
        )
        number = len(made) + 1
        user = self.user_id or self.team_id.user_id or self.env.user
        local = fields.Datetime.context_timestamp(self.with_context(tz=self.customer_tz), slot)
        activity = self.activity_schedule(
            "mail.mail_activity_data_call",
            date_deadline=fields.Datetime.context_timestamp(
                self.with_context(tz=user.tz or "UTC"), slot
            ).date(),
            summary=self.env._(
                "Call-back %(number)s of %(total)s at %(time)s customer's time",
                number=number,
                total=(self.company_id or self.env.company).messenger_callback_attempts,
                time=local.strftime("%H:%M"),
            ),
            user_id=user.id,
        )
        self.env["messenger.callback.attempt"].create(
            {
                "lead_id": self.id,
                "sequence": number,
                "planned_at": slot,
                "user_id": user.id,
                "activity_id": activity.id,
            }
        )
        self.callback_state = "planned"

    # ------------------------------------------------------------------
    # Outcomes (one click each in the lead)
    # ------------------------------------------------------------------

    def action_callback_reached(self):
        return self._callback_log("reached")

    def action_callback_no_answer(self):
        return self._callback_log("no_answer")

    def action_callback_busy(self):
        return self._callback_log("busy")

    def action_callback_wrong_number(self):
        return self._callback_log("wrong_number")

    def _callback_log(self, outcome, call_at=None):
        """Record how the current call went and plan what follows."""
        for lead in self:
            current = lead.callback_attempt_ids.filtered(lambda a: a.state == "planned")[:1]
            if not current:
                raise UserError(
                    self.env._("No call is planned for %(lead)s.", lead=lead.display_name)
                )
            now = fields.Datetime.now()
            current.write({"state": "done", "done_at": now, "outcome": outcome})
            label = dict(OUTCOMES)[outcome]
            if current.activity_id:
                current.activity_id.action_feedback(feedback=label)
            lead._callback_follow_up(outcome, now, call_at)
        return True

    def _callback_follow_up(self, outcome, now, call_at):
        company = self.company_id or self.env.company
        if outcome == "reached":
            self.callback_state = "reached"
        elif outcome == "wrong_number":
            self.callback_state = "wrong_number"
            self.message_post(
                body=Markup("<p>%s</p>")
                % self.env._(
                    "Wrong number: %(phone)s. Check it with the customer.", phone=self.phone
                ),
                subtype_xmlid="mail.mt_note",
            )
        elif outcome == "call_later" and call_at:
            self._callback_plan_next(call_at, exact=True)
        elif (
            len(self.callback_attempt_ids.filtered("done_at"))
            >= company.messenger_callback_attempts
        ):
            self._callback_exhausted()
        else:
            self._callback_plan_next(now)

    def _callback_exhausted(self):
        """Every attempt failed: a messenger chat gets the bot's message, else the lead moves."""
        self.callback_state = "exhausted"
        if self._callback_offer_messenger():
            return
        company = self.company_id or self.env.company
        if (
            company.messenger_callback_exhausted == "stage"
            and company.messenger_callback_exhausted_stage_id
        ):
            self.stage_id = company.messenger_callback_exhausted_stage_id
        else:
            self.action_set_lost(
                lost_reason_id=self.env.ref("messenger_leads.crm_lost_reason_unreachable").id
            )

    def _callback_offer_messenger(self):
        """Write to the customer in their messenger instead; True when done (see the bridge)."""
        return False

    def _callback_stop(self):
        """Won or lost: planned calls are cancelled with their activities."""
        planned = self.callback_attempt_ids.filtered(lambda a: a.state == "planned")
        planned.activity_id.unlink()
        planned.write({"state": "cancelled"})
        self.filtered(lambda lead: lead.callback_state == "planned").callback_state = "stopped"

    # ------------------------------------------------------------------
    # Cron: reminders and escalation
    # ------------------------------------------------------------------

    @api.model
    def _cron_messenger_callbacks(self):
        """Remind salespeople of due calls; escalate calls overdue to the team leader, once."""
        now = fields.Datetime.now()
        attempts = self.env["messenger.callback.attempt"]
        due = attempts.search(
            [("state", "=", "planned"), ("reminded_at", "=", False), ("planned_at", "<=", now)]
        )
        for user, user_due in due.grouped("user_id").items():
            if user:
                user._bus_send(
                    "simple_notification",
                    {
                        "type": "warning",
                        "sticky": True,
                        "title": self.env._("Call-backs due"),
                        "message": self.env._(
                            "%(count)s calls to make now: %(leads)s",
                            count=len(user_due),
                            leads=", ".join(user_due[:5].lead_id.mapped("display_name")),
                        ),
                    },
                )
        due.reminded_at = now
        overdue_after = datetime.timedelta(minutes=self.env.company.messenger_callback_overdue)
        overdue = attempts.search(
            [
                ("state", "=", "planned"),
                ("escalated_at", "=", False),
                ("planned_at", "<=", now - overdue_after),
            ]
        )
        overdue.lead_id._messenger_escalate_to_leaders(
            self.env._("A planned call-back is overdue: make sure the customer is called")
        )
        overdue.escalated_at = now
