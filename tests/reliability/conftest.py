import os

import pytest
from messenger_fixtures import BotAccount, FakeBotApi

from odoo_server import OdooServer


@pytest.fixture
def bot_api():
    with FakeBotApi() as api:
        yield api


@pytest.fixture
def workers_server(state_dir, request):
    """A dedicated Odoo with 2 workers that a suite may kill and restart."""
    server = OdooServer(
        os.environ["ODOO_CONF"],
        os.environ["ML_TEST_DB"],
        os.path.join(state_dir, "log", f"reliability-{request.node.name[:40]}.log"),
        workers=2,
    ).start()
    yield server
    server.stop()


@pytest.fixture
def bot(workers_server, bot_api, request):
    return BotAccount(
        workers_server, workers_server.rpc("admin", "admin"), bot_api, request.node.name[:30]
    )
