import hmac
import json
import logging

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # Telegram updates are small; anything larger is not one


def _answer(status, text):
    return request.make_response(text, headers=[("Content-Type", "text/plain")], status=status)


class MessengerWebhook(http.Controller):
    """One entry for every update: Telegram's webhook and the polling relay both post here."""

    @http.route(
        "/messenger_leads/telegram/<int:account_id>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def telegram(self, account_id, **_kwargs):
        account = request.env["messenger.bot.account"].sudo().browse(account_id).exists()
        secret = request.httprequest.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if (
            not account
            or not account.active
            or account.provider != "telegram"
            or not hmac.compare_digest(secret.encode(), (account.webhook_secret or "").encode())
        ):
            _logger.info("telegram webhook %s: refused, wrong or missing secret", account_id)
            return _answer(403, "forbidden")
        # cached: Odoo replays the request when it loses a race for the same chat
        body = request.httprequest.get_data()
        if len(body) > MAX_BODY_BYTES:
            return _answer(413, "update too large")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            _logger.info("telegram webhook %s: body is not JSON", account_id)
            return _answer(400, "body is not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            _logger.info("telegram webhook %s: not a Telegram update", account_id)
            return _answer(400, "not a Telegram update: no integer update_id")
        stored = request.env["messenger.update"].sudo()._receive(account, data)
        return _answer(200, "ok" if stored else "duplicate")
