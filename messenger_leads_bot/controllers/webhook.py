import json
import logging

from odoo import http
from odoo.http import request

from ..adapters import PROVIDERS

_logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # messenger notifications are small; anything larger is not one


def _answer(status, text):
    return request.make_response(text, headers=[("Content-Type", "text/plain")], status=status)


def _account(account_id, provider):
    """The active account of that id and messenger, with what checking a request reads of it,
    or None (one query: a webhook call pays for each)."""
    accounts = request.env["messenger.bot.account"].sudo()
    account = accounts.search_fetch(
        [("id", "=", account_id), ("provider", "=", provider)],
        ["provider", *accounts._credential_fields],
    )
    return account or None


def _read_body(account_id):
    """(body, None), or (None, a 413 answer) for a body over MAX_BODY_BYTES: refused by its
    Content-Length before any of it is read; one without (chunked) is read to one byte past
    the limit and no further."""
    httprequest = request.httprequest
    if "chunked" in (httprequest.headers.get("Transfer-Encoding") or "").lower():
        _read_chunked_body(httprequest)
    elif (httprequest.content_length or 0) > MAX_BODY_BYTES:
        return None, _too_large(account_id)
    # cached: Odoo replays the request when it loses a race for the same chat
    body = httprequest.get_data()
    return (body, None) if len(body) <= MAX_BODY_BYTES else (None, _too_large(account_id))


def _read_chunked_body(httprequest):
    """Keep at most MAX_BODY_BYTES + 1 bytes of a chunked body as the request's data: werkzeug
    would read it to its end, however long. Odoo's wrapper does not show the stream."""
    wrapped = httprequest._HTTPRequest__wrapped
    if getattr(wrapped, "_cached_data", None) is not None:
        return  # read already, by an earlier try of the same request
    body = bytearray()
    while len(body) <= MAX_BODY_BYTES:
        chunk = wrapped.stream.read(MAX_BODY_BYTES + 1 - len(body))
        if not chunk:
            break
        body += chunk
    wrapped._cached_data = bytes(body)


def _too_large(account_id):
    _logger.info("messenger webhook %s: refused, body over %s bytes", account_id, MAX_BODY_BYTES)
    return _answer(413, "update too large")


def _read_json(account_id, body):
    """(data, None) of a JSON body, or (None, a 400 answer)."""
    try:
        return json.loads(body), None
    except (ValueError, RecursionError):
        _logger.info("messenger webhook %s: body is not JSON", account_id)
        return None, _answer(400, "body is not JSON")


def _store(account, data, external_id):
    body = account._provider().stored_body(data)
    stored = request.env["messenger.update"].sudo()._receive(account, body, external_id)
    return _answer(200, account._provider().accepted_answer(data, stored))


class MessengerWebhook(http.Controller):
    """Where messengers deliver, one route for all (see adapters' Provider): their webhooks and
    the polling relay."""

    @http.route(
        "/messenger_leads/<string:provider>/<int:account_id>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def receive(self, provider, account_id, **_kwargs):
        """413 when too large (before it is read), 403 when not the messenger's (nothing is
        stored), 400 when not JSON or not its kind of notification; a confirmation of the
        webhook answered and not stored; else stored once."""
        body, refusal = _read_body(account_id)
        if refusal:
            return refusal
        account = _account(account_id, provider)
        credentials = account and account._credentials()
        headers = request.httprequest.headers
        query = request.httprequest.args
        if not account or not account._provider().authentic(headers, body, credentials, query):
            _logger.info(
                "%s webhook %s: refused, wrong or missing secret or signature", provider, account_id
            )
            return _answer(403, "forbidden")
        data, refusal = _read_json(account_id, body)
        if refusal:
            return refusal
        if error := account._provider().shape_error(data):
            _logger.info("%s webhook %s: %s", provider, account_id, error)
            return _answer(400, error)
        confirmation = account._provider().verification(data, credentials)
        if confirmation is not None:
            return _answer(200, confirmation)
        stored = _store(account, data, account._provider().delivery_key(data, body))
        welcome = account._welcome_reply(data)
        return request.make_json_response(welcome) if welcome else stored

    @http.route(
        "/messenger_leads/<string:provider>/<int:account_id>",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def verify(self, provider, account_id, **params):
        """The messenger's check of the webhook, where it makes one (WhatsApp's hub.challenge);
        there is nothing to GET on the others."""
        if provider not in PROVIDERS or not PROVIDERS[provider].handshakes:
            return request.not_found()
        account = _account(account_id, provider)
        answer = account._provider().handshake(params, account._credentials()) if account else None
        if answer is None:
            _logger.info("%s webhook %s: verification refused", provider, account_id)
            return _answer(403, "forbidden")
        return _answer(200, answer)
