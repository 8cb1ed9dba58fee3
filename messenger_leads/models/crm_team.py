import collections
import datetime

from odoo import api, fields, models

from ..tools import assignment
from .messenger_channel import LIVE_CHAT_CODES

QUEUE_PAGE = 20  # waiting leads looked at per step when a place frees up


class CrmTeam(models.Model):
    _inherit = "crm.team"

    messenger_resource_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working hours",
        default=lambda self: self.env.company.resource_calendar_id,
        help="Hours the team answers customers in: "
        "first-response deadlines count only these hours.",
    )
    messenger_response_target_minutes = fields.Integer(
        string="First response target (min)",
        help="Working minutes this team has to answer a new lead; "
        "0 uses the target of the lead's channel.",
    )
    messenger_assignment = fields.Selection(
        [("none", "Odoo's own assignment"), *assignment.SELECTION],
        string="Assign new leads",
        default="none",
        required=True,
        help="Even: to who waited longest for a lead. Least loaded: fewest open leads. Weighted "
        "by conversion: a salesperson converting twice as well carries twice the open leads. "
        "Minimum conversion: those below the threshold get none, the rest by load. Manager "
        "rating: the best rated first. Hot leads: hot leads to the better-converting half of "
        "the team, the others to the rest. All assign at once, only to members at work with "
        "room; Odoo's own periodic assignment then skips this team.",
    )
    messenger_conversion_days = fields.Integer(
        string="Conversion over (days)",
        default=90,
        help="Conversion rates count the leads each member received in this many last days.",
    )
    messenger_min_conversion = fields.Float(
        string="Minimum conversion (%)",
        default=10.0,
        help="With 'Minimum conversion', members converting less get no new leads "
        "(members without leads in the period still get some, to earn a rate).",
    )
    messenger_require_presence = fields.Boolean(
        string="Live chats only to people online",
        default=True,
        help="Leads from messengers and the website chat go only to members online in Odoo "
        "now, within their live chat limit.",
    )
    messenger_nobody_available = fields.Selection(
        [("leader", "Give it to the team leader"), ("queue", "Leave it unassigned")],
        string="When nobody is available",
        default="leader",
        required=True,
        help="Unassigned leads wait in the 'Unassigned' filter; the leader gets an activity.",
    )

    messenger_prefer_in_time = fields.Boolean(
        string="Prefer who can answer in time",
        default=True,
        help="Among the members with room, a lead goes first to those who can answer before "
        "its deadline: at work until then, and with fewer leads at risk than the limit below.",
    )
    messenger_max_at_risk = fields.Integer(
        string="Leads at risk that hold a member back",
        default=2,
        help="A member with this many leads whose deadline is at risk or missed gets a new lead "
        "only when nobody else can answer it in time. 0: not counted.",
    )
    messenger_reassign_after_minutes = fields.Integer(
        string="Reassign a breached lead after (min)",
        help="When a lead missed its first-response deadline and nobody answered this many "
        "minutes after the escalation, it goes to the next available salesperson. 0: never.",
    )

    def _messenger_conversion_rates(self, users):
        """{user id: won / received} over the team's window, for users who received leads."""
        self.ensure_one()
        if not users:
            return {}
        since = fields.Datetime.now() - datetime.timedelta(days=self.messenger_conversion_days)
        leads = self.env["crm.lead"].with_context(active_test=False)
        domain = [
            ("team_id", "=", self.id),
            ("user_id", "in", users.ids),
            ("create_date", ">=", since),
        ]
        received = dict(leads._read_group(domain, ["user_id"], ["__count"]))
        won = dict(
            leads._read_group([*domain, *leads._messenger_won_domain()], ["user_id"], ["__count"])
        )
        return assignment.conversion_rates(
            {user.id: count for user, count in received.items()},
            {user.id: count for user, count in won.items()},
        )

    # ------------------------------------------------------------------
    # Assignment engine
    # ------------------------------------------------------------------

    def _messenger_assign_leads(self, leads, exclude_users, from_queue=False):
        """Give `leads` (all of this team) to its members at once, as the team's strategy says;
        return whether anyone still has room.

        `from_queue`: the leads wait in the queue (logged and told to the leader when they
        came): those nobody takes are left as they are, and once nobody has room the rest are
        not even looked at.

        Concurrency: the team's member rows are locked and the chosen members' rows are
        written, so a worker assigning at the same moment fails to serialise and Odoo replays
        it with the loads this one committed: nobody goes over capacity.
        """
        self.ensure_one()
        self.env.cr.execute(
            "SELECT id FROM crm_team_member WHERE crm_team_id = %s ORDER BY id FOR UPDATE",
            (self.id,),
            log_exceptions=False,  # a lost race is replayed by Odoo, not an error
        )
        now = fields.Datetime.now()
        deadlines = self.messenger_prefer_in_time and [
            deadline for deadline in leads.mapped("messenger_answer_deadline") if deadline
        ]
        members, work_ends = self.crm_team_member_ids._messenger_available(
            now, exclude_users, until=max(deadlines or [now])
        )
        users = members.user_id
        rule = assignment.STRATEGIES[self.messenger_assignment]
        counts_at_risk = self.messenger_prefer_in_time and self.messenger_max_at_risk
        figures = {
            "loads": leads._messenger_open_loads(users),
            "chats": leads._messenger_live_chat_loads(users),
            "rates": self._messenger_conversion_rates(users) if rule.by_conversion else {},
            "work_ends": work_ends,
            "at_risk": leads._messenger_at_risk_loads(users) if counts_at_risk else {},
        }
        online = users.filtered(lambda user: user.im_status == "online")
        owners = leads._messenger_previous_owners(users)
        # Built once and updated after each choice: a backlog of 10,000 leads reads no member
        # field again. A live chat goes to members online (if the team asks) with chat room.
        pools = {
            live: members.filtered(
                lambda member, live=live: (
                    not live or member.user_id in online or not self.messenger_require_presence
                )
            )._messenger_candidates(live=live, **figures)
            for live in (False, True)
        }
        choices = []
        for order, lead in enumerate(leads):
            if from_queue and not _anyone_has_room(pools):
                break
            live = lead.messenger_channel_id.code in LIVE_CHAT_CODES
            chosen, reason = self._messenger_choose(lead, pools[live], owners)
            if chosen:
                # ordered within the same second, for the next lead and the next batch
                at = now + datetime.timedelta(microseconds=order + 1)
                pools = {
                    pool_live: assignment.took_lead(pool, chosen.user_id, live, at)
                    for pool_live, pool in pools.items()
                }
            elif from_queue:
                continue
            choices.append((lead, chosen and chosen.user_id, reason))
        members._messenger_keep_turns(pools[False])
        self._messenger_apply_assignments(leads, choices)
        return _anyone_has_room(pools)

    def _messenger_choose(self, lead, candidates, owners):
        """(candidate or None, reason kept to translate): the returning customer's salesperson
        first."""
        _ = assignment.keep
        with_room = {c.user_id: c for c in candidates if c.has_room}
        owner = owners.get(lead.partner_id.id)
        if owner in with_room:
            return with_room[owner], _("Returning customer: back to their salesperson")
        hot = lead.messenger_qualification_grade == "hot"
        in_time = {
            "deadline": self.messenger_prefer_in_time and lead.messenger_answer_deadline,
            "max_at_risk": self.messenger_max_at_risk,
        }
        chosen = assignment.choose(
            candidates,
            self.messenger_assignment,
            min_conversion=self.messenger_min_conversion / 100,
            hot=hot,
            **in_time,
        )
        if not chosen:
            return None, _("Nobody available (at work, with room)")
        reason = assignment.reason(
            _, self.messenger_assignment, chosen, with_room.values(), hot, **in_time
        )
        return chosen, reason

    def _messenger_apply_assignments(self, leads, choices):
        """Write the choices (one write per salesperson) and the log; the fallback for the rest.

        choices: [(lead, user id or None, reason kept to translate, see tools/assignment.py)].
        """
        _ = assignment.keep
        leader = self.user_id
        to_leader = self.messenger_nobody_available == "leader" and leader
        logged = []
        by_user = collections.defaultdict(list)
        for lead, chosen_id, why in choices:
            user_id, reason = chosen_id, why
            if not user_id and to_leader:
                user_id = leader.id
                reason = _("%(reason)s: to the team leader", reason=why)
            elif not user_id and leader and not lead._messenger_waits_in_queue(leader):
                lead.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self._messenger_queue_summary(),
                    user_id=leader.id,
                )
            by_user[user_id or False].append(lead.id)
            logged.append((lead, user_id or False, reason))
        # One write per salesperson, without a chatter message and an e-mail per lead (the
        # assignment log on the lead tells who and why); the salesperson follows their leads.
        quiet = leads.with_context(tracking_disable=True)
        for user_id, lead_ids in by_user.items():
            assigned = quiet.browse(lead_ids)
            user = self.env["res.users"].browse(user_id)
            steady = assigned._messenger_keeping_team_and_company(self, user)
            # The team and the company stay (see above): the ORM would still recompute every
            # field that depends on them, and check every company field of every lead, for
            # thousands of leads; protect those fields and check the one written, user_id.
            with self.env.protecting(leads._messenger_team_and_company_fields(), steady):
                steady.write({"user_id": user_id})
            (assigned - steady).write({"user_id": user_id})
            if user:
                assigned.message_subscribe(partner_ids=user.partner_id.ids)
        self.env["messenger.assignment.log"]._record(leads, self, logged)

    def _messenger_queue_summary(self):
        return self.env._("A new lead waits in the queue: nobody is available")

    def _messenger_hand_out_queue(self):
        """Someone's room freed (a lead of theirs closed or handed on): the leads waiting in
        these teams' queues go out at once, oldest first, as far as the room goes."""
        nobody = self.env["res.users"]
        for team in self.sudo():
            # a page at a time: a place freed among a thousand waiting leads reads a page
            after_id = 0
            while page := team._messenger_queued_leads(after_id, QUEUE_PAGE):
                if not team._messenger_assign_leads(page, nobody, from_queue=True):
                    break
                after_id = page[-1].id

    def _messenger_queued_leads(self, after_id=0, limit=None):
        """The leads waiting in these teams' queues, in arrival order (those after `after_id`,
        at most `limit`): unassigned open leads of the teams that use our engine and leave a
        lead unassigned when nobody has room."""
        queueing = self.filtered(
            lambda team: (
                team.messenger_assignment not in (False, "none")
                and team.messenger_nobody_available == "queue"
            )
        )
        leads = self.env["crm.lead"].sudo()
        if not queueing:
            return leads
        return leads.search(
            [
                ("team_id", "in", queueing.ids),
                ("user_id", "=", False),
                ("id", ">", after_id),
                *leads._messenger_open_domain(),
            ],
            order="id",
            limit=limit,
        )

    def action_messenger_assign_backlog(self):
        """Assign the team's unassigned open leads now."""
        leads = self.env["crm.lead"]
        leads = leads.search(
            [("team_id", "in", self.ids), ("user_id", "=", False), *leads._messenger_open_domain()],
            order="id",
        )
        leads._messenger_assign()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._(
                    "%(count)s leads assigned.", count=len(leads.filtered("user_id"))
                ),
                "type": "success",
            },
        }

    @api.onchange("messenger_assignment")
    def _onchange_messenger_assignment(self):
        # our engine assigns on arrival: Odoo's periodic assignment must not reshuffle
        if self.messenger_assignment != "none":
            self.assignment_optout = True

    def write(self, vals):
        if vals.get("messenger_assignment", "none") != "none":
            vals = dict(vals, assignment_optout=True)
        return super().write(vals)


def _anyone_has_room(pools):
    return any(candidate.has_room for pool in pools.values() for candidate in pool)
