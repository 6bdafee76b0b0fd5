"""A schemathesis run (its own CLI, `st run`) over our OpenAPI schema against a live server on a private copy of
the index. Every operation gets schema examples, boundary (coverage) cases, and random valid and invalid requests;
none may get a 5xx, every response must match what the schema declares (status code, content type, headers,
body), and invalid requests must be rejected with a 4xx.

The report goes to test-artifacts/schemathesis/ (report.json: case counts per operation).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, copy_index, make_settings
from http_utils import serve_app

from assistant.http.app import create_app
from assistant.service import Assistant

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
]
MAX_EXAMPLES = 50
REPORT_DIR = ROOT / "test-artifacts" / "schemathesis"
ST = Path(sys.executable).with_name("st")


@pytest.fixture(scope="module")
def live_url(base_index, tmp_path_factory):
    assistant = Assistant(make_settings(*copy_index(base_index, tmp_path_factory.mktemp("schemathesis"))))
    with serve_app(create_app(assistant, with_ui=False)) as url:
        yield url


def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_url):
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    ndjson = REPORT_DIR / "events.ndjson"
    result = subprocess.run(
        [
            str(ST),
            "run",
            f"{live_url}/openapi.json",
            "--checks",
            ",".join(CHECKS),
            "--max-examples",
            str(MAX_EXAMPLES),
            "--workers",
            "1",
            "--seed",
            "20240601",
            "--generation-database",
            "none",
            "--request-timeout",
            "120",
            "--phases",
            "examples,coverage,fuzzing",
            "--no-color",
            "--report",
            "ndjson",
            "--report-ndjson-path",
            str(ndjson),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=REPORT_DIR,
    )
    (REPORT_DIR / "output.txt").write_text(result.stdout + result.stderr, "utf-8")
    summary = summarise(ndjson)
    (REPORT_DIR / "report.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), "utf-8")
    print(
        f"\nschemathesis: {summary['cases']} cases over {len(summary['by_operation'])} operations, "
        f"{summary['server_errors']} server errors"
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert summary["server_errors"] == 0
    assert len(summary["by_operation"]) >= 12 and summary["cases"] >= 300


def summarise(ndjson: Path) -> dict:
    """Count the requests schemathesis made, per operation and per status code, from its event log."""
    by_operation: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for line in ndjson.read_text("utf-8").splitlines() if ndjson.exists() else []:
        recorder = json.loads(line).get("ScenarioFinished", {}).get("recorder") or {}
        for interaction in (recorder.get("interactions") or {}).values():
            response = interaction.get("response") or {}
            status = str(response.get("status_code", "none"))
            by_operation[recorder.get("label", "?")] = by_operation.get(recorder.get("label", "?"), 0) + 1
            by_status[status] = by_status.get(status, 0) + 1
    return {
        "cases": sum(by_operation.values()),
        "by_operation": by_operation,
        "by_status": by_status,
        "server_errors": sum(n for s, n in by_status.items() if s.startswith("5")),
    }
