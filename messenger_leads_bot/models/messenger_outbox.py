import datetime
import logging
import time
from urllib.parse import quote, urlencode

from odoo import _, api, fields, models
from odoo.modules.registry import Registry
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..adapters import PROVIDERS, DeliveryError, OutboundFile, OutboundMessage, file_kind
from .messenger_queue import retry_delay

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# the outbox's pace, from the messengers' Capabilities: a round as often as the quickest allows
# two messages to one chat, each chat's next message after its own messenger's interval
ROUND_SECONDS = min(p.capabilities.per_chat_interval for p in PROVIDERS.values())
LONGEST_INTERVAL = max(p.capabilities.per_chat_interval for p in PROVIDERS.values())
DELIVERY_PROGRESS = ["queued", "sent", "delivered", "read"]
DELIVERY_ATTEMPTS_AFTER_COMMIT = 3  # workers delivering at once may collide on the same rows
CRON_XMLID = "messenger_leads_bot.ir_cron_messenger_outbox_deliver"


def round_cap(capabilities, round_seconds=ROUND_SECONDS):
    """How many messages one bot account of a messenger of these capabilities sends in a round
    of `round_seconds`: its messages a second over the round, at least one."""
    return max(1, int(capabilities.per_bot_per_second * round_seconds))


# each bot account's messages a round, by provider: its own messenger's limit, whatever the
# other accounts send
PER_ROUND = {code: round_cap(provider.capabilities) for code, provider in PROVIDERS.items()}


