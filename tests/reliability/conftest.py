import pytest
from messenger_fixtures import BotAccount, FakeBotApi


@pytest.fixture
def bot_api():
    with FakeBotApi() as api:
        yield api


@pytest.fixture
def workers_server(serve_test_database, request):
    """A dedicated Odoo with 2 workers that a suite may kill and restart."""
    with serve_test_database(f"reliability-{request.node.name[:40]}.log") as server:
        yield server


@pytest.fixture
def second_server(serve_test_database, request):
    """Another Odoo server on the same database, as a second machine behind a load balancer."""
    with serve_test_database(f"reliability-second-{request.node.name[:33]}.log") as server:
        yield server


@pytest.fixture
def bot(workers_server, bot_api, request):
    return BotAccount(
        workers_server, workers_server.rpc("admin", "admin"), bot_api, request.node.name[:30]
    )
