"""The spaCy model is verified by SHA-256 before it loads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest import nlp


def test_recorded_hashes_cover_the_weights():
    recorded = set(nlp.WEIGHT_SHA256)
    for part in ("tok2vec/model", "parser/model", "ner/model", "tagger/model", "config.cfg"):
        assert part in recorded
    nlp.verify_model(nlp.model_path())  # the installed package matches


def test_load_english_is_cached_and_parses():
    first = nlp.load_english()
    assert nlp.load_english() is first
    doc = first("Xi reiterated China's position, officials said.")
    assert any(t.dep_ == "nsubj" for t in doc)
    assert "ner" in first.pipe_names


def test_tampered_copy_fails_naming_the_file(tmp_path: Path):
    copy = tmp_path / "model"
    shutil.copytree(nlp.model_path(), copy)
    weights = copy / "ner" / "model"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(nlp.ModelIntegrityError) as error:
        nlp.load_english(directory=copy)
    message = str(error.value)
    assert str(weights) in message and "pip install --force-reinstall" in message


def test_missing_file_fails(tmp_path: Path):
    copy = tmp_path / "model"
    shutil.copytree(nlp.model_path(), copy)
    (copy / "parser" / "model").unlink()
    with pytest.raises(nlp.ModelIntegrityError, match="parser/model"):
        nlp.verify_model(copy)
