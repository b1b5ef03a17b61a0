"""Pytest plugin: a real HTTP fixture server on 127.0.0.1 (see ``tests/fixture_server.py``).

Register it in ``tests/conftest.py`` with ``pytest_plugins = ["tests.conftest_web"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixture_server import FixtureServer


@pytest.fixture
def web_server() -> Iterator[FixtureServer]:
    """A fresh fixture server per test, so each test reads its own request log."""
    with FixtureServer() as server:
        yield server
