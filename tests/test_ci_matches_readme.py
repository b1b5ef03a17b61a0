"""``.ci/run`` runs exactly the README's set-up and test commands, in the README's order, with
the venv's own pip (what a new user runs is what CI tests)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The bash blocks of the README's "Set up" section, one command line each."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_ci_runs_the_readme_commands_in_order() -> None:
    commands = readme_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands), commands
    setup, tests = commands
    assert setup.endswith("news-assistant serve --demo") and tests.endswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in ci.splitlines() if not line.lstrip().startswith("#")]
    # the serve step runs in the background until the chat answers, so it is split in two
    setup_install = setup.removesuffix(" && news-assistant serve --demo")
    at_setup = next(i for i, line in enumerate(lines) if line.startswith(f"( {setup_install} \\"))
    assert lines[at_setup + 1] == "&& exec news-assistant serve --demo ) &"
    assert lines.index(tests) > at_setup
    assert "--upgrade pip" not in ci and "pip install -U pip" not in ci
