"""Fixtures for the end-to-end tests. setup/test.sh exports what they need."""

import os

import pytest

from odoo_server import OdooServer

REQUIRED = ("ODOO_DIR", "ODOO_CONF", "ML_TEST_DB", "ML_INSTALL_LOG")


@pytest.hookimpl(trylast=True)  # after -m and -k deselected what will not run
def pytest_collection_modifyitems(config, items):
    """Tests marked `pure` run anywhere; the others need what setup/test.sh sets up."""
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing and any(item.get_closest_marker("pure") is None for item in items):
        raise pytest.UsageError(
            f"missing {', '.join(missing)}: run the tests with setup/test.sh, which sets them up"
        )


@pytest.fixture(scope="session")
def state_dir():
    return os.path.dirname(os.environ["ODOO_CONF"])


@pytest.fixture(scope="session")
def odoo(state_dir):
    """The test database served by a real Odoo with 2 workers, as in production."""
    server = OdooServer(
        os.environ["ODOO_CONF"],
        os.environ["ML_TEST_DB"],
        os.path.join(state_dir, "log", "e2e-odoo.log"),
        workers=2,
    ).start()
    yield server
    server.stop()
