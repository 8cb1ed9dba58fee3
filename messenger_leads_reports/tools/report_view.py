"""The SQL view behind a report model, built from its parts."""

from odoo import tools
from odoo.tools import SQL


def create_view(report):
    """(Re)create the view of `report` (a model with _auto = False) from its _select, _from,
    _join and _where, as Odoo's crm.activity.report builds its own: an addon extends a part."""
    tools.drop_view_if_exists(report.env.cr, report._table)
    report.env.cr.execute(
        SQL(
            "CREATE OR REPLACE VIEW %s AS (%s %s %s %s)",
            SQL.identifier(report._table),
            report._select(),
            report._from(),
            report._join(),
            report._where(),
        )
    )
