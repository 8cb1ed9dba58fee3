import hmac
import json
import logging

from odoo import http
from odoo.http import request

from ..adapters import SHAPE_ERRORS, viber, whatsapp

_logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # messenger notifications are small; anything larger is not one


def _answer(status, text):
    return request.make_response(text, headers=[("Content-Type", "text/plain")], status=status)


def _account(account_id, provider):
    account = request.env["messenger.bot.account"].sudo().browse(account_id).exists()
    return account if account and account.active and account.provider == provider else None


def _same(given, expected):
    return bool(expected) and hmac.compare_digest((given or "").encode(), expected.encode())


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


def _signed_json(account_id, provider, header, secret_field, signature_valid):
    """(account, body, data) of a POST whose `header` signs the raw body with the account's
    `secret_field`, or (None, None, the error response): 413 when too large (before it is
    read), 403 when unsigned, 400 when not JSON."""
    body, refusal = _read_body(account_id)
    if refusal:
        return None, None, refusal
    account = _account(account_id, provider)
    signature = request.httprequest.headers.get(header)
    if not account or not signature_valid(body, signature, account[secret_field]):
        _logger.info("%s webhook %s: refused, wrong or missing signature", provider, account_id)
        return None, None, _answer(403, "forbidden")
    data, refusal = _read_json(account_id, body)
    return (None, None, refusal) if refusal else (account, body, data)


def _misshapen(account, data):
    """A 400 answer when the body is not the messenger's kind of notification, else None."""
    error = SHAPE_ERRORS[account.provider](data)
    if not error:
        return None
    _logger.info("%s webhook %s: %s", account.provider, account.id, error)
    return _answer(400, error)


def _store(account, data, external_id):
    stored = request.env["messenger.update"].sudo()._receive(account, data, external_id)
    return _answer(200, "ok" if stored else "duplicate")


class MessengerWebhook(http.Controller):
    """Where messengers deliver: Telegram's webhook and its polling relay, WhatsApp, Viber."""

    @http.route(
        "/messenger_leads/telegram/<int:account_id>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def telegram(self, account_id, **_kwargs):
        account = _account(account_id, "telegram")
        secret = request.httprequest.headers.get("X-Telegram-Bot-Api-Secret-Token")
        if not account or not _same(secret, account.webhook_secret):
            _logger.info("telegram webhook %s: refused, wrong or missing secret", account_id)
            return _answer(403, "forbidden")
        body, refusal = _read_body(account_id)
        if refusal:
            return refusal
        data, refusal = _read_json(account_id, body)
        if refusal:
            return refusal
        return _misshapen(account, data) or _store(account, data, str(data["update_id"]))

    @http.route(
        "/messenger_leads/whatsapp/<int:account_id>",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def whatsapp_verify(self, account_id, **params):
        """Meta's subscription check: echo the challenge when the verify token matches."""
        account = _account(account_id, "whatsapp")
        if (
            not account
            or params.get("hub.mode") != "subscribe"
            or not _same(params.get("hub.verify_token"), account.webhook_secret)
        ):
            _logger.info("whatsapp webhook %s: verification refused", account_id)
            return _answer(403, "forbidden")
        return _answer(200, params.get("hub.challenge", ""))

    @http.route(
        "/messenger_leads/whatsapp/<int:account_id>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def whatsapp(self, account_id, **_kwargs):
        account, body, data = _signed_json(
            account_id, "whatsapp", "X-Hub-Signature-256", "app_secret", whatsapp.signature_valid
        )
        if not account:
            return data
        return _misshapen(account, data) or _store(account, data, whatsapp.delivery_key(data, body))

    @http.route(
        "/messenger_leads/viber/<int:account_id>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def viber(self, account_id, **_kwargs):
        account, _body, data = _signed_json(
            account_id, "viber", "X-Viber-Content-Signature", "token", viber.signature_valid
        )
        if not account:
            return data
        refusal = _misshapen(account, data)
        if refusal:
            return refusal
        stored = _store(account, data, viber.delivery_key(data))
        welcome = account._viber_welcome(data)
        return request.make_json_response(welcome) if welcome else stored
