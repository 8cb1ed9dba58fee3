"""Which links the bot may turn into public short links, and their codes."""

import secrets
from urllib.parse import parse_qsl, urlsplit

# Parameter names that carry a secret: access_token, api_key, signature, X-Amz-Signature,
# password, client_secret, auth, oauth_token, session_id, hash (Odoo's notification links)...
SECRET_PARAMETER_WORDS = ("token", "key", "sig", "pass", "secret", "auth", "session", "hash")
MIN_CODE_LENGTH = 16  # Odoo's own codes start at 3 characters: all tried in minutes


def carries_credentials(url):
    """True when a link holds a secret: a user:password@ or a parameter named like a token,
    key, signature, password... Such a link must never become a public short link."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a broken [IPv6] host: not ours to judge, leave it as it is
        return True
    if "@" in parts.netloc:
        return True
    parameters = parse_qsl(parts.query, keep_blank_values=True)
    parameters += parse_qsl(parts.fragment, keep_blank_values=True)  # #access_token=...
    return any(
        word in name.lower() for name, _value in parameters for word in SECRET_PARAMETER_WORDS
    )


def is_guessable(code):
    return len(code or "") < MIN_CODE_LENGTH


def unguessable_code():
    """A short-link code nobody finds by trying codes: 22 characters, 128 random bits."""
    return secrets.token_urlsafe(MIN_CODE_LENGTH)
