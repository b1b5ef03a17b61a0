"""Who-said-what questions are recognised; others are not."""

from __future__ import annotations

import pytest

from assistant.speech_question import match_who_said_what


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Xi say about Ukraine?", ("Xi", "Ukraine")),
        ("What did Zelenskyy say?", ("Zelenskyy", None)),
        ("What does Muraviev think about the relationship?", ("Muraviev", "the relationship")),
        ("How did Netflix respond to the strike?", ("Netflix", "the strike")),
        ("Did the CDC comment on the outbreak?", ("the CDC", "the outbreak")),
        ("What has Ukraine's president said about the offensive?",
         ("Ukraine's president", "the offensive")),
        ("What did the police chief tell reporters about the shooting?",
         ("the police chief", "the shooting")),
        ("What is Biden's position on tariffs?", ("Biden", "tariffs")),
        ("Did Powell say whether the Fed would cut again?", ("Powell", "the Fed would cut again")),
        ("what did chinese president xi jinping say on energy", (
            "chinese president xi jinping", "energy")),
    ],
)
def test_recognised(question, expected):
    assert match_who_said_what(question) == expected


@pytest.mark.parametrize(
    "question",
    ["Who won the World Cup?", "What did the report say?", "When did the bridge collapse?",
     "Did Spain win the final?", "What happened in Harbin?", ""],
)
def test_not_who_said_what(question):
    assert match_who_said_what(question) is None
