"""What every benchmark needs: an Odoo environment on the benchmark database, timing, output."""

import contextlib
import functools
import os
import sys
import time

sys.path.insert(0, os.environ["ODOO_DIR"])

import odoo  # importable only once ODOO_DIR is on the path

SCALE = float(os.environ.get("ML_BENCH_SCALE", "1"))  # < 1 for a quick run: fewer of everything


@functools.cache
def _configure():
    odoo.tools.config.parse_config(["-c", os.environ["ODOO_CONF"], "--log-level", "warn"])


@contextlib.contextmanager
def odoo_env(rollback=True):
    """An Odoo superuser environment on the benchmark database; rolled back by default."""
    _configure()
    registry = odoo.modules.registry.Registry(os.environ["ML_BENCH_DB"])
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        try:
            yield env
        finally:
            if rollback:
                cr.rollback()


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


@functools.cache
def durability():
    """How the server commits, read from it: every figure depends on it."""
    _configure()
    with odoo.sql_db.db_connect(os.environ["ML_BENCH_DB"]).cursor() as cr:
        cr.execute("SELECT current_setting('fsync'), current_setting('synchronous_commit')")
        fsync, synchronous_commit = cr.fetchone()
    return f"fsync={fsync}, synchronous_commit={synchronous_commit}"


def report(name, value, unit, goal):
    """Print one figure in the format setup/bench.sh promises, with the server's durability."""
    print(f"bench {name}: {value:.4g} {unit} (goal {goal}) [{durability()}]", flush=True)


def count(cr, query, *params):
    """The one number a query returns."""
    cr.execute(query, params)
    return cr.fetchone()[0]
