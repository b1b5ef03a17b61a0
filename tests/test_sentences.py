"""Sentence boundaries of news prose: abbreviations, titles, initials and quotes."""

from __future__ import annotations

import itertools

import pytest

from ingest.sentences import sentence_spans

CASES = [
    ("The court overturned Roe v. Wade on Friday. Protests followed.",
     ["The court overturned Roe v. Wade on Friday.", "Protests followed."]),
    ("Lt. Gov. Dan Patrick spoke. He left.", ["Lt. Gov. Dan Patrick spoke.", "He left."]),
    ("The U.S. economy grew. Prices rose.", ["The U.S. economy grew.", "Prices rose."]),
    ("Sen. Bernie Sanders won. Rep. Liz Cheney lost.",
     ["Sen. Bernie Sanders won.", "Rep. Liz Cheney lost."]),
    ("J.K. Rowling wrote it. Then she left.", ["J.K. Rowling wrote it.", "Then she left."]),
    ("He was born in Washington, D.C. in 1990.", ["He was born in Washington, D.C. in 1990."]),
    ("Officials said the U.S. will respond. The U.S. Navy sent ships.",
     ["Officials said the U.S. will respond.", "The U.S. Navy sent ships."]),
    ('"We will win," he said. "No doubt."', ['"We will win," he said.', '"No doubt."']),
    ('She said: "It is over." Then she left.', ['She said: "It is over."', "Then she left."]),
    ("Dr. Anthony Fauci said it. Mr. Smith agreed.",
     ["Dr. Anthony Fauci said it.", "Mr. Smith agreed."]),
    ("The St. Louis Cardinals won. Gov. Gavin Newsom watched.",
     ["The St. Louis Cardinals won.", "Gov. Gavin Newsom watched."]),
    ("It cost $5.02 a gallon. That was a record.",
     ["It cost $5.02 a gallon.", "That was a record."]),
    ("George W. Bush spoke. Then Obama.", ["George W. Bush spoke.", "Then Obama."]),
    ("The company, Apple Inc., rose 3%. Shares fell.",
     ["The company, Apple Inc., rose 3%.", "Shares fell."]),
    ("It happened on Jan. 6, 2021. Many were arrested.",
     ["It happened on Jan. 6, 2021.", "Many were arrested."]),
    ("Vice President Kamala Harris arrived at 9 a.m. Tuesday.",
     ["Vice President Kamala Harris arrived at 9 a.m. Tuesday."]),
    ("The Supreme Court ruled in Dobbs v. Jackson Women's Health Organization. It was 6-3.",
     ["The Supreme Court ruled in Dobbs v. Jackson Women's Health Organization.", "It was 6-3."]),
    ("Who won? Spain did.", ["Who won?", "Spain did."]),
    ("The U.N. Security Council met. No vote was taken.",
     ["The U.N. Security Council met.", "No vote was taken."]),
    ("Gen. Mark Milley testified. Adm. John Aquilino also did.",
     ["Gen. Mark Milley testified.", "Adm. John Aquilino also did."]),
    ("The No. 1 seed lost. Fans cried.", ["The No. 1 seed lost.", "Fans cried."]),
    ("“We are not done,” she said. “Not yet.”", ["“We are not done,” she said.", "“Not yet.”"]),
    ("He moved to the U.S. The move was hard.", ["He moved to the U.S.", "The move was hard."]),
    ("Rep. Alexandria Ocasio-Cortez, D-N.Y., spoke. Others did not.",
     ["Rep. Alexandria Ocasio-Cortez, D-N.Y., spoke.", "Others did not."]),
    ("Harbor Bridge Reopens\n\nThe bridge opened on Monday. Traffic flowed.",
     ["Harbor Bridge Reopens", "The bridge opened on Monday.", "Traffic flowed."]),
    ("Spain beat England 1-0 in Sydney. Olga Carmona scored.",
     ["Spain beat England 1-0 in Sydney.", "Olga Carmona scored."]),
]


@pytest.mark.parametrize(("text", "sentences"), CASES, ids=[c[0][:30] for c in CASES])
def test_sentence_boundaries(text, sentences):
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == sentences


def test_offsets_are_verbatim_and_ordered():
    text = "  Lt. Gov. Dan Patrick spoke.\nSen. Ted Cruz won. Rep. Liz Cheney lost.  "
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Lt. Gov. Dan Patrick spoke.", "Sen. Ted Cruz won.", "Rep. Liz Cheney lost."]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert sentence_spans("   ") == []


def test_assistant_re_exports_the_ingest_splitter():
    from assistant.sentences import sentence_spans as reexported

    assert reexported is sentence_spans


# The splitter's source (all but its version line) at each SPLIT_VERSION. Answers reuse the
# spans stored at ingest while the version is unchanged, so a rule changed without a new
# version would leave every index written before it quoting the old boundaries.
SPLITTER_FINGERPRINTS = {"1": "5ad7b897d0d2"}


def test_a_changed_splitter_comes_with_a_new_split_version() -> None:
    import hashlib
    import inspect

    import ingest.sentences as splitter

    source = "\n".join(line for line in inspect.getsource(splitter).splitlines()
                       if not line.startswith("SPLIT_VERSION"))
    number = splitter.SPLIT_VERSION.split("+")[0]
    assert SPLITTER_FINGERPRINTS.get(number) == hashlib.sha1(source.encode()).hexdigest()[:12], (
        "ingest/sentences.py changed: bump SPLIT_VERSION and record its fingerprint here")