def precise_now():
    """Now in UTC to the microsecond (fields.Datetime.now() drops them): rounds of half a
    second pace the chats."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class MessengerOutbox(models.Model):
    """A message waiting for, or done with, delivery to a customer's messenger."""

    _name = "messenger.outbox"
    _inherit = ["messenger.queue"]
    _description = "Messenger outbox"
    _order = "id"
    _queue_chat_columns = ("conversation_id",)
    _queue_waiting_state = "queued"

    conversation_id = fields.Many2one(
        "messenger.conversation", required=True, ondelete="cascade", index=True
    )
    account_id = fields.Many2one(related="conversation_id.account_id", store=True)
    text = fields.Text(help="The text sent; with a file, its caption.")
    attachment_id = fields.Many2one(
        "ir.attachment",
        string="File",
        ondelete="cascade",
        help="A file of the salesperson's message, sent after its text as a message of its own.",
    )
    buttons = fields.Json(help="Reply keyboard rows of (key, label).")
    template = fields.Json(
        help="A messenger-approved template ({name, language, values}) sent instead of the text: "
        "WhatsApp allows nothing else 24 hours after the customer's last message."
    )
    origin = fields.Selection([("person", "Person"), ("bot", "Bot")], required=True)
    mail_message_id = fields.Many2one("mail.message", ondelete="set null", index="btree_not_null")
    state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed")],
        default="queued",
        required=True,
    )
    sent_at = fields.Datetime()
    external_message_id = fields.Char(index="btree_not_null")  # statuses refer to it

    def _schedule_delivery(self):
        """Send these rows right after the current transaction commits, and only the rows this
        transaction queued (as mail.mail does): a request waits for no other chat or account.
        Whatever else waits is left to the cron, which is triggered for it, and so are files:
        an upload of up to 100 MB never holds the request of the salesperson who posted it."""
        self.mail_message_id._messenger_set_delivery_state("queued")
        postcommit = self.env.cr.postcommit
        if "messenger.outbox" not in postcommit.data:
            queued_ids = postcommit.data["messenger.outbox"] = []
            dbname = self.env.cr.dbname

            @postcommit.add
            def deliver():
                # What triggered it is committed: a failure here must not fail the request, it
                # only leaves the messages to the cron.
                for _attempt in range(DELIVERY_ATTEMPTS_AFTER_COMMIT):
                    try:
                        with Registry(dbname).cursor() as cr:
                            outbox = self.env(cr=cr)["messenger.outbox"]
                            outbox.browse(queued_ids)._deliver_after_commit()
                        return
                    except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                        continue  # another worker changed rows of this round: look again
                    except Exception:
                        _logger.exception("messenger outbox: delivery after commit failed")
                        return

        postcommit.data["messenger.outbox"].extend(
            self.filtered(lambda row: not row.attachment_id).ids
        )
        return self

    def _deliver_after_commit(self, auto_commit=True):
        """Send these rows, queued by a transaction that committed, then wake the cron for
        anything still queued: other transactions' rows, and these when one waits for a retry or
        behind an earlier message of its chat."""
        self._deliver_due(auto_commit=auto_commit, only_ids=self.ids)
        self.flush_model(["state", "next_attempt_at"])
        self.env.cr.execute(
            "SELECT MIN(next_attempt_at) FROM messenger_outbox WHERE state = 'queued'"
        )
        (next_attempt_at,) = self.env.cr.fetchone()
        if next_attempt_at:
            self._wake_cron(max(next_attempt_at, fields.Datetime.now()))

    @api.model
    def _wake_cron(self, at):
        self.env.ref(CRON_XMLID)._trigger(at)

    @api.model
    def _cron_deliver(self):
        self._deliver_due()

    @api.model
    def _deliver_due(self, auto_commit=True, max_seconds=10.0, only_ids=None):
        """Send what is due, oldest first, in order per chat, within each messenger's rate
        limits (see ROUND_SECONDS); only the rows of `only_ids` when given.

        Each round claims the first queued message of each chat, at most PER_ROUND of each bot
        account by its own messenger's limit (see _queue_claim), and sends them, each committed
        as sent at once (see _send_one_by_one), so a delivered message is never sent twice; a
        chat's next message waits for its messenger's interval (see _pace_next) and goes in a
        later round, and so do an account's messages past its cap.
        """
        deadline = time.monotonic() + max_seconds
        waiting = self.browse()
        while time.monotonic() < deadline:
            round_at = precise_now()
            began = time.monotonic()
            claim = self._queue_claim_fresh if auto_commit else self._queue_claim
            due = claim(round_at, None, only_ids, PER_ROUND)
            if auto_commit:
                due._send_one_by_one()
            else:
                for account, rows in due.grouped("account_id").items():
                    rows._send_round(account)
            waiting |= due._pace_next(round_at)
            if only_ids is not None:
                waiting = waiting.filtered(lambda row: row.id in only_ids)
            if not auto_commit:
                return
            self.env.cr.commit()  # pylint: disable=invalid-commit
            waiting.invalidate_recordset(["state", "next_attempt_at"])  # other workers' doing
            soon = round_at + datetime.timedelta(seconds=LONGEST_INTERVAL)
            waiting = waiting.filtered_domain(
                [("state", "=", "queued"), ("next_attempt_at", "<=", soon)]
            )
            capped = any(
                len(rows) >= PER_ROUND[account.provider]
                for account, rows in due.grouped("account_id").items()
            )
            if not waiting and not capped:
                return  # anything else is due later: the cron is woken for it
            time.sleep(max(0.0, ROUND_SECONDS - (time.monotonic() - began)))

    def _send_one_by_one(self):
        """Send these claimed rows each in a transaction of its own: a send is committed as sent
        at once, so a worker killed or a database lost in the middle of a round sends again
        only the message it was sending (Telegram takes no key against a double), not the
        round. After the first commit each row is locked again, and left to whoever took it
        meanwhile."""
        for index, row in enumerate(self):
            if index and not row._still_queued():
                continue
            row._send_round(row.account_id)
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _still_queued(self):
        """Whether this row is still queued, locked now for this transaction (no other worker
        holds it nor sent it meanwhile)."""
        try:
            self.env.cr.execute(
                "SELECT id FROM messenger_outbox WHERE id = %s AND state = 'queued'"
                " FOR UPDATE SKIP LOCKED",
                [self.id],
            )
            return bool(self.env.cr.fetchone())
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:  # sent by another worker since the snapshot
            self.env.cr.rollback()
            return False

    def _pace_next(self, round_at):
        """The next messages of the chats these rows left the queue of (sent, or failed for
        good) in the round of `round_at` wait for their messenger's interval between two
        messages to one chat. Return them."""
        done = self.filtered(lambda row: row.state != "queued")
        following = self.browse()
        for account, rows in done.grouped("account_id").items():
            interval = account._provider().capabilities.per_chat_interval
            pace = round_at + datetime.timedelta(seconds=interval)
            paced = self.search(
                [
                    ("state", "=", "queued"),
                    ("conversation_id", "in", rows.conversation_id.ids),
                    ("next_attempt_at", "<=", pace),
                ]
            )
            paced.next_attempt_at = pace
            following |= paced
        return following

    def _send_round(self, account):
        """Send these rows of one account, one per chat (see _queue_claim)."""
        blocked = self.filtered("conversation_id.blocked")
        for row in blocked:
            row._fail(_("The customer blocked the bot."))
        sendable = self - blocked
        if not sendable:
            return
        # a row's key is unique across databases too: a copy of this one (a test server) may
        # write from the same bot, and a messenger that dedupes by key would drop its messages
        database = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        messages = [
            OutboundMessage(
                row.conversation_id.external_chat_id,
                row.text or "",
                row.buttons,
                row.template,
                row._outbound_file(account),
                human_agent=row.origin == "person" and row.conversation_id._past_reply_window(),
                key=f"{database}:{row.id}",
            )
            for row in sendable
        ]
        try:
            results = account._client().send_texts(messages)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # another worker renewed the access token at the same moment: retried with theirs
        except Exception as exc:  # one account's trouble must not stop the others
            # a missing token, a messenger's odd answer: these rows count a failed attempt, the
            # other accounts' rows of the round are sent and committed as usual
            _logger.exception("messenger outbox: account %s could not send", account.id)
            results = [DeliveryError(str(exc) or exc.__class__.__name__)] * len(sendable)
        for row, result in zip(sendable, results, strict=True):
            if isinstance(result, DeliveryError):
                row._record_failure(result)
            else:
                row._record_sent(result.external_message_id)

    def _outbound_file(self, account):
        """The row's file as the account's messenger takes it (see _queue_outbound), or None."""
        attachment = self.attachment_id.sudo()
        if not attachment:
            return None
        capabilities = account._provider().capabilities
        # its size and type were checked when it was queued; were they changed since, the
        # messenger refuses it: a permanent error, shown in the thread
        size = attachment.file_size
        kind = file_kind(capabilities, attachment.name, attachment.mimetype, size)[0] or "document"
        if capabilities.files_by_url:
            # The messenger's servers fetch the file themselves, without a session: a URL with
            # this attachment's own access token (as portal links give), which opens that file
            # and nothing else, never the bare /web/content/<id> of guessable ids. The name
            # ends the path: some take a picture only with its extension there. The token was
            # made when the file was queued: one made now would not be committed yet when the
            # messenger fetches the file, during the call.
            token = attachment.generate_access_token()[0]
            url = "{}/web/content/{}/{}?{}".format(
                attachment.get_base_url(),
                attachment.id,
                quote(attachment.name, safe=""),
                urlencode({"access_token": token}),
            )
            content = None
        else:
            url, content = "", attachment.raw
        return OutboundFile(attachment.name, attachment.mimetype, size, kind, content, url)

    def _record_sent(self, external_message_id):
        self.write(
            {
                "state": "sent",
                "sent_at": fields.Datetime.now(),
                "external_message_id": external_message_id,
                "error": False,
            }
        )
        # a message that went in several rows (parts, files) stays failed when one part failed
        self.mail_message_id.filtered(
            lambda message: message.messenger_delivery_state != "failed"
        )._messenger_set_delivery_state("sent")

    @api.model
    def _apply_status(self, account, event):
        """What the messenger says became of a message we sent: delivered, read or failed. A
        status without a message id is of every message sent to the chat up to its date (a
        watermark: Messenger's "read up to")."""
        if event.message_id:
            rows = self.search(
                [("account_id", "=", account.id), ("external_message_id", "=", event.message_id)],
                limit=1,
            )
        elif event.delivery_status in DELIVERY_PROGRESS:
            # only the messages not that far yet: a long chat's history is not read again
            earlier = DELIVERY_PROGRESS[: DELIVERY_PROGRESS.index(event.delivery_status)]
            rows = self.search(
                [
                    ("account_id", "=", account.id),
                    ("conversation_id.external_chat_id", "=", event.chat_id),
                    ("state", "=", "sent"),
                    ("sent_at", "<=", event.date.replace(tzinfo=None)),
                    ("mail_message_id.messenger_delivery_state", "in", earlier),
                ]
            )
        else:
            return
        for row in rows:
            row._apply_delivery_status(event)

    def _apply_delivery_status(self, event):
        if event.delivery_status == "failed":
            self._fail(event.text or _("the messenger could not deliver it"))
            return
        state = self.mail_message_id.messenger_delivery_state or "sent"
        if state not in DELIVERY_PROGRESS:  # another part of the message failed: that shows
            return
        known = DELIVERY_PROGRESS.index(state)
        if event.delivery_status in DELIVERY_PROGRESS[known + 1 :]:  # statuses come unordered
            self.mail_message_id._messenger_set_delivery_state(event.delivery_status)

    def _record_failure(self, error):
        attempts = self.attempts + 1
        if error.permanent or attempts >= MAX_ATTEMPTS:
            if error.blocked:
                self.conversation_id._mark_blocked(
                    _("The customer blocked the bot: messages cannot be delivered.")
                )
            self.attempts = attempts
            self._fail(str(error))
            return
        delay = retry_delay(attempts, error.retry_after)
        self.write(
            {
                "attempts": attempts,
                "error": str(error),
                "next_attempt_at": fields.Datetime.now() + datetime.timedelta(seconds=delay),
            }
        )
        _logger.info("messenger outbox %s: %s; retry in %.0f s", self.id, error, delay)
        self._wake_cron(self.next_attempt_at)

    def _fail(self, reason):
        """A permanent failure: shown in the thread and on the lead, never retried."""
        if self.attachment_id:
            reason = f"{self.attachment_id.sudo().name}: {reason}"
        self.write({"state": "failed", "error": reason})
        self.mail_message_id._messenger_set_delivery_state("failed")
        conversation = self.conversation_id
        notice = _(
            "Not delivered to %(channel)s: %(reason)s",
            channel=conversation.channel_id.name,
            reason=reason,
        )
        conversation._post_notice(notice)
        if conversation.lead_id:
            conversation.lead_id.message_post(body=notice, subtype_xmlid="mail.mt_note")

    @api.autovacuum
    def _gc_sent(self):
        """Personal data is not kept forever: delivered messages go after the retention period
        (Settings); failed ones stay until handled."""
        self.env["res.company"]._messenger_purge_expired(self, "sent")
