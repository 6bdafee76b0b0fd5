"""The 课程素材 tab in a real browser (Playwright + /usr/bin/chromium) against `assistant serve`: gather a pack for
two topics, review it (a part per topic, collapsible sections, each document's title once per group), untick
items, remove a section, export .docx and .md — the file equals POST /api/coursepack with the same choices —
on a desktop and a phone viewport; 㮾 (CJK Extension A) is drawn with a font that has it.

Screenshots go to test-artifacts/coursepack-ui/.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import ROOT
from http_utils import ServeProcess

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts" / "coursepack-ui"
EXT_A_CHAR = "㮾"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium: make system-deps")


@pytest.fixture(scope="module")
def server_url(base_index, tmp_path_factory):
    srv = ServeProcess(tmp_path_factory.mktemp("coursepack-ui"), base_index)
    try:
        yield srv.url
    finally:
        srv.stop()


def _page(server_url, viewport):
    """A fresh browser page on the app; yields (page, cdp) and checks no request left the host, no JS error."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        context = browser.new_context(
            viewport=viewport, locale="zh-CN", accept_downloads=True, is_mobile=viewport["width"] < 500
        )
        page = context.new_page()
        page.set_default_timeout(60_000)
        requests, errors = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server_url, wait_until="domcontentloaded")
        # the status line is filled by the app's load event: once it shows, the page's handlers are wired and a
        # click on a tab switches it (a click before that is lost, and the tab's fields never show)
        page.wait_for_selector("#qa-status .qa-chip")
        yield page
        context.close()
        browser.close()
    host = urlsplit(server_url).netloc
    foreign = [
        u
        for u in requests
        if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != host
    ]
    assert foreign == [], f"requests left the server's host: {foreign}"
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(server_url):
    yield from _page(server_url, {"width": 1280, "height": 900})


@pytest.fixture
def phone(server_url):
    yield from _page(server_url, {"width": 390, "height": 844})


def _gather(page, topics: str, max_items: int | None = None) -> None:
    page.get_by_role("tab", name="课程素材").click()
    page.wait_for_selector("#qa-pack-topics textarea")
    page.fill("#qa-pack-topics textarea", topics)
    if max_items is not None:
        page.fill("#qa-pack-max input", str(max_items))
    page.click("#qa-pack-gather")
    page.wait_for_selector("#qa-pack-summary .qa-notice-ok")
    page.wait_for_selector("#qa-pack-review .qa-pack-part")
    page.wait_for_selector("#qa-pack-order .token")  # the export bar is shown with the review
    page.wait_for_selector("#qa-pack-docx")


def _boxes(page):
    return page.locator("#qa-pack-review input[type=checkbox][data-id]")


def _set_order(page, wanted: list[str]) -> None:
    """Make the multiselect hold `wanted` in that order: clear it, then pick each option in turn."""
    root = page.locator("#qa-pack-order")
    while root.locator(".token").count():
        root.locator(".token .token-remove, .token [role=button]").first.click()
    for kind in wanted:
        root.locator("input").click()
        page.get_by_role("option", name=kind, exact=True).click()
    page.keyboard.press("Escape")
    tokens = [t.replace("×", "").strip() for t in root.locator(".token").all_inner_texts()]
    assert tokens == wanted, tokens


def _download(page, button: str, suffix: str, tmp_path: Path) -> Path:
    with page.expect_download() as info:
        page.click(button)
        page.wait_for_function(
            "(suffix) => [...document.querySelectorAll('#qa-pack-file a')].some(a => "
            "(a.textContent || '').includes(suffix) || (a.getAttribute('href') || '').includes(suffix))",
            arg=suffix,
        )
        page.locator("#qa-pack-file a").first.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    return target


def _without_timestamp(md: str) -> str:
    return re.sub(r"生成时间：[^。]+。", "", md)


def test_review_and_export_equal_the_api(page, server_url, tmp_path):
    from docx import Document

    _gather(page, "网格化管理、新就业群体", max_items=10)
    summary = page.inner_text("#qa-pack-summary")
    total = int(re.search(r"共汇编 (\d+) 条素材", summary).group(1))
    assert "未生成要点小结" in summary  # says plainly that summaries are off (extractive mode)
    topics = page.locator("#qa-pack-review .qa-pack-topic").all_inner_texts()
    assert topics == ["一、网格化管理", "二、新就业群体"]
    assert _boxes(page).count() == total and total <= 20
    assert all(_boxes(page).nth(j).is_checked() for j in range(total))
    # each document's title once per group: never twice in a row inside a section
    for titles in page.eval_on_selector_all(
        "#qa-pack-review details.qa-pack-section",
        "els => els.map(d => [...d.querySelectorAll('.qa-pack-doc')].map(t => t.textContent))",
    ):
        assert len(titles) == len(set(titles)), titles
    page.screenshot(path=str(ARTIFACTS / "gathered.png"), full_page=True)

    # untick two items, remove 数据成效, put 工作举措 first
    dropped = [_boxes(page).nth(j).get_attribute("data-id") for j in (0, 1)]
    for j in (0, 1):
        _boxes(page).nth(j).uncheck()
    order = ["工作举措", "典型案例"]
    _set_order(page, order)

    md_path = _download(page, "#qa-pack-md", ".md", tmp_path)
    md = md_path.read_text("utf-8")
    docx_path = _download(page, "#qa-pack-docx", ".docx", tmp_path)
    assert docx_path.suffix == ".docx" and "网格化管理" in docx_path.name
    page.screenshot(path=str(ARTIFACTS / "exported.png"), full_page=True)

    # the same choices through the API give the same file: one export semantics
    body = {
        "topics": ["网格化管理", "新就业群体"],
        "max_items": 10,
        "exclude": dropped,
        "sections": order,
        "format": "md",
    }
    api_md = httpx.post(f"{server_url}/api/coursepack", json=body, timeout=120).text
    assert _without_timestamp(md) == _without_timestamp(api_md)
    assert "数据成效（" not in md and md.index("）工作举措（") < md.index("）典型案例（")
    kept = sum(1 for line in md.splitlines() if line.startswith("- "))
    exported = page.inner_text("#qa-pack-exported")
    assert int(re.search(r"（(\d+) 条）", exported).group(1)) == kept
    doc = Document(str(docx_path))
    assert sum(1 for p in doc.paragraphs if p.style.name == "List Bullet") == kept


