"""Bad inputs fail alone: each is reported with its file (and line), and the good files of the
same run are in the index afterwards."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GOOD_TXT = (
    "Ferry Strike Ends\nHarbour Wire\nFerry crews ended a three-day strike after a pay deal.\n"
)
GOOD_RECORD = {"id": "good-1", "title": "Tram Line Opens", "body": "The new tram line opened."}


def _titles(bot) -> set[str]:
    return {m["title"] for m in bot.store.all_article_metadata()}


def _folder_with(tmp_path: Path, name: str, content: bytes) -> Path:
    """A folder holding one bad file and a good one."""
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / name).write_bytes(content)
    (folder / "good.txt").write_text(GOOD_TXT)
    return folder


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


LONG_BODY = ("The council debated the budget line by line, late into the night. " * 2000).strip()


def _long_csv(folder: Path) -> Path:
    path = folder / "long.csv"
    rows = f'id,title,body\nlong-1,Budget Marathon,"{LONG_BODY}"\nshort-1,Short One,Brief.\n'
    path.write_text(rows)
    return path


def test_csv_body_longer_than_the_csv_default_limit_is_read(tmp_path: Path):
    from ingest.pipeline import collect_articles

    assert len(LONG_BODY) > 131_072  # the csv module's default field limit
    items = list(collect_articles([_long_csv(tmp_path)]))
    assert [getattr(i, "id", i) for i in items] == ["long-1", "short-1"]
    assert items[0].body == LONG_BODY


@pytest.mark.slow  # embeds ~170 passages
def test_csv_body_longer_than_the_csv_default_limit_is_ingested(bot, tmp_path: Path):
    folder = _folder_with(tmp_path, "empty.txt", b"")
    _long_csv(folder)
    report = bot.ingest([folder])
    assert [e.where for e in report.failed] == [str(folder / "empty.txt")]
    assert {"Budget Marathon", "Short One", "Ferry Strike Ends"} <= _titles(bot)
    assert bot.store.get_articles(["long-1"])["long-1"].body == LONG_BODY


@pytest.mark.parametrize(
    ("name", "content", "line", "good"),
    [
        ("brackets.json", b"[" * 100_000, 1, set()),
        (
            "deep-field.json",
            (
                "[\n" + json.dumps(GOOD_RECORD) + ",\n"
                + '{"body": "deep", "extra": ' + _nested(5000) + "}\n]\n"
            ).encode(),
            3,
            {"Tram Line Opens"},
        ),
        (
            "deep.jsonl",
            (json.dumps(GOOD_RECORD) + "\n" + '{"body": "x", "extra": ' + _nested(5000) + "}\n"
             + "[" * 100_000 + "\n").encode(),
            2,
            {"Tram Line Opens"},
        ),
    ],
)
def test_deeply_nested_json_is_rejected_alone(
    bot, tmp_path: Path, name: str, content: bytes, line: int, good: set[str]
):
    folder = _folder_with(tmp_path, name, content)
    report = bot.ingest([folder])
    assert report.failed, "the nested record must be reported"
    first = report.failed[0]
    assert first.where == f"{folder / name}:{line}"
    assert "nested too deeply" in first.reason
    assert all("nested too deeply" in e.reason for e in report.failed)
    assert all("Recursion" not in e.reason for e in report.failed)
    if name.endswith(".jsonl"):  # every line is judged alone: line 3 is reported too
        assert [e.where for e in report.failed] == [f"{folder / name}:2", f"{folder / name}:3"]
    assert {"Ferry Strike Ends", *good} <= _titles(bot)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_with_a_bom_are_decoded(bot, tmp_path: Path, encoding: str):
    boms = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff",
            "utf-32-le": b"\xff\xfe\x00\x00", "utf-32-be": b"\x00\x00\xfe\xff"}
    text = "Café Reopens\nHarbour Wire\nThe café on the quay reopened after the floods.\n"
    folder = _folder_with(tmp_path, "cafe.txt", boms[encoding] + text.encode(encoding))
    record = json.dumps({"title": "Über Bridge", "body": "The bridge — rebuilt — reopened."})
    (folder / "records.jsonl").write_bytes(boms[encoding] + (record + "\n").encode(encoding))
    report = bot.ingest([folder])
    assert report.failed == []
    assert {"Café Reopens", "Über Bridge", "Ferry Strike Ends"} <= _titles(bot)
    cafe = next(a for a in bot.store.all_article_metadata() if a["title"] == "Café Reopens")
    assert bot.store.get_articles([cafe["id"]])[cafe["id"]].body.startswith("The café on")


def test_utf16_without_a_bom_is_named(bot, tmp_path: Path):
    folder = _folder_with(tmp_path, "nobom.txt", "Title\nSome text here.\n".encode("utf-16-le"))
    report = bot.ingest([folder])
    assert [e.where for e in report.failed] == [str(folder / "nobom.txt")]
    assert "UTF-16" in report.failed[0].reason and "re-save" in report.failed[0].reason
    assert "Ferry Strike Ends" in _titles(bot)


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [
        ("numbers.jsonl", json.dumps(GOOD_RECORD) + '\n{"title": "Count", "body": 42}\n', 2),
        ("numbers.json", "[\n" + json.dumps(GOOD_RECORD) + ',\n  {"body": 4.5}\n]\n', 3),
    ],
)
def test_numeric_body_must_be_text(bot, tmp_path: Path, name: str, content: str, line: int):
    folder = _folder_with(tmp_path, name, content.encode())
    report = bot.ingest([folder])
    assert [e.where for e in report.failed] == [f"{folder / name}:{line}"]
    assert "'body' must be text, got a number" in report.failed[0].reason
    assert {"Tram Line Opens", "Ferry Strike Ends"} <= _titles(bot)


# ---- an unreadable file inside a folder ----------------------------------------------------
# As root, chmod 000 denies nothing: there the real CLI runs as root without the capabilities
# that override file permissions (setpriv drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH).

NO_DAC = "-dac_override,-dac_read_search"


def _readable(path: Path) -> bool:
    try:
        path.read_bytes()
    except PermissionError:
        return False
    return True


def _unprivileged_prefix(locked: Path) -> list[str]:
    """How to run a process that ``locked`` denies; skips the test when there is no way."""
    if not _readable(locked):
        return []
    if os.geteuid() == 0 and shutil.which("setpriv"):
        return ["setpriv", f"--bounding-set={NO_DAC}", f"--inh-caps={NO_DAC}"]
    pytest.skip("chmod 000 does not deny reading here, and setpriv is missing")


def _run_ingest(folder: Path, index: Path, prefix: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEWS_ASSISTANT_"))}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "assistant", "ingest", str(folder), "--index", str(index)],
        cwd=index.parent, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.slow  # a real CLI process
def test_unreadable_file_in_a_folder_is_reported_and_the_rest_ingested(tmp_path: Path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD_TXT)
    (folder / "more.jsonl").write_text(json.dumps(GOOD_RECORD) + "\n")
    secret = folder / "secret.txt"
    secret.write_text("Locked\nNobody may read this one.\n")
    secret.chmod(0)
    prefix = _unprivileged_prefix(secret)
    index = tmp_path / "index"
    done = _run_ingest(folder, index, prefix)
    assert done.returncode == 1, done.stdout + done.stderr  # 1: something failed; not 2
    assert "Traceback" not in done.stderr
    assert f"failed: {secret}: cannot read file (permission denied)" in done.stdout
    assert done.stdout.startswith("2 added"), done.stdout

    from assistant import NewsAssistant

    assert _titles(NewsAssistant(index=index)) == {"Ferry Strike Ends", "Tram Line Opens"}


@pytest.mark.slow  # a real CLI process
def test_unreadable_subfolder_is_reported_and_the_rest_ingested(tmp_path: Path):
    folder = tmp_path / "news"
    (folder / "locked").mkdir(parents=True)
    (folder / "locked" / "inside.txt").write_text(GOOD_TXT)
    (folder / "more.jsonl").write_text(json.dumps(GOOD_RECORD) + "\n")
    (folder / "locked").chmod(0)
    try:
        prefix = _unprivileged_prefix(folder / "locked" / "inside.txt")
        done = _run_ingest(folder, tmp_path / "index", prefix)
    finally:
        (folder / "locked").chmod(0o755)  # lets pytest clean up
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"failed: {folder / 'locked'}: cannot read folder (permission denied)" in done.stdout
    assert done.stdout.startswith("1 added"), done.stdout
