"""Fixtures for the end-to-end tests. setup/test.sh exports what they need."""

import contextlib
import os

import pytest
from messenger_fixtures import BotAccount, FakeBotApi

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
def serve_test_database(state_dir):
    """`with serve_test_database(log name, workers) as server:` a real Odoo on the test
    database, on a free loopback port, logging to .state/log/<log name>, stopped at the end."""

    @contextlib.contextmanager
    def serve(log_name, workers=2):
        server = OdooServer(
            os.environ["ODOO_CONF"],
            os.environ["ML_TEST_DB"],
            os.path.join(state_dir, "log", log_name),
            workers=workers,
        ).start()
        try:
            yield server
        finally:
            server.stop()

    return serve


@pytest.fixture(scope="session")
def odoo(serve_test_database):
    """The test database served by a real Odoo with 2 workers, as in production."""
    with serve_test_database("e2e-odoo.log") as server:
        yield server


@pytest.fixture(scope="module")
def bot_api():
    with FakeBotApi() as api:
        yield api


@pytest.fixture(scope="module")
def bot(odoo, bot_api, request):
    """A Telegram bot with a team of its own for the test module, on the shared server."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    return BotAccount(odoo, odoo.rpc("admin", "admin"), bot_api, name)
