from odoo import models

from odoo.addons.mail.tools.discuss import Store

NEW_MESSAGE = "discuss.channel/new_message"
CONTEXT_KEY = "messenger_new_messages"


def batched_new_messages(env):
    """The batch keeping back the new-message notifications of what is posted in `env`, or None.
    Only the intake puts one in a context: a JSON-RPC caller's value under the key is no batch."""
    batched = env.context.get(CONTEXT_KEY)
    return batched if isinstance(batched, BatchedNewMessages) else None


class BatchedNewMessages:
    """The new-message notifications of the messages a batch posts into Discuss threads, kept
    until the batch ends and then sent, in the order posted, with the same payloads Discuss
    sends. Bridging runs in an environment with one in its context (CONTEXT_KEY).

    Discuss builds a message's data for its notification as soon as it is posted, a dozen small
    queries each (author, attachments, subtype, ratings...). Built when the batch ends, they read
    all of the batch's messages in a few queries. Only what Discuss's _notify_thread sends is
    kept back, and only while a posting is under way (see DiscussChannel._notify_thread)."""

    def __init__(self):
        self.posting = {}  # thread id: the message whose notification it is sending
        self.kept = []  # (thread, message, payload) in the order posted

    def builds_later(self, message):
        return message.id in {posted.id for posted in self.posting.values()}

    def keep(self, thread, payload):
        """Keep the payload of `thread`'s message being posted; False when none is."""
        message = self.posting.pop(thread.id, None)
        if message is None:
            return False
        self.kept.append((thread, message, payload))
        return True

    def send(self):
        """Send the kept notifications of the messages that still exist (those of an update
        that failed went with its savepoint), their data built together."""
        kept, self.kept = self.kept, []
        if not kept:
            return
        existing = kept[0][1].browse([message.id for _thread, message, _payload in kept]).exists()
        for thread, message, payload in kept:
            if message not in existing:
                continue
            # as Discuss built it, in the poster's environment, with the batch's messages read
            # together
            data = Store(
                message.with_context(**{CONTEXT_KEY: None}).with_prefetch(existing.ids)
            ).get_result()
            thread.with_context(**{CONTEXT_KEY: None})._bus_send(
                NEW_MESSAGE, {**payload, "data": data}
            )


class DiscussChannel(models.Model):
    # One model, one file per concern: the notifications of a batch's messages (see
    # BatchedNewMessages); discuss_channel.py has the rest.
    _inherit = "discuss.channel"  # pylint: disable=consider-merging-classes-inherited

    def _notify_thread(self, message, msg_vals=False, **kwargs):
        batched = batched_new_messages(self.env)
        if batched is None:
            return super()._notify_thread(message, msg_vals=msg_vals, **kwargs)
        batched.posting[self.id] = message
        try:
            return super()._notify_thread(message, msg_vals=msg_vals, **kwargs)
        finally:
            batched.posting.pop(self.id, None)

    def _bus_send(self, notification_type, message, /, *, subchannel=None):
        batched = batched_new_messages(self.env)
        if (
            batched is not None
            and notification_type == NEW_MESSAGE
            and subchannel is None
            and len(self) == 1
            and batched.keep(self, message)
        ):
            return
        super()._bus_send(notification_type, message, subchannel=subchannel)
