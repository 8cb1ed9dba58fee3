"""Start a real Odoo server on loopback for end-to-end tests, and talk JSON-RPC to it."""

import os
import signal
import socket
import subprocess
import sys
import time

import requests


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """An odoo-bin process serving one database, with the config set-up wrote for it, and its
    cron workers as in production: they process what the webhooks stored."""

    def __init__(self, conf, database, log_path, workers=0, cron_workers=2):
        self.conf = conf
        self.database = database
        self.log_path = log_path
        self.workers = workers
        self.cron_workers = cron_workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout=120):
        odoo_bin = os.path.join(os.environ["ODOO_DIR"], "odoo-bin")
        cmd = [
            sys.executable,
            odoo_bin,
            "-c",
            self.conf,
            "-d",
            self.database,
            "--http-port",
            str(self.port),
            "--gevent-port",
            str(free_port()),
            "--workers",
            str(self.workers),
            "--logfile",
            self.log_path,
            "--max-cron-threads",
            str(self.cron_workers),
        ]
        self.process = subprocess.Popen(cmd, start_new_session=True)
        try:
            return self._wait_until_serving(timeout)
        except BaseException:
            self.stop()  # never leave a half-started Odoo behind
            raise

    def _wait_until_serving(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Odoo exited with {self.process.returncode}, see {self.log_path}"
                )
            try:
                # the first page of a fresh database builds its assets: give it time
                if requests.get(f"{self.url}/web/login", timeout=30).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(
            f"Odoo did not answer on {self.url} within {timeout}s, see {self.log_path}"
        )

    def stop(self, sig=signal.SIGTERM, grace=20):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=grace)

    def rpc(self, login, password):
        return JsonRpc(self.url, self.database, login, password)


class JsonRpc:
    """Odoo's external JSON-RPC API, as an integration would use it."""

    def __init__(self, url, database, login, password):
        self.url = url
        self.database = database
        self.password = password
        self.uid = self._call("common", "authenticate", database, login, password, {})
        if not self.uid:
            raise PermissionError(f"login {login!r} refused")

    def _call(self, service, method, *args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
        }
        answer = requests.post(f"{self.url}/jsonrpc", json=payload, timeout=60).json()
        if "error" in answer:
            raise RuntimeError(answer["error"]["data"]["message"])
        return answer["result"]

    def call(self, model, method, *args, **kwargs):
        return self._call(
            "object",
            "execute_kw",
            self.database,
            self.uid,
            self.password,
            model,
            method,
            list(args),
            kwargs,
        )
