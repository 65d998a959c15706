"""Browser fixtures: Playwright driving Debian's chromium (/usr/bin/chromium) against live_server."""
import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# page steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"chromium not found at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


SCREENSHOT_DIR = os.environ.get("SCREENSHOT_DIR", "")


@pytest.fixture
def shoot():
    """shoot(page, "name"): with SCREENSHOT_DIR set, full-page screenshots at desktop and phone
    widths, for a person to look at the layout; without it, nothing."""

    def take(page, name: str) -> None:
        if not SCREENSHOT_DIR:
            return
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        size = page.viewport_size
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=os.path.join(SCREENSHOT_DIR, f"{name}-{width}.png"), full_page=True)
        # A phone page is long and narrow: also in screen-sized pieces, readable one at a time.
        height = page.evaluate("document.documentElement.scrollHeight")
        for n, top in enumerate(range(0, min(height, 6000), 1000)):
            page.screenshot(path=os.path.join(SCREENSHOT_DIR, f"{name}-390-part{n}.png"), full_page=True,
                            clip={"x": 0, "y": top, "width": 390, "height": min(1000, height - top)})
        page.set_viewport_size(size)

    return take


def log_in(page, live_server, username: str, password: str = "pw-for-tests", next_path: str = "/admin/") -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def assert_every_field_labelled(page) -> None:
    """Every form control a person can reach has a label a screen reader announces."""
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]):not([type=submit]), select, textarea')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !el.getAttribute('aria-labelledby'))
        .map(el => el.name || el.id)""")
    assert unlabelled == [], f"fields without a label: {unlabelled}"
