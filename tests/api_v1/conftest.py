"""A live demo city for the API tests that need a real server: `shaar serve` on a SQLite
file seeded with the demo data (rounds in every phase, published results, surveys)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import AppProcess, free_port, run_shaar, server_env


def server_port(offset: int) -> int:
    """A loopback port for a server of these tests: TEST_PORT_BASE + offset when that is set
    (machines where each developer has a range of ports), else any free port."""
    base = os.environ.get("TEST_PORT_BASE")
    return int(base) + offset if base else free_port()


@pytest.fixture(scope="session")
def live_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    var: Path = tmp_path_factory.mktemp("demo")
    env = server_env(var, f"sqlite:///{var / 'shaar.db'}")
    for command in (("migrate",), ("seed-demo", "--if-empty")):
        done = run_shaar(env, *command)
        assert done.returncode == 0, done.stdout + done.stderr
    app = AppProcess(env, var / "serve.log", port=server_port(0))
    app.start()
    try:
        yield app
    finally:
        app.stop()
