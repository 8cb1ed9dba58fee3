"""What Meta's messengers share (WhatsApp, Instagram Direct, Facebook Messenger): one app on the
Graph API, its GET handshake with our verify token, bodies signed with the app's secret, its
media hosts and its errors."""

import hashlib
import hmac

from .base import DeliveryError, same_secret

GRAPH_API_URL = "https://graph.facebook.com/v21.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
# where the Graph API's media URLs point (lookaside.fbsbx.com) and Meta's CDN they may lead to
MEDIA_DOMAINS = ("fbsbx.com", "fbcdn.net")
# the Graph API's throttling: application, user, page and per-hour call limits
RATE_LIMIT_CODES = (4, 17, 32, 613)


def signature_valid(body, header, app_secret):
    """X-Hub-Signature-256: "sha256=" and the HMAC-SHA256 of the raw body with the app secret."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].encode(), expected.encode())


def authentic(headers, body, credentials):
    """A notification is Meta's when signed with the account's app secret."""
    return signature_valid(body, headers.get(SIGNATURE_HEADER), credentials.app_secret)


def handshake(params, credentials):
    """Meta's subscription check: echo the challenge when the verify token matches."""
    if params.get("hub.mode") != "subscribe" or not same_secret(
        params.get("hub.verify_token"), credentials.webhook_secret
    ):
        return None
    return params.get("hub.challenge", "")


def _matches(code, subcode, known):
    return code in known or (code, subcode) in known


def graph_error(
    label,
    status_code,
    body,
    *,
    rate_limits=RATE_LIMIT_CODES,
    closed_window=(),
    window_note="",
    blocked=(),
):
    """The DeliveryError of a Graph API error answer: throttling (429, `rate_limits`) and 5xx
    are tried again; a closed reply window (`closed_window`, said with
    `window_note`) and anything else are permanent, and `blocked` ones mark the customer as
    having blocked the business. Codes are given as `code` or `(code, subcode)`."""
    error = (body or {}).get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    text = f"{label} {status_code}: {error.get('message') or 'no details'} (code {code})"
    if _matches(code, subcode, closed_window):
        return DeliveryError(f"{text}: {window_note}", permanent=True)
    if status_code == 429 or status_code >= 500 or _matches(code, subcode, rate_limits):
        return DeliveryError(text)
    return DeliveryError(text, permanent=True, blocked=_matches(code, subcode, blocked))
