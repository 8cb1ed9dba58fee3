"""18.0.1.1.0: our stored fields on core models carry the messenger_ prefix.

Each field keeps its data, its ir.model.fields row (tracking values, defaults and selections
point at it) and its xml id: renamed in place before the module loads, so the ORM finds the
field it declares instead of creating a new one and dropping the old one at the end.
"""

import logging
import re

from lxml import etree
from psycopg2.extras import Json

from odoo.tools import SQL
from odoo.tools.sql import column_exists, rename_column

_logger = logging.getLogger(__name__)

RENAMED = {
    "crm.lead": [
        "channel_id",
        "phone_kind",
        "phone_valid",
        "customer_tz",
        "callback_state",
        "callback_attempt_ids",
        "callback_next_at",
        "callback_attempts_done",
        "qualification_score",
        "qualification_grade",
        "first_message_at",
        "response_deadline",
        "sla_at_risk_at",
        "first_response_at",
        "response_minutes",
        "response_band",
        "sla_state",
        "sla_escalated_at",
        "sla_reassigned_at",
        "answer_deadline",
        "answer_sla_state",
    ],
    "crm.team": ["resource_calendar_id"],
}


OUR_MODULES = ["messenger_leads", "messenger_leads_bot", "messenger_leads_reports"]
# the views an x2many field may hold: their fields are another model's
SUBVIEW_TAGS = {"list", "tree", "form", "kanban", "graph", "pivot", "calendar", "activity"}


def migrate(cr, version):
    for model, names in RENAMED.items():
        renames = {old: f"messenger_{old}" for old in names}
        for old, new in renames.items():
            rename_field(cr, model, old, new)
        rename = _renamer(renames)
        rename_in_views(cr, model, rename)
        rename_in_filters(cr, model, rename)


def _renamer(renames):
    """A function renaming the fields of `renames` ({old: new}) where a text names them: not
    a longer name, nor a field of another model reached by a dotted path."""
    word = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, renames)) + r")\b")
    return lambda text: word.sub(lambda match: renames[match.group(1)], text)


def rename_in_filters(cr, model, rename):
    """Saved filters (favorites) of `model`: their domain, context (group by) and order."""
    cr.execute("SELECT id, domain, context, sort FROM ir_filters WHERE model_id = %s", [model])
    for filter_id, *texts in cr.fetchall():
        renamed = [rename(text) if text else text for text in texts]
        if renamed != texts:
            cr.execute(
                "UPDATE ir_filters SET domain = %s, context = %s, sort = %s WHERE id = %s",
                [*renamed, filter_id],
            )


def rename_in_views(cr, model, rename):
    """Our views of `model`, as stored, name the new fields: the update validates each view it
    loads combined with the others, still stored as the previous release wrote them."""
    cr.execute(
        """SELECT view.id, view.arch_db FROM ir_ui_view view
             JOIN ir_model_data data ON data.model = 'ir.ui.view' AND data.res_id = view.id
            WHERE data.module = ANY(%s) AND view.model = %s""",
        [OUR_MODULES, model],
    )
    for view_id, arches in cr.fetchall():
        renamed = {lang: _rename_arch(arch, rename) for lang, arch in arches.items()}
        if renamed != arches:
            cr.execute("UPDATE ir_ui_view SET arch_db = %s WHERE id = %s", [Json(renamed), view_id])


def _rename_arch(arch, rename):
    root = etree.fromstring(arch)
    _rename_element(root, rename)
    return etree.tostring(root, encoding="unicode")


def _rename_element(element, rename):
    for attribute, value in element.attrib.items():
        element.set(attribute, rename(value))
    if element.tag == "field" and any(child.tag in SUBVIEW_TAGS for child in element):
        return
    for child in element:
        if isinstance(child.tag, str):  # not a comment
            _rename_element(child, rename)


def rename_field(cr, model, old, new):
    """Rename a stored field of `model` declared by this module: column, index, foreign key,
    ir.model.fields, its and its selection values' xml ids, export lists."""
    table = model.replace(".", "_")
    if column_exists(cr, table, old) and not column_exists(cr, table, new):
        rename_column(cr, table, old, new)
        # Odoo finds a field's index and foreign key by name: renamed, not made twice
        cr.execute("SELECT 1 FROM pg_class WHERE relname = %s", [f"{table}__{old}_index"])
        if cr.rowcount:
            cr.execute(
                SQL(
                    "ALTER INDEX %s RENAME TO %s",
                    SQL.identifier(f"{table}__{old}_index"),
                    SQL.identifier(f"{table}__{new}_index"),
                )
            )
        cr.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [f"{table}_{old}_fkey"])
        if cr.rowcount:
            cr.execute(
                SQL(
                    "ALTER TABLE %s RENAME CONSTRAINT %s TO %s",
                    SQL.identifier(table),
                    SQL.identifier(f"{table}_{old}_fkey"),
                    SQL.identifier(f"{table}_{new}_fkey"),
                )
            )
    cr.execute(
        "UPDATE ir_model_fields SET name = %s WHERE model = %s AND name = %s",
        [new, model, old],
    )
    prefix = f"field_{table}__"
    cr.execute(
        """UPDATE ir_model_data SET name = %s
            WHERE module = 'messenger_leads' AND model = 'ir.model.fields' AND name = %s""",
        [prefix + new, prefix + old],
    )
    cr.execute(
        """UPDATE ir_model_data SET name = %s || substr(name, %s)
            WHERE module = 'messenger_leads' AND model = 'ir.model.fields.selection'
              AND name LIKE %s""",
        [
            f"selection__{table}__{new}__",
            len(f"selection__{table}__{old}__") + 1,
            _like_prefix(f"selection__{table}__{old}__"),
        ],
    )
    cr.execute(
        """UPDATE ir_exports_line line SET name = regexp_replace(line.name, %s, %s)
             FROM ir_exports export
            WHERE line.export_id = export.id AND export.resource = %s""",
        [rf"^{old}(/|$)", rf"{new}\1", model],
    )
    _logger.info("%s.%s renamed to %s", model, old, new)


def _like_prefix(text):
    """A LIKE pattern matching what starts with `text` (its _ taken literally)."""
    return text.replace("_", "\\_") + "%"
