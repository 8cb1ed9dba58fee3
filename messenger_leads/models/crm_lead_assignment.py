import collections
import datetime

from odoo import api, fields, models

from ..tools import assignment
from .messenger_channel import LIVE_CHAT_CODES


class CrmLead(models.Model):
    # One model, one file per concern, as Odoo's mail does for res.partner: see crm_lead.py.
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    messenger_assignment_log_ids = fields.One2many(
        "messenger.assignment.log", "lead_id", string="Assignment log", readonly=True
    )
    messenger_assignment_reason = fields.Char(
        string="Why this salesperson",
        compute="_compute_messenger_assignment_reason",
        help="How the assignment engine chose the salesperson (see the team's settings).",
    )

    @api.depends("messenger_assignment_log_ids")
    def _compute_messenger_assignment_reason(self):
        latest = {}
        for log in self.messenger_assignment_log_ids.sorted("id"):
            latest[log.lead_id.id] = log.reason
        for lead in self:
            lead.messenger_assignment_reason = latest.get(lead.id, False)

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
