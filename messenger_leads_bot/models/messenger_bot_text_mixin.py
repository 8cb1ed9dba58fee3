import logging

from odoo import _, api, models
from odoo.exceptions import ValidationError

from ..tools.bot_text import BotTextError, render_bot_text

_logger = logging.getLogger(__name__)


class MessengerBotTextMixin(models.AbstractModel):
    """Texts an administrator writes for the bot to send, in every language (and the WhatsApp
    template's variables): their {placeholders} are checked when saved and filled in when sent,
    by the one renderer of tools/bot_text.py."""

    _name = "messenger.bot.text.mixin"
    _description = "Messenger bot texts"

    # the translated text fields: the placeholders each may use
    _messenger_bot_texts = {}

    @api.constrains(lambda self: self._messenger_bot_texts)
    def _check_messenger_bot_texts(self):
        """A text with a placeholder it cannot fill ({minute} for {minutes}) is refused, in
        whichever installed language it was written."""
        languages = dict(self.env["res.lang"].get_installed())
        for record in self:
            for fname, placeholders in self._messenger_bot_texts.items():
                # a text that is not translated has its one value
                translations = record.get_field_translations(fname)[0] or [
                    {"lang": self.env.lang or "en_US", "value": record[fname]}
                ]
                for translation in translations:
                    try:
                        render_bot_text(translation["value"], dict.fromkeys(placeholders, ""))
                    except BotTextError as exc:
                        raise ValidationError(
                            _(
                                "%(text)s (%(language)s) has %(mistake)s, which the bot cannot "
                                "fill in. This text can use: %(placeholders)s. For a brace "
                                "itself, write it twice: {{ or }}.",
                                text=self._fields[fname]._description_string(self.env),
                                language=languages.get(translation["lang"], translation["lang"]),
                                mistake=exc.args[0],
                                placeholders=", ".join(f"{{{name}}}" for name in placeholders)
                                or _("no placeholders"),
                            )
                        ) from exc

    def _messenger_bot_text(self, fname, **values):
        """The text `fname` in the context's language with its placeholders filled in; the default
        text when the saved one cannot be (written before it was checked, or by SQL)."""
        self.ensure_one()
        try:
            return render_bot_text(self[fname], values)
        except BotTextError as exc:
            _logger.warning(
                "%s %s: %s has %s, the default text is sent instead",
                self._name,
                self.id,
                fname,
                exc.args[0],
            )
            return render_bot_text(self._fields[fname].default(self), values)
