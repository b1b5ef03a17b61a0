"""Question analysis: kind, expected answer types, entities and time expression."""

from __future__ import annotations

import time

import pytest

from assistant.question import QuestionAnalysis, analyse_question

PLACE = ("GPE", "LOC")
CASES = [
    ("Who won the Women's World Cup?", "who", "PERSON"),
    ("Who is the new mayor of Harbor City?", "who", "PERSON"),
    ("When did the Harbor Bridge reopen?", "when", "DATE"),
    ("What year did the festival start?", "when", "DATE"),
    ("How soon could the vaccine be available?", "when", "DATE"),
    ("Where did the rocket launch from?", "where", "GPE"),
    ("How many steel cables did engineers replace?", "how_many", "CARDINAL"),
    ("Approximately how many people were evacuated this week?", "how_many", "CARDINAL"),
    ("How old is the pilot?", "how_many", "CARDINAL"),
    ("How much does a gallon of gas cost on average?", "how_much", "MONEY"),
    ("How much did the city spend on solar grants?", "how_much", "MONEY"),
    ("Which country elected its first leftist leader this week?", "which", "GPE"),
    ("What country announced a ban on plastic toys?", "which", "GPE"),
    ("Which US national park was hit by flooding?", "which", "LOC"),
    # a compound's head is its last noun; not a verb in "s", nor after a measure
    ("Which fast food chain filed for bankruptcy?", "which", "ORG"),
    ("Which conservative radio talk show host has lung cancer?", "which", "PERSON"),
    ("Which Supreme Court Justice is retiring?", "which", "PERSON"),
    ("Which team plays in the Super Bowl?", "which", "ORG"),
    ("Vaccinations began for which age group this week?", "which", "CARDINAL"),
    ("How long did the Senate vote last?", "how_much", "DATE"),
    ("How long is the new bridge?", "how_much", "QUANTITY"),
    ("How long ago did the dinosaurs die?", "when", "DATE"),
    # measures and changes are amounts
    ("What was the new marathon world record time?", "which", "TIME"),
    ("What is the hottest UK temperature on record?", "which", "QUANTITY"),
    ("What pay rise did the union ask for?", "which", "PERCENT"),
    # money asked for by its verb ("cost", "worth", "pay"): not the line's length
    ("How much will the tram line cost?", "how_much", "MONEY"),
    ("How much is the deal worth?", "how_much", "MONEY"),
    # a speed, a distance, a size, a temperature: a measure, not money
    ("How fast is the comet travelling?", "how_much", "QUANTITY"),
    ("How close will the probe come to the Sun?", "how_much", "QUANTITY"),
    ("How thick is the heat shield?", "how_much", "QUANTITY"),
    ("How hot will the shield get?", "how_much", "QUANTITY"),
    # spaCy tags "187 minutes" TIME and "46 days" DATE
    ("How many minutes did the speech last?", "how_many", "TIME"),
    ("How many years was his sentence?", "how_many", "DATE"),
    ("A wave of storms rattled what island jurisdiction last week?", "which", "GPE"),
    ("Floods hit the coast after heavy rain in which state?", "which", "GPE"),
    ("Which company bought the airline?", "which", "ORG"),
    ("Which airline announced a deal to buy a rival carrier?", "which", "ORG"),
    ("What NFL star announced his retirement on Tuesday?", "which", "PERSON"),
    ("Which high-ranking official tested positive this week?", "which", "PERSON"),
    ("Which show received the most nominations?", "which", "WORK_OF_ART"),
    ("What percentage of adults disapprove of the decision?", "which", "PERCENT"),
    ("Which team did he call games for?", "which", "ORG"),
    ("Which company’s stock split 20-for-1?", "which", "ORG"),
    ("A volcano erupted this week. What was the magnitude of the quake that followed?",
     "which", "CARDINAL"),
    ("The retired general died at 94. Which team did he coach?", "which", "ORG"),
    ("Which virus is spreading in Europe?", "which", None),
    ("Did the council approve the solar grants?", "yes_no", None),
    ("Is the bridge open again?", "yes_no", None),
    ("Why did cities cancel their fireworks displays?", "why", None),
    ("why?", "why", None),
    ("What caused the blackout in Harbor City?", "why", None),
    ("Tell me about the chess championship", "open", None),
    ("What happened in Harbor City this week?", "open", None),
    ("And what about the cycle lane?", "open", None),
    ("What did the images show?", "open", None),  # what a finding says: quotes
    ("What did the COP28 agreement say about fossil fuels?", "open", None),
    ("What did Mayor Lena Ortiz say about the budget?", "who_said_what", None),
    # what a named thing is: no phrase of a sentence answers it
    ("What is the AI Act?", "define", None),
    ("What is mpox?", "define", None),
    ("What's COP28?", "define", None),
    ("What was Operation Warp Speed?", "define", None),
    ("What was the margin in the Rugby World Cup final?", "what", None),
    ("What are the Quad nations?", "which", "GPE"),
    ("What is it?", "what", None),
    # a verb after "what" names no type of answer
    ("What cost the US economy $16 trillion over 20 years?", "what", None),
    ("What hit the Gulf Coast this week?", "what", None),
    ("Jill Biden met the first lady of which country this week?", "which", "GPE"),
    # the first typed noun of the phrase, up to a possessive, which is its head
    ("What was the record high average price for a gallon of gas?", "which", "MONEY"),
    ("What is the company's new corporate name?", "which", "ORG"),
    ("This popular Canadian sitcom aired its last episode this week.", "which",
     "WORK_OF_ART"),
    ("These two Democratic presidential candidates were endorsed by the paper.", "which",
     "PERSON"),
    ("The coup was led by the vice president of this West African country's transitional "
     "government.", "which", "GPE"),
    ("This week the council voted on the budget.", "open", None),
    ("What was the culprit?", "what", None),
    # "which of ..." asks for its noun's type
    ("Which of Trump's children will testify?", "which", "PERSON"),
    ("Which of the following cities had the highest rents?", "which", "GPE"),
    ("Which of these will close?", "which", None),
    # a plural head asks for the same type as its singular
    ("Which airlines cancelled flights after the outage?", "which", "ORG"),
    ("Which cities will host the 2026 World Cup final?", "which", "GPE"),
    ("Which teams reached the semi-finals?", "which", "ORG"),
    ("Which batches were recalled?", "which", None),
]


