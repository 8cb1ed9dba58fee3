"""The texts an administrator writes for the bot: {placeholders} filled in, nothing else."""

import re

# {{ and }} are a brace itself, {name} a placeholder; any other brace is a mistake
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class BotTextError(ValueError):
    """A text the bot cannot fill in; args[0] is the faulty part, e.g. '{minute}' or '{'."""


def render_bot_text(text, values):
    """`text` with its {placeholders} replaced by `values` (a dict of name: value).

    The syntax is str.format's, without its traps: only the given names, no attribute, index or
    format spec. Raise BotTextError naming the first placeholder that is not in `values`, or a
    lone brace: 'Within {minute} minutes' -> BotTextError('{minute}').
    """

    def fill(match):
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        if match.group(1) not in values:
            raise BotTextError(token)
        return str(values[match.group(1)])

    return _TOKEN.sub(fill, text or "")


def fill_template_values(spec, **known):
    """The texts of a messenger template's {{1}}, {{2}}... for one customer, from the account's
    comma-separated spec, each filled in as the bot's texts are (BotTextError, a ValueError,
    names a placeholder not in `known`); some messengers refuse empty ones."""
    values = [value.strip() for value in (spec or "").split(",") if value.strip()]
    return [render_bot_text(value, known) or "-" for value in values]
