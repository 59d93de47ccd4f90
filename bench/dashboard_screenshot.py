"""The README's overview screenshot: the demo bookstore's dashboard in Chromium, as docs/img/overview.png.

Run from the project root: `make screenshot` (or `.venv/bin/python -m bench.dashboard_screenshot
[--out PATH]`). It seeds the demo into a throwaway SQLite file, serves the app with uvicorn on
127.0.0.1, signs in with the bookstore's marketer key through the form and saves the overview page.
Needs Debian's Chromium at /usr/bin/chromium (or TAILORWISE_CHROMIUM) and Playwright's Python package.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from service.config import Settings
from service.db import create_db_engine
from service.demo import seed_demo
from service.main import create_app
from service.migrate import upgrade

CHROMIUM = os.environ.get("TAILORWISE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def _silent(_title: str) -> Iterator[Callable[[float, str], None]]:
    """A progress bar that shows nothing."""
    yield lambda _fraction, _message: None


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The app on a free loopback port, served by uvicorn on a thread; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def main() -> None:
    """Seed, serve, sign in, save the overview."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/img/overview.png"))
    out = parser.parse_args().out
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/demo.db"
        upgrade(url)
        settings = Settings(database_url=url, runs_in="process")
        seeded = seed_demo(create_db_engine(settings), settings, _silent)
        key = next(t for t in seeded if t.name == "demo-bookstore").keys["marketer"]
        with served(settings) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/dashboard/sign-in")
            page.get_by_label("API key").fill(key)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
            browser.close()
    print(f"saved {out}")


if __name__ == "__main__":
    main()