@pytest.mark.parametrize(("noun", "types"), [
    ("airline", ("ORG",)), ("airlines", ("ORG",)), ("cities", ("GPE", "LOC")),
    ("churches", None), ("series", ("WORK_OF_ART",)), ("glass", None), ("businesses", ("ORG",)),
])
def test_head_types_reads_plurals(noun, types):
    from assistant.question import head_types

    assert head_types(noun) == types


def test_measures_and_parks_are_not_money_or_countries():
    assert "MONEY" not in analyse_question("How far did the ship travel?").expected_types
    assert "MONEY" in analyse_question("How far did the ship travel on the money we paid?"
                                       ).expected_types
    # "Yellowstone National Park" is ORG or FAC to spaCy; "Montana" is no park
    types = analyse_question("Which US national park was hit by flooding?").expected_types
    assert "GPE" not in types and {"ORG", "FAC"} <= set(types)
    assert "MONEY" not in analyse_question("How many engineers work on it?").expected_types


@pytest.mark.parametrize(("question", "kind", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_question_kind_and_expected_type(question, kind, expected):
    analysis = analyse_question(question)
    assert analysis.kind == kind
    if expected is None:
        assert kind == "who_said_what" or kind == "which" or analysis.expected_types == ()
    else:
        assert expected in analysis.expected_types


@pytest.mark.parametrize(("question", "entities"), [
    # the role is what is asked; the name is what the sources must hold
    ("Who is the CEO of CrowdStrike?", ("CrowdStrike",)),
    ("Who is the President of France?", ("France",)),
    # a title of its own, and a name with "of" that is no role
    ("Who is the Secretary of State?", ("Secretary of State",)),
    ("What did the Bank of England do?", ("Bank of England",)),
])
def test_a_role_of_a_name_names_the_name(question, entities):
    assert analyse_question(question).entities == entities


@pytest.mark.parametrize(("question", "loser"), [
    ("Who lost the Argentine runoff?", True),
    ("Which team was beaten in the final?", True),
    ("Who did Spain beat in the final?", True),
    ("Which party lost the election?", True),
    ("Who won the Argentine runoff?", False),
    ("Who beat England in the final?", False),
    ("What did the team lose?", False),  # not a who / which question
])
def test_a_question_for_the_loser_of_a_contest(question: str, loser: bool):
    assert analyse_question(question).loser is loser


@pytest.mark.parametrize(("question", "verb", "role"), [
    ("Who saved the penalty?", "saved", None),
    ("Who has led the party since 2019?", "led", None),
    ("Who is Argentina's economy minister?", None, "minister"),
    ("Who is the CEO of CrowdStrike?", None, "ceo"),
    ("Who was the calf's mother?", None, "mother"),
    ("Who is Keir Starmer?", None, None),  # a name, not a role
    ("Who did Trump defeat?", None, None),  # the object: not the subject of "defeat"
    ("Which team won the final?", None, None),
])
def test_what_the_answer_stands_next_to(question: str, verb: str | None, role: str | None):
    analysis = analyse_question(question)
    assert (analysis.verb, analysis.role) == (verb, role)


@pytest.mark.parametrize(("question", "wider"), [
    ("In what state did the attack take place?", True),
    ("Which US state was hit hardest?", True),
    ("In which country was the camp located?", True),
    ("Which city hosted the summit?", False),
    ("Where did the attack take place?", False),
])
def test_a_question_for_a_state_or_a_country(question: str, wider: bool):
    assert analyse_question(question).wider_place is wider


def test_entities_and_time_expression():
    analysis = analyse_question(
        "Did Sen. Maria Lopez vote on Roe v. Wade this week, according to the New York Times?")
    assert "Maria Lopez" in " ".join(analysis.entities)
    assert "Roe v. Wade" in analysis.entities
    assert "New York Times" in analysis.entities
    assert analysis.time_expression == "this week"
    assert analyse_question("Who won the Nathan’s Famous contest?").entities == (
        "Nathan’s Famous",)
    assert analyse_question("What is the capital of France?").time_expression is None
    # neither a word that joins a name nor a sentence's opening preposition starts one
    assert analyse_question("Which of Trump's children will testify?").entities == ("Trump",)
    assert analyse_question("With Spain in the final, who will they play?").entities == (
        "Spain",)
    # a month or a weekday says when, not what to look for; nor is a quantity word a name
    assert analyse_question("What NFL star announced his retirement on Tuesday?").entities == (
        "NFL",)
    assert analyse_question("Dozens of people were missing after floods in which state in "
                            "October?").entities == ()
    assert analyse_question("What did Theresa May say?").entities == ("Theresa May",)
    assert analyse_question("What did De Niro say?").entities == ("De Niro",)


def test_who_said_what_has_speaker_and_topic():
    analysis = analyse_question("What did Mayor Lena Ortiz say about the budget?")
    assert analysis.speaker and "Lena Ortiz" in analysis.speaker
    assert analysis.topic and "budget" in analysis.topic
    assert not analysis.factoid


def test_factoid_and_frozen():
    assert analyse_question("Which country won?").factoid
    assert not analyse_question("Why did it happen?").factoid
    with pytest.raises(AttributeError):
        analyse_question("Who won?").kind = "x"  # type: ignore[misc]
    assert isinstance(analyse_question("Who won?"), QuestionAnalysis)


def test_analysis_is_cheap():
    questions = [c[0] for c in CASES] * 5
    started = time.perf_counter()
    for q in questions:
        analyse_question(q)
    assert (time.perf_counter() - started) / len(questions) < 0.005


def test_a_money_verb_narrows_how_much_to_money():
    assert analyse_question("How much will the tram line cost?").expected_types == ("MONEY",)
    assert analyse_question("How much is Quanta paying?").expected_types == ("MONEY",)
    assert "PERCENT" in analyse_question("How much did gas prices increase?").expected_types
