"""The README's screenshots, taken from the demo as its users see it.

Start the demo first (`setup/run.sh`), then:
    .venv/bin/python setup/screenshots.py [ODOO_URL] [DATABASE]
(defaults: http://127.0.0.1:8069 and messenger_leads). Each page is opened in headless Chromium
as the demo user who works there, and saved as docs/screenshots/NAME.png.
"""

import base64
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import requests
import websocket

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
WIDTH, HEIGHT = 1440, 900
SETTLE_SECONDS = 4  # the web client's first render, its RPCs and the bus


def pages(lead_id):
    """(file name, login, path, height): what each user works in."""
    return [
        (
            "inbox",
            "anna",
            "/odoo/action-messenger_leads_bot.messenger_conversation_action_incoming",
            HEIGHT,
        ),
        ("lead", "anna", f"/odoo/crm/{lead_id}", 1400),  # down to the chat's composer
        (
            "dashboard",
            "lead",
            "/odoo/action-messenger_leads_reports.messenger_report_dashboard_action",
            HEIGHT,
        ),
    ]


def session_cookie(url, database, login):
    """A logged-in session of `login` (the demo users' password is their login)."""
    http = requests.Session()
    answer = http.post(
        f"{url}/web/session/authenticate",
        json={"params": {"db": database, "login": login, "password": login}},
        timeout=30,
    )
    answer.raise_for_status()
    if "error" in answer.json():
        sys.exit(f"cannot log in as {login}: {answer.json()['error']['data']['message']}")
    return http.cookies["session_id"], http


def demo_lead(http, url):
    """The demo lead whose chat is the longest, as the salesperson opening it sees it."""
    answer = http.post(
        f"{url}/web/dataset/call_kw",
        json={
            "params": {
                "model": "crm.lead",
                "method": "search_read",
                "args": [[("messenger_conversation_ids", "!=", False)], ["id"]],
                "kwargs": {"limit": 1, "order": "id"},
            }
        },
        timeout=30,
    )
    return answer.json()["result"][0]["id"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Chromium:
    """Headless Chromium driven over its DevTools protocol, one page."""

    def __init__(self):
        binary = shutil.which("chromium") or sys.exit("chromium not found on PATH")
        self.profile = tempfile.mkdtemp(prefix="ml-shots-")
        port = free_port()
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={WIDTH},{HEIGHT}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.socket = websocket.create_connection(self._page_socket(port), timeout=60)
        self.next_id = 0

    def _page_socket(self, port):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                targets = requests.get(f"http://127.0.0.1:{port}/json", timeout=2).json()
                return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            except (requests.ConnectionError, StopIteration):
                time.sleep(0.2)
        sys.exit("Chromium did not start")

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def shoot(self, url, cookie, path, height):
        host = url.split("//", 1)[1].split(":")[0].split("/")[0]
        self.call("Network.enable")
        self.call("Network.setCookie", name="session_id", value=cookie, domain=host, path="/")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.call("Page.navigate", url=f"{url}{path}")
        time.sleep(SETTLE_SECONDS)
        shot = self.call("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8069"
    database = sys.argv[2] if len(sys.argv) > 2 else "messenger_leads"
    OUT.mkdir(parents=True, exist_ok=True)
    sessions = {}  # login -> (cookie, requests session): each user logs in once

    def session_of(login):
        if login not in sessions:
            sessions[login] = session_cookie(url, database, login)
        return sessions[login]

    lead_id = demo_lead(session_of("anna")[1], url)
    for name, login, path, height in pages(lead_id):
        cookie = session_of(login)[0]
        # a browser of its own for each page, as a user opening it: the web client of an
        # earlier page would see its bus notifications gone and call this page out of date
        browser = Chromium()
        try:
            target = OUT / f"{name}.png"
            target.write_bytes(browser.shoot(url, cookie, path, height))
        finally:
            browser.close()
        print(f"{os.path.relpath(target, ROOT)}: {login} at {path}")


if __name__ == "__main__":
    main()
