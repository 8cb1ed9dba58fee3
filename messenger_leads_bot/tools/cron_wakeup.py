"""Wake Odoo's cron workers over one kept connection per process.

Odoo's ir.cron._notifydb sends its NOTIFY over a new connection to the `postgres` database each
time (its pool never keeps those): a connection and a PostgreSQL backend started and ended for
every webhook call, which cost more than storing the update. A process keeps one here instead,
made again after a fork or when PostgreSQL dropped it.
"""

import os
import threading

import psycopg2
from psycopg2 import sql

from odoo import sql_db

from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION

_lock = threading.Lock()
_kept = {}  # pid -> the connection of that process
# a connection a forked child inherited: closing it would end its parent's too, so it is kept
_inherited = []


def notify_cron_workers(dbname):
    """NOTIFY the cron workers listening on `cron_trigger` that `dbname` has a job due."""
    query = sql.SQL("SELECT {}('cron_trigger', %s)").format(sql.Identifier(ODOO_NOTIFY_FUNCTION))
    with _lock:
        for attempt in (1, 2):
            try:
                with _connection().cursor() as cr:
                    cr.execute(query, [dbname])
                return
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                _kept.pop(os.getpid()).close()
                if attempt == 2:
                    raise


def _connection():
    pid = os.getpid()
    cnx = _kept.get(pid)
    if cnx is None or cnx.closed:
        _inherited.extend(other for owner, other in _kept.items() if owner != pid)
        _kept.clear()
        _dbname, info = sql_db.connection_info_for("postgres")
        cnx = _kept[pid] = psycopg2.connect(**info)
        cnx.autocommit = True
    return cnx
