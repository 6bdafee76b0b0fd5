"""The 课程素材 tab in a real browser (Playwright + /usr/bin/chromium) against `assistant serve`: gather a pack for
two topics, untick items, reorder the sections, export .docx and .md, download them and check the files.

Screenshots go to test-artifacts/coursepack-ui/.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import ASSISTANT_BIN, ROOT, cli_env, copy_index
from http_utils import free_port, wait_for_http

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts" / "coursepack-ui"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium: make system-deps")


@pytest.fixture(scope="module")
def server_url(base_index, tmp_path_factory):
    root = tmp_path_factory.mktemp("coursepack-ui")
    corpus_dir, index_dir = copy_index(base_index, root)
    port = free_port()
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(ASSISTANT_BIN), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=cli_env(corpus_dir=corpus_dir, index_dir=index_dir),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=180)
        except TimeoutError:
            pytest.fail((root / "server.log").read_text(errors="replace")[-3000:])
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def page(server_url):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(60_000)
        requests, errors = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server_url, wait_until="domcontentloaded")
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


def _open_tab(page):
    page.get_by_role("tab", name="课程素材").click()
    page.wait_for_selector("#qa-pack-topics textarea")


def _checkboxes(page, kind_index: int):
    return page.locator(f"#qa-pack-kind-{kind_index} input[type=checkbox]")


def test_build_review_and_download_a_pack(page, tmp_path):
    from docx import Document

    _open_tab(page)
    page.fill("#qa-pack-topics textarea", "网格化管理、新就业群体")
    page.click("#qa-pack-gather")
    page.wait_for_selector("#qa-pack-summary .qa-notice-ok")
    summary = page.inner_text("#qa-pack-summary")
    total = int(re.search(r"共汇编 (\d+) 条素材", summary).group(1))
    assert total > 10
    page.screenshot(path=str(ARTIFACTS / "gathered.png"), full_page=True)

    # every gathered item is listed with a ticked checkbox, under its section
    boxes = [_checkboxes(page, i) for i in range(3)]
    counts = [b.count() for b in boxes]
    assert sum(counts) == total
    assert all(b.nth(j).is_checked() for b, n in zip(boxes, counts) for j in range(n))

    # untick two items of the largest section; its first unticked label must not reach the file
    largest = max(range(3), key=lambda i: counts[i])
    dropped_labels = []
    for j in range(2):
        box = boxes[largest].nth(j)
        label = box.locator("xpath=ancestor::label").inner_text()
        dropped_labels.append(re.sub(r"（《.*》）$", "", label.strip()))
        box.uncheck()
    assert not boxes[largest].nth(0).is_checked()

    # section order: 工作举措 first
    kinds = ["典型案例", "数据成效", "工作举措"]
    _set_order(page, ["工作举措", "典型案例", "数据成效"])

    with page.expect_download() as info:
        page.click("#qa-pack-docx")
        link = page.locator("#qa-pack-file a[download], #qa-pack-file a").first
        link.wait_for()
        link.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.suffix == ".docx" and "网格化管理" in target.name
    exported = page.inner_text("#qa-pack-exported")
    kept = int(re.search(r"（(\d+) 条）", exported).group(1))
    assert kept == total - 2
    page.screenshot(path=str(ARTIFACTS / "exported.png"), full_page=True)

    doc = Document(str(target))
    bullets = ["".join(r.text for r in p.runs[:-1]) for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert len(bullets) == kept
    squashed = [re.sub(r"\s+", "", b) for b in bullets]
    for label in dropped_labels:
        assert re.sub(r"\s+", "", label) not in squashed
    sections = [
        p.text.split("、", 1)[1].split("（")[0]
        for p in doc.paragraphs
        if p.style.name == "Heading 1" and p.text != "参考资料"
    ]
    assert sections == [k for k in ["工作举措", "典型案例", "数据成效"] if k in sections]
    assert sections[0] == "工作举措" and set(sections) <= set(kinds)

    with page.expect_download() as info:
        page.click("#qa-pack-md")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#qa-pack-file a')].some(a => (a.textContent||'').includes('.md')"
            " || (a.getAttribute('href')||'').includes('.md'))"
        )
        page.locator("#qa-pack-file a").first.click()
    md_path = tmp_path / info.value.suggested_filename
    info.value.save_as(md_path)
    md = md_path.read_text("utf-8")
    assert md.startswith("# 课程素材：网格化管理、新就业群体")
    assert md.index("、工作举措（") < md.index("、典型案例（")
    assert sum(1 for line in md.splitlines() if line.startswith("- ")) == kept


def _set_order(page, wanted: list[str]) -> None:
    """Make the multiselect hold `wanted` in that order: clear it, then pick each option in turn."""
    root = page.locator("#qa-pack-order")
    while root.locator(".token").count():
        root.locator(".token .token-remove, .token [role=button]").first.click()
    for kind in wanted:
        root.locator("input").click()
        page.get_by_role("option", name=kind, exact=True).click()
    page.keyboard.press("Escape")
    tokens = [t.strip() for t in root.locator(".token").all_inner_texts()]
    assert [t.replace("×", "").strip() for t in tokens] == wanted, tokens


def test_empty_topic_shows_a_chinese_message(page):
    _open_tab(page)
    page.fill("#qa-pack-topics textarea", "  ")
    page.click("#qa-pack-gather")
    page.wait_for_selector("#qa-pack-summary .qa-notice-error")
    assert "至少输入一个主题" in page.inner_text("#qa-pack-summary")
    assert not page.locator("#qa-pack-docx").is_visible()
