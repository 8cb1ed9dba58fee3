"""Run a function inside Odoo, in a process of its own, on the test database.

For what a test cannot do over HTTP: several cursors of one process in threads (real, committed
transactions racing each other), or a failure injected into one transaction. The function gets
Odoo's registry of the database and keyword arguments (JSON), and returns something JSON.

    run_in_odoo("odoo_side.py", "deliver_at_once", account_id=7)

runs tests/odoo_side.py's deliver_at_once(registry, account_id=7) under `python odoo_process.py`.
"""

import importlib.util
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULT = "odoo_process result: "


def run_in_odoo(file, function, timeout=300, **kwargs):
    """Return what `function` of tests/`file` returned, run in Odoo on ML_TEST_DB."""
    done = subprocess.run(
        [sys.executable, __file__, os.path.join(HERE, file), function, json.dumps(kwargs)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    results = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode or not results:
        raise RuntimeError(f"{file}:{function} failed in Odoo:\n{done.stdout}\n{done.stderr}")
    return json.loads(results[-1][len(RESULT) :])


def _main(path, function, kwargs):
    sys.path.insert(0, os.environ["ODOO_DIR"])
    import odoo  # noqa: PLC0415 - only in this process, and only once ODOO_DIR is on the path

    odoo.tools.config.parse_config(["-c", os.environ["ODOO_CONF"], "--log-level", "warn"])
    registry = odoo.modules.registry.Registry(os.environ["ML_TEST_DB"])
    spec = importlib.util.spec_from_file_location("odoo_side", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = getattr(module, function)(registry, **json.loads(kwargs))
    print(RESULT + json.dumps(result), flush=True)


if __name__ == "__main__":
    _main(*sys.argv[1:4])
