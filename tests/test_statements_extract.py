"""Attribution patterns on fixture sentences: speaker, cue, exact offsets, kind."""

from __future__ import annotations

import pytest

from ingest.statements import ExtractedStatement, extract_statements, find_quotes


def one(body: str, text: str) -> ExtractedStatement:
    found = [s for s in extract_statements(body) if s.text == text]
    assert found, [(s.speaker, s.text) for s in extract_statements(body)]
    statement = found[0]
    assert body[statement.start : statement.end] == statement.text
    assert body[statement.sentence_start : statement.sentence_end] == statement.sentence
    return statement


def test_quote_then_said():
    body = ('Rain fell all night.\n\n'
            '"We are ready for the next storm," Harriet Vance said on Friday.')
    s = one(body, "We are ready for the next storm")
    assert (s.speaker, s.cue, s.kind) == ("Harriet Vance", "said", "direct")
    assert s.start == body.index("We are") and s.end == body.index(',"')


def test_curly_quotes_and_inverted_attribution():
    body = "“The numbers do not add up,” said Omar Haddad, a budget analyst at the institute."
    s = one(body, "The numbers do not add up")
    assert s.speaker == "Omar Haddad" and s.kind == "direct"
    assert "a budget analyst at the institute" in s.aliases


def test_said_that_reported():
    body = "Finance Minister Ingrid Solberg said that the deficit would narrow next year."
    s = one(body, "the deficit would narrow next year")
    assert (s.speaker, s.cue, s.kind) == ("Ingrid Solberg", "said", "reported")
    assert "Finance Minister Ingrid Solberg" in s.aliases


@pytest.mark.parametrize(
    ("sentence", "cue", "text"),
    [
        ("Governor Alan Pike warned that the reservoir could run dry by August.",
         "warned", "the reservoir could run dry by August"),
        ("Governor Alan Pike told CNN that the state would ration water.",
         "told CNN", "the state would ration water"),
        ("Governor Alan Pike pointed out that rainfall had halved since 2019.",
         "pointed out", "rainfall had halved since 2019"),
        ("Governor Alan Pike acknowledged that the plan had come too late.",
         "acknowledged", "the plan had come too late"),
        ("Governor Alan Pike reiterated his support for the new pipeline.",
         "reiterated", "his support for the new pipeline"),
        ("Governor Alan Pike noted that farmers had already cut their use.",
         "noted", "farmers had already cut their use"),
    ],
)
def test_verbs_of_saying(sentence: str, cue: str, text: str):
    s = one(sentence, text)
    assert (s.speaker, s.cue) == ("Alan Pike", cue)


def test_according_to():
    body = "The ferry was carrying 212 passengers, according to the coast guard."
    s = one(body, "The ferry was carrying 212 passengers")
    assert s.cue == "according to" and s.speaker == "coast guard"


def test_pronoun_resolves_to_last_fitting_person():
    body = (
        "Prime Minister Elise Tremblay met Haruto Sakamoto in Lima. Sakamoto said his country "
        "wanted lower tariffs. Tremblay said her government would protect its steel mills.\n\n"
        "She acknowledged that the talks had stalled."
    )
    s = one(body, "the talks had stalled")
    assert s.speaker == "Elise Tremblay" and s.speaker_as_written == "She"


def test_pronoun_after_a_non_cue_sentence():
    body = ("Detective Ruth Mbeki arrived at the scene shortly after midnight. "
            "She said the suspect had fled on foot.")
    s = one(body, "the suspect had fled on foot")
    assert s.speaker == "Ruth Mbeki"


def test_title_resolves_to_apposition():
    body = (
        "Ukrainian President Volodymyr Zelenskyy visited the front on Friday.\n\n"
        "Ukraine's president said the line was holding."
    )
    s = one(body, "the line was holding")
    assert s.speaker == "Volodymyr Zelenskyy" and s.speaker_as_written == "Ukraine's president"


@pytest.mark.parametrize("body", [
    "The city's police chief, Dana Whitaker, said the road would stay closed.",
    # a capitalised title (spaCy: a proper noun) with a person's name in apposition
    "The Health Minister, Dana Whitaker, said the road would stay closed.",
])
def test_title_with_name_in_apposition(body: str):
    s = one(body, "the road would stay closed")
    assert s.speaker == "Dana Whitaker"


def test_short_name_resolves_to_fullest():
    body = ("Meeting with President Xi Jinping, the leaders discussed trade. "
            "Xi said China would buy more grain.")
    s = one(body, "China would buy more grain")
    assert s.speaker == "Xi Jinping" and s.speaker_as_written == "Xi"


def test_organisations_and_acronyms():
    body = (
        "The Centers for Disease Control and Prevention (CDC) issued new guidance. "
        "The CDC said masks were no longer required. Netflix said it would raise prices. "
        "Police said two men had been arrested."
    )
    assert one(body, "masks were no longer required").speaker == (
        "Centers for Disease Control and Prevention")
    assert one(body, "it would raise prices").speaker == "Netflix"
    assert one(body, "two men had been arrested").speaker == "Police"


def test_multi_sentence_and_continued_quotes():
    body = (
        '"We will rebuild. We will not be moved," said Mayor Lucinda Ferreira. '
        '"This harbour is our home."\n\n'
        '"It took ten years to build the sea wall," she said. "It will take less to fix it.'
    )
    s = one(body, "We will rebuild. We will not be moved")
    assert s.speaker == "Lucinda Ferreira" and s.kind == "direct"
    assert one(body, "This harbour is our home").speaker == "Lucinda Ferreira"
    assert one(body, "It will take less to fix it").speaker == "Lucinda Ferreira"


def test_speaker_before_colon_quote():
    body = 'The coach was blunt after the match. Reyes said: "We were not good enough today."'
    s = one(body, "We were not good enough today")
    assert s.speaker == "Reyes" and s.kind == "direct"


def test_quoted_words_inside_a_quote_are_not_attributions():
    body = '"When they said it was fixed, I believed them," said Aisha Rahman.'
    found = extract_statements(body)
    assert [s.speaker for s in found] == ["Aisha Rahman"]


def test_no_cue_no_parse():
    assert extract_statements("The bridge reopened on Monday after repairs.") == []


def test_find_quotes_pairs_and_open_paragraph():
    body = 'He said "yes" twice.\n"This runs on\n"and on," she said.'
    spans = [body[s:e] for s, e in find_quotes(body)]
    assert spans == ["yes", "This runs on", "and on,"]


def test_seed_like_reported_speech():
    body = (
        "Alexey Muraviev, a Russia specialist and associate professor at Curtin University, "
        "pointed out that there are limits to the relationship between Russia and China."
    )
    s = one(body, "there are limits to the relationship between Russia and China")
    assert (s.speaker, s.cue) == ("Alexey Muraviev", "pointed out")
