"""The fitted weights that ship with the package (``scorer_weights.json``, written by
``benchmarks/train_scorer.py``): the sentence scorer, the answer-phrase model, the abstention
gate and floors. Read once per process; no numpy here, so settings can use it cheaply."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

WEIGHTS = Path(__file__).with_name("scorer_weights.json")


@cache
def load_weights(path: str = str(WEIGHTS)) -> dict[str, Any]:
    """The shipped weights: ``{"sentence": model, "gate": {...}, "span": model, ...}``."""
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data
