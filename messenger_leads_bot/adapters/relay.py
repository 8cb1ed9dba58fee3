"""The polling relay: long-poll a messenger (one whose provider polls: Capabilities.polling)
and forward each update to Odoo's webhook, authenticated as the messenger's own would be.

The offset moves past an update only once Odoo answered 200 (stored) or 400/413 (never
storable), so an Odoo restart loses nothing: unconfirmed updates are fetched again and the
webhook ignores the ones it already has.
"""

import dataclasses
import json
import logging
import time
import typing

import requests

from .base import DeliveryError

_logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Webhook:
    """Odoo's webhook of one bot account, as the relay posts to it."""

    session: requests.Session
    url: str
    sign: typing.Callable  # body -> the headers that authenticate it (Provider.relay_headers)
    timeout: float = 30.0

    def forward(self, update):
        """POST one update; return the HTTP status, or 0 when Odoo is unreachable."""
        body = json.dumps(update).encode()
        try:
            response = self.session.post(
                self.url,
                data=body,
                headers={"Content-Type": "application/json", **self.sign(body)},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            _logger.info("relay: Odoo unreachable at %s: %s", self.url, exc)
            return 0
        return response.status_code


def relay_once(client, webhook, offset, poll_timeout, stop, *, backoff=1.0):
    """Fetch one batch and forward it in order; return the next offset.

    A 5xx or an unreachable Odoo is retried (with backoff, until `stop()`) without moving on.
    """
    try:
        updates = client.get_updates(offset, poll_timeout)
    except DeliveryError as exc:
        _logger.warning("relay: fetching updates failed: %s", exc)
        time.sleep(max(backoff, exc.retry_after))
        return offset
    for update in updates:
        following = client.offset_after(update)
        delay = backoff
        while True:
            if stop():
                return offset
            status = webhook.forward(update)
            if status == 200:
                break
            if status in (400, 413):
                _logger.warning(
                    "relay: Odoo refused an update (%s); polling on from offset %s",
                    status,
                    following,
                )
                break
            if status == 403:
                raise PermissionError(f"Odoo refused the relay's secret for {webhook.url}")
            time.sleep(delay)
            delay = min(delay * 2, 30)
        offset = following
    return offset
