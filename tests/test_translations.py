"""Every user-facing string of the addons has its Russian translation, and the .pot is current."""

import ast
import pathlib
import re

import polib
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TRANSLATED = ["messenger_leads", "messenger_leads_bot", "messenger_leads_reports"]
# env._("...") and _("..."), with implicit concatenation over several lines
PYTHON_STRING = re.compile(r"""(?:\benv\._|(?<![\w.])_)\(\s*((?:"[^"]*"\s*)+)""")
LITERAL = re.compile(r'"([^"]*)"')


@pytest.mark.parametrize("module", TRANSLATED)
def test_every_string_is_translated_to_russian(module):
    template = polib.pofile(str(ROOT / module / "i18n" / f"{module}.pot"))
    russian = {
        entry.msgid: entry.msgstr for entry in polib.pofile(str(ROOT / module / "i18n" / "ru.po"))
    }
    untranslated = [entry.msgid for entry in template if not russian.get(entry.msgid)]
    assert not untranslated, f"{len(untranslated)} strings lack Russian: {untranslated[:5]}"


@pytest.mark.parametrize("module", TRANSLATED)
def test_template_has_the_code_strings(module):
    template = {
        entry.msgid for entry in polib.pofile(str(ROOT / module / "i18n" / f"{module}.pot"))
    }
    in_code = {
        "".join(ast.literal_eval(f'"{literal}"') for literal in LITERAL.findall(literals))
        for path in (ROOT / module).rglob("*.py")
        if "tests" not in path.parts
        for literals in PYTHON_STRING.findall(path.read_text())
    }
    missing = sorted(in_code - template)
    assert not missing, f"the .pot is stale, export it again: {missing[:5]}"
