"""Every module of the three packages imports: a dependency missing from pyproject.toml fails
the test named after the module that needs it, not the whole collection."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

PACKAGES = ("assistant", "ingest", "ui")


def all_modules() -> list[str]:
    """Dotted names of every module under PACKAGES, found on disk: nothing is imported while
    collecting (``pkgutil.walk_packages`` would import subpackages, and hide their errors)."""
    names: list[str] = []
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations, package
        names += _walk(package, [Path(p) for p in spec.submodule_search_locations])
    return sorted(names)


def _walk(package: str, paths: list[Path]) -> list[str]:
    names = [package]
    for info in pkgutil.iter_modules([str(p) for p in paths]):
        name = f"{package}.{info.name}"
        if info.name == "__main__":  # importing it runs the CLI; it only imports assistant.cli
            continue
        if info.ispkg:
            names += _walk(name, [p / info.name for p in paths if (p / info.name).is_dir()])
        else:
            names.append(name)
    return names


MODULES = all_modules()


def test_modules_found() -> None:
    # walk_packages found the tree, not just the three top-level names
    assert len(MODULES) > 30
    assert {"ingest.web", "ingest.feeds", "assistant.cli", "ui.app"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_imports(name: str) -> None:
    importlib.import_module(name)
