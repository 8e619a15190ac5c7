"""Shared by the unit and plugin tests: ``html_report`` reads an HTML report back,
``browser`` renders it in headless chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links.extend(v for n, v in attrs if n in ("href", "src") and v is not None)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


class HtmlReport:
    """Read an HTML report as a person would: its links, its text, its tags."""

    @staticmethod
    def parse(page: str) -> _Page:
        parser = _Page()
        parser.feed(page)
        parser.close()
        return parser

    def links(self, page: str) -> list[str]:
        """Every href and src of the page (entities decoded, as a browser reads them)."""
        return self.parse(page).links

    def text(self, page: str) -> str:
        """The page's text, without tags."""
        return "".join(self.parse(page).text)

    def tags(self, page: str) -> list[str]:
        return self.parse(page).tags

    @staticmethod
    def resolve(page_path: Path, link: str) -> Path:
        """Where a link of the page at ``page_path`` points; it must be relative."""
        parts = urlsplit(link)
        assert not parts.scheme, f"not a relative link: {link!r}"
        assert not parts.netloc, f"not a relative link: {link!r}"
        assert not parts.path.startswith("/"), f"not a relative link: {link!r}"
        return Path(os.path.normpath(page_path.parent / unquote(parts.path)))

    def assert_links_resolve(self, page_path: Path) -> list[Path]:
        """Every link of the page resolves to something on disk; returns the targets."""
        targets = [self.resolve(page_path, link) for link in self.links(page_path.read_text())]
        missing = [str(t) for t in targets if not t.exists()]
        assert missing == []
        return targets


@pytest.fixture
def html_report() -> HtmlReport:
    """Helpers that read an HTML report (links, text) back."""
    return HtmlReport()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class Browser:
    """Headless chromium with a private profile; no network, no first-run dialogs."""

    def __init__(self, executable: str, profile: Path) -> None:
        self.executable = executable
        self.profile = profile

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.executable, *BROWSER_FLAGS, f"--user-data-dir={self.profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def dom(self, page: Path) -> str:
        """The page's DOM after its scripts ran, as the browser serialises it."""
        return self.run("--dump-dom", page.as_uri()).stdout

    def screenshot(self, page: Path, out: Path | None = None, fragment: str = "") -> Path:
        """A PNG of the page at 1280x900 (``fragment``: e.g. ``#expanded``)."""
        shot = out or self.profile.parent / "shot.png"
        self.run(f"--screenshot={shot}", "--window-size=1280,900", page.as_uri() + fragment)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return shot


@pytest.fixture
def browser(tmp_path: Path) -> Browser:
    """Render pages in a real headless browser; skips, saying so, without chromium."""
    if CHROMIUM is None:
        pytest.skip(
            "no chromium on PATH: install Debian's package (apt-get install -y chromium) "
            "to render the HTML report in a real browser"
        )
    return Browser(CHROMIUM, tmp_path / "chromium-profile")
