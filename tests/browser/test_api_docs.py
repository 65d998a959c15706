"""The API docs render in a real browser under the Content-Security-Policy: ReDoc (with its search,
which runs in a blob: worker) and Swagger UI, with no policy violation and no console error; the
/api/ root links both; the pages carry the favicon."""
import json

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def _watch(page):
    errors = []
    page.add_init_script(WATCH_CSP)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_redoc_renders_and_searches_with_no_csp_violation(page, live_server):
    errors = _watch(page)
    response = page.goto(f"{live_server.url}/api/redoc/")
    assert "worker-src blob:" in response.headers["content-security-policy"]

    expect(page.get_by_role("heading", name="CloudRoute API", level=1)).to_be_visible()
    expect(page.get_by_text("Founder intake and status").first).to_be_visible()
    search = page.get_by_placeholder("Search...")
    search.fill("engagement")
    expect(page.get_by_role("search").get_by_role("menuitem", name="Accept the match")).to_be_visible()

    assert page.evaluate("window.__csp") == []
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    assert errors == []


def test_swagger_ui_renders_with_no_csp_violation(page, live_server):
    errors = _watch(page)
    page.goto(f"{live_server.url}/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CloudRoute API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.evaluate("window.__csp") == []
    assert errors == []


def test_the_api_root_links_the_schema_and_both_docs(page, live_server):
    page.goto(f"{live_server.url}/api/")
    root = json.loads(page.locator("body").inner_text())
    for key in ("schema", "docs", "redoc"):
        assert page.request.get(root[key]).status == 200


def test_pages_carry_the_favicon(page, live_server):
    page.goto(f"{live_server.url}/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    icon = page.request.get(f"{live_server.url}{href}")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg")