# the export button lies wholly inside the viewport; polled by the browser on each frame, so a reflow still under way
# (a component above it appearing late) is waited out, not raced
EXPORT_ON_SCREEN = """(bring) => { const b = document.querySelector('#qa-pack-docx'); if (!b) return false;
  if (bring) b.scrollIntoView({block: 'center'});
  const r = b.getBoundingClientRect(); return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }"""


def test_phone_review_collapses_and_keeps_export_on_screen(phone):
    _gather(phone, "网格化管理")
    height = phone.viewport_size["height"]
    phone.wait_for_function(EXPORT_ON_SCREEN, arg=True)
    review = phone.locator("#qa-pack-review").bounding_box()
    assert review["height"] > height  # a long review
    phone.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    phone.wait_for_function("() => window.scrollY > 0")
    # sticky above the review: times out if it scrolled away
    phone.wait_for_function(EXPORT_ON_SCREEN, arg=False)
    phone.screenshot(path=str(ARTIFACTS / "phone-bottom.png"))

    section = phone.locator("#qa-pack-review details.qa-pack-section").first
    assert section.get_attribute("open") is not None
    section.locator("summary").scroll_into_view_if_needed()
    section.locator("summary").click()
    phone.wait_for_function("() => !document.querySelector('#qa-pack-review details.qa-pack-section').open")
    assert not section.locator("input[type=checkbox]").first.is_visible()
    widths = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, widths  # nothing wider than the phone
    phone.screenshot(path=str(ARTIFACTS / "phone-collapsed.png"), full_page=True)


def _ext_a_families() -> set[str]:
    out = subprocess.run(
        ["fc-list", f":charset={ord(EXT_A_CHAR):x}", "family"], capture_output=True, text=True
    )
    return {f.strip() for line in out.stdout.splitlines() for f in line.split(",")}


def test_extension_a_renders_with_a_real_glyph(page):
    """The review shows 㮾梨街道; the browser draws 㮾 with a font that has the glyph (Chromium's own report of the
    platform font used for the text), not a .notdef box."""
    _gather(page, "网格化管理")
    assert EXT_A_CHAR in page.inner_text("#qa-pack-review")
    page.evaluate(
        "(ch) => { const s = document.createElement('span'); s.id = 'qa-probe'; s.textContent = ch;"
        " document.querySelector('#qa-pack-review .qa-pack-doc').appendChild(s); }",
        EXT_A_CHAR,
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#qa-probe"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    used = {f["familyName"] for f in fonts if f["glyphCount"]}
    assert used, fonts
    covering = _ext_a_families()
    assert used <= covering, f"㮾 drawn with {used}, fonts covering it: {sorted(covering)[:6]}"
    family = page.eval_on_selector("#qa-pack-review", "el => getComputedStyle(el).fontFamily")
    assert family.split(",")[0].strip().strip('"') in covering  # the stack leads with an Extension A font


def test_empty_topic_shows_a_chinese_message(page):
    page.get_by_role("tab", name="课程素材").click()
    page.wait_for_selector("#qa-pack-topics textarea")
    page.fill("#qa-pack-topics textarea", "  ")
    page.click("#qa-pack-gather")
    page.wait_for_selector("#qa-pack-summary .qa-notice-error")
    assert "至少输入一个主题" in page.inner_text("#qa-pack-summary")
    assert not page.locator("#qa-pack-docx").is_visible()


def test_a_topic_the_documents_barely_cover_is_said_to_be_beside_the_count(page):
    """The seed documents name 减负 once: the page gives the count and, beside it, says plainly that the
    documents barely speak of the topic."""
    _gather(page, "基层减负")
    summary = page.inner_text("#qa-pack-summary")
    assert "共汇编 1 条素材" in summary and "资料中很少直接提到“基层减负”" in summary
    assert page.locator("#qa-pack-summary .qa-notice-info").count() >= 1
    assert _boxes(page).count() == 1
