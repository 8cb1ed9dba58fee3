"""What a message written in Odoo reads like in a messenger: plain text, no markup.

Telegram is sent without parse_mode, WhatsApp and Viber take plain text too: formatting would
show as stray characters or be refused, so bold and italic become plain, a link keeps its
address, and line breaks, paragraphs and lists keep their lines.
"""

from lxml.html import defs, fragment_fromstring

# each on lines of its own (a table: a cell a line); <del> and <ins> are inline in Odoo's text
BLOCKS = defs.block_tags - {"del", "ins"}
SKIPPED = frozenset({"head", "img", "script", "style", "template", "title"})
# links Discuss makes to its own records (mentions): the customer gets the name, not the link
MENTIONS = frozenset({"o_mail_redirect", "o_channel_redirect", "o-discuss-mention"})
SENT_LINKS = ("http://", "https://", "mailto:", "tel:")


def message_text(body):
    """The plain text of an HTML message body, as the messengers show it.

    '<p>Hello <b>Maria</b>,<br>the <a href="https://x.example/c">catalogue</a></p>'
    -> 'Hello Maria,\\nthe catalogue (https://x.example/c)'. A text posted as such (escaped,
    its line breaks as they are) comes back unchanged.
    """
    if not body or not body.strip():
        return ""
    parts = []
    _add_content(fragment_fromstring(str(body), create_parent="div"), parts)
    return "".join(parts).replace("\N{NO-BREAK SPACE}", " ").strip()


def _add_content(element, parts):
    """Add the text of an element and of its children (not its tail) to parts."""
    if element.tag == "br":
        parts.append("\n")
        return
    if element.tag in SKIPPED:
        return
    if element.tag == "a":
        parts.append(_link_text(element))
        return
    block = element.tag in BLOCKS
    if block:
        _new_line(parts)
    if element.tag == "li":
        parts.append(_list_marker(element))
    _add_text(element.text, parts)
    for child in element:
        if isinstance(child.tag, str):  # not a comment
            _add_content(child, parts)
        _add_text(child.tail, parts)
    if block:
        _new_line(parts)


def _add_text(text, parts):
    # the line breaks that only lay out the markup between blocks are not the message's
    if text and not (text.isspace() and "\n" in text and parts and parts[-1].endswith("\n")):
        parts.append(text)


def _new_line(parts):
    if parts and not parts[-1].endswith("\n"):
        parts.append("\n")


def _link_text(link):
    text = link.text_content()
    href = (link.get("href") or "").strip()
    if MENTIONS.intersection(link.classes) or not href.lower().startswith(SENT_LINKS):
        return text
    label = text.strip().rstrip("/")
    if label in ("", href.rstrip("/"), href.split(":", 1)[1].strip("/")):
        return text.strip() or href  # the address is the text: once is enough
    return f"{text} ({href})"


def _list_marker(item):
    indent = "  " * max(sum(1 for _list in item.iterancestors("ul", "ol")) - 1, 0)
    parent = item.getparent()
    if parent is not None and parent.tag == "ol":
        return f"{indent}{sum(1 for _li in item.itersiblings('li', preceding=True)) + 1}. "
    return f"{indent}• "


def first_line(text, limit=120):
    """The first non-empty line of a text, cut at `limit` characters with an ellipsis."""
    line = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    return line if len(line) <= limit else f"{line[: limit - 1].rstrip()}…"
