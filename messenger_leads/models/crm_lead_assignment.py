from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import assignment


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

    messenger_queue_position = fields.Integer(
        string="Place in the queue",
        compute="_compute_messenger_queue_position",
        search="_search_messenger_queue_position",
        help="Where the lead waits in its team's queue (nobody had room), in arrival order: "
        "1 goes out first. 0: not waiting.",
    )

    @api.depends("user_id", "team_id", "active", "stage_id")
    def _compute_messenger_queue_position(self):
        positions = {}
        waiting = self.filtered(lambda lead: lead.team_id and not lead.user_id)
        for queue in waiting.team_id.sudo()._messenger_queued_leads().grouped("team_id").values():
            positions.update({lead_id: place for place, lead_id in enumerate(queue.ids, 1)})
        for lead in self:
            lead.messenger_queue_position = positions.get(lead.id, 0)

    def _search_messenger_queue_position(self, operator, value):
        """Only "in a queue" (> 0, != 0) and "in no queue" (= 0) are searched."""
        if (operator, value) not in ((">", 0), ("!=", 0), ("=", 0)):
            raise UserError(
                self.env._("The place in the queue can only be searched as waiting or not.")
            )
        queued = self.env["crm.team"].sudo().search([])._messenger_queued_leads()
        return [("id", "not in" if operator == "=" else "in", queued.ids)]

    @api.depends("messenger_assignment_log_ids")
    @api.depends_context("lang")
    def _compute_messenger_assignment_reason(self):
        latest = {}
        for log in self.messenger_assignment_log_ids.sorted("id"):
            latest[log.lead_id.id] = log
        for lead in self:
            log = latest.get(lead.id)
            lead.messenger_assignment_reason = log._reason_text() if log else False

    def _messenger_assign(self, exclude_users=None):
        """Give each lead of a team using our engine to a salesperson, at once.

        Leads that already have a salesperson keep them unless that salesperson is excluded
        (escalation). The team's engine chooses: crm.team._messenger_assign_leads.
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
            team._messenger_assign_leads(leads, exclude_users)

    def _messenger_waits_in_queue(self, leader):
        """Whether the leader already has this lead's "waits in the queue" to-do: the backlog
        cron and each freed room try the queue again, the leader hears of a lead once."""
        summary = self.team_id._messenger_queue_summary()
        return bool(
            self.activity_ids.filtered(
                lambda activity: activity.user_id == leader and activity.summary == summary
            )
        )

    def _messenger_transfer(self, user, by, note):
        """`by` hands the leads to `user`, saying why: the reason goes to the assignment log."""
        _ = assignment.keep
        reason = _("Transferred by %(user)s: %(note)s", user=by.name, note=note)
        self.write({"user_id": user.id})
        # what the new salesperson changes (crm's team, its properties) is computed now, by
        # the caller's rights, not when the request flushes as one who may no longer read it
        self.flush_recordset()
        self.env["messenger.assignment.log"].create(
            [
                {
                    "lead_id": lead.id,
                    "company_id": lead.company_id.id,
                    "team_id": lead.team_id.id,
                    "user_id": user.id,
                    "strategy": "transfer",
                    "reason": assignment.reason_text(assignment.untranslated, reason),
                    "reason_kept": reason,
                }
                for lead in self
            ]
        )

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
        # crm.team._messenger_apply_assignments protects the team and company of leads it gives to a
        # salesperson of their company: nothing to check then. Only code can protect fields;
        # a context key would be anyone's over RPC.
        kept = (self._fields["team_id"], self._fields["company_id"])
        if self and all(self.env.is_protected(field, lead) for field in kept for lead in self):
            return None
        return super()._check_company(fnames)

    @api.model
    def _messenger_open_loads(self, users):
        """Open leads per user, as a dict with every user in it."""
        loads = dict.fromkeys(users.ids, 0)
        if users:
            groups = self._read_group(
                [("user_id", "in", users.ids), *self._messenger_open_domain()],
                ["user_id"],
                ["__count"],
            )
            loads.update({user.id: count for user, count in groups})
        return loads

    @api.model
    def _messenger_at_risk_loads(self, users):
        """Open leads per user whose running deadline (first or next response) is at risk or
        already missed; users without any are left out."""
        if not users:
            return {}
        groups = self._read_group(
            [
                ("user_id", "in", users.ids),
                ("messenger_answer_deadline", "!=", False),
                ("messenger_answer_sla_state", "in", ("at_risk", "breached")),
                *self._messenger_open_domain(),
            ],
            ["user_id"],
            ["__count"],
        )
        return {user.id: count for user, count in groups}

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
                *self._messenger_open_domain(),
            ],
            order="id",
        )._messenger_assign()
