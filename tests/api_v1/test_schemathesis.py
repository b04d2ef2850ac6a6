"""schemathesis, a real client of the description, against the live demo city: every
operation of /api/v1/openapi.json is called with generated valid and invalid requests; no
answer may be a 5xx, break its schema, use an undocumented status, content type or header,
accept invalid input or refuse valid input. A fixed seed keeps CI repeatable."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serving import AppProcess

MAX_EXAMPLES = 40
CHECKS = "all"


def schemathesis_command() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
    return [found]


def test_schemathesis_finds_no_failure(live_demo: AppProcess, tmp_path: Path) -> None:
    command = [*schemathesis_command(), "run", f"{live_demo.base}/api/v1/openapi.json",
               "--checks", CHECKS, "--max-examples", str(MAX_EXAMPLES), "--seed", "15",
               "--workers", "1", "--no-color", "--generation-database", "none",
               "--request-timeout", "20"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-8000:]
    operations = re.search(r"Tested: (\d+)", output)
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    assert operations and cases, output[-4000:]
    # Every operation of the description was exercised.
    assert int(operations.group(1)) >= 9, output[-4000:]
    print(f"schemathesis: {operations.group(1)} operations, {cases.group(1)} cases generated,"
          f" {cases.group(2)} passed")
