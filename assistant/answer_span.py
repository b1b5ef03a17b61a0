"""The answer phrase: a short verbatim span of a top sentence, of the type the question
expects ("Who won ...?" -> "Spain"). Candidates are spaCy's entities and noun chunks of the
few best sentences; a logistic regression fitted by ``benchmarks/train_scorer.py`` picks one."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.question import QuestionAnalysis
from assistant.scorer import LinearModel, content_words, load_weights, stems
from assistant.span_rules import (
    DEMONYM_ENDINGS,
    MAX_LIST_WORDS,
    NUMERIC_TYPES,
    WEEKDAY,
    continues,
    coordinated,
    counts_things,
    is_percentage,
    measures,
    named_after_a_place,
    named_by_its_people,
    named_in_full,
    next_to_the_asked,
    numbers_in_chunks,
    of_type,
    only_lasts,
    restated,
    says_no_number,
    side_in_contest,
    the_person_asked_about,
    whole_names,
    with_units,
    without_possessive,
)
from ingest.sentence_pieces import Piece, parse_pieces

__all__ = ["Piece", "SpanEvidence", "answering", "choose_span", "neighbours", "parse_pieces",
           "pieces_of", "span_candidates", "span_pool", "typed_question"]

SPAN_SENTENCES = 3  # spans are looked for in this many best sentences ...
SPAN_RATIO = 0.3  # ... scoring at least this share of the best one's probability
MAX_SPAN_WORDS = 8
SPAN_FEATURES = (
    "type_match", "is_entity", "is_chunk", "new_words", "sentence_rank", "sentence_score",
    "frequency", "distance", "words", "position", "capitalised", "numeric", "untyped_entity",
    "in_title_case_run", "in_headline", "place_of_people", "after_locative", "counts_the_noun",
)
_LEADING = re.compile(r"^(?:the|a|an|this|that|these|those|its|their|his|her|our)\s+", re.I)
PLACE_TYPES = frozenset({"GPE", "LOC"})
PEOPLE_TYPES = frozenset({"NORP", "GPE"})  # spaCy tags some demonyms ("Ukrainian") GPE
TYPED_KINDS = frozenset({"when", "how_many", "how_much"})  # only spans of the expected type


def typed_question(analysis: QuestionAnalysis) -> bool:
    """Whether only a date or an amount of the expected type answers: "When?", "How many?",
    "How much?", and a "What share / price / year ...?" that asks for nothing else."""
    expected = set(analysis.expected_types)
    return bool(expected) and (analysis.kind in TYPED_KINDS or expected <= NUMERIC_TYPES)


@dataclass(frozen=True)
class SpanCandidate:
    """A phrase of sentence ``sentence`` (index among the best sentences) at ``start:end``
    (offsets inside that sentence's text)."""

    sentence: int
    start: int
    end: int
    text: str
    label: str  # spaCy entity label, or "CHUNK" for a noun chunk
    # a place named for a people ("Saudi Arabia" for "Saudi Arabian"): the index, in the same
    # candidate list, of that people's candidate, whose context it is scored in
    stands_for: int = -1
    # a list of names or a number with its unit is scored as its first name or its number
    # ("Katalin Kariko" of "Katalin Kariko and Drew Weissman"): where that core ends
    core_end: int = -1


def pieces_of(sentences: Sequence[str],
              known: Mapping[str, Sequence[Piece]] | None = None) -> list[Sequence[Piece]]:
    """The pieces of each sentence: those stored at ingest (``known``, by sentence text), a
    parse for the rest."""
    known = known or {}
    missing = [t for t in sentences if t not in known]
    parsed = dict(zip(missing, parse_pieces(missing), strict=True)) if missing else {}
    return [known[t] if t in known else parsed[t] for t in sentences]


def span_candidates(sentences: Sequence[str], pieces: Sequence[Sequence[Piece]],
                    question_words: set[str]) -> list[SpanCandidate]:
    """Entities and noun chunks of the parsed sentences that say something the question does
    not (a content word not in the question by stem, or a number word; a figure the question
    gives is no answer). Names joined by "and" or commas ("Katalin Kariko and Drew Weissman")
    are one candidate; a number is given its unit ("half" -> "half a percentage point", "1.5
    billion" -> "1.5 billion euros"); a figure inside a noun chunk is a count ("more than
    900"); a count without a figure is none, and a 1-3 digit "date" is an age; a place the
    question names by its people ("Argentina" for "the Argentine election") is left out."""
    out: list[SpanCandidate] = []
    seen: set[tuple[int, int, int]] = set()
    asked = stems(question_words)
    for i, (sentence, found) in enumerate(zip(sentences, pieces, strict=True)):
        for start, end, label, core_end in with_units(sentence, numbers_in_chunks(
                sentence, named_after_a_place(
                sentence, named_in_full(sentence, coordinated(
                    sentence, whole_names(sentence, found), question_words))))):
            if restated(sentence, start, end, label):
                continue
            text = sentence[start:end]
            if label == "CHUNK":  # "the tournament" -> "tournament"
                lead = _LEADING.match(text)
                if lead:
                    start, text = start + lead.end(), text[lead.end():]
            text = without_possessive(text.rstrip(" ,.;:"))
            end = start + len(text)
            words = content_words(text)
            longest = MAX_LIST_WORDS if label != "CHUNK" else MAX_SPAN_WORDS
            if not text or len(text.split()) > longest or (i, start, end) in seen:
                continue
            if not stems(words - question_words) - asked and (
                    label not in NUMERIC_TYPES or any(ch.isdigit() for ch in text)):
                # the question's own words ("as young as 6 months"), by stem ("The Paris
                # Olympics" of "the Olympic cauldron at the Paris 2024 ceremony")
                continue
            if label == "CHUNK" and not words:
                continue  # pronouns
            if says_no_number(text, label):
                continue
            if label == "DATE" and _AGE.fullmatch(text):
                label = "CARDINAL"  # "Reyes, 44, joins ...": an age, not a date
            elif label in NUMERIC_TYPES and is_percentage(text):
                label = "PERCENT"  # spaCy's "about 56 per cent" MONEY
            if label in PLACE_TYPES and named_by_its_people(text, question_words):
                continue
            seen.add((i, start, end))
            out.append(SpanCandidate(i, start, end, text, label,
                                     core_end=core_end if core_end < end else -1))
    return out


def span_features(
    analysis: QuestionAnalysis,
    candidates: Sequence[SpanCandidate],
    sentences: Sequence[str],
    sentence_scores: Sequence[float],
    question_words: set[str],
    context: Sequence[str] = (),
    titles: Sequence[str] = (),
) -> np.ndarray:
    """One row of ``SPAN_FEATURES`` per span candidate; ``titles``: the headline of each
    sentence's article."""
    expected = set(analysis.expected_types)
    pool = " ".join([*sentences, *context]).lower()
    asked = stems({w for w in question_words if not w.isdigit()})

    def row(cand: SpanCandidate) -> list[float]:
        sentence = sentences[cand.sentence]
        words = content_words(cand.text)
        new = words - question_words
        return [
            float(cand.label in expected),
            float(cand.label != "CHUNK"),
            float(cand.label == "CHUNK"),
            len(new) / len(words) if words else 1.0,
            float(cand.sentence),
            float(sentence_scores[cand.sentence]),
            math.log1p(pool.count(cand.text.lower())),
            _distance(sentence, cand, question_words),
            math.log1p(len(cand.text.split())),
            cand.start / max(len(sentence), 1),
            float(cand.text[:1].isupper()),
            float(any(ch.isdigit() for ch in cand.text)),
            float(not expected and cand.label != "CHUNK"),
            # a name's mark: "Monday" is a date like "June 2026" and "next week", not a name
            float(cand.label not in NUMERIC_TYPES
                  and all(w[:1].isupper() for w in cand.text.split())),
            _in_headline(cand.text, titles[cand.sentence] if cand.sentence < len(titles)
                         else "", person=cand.label == "PERSON")
            * _headline_share(titles[cand.sentence] if cand.sentence < len(titles) else "",
                              question_words, cand.text),
            0.0,
            float(bool(_LOCATIVE.search(sentence[max(0, cand.start - 12):cand.start]))),
            _counts_the_noun(sentence, cand, asked),
        ]

    rows = []
    for cand in candidates:
        if cand.core_end >= 0:
            core = sentences[cand.sentence][cand.start:cand.core_end]
            rows.append(row(replace(cand, end=cand.core_end, text=core)))
            continue
        if cand.stands_for < 0:
            rows.append(row(cand))
            continue
        people = candidates[cand.stands_for]
        values = row(people)  # the people's sentence and place in it are the evidence
        values[SPAN_FEATURES.index("type_match")] = float(cand.label in expected)
        values[SPAN_FEATURES.index("in_headline")] = _in_headline(
            cand.text, titles[people.sentence] if people.sentence < len(titles) else "")
        values[SPAN_FEATURES.index("place_of_people")] = 1.0
        rows.append(values)
    return np.asarray(rows, dtype=np.float64).reshape(len(candidates), len(SPAN_FEATURES))


_NEXT_WORDS = re.compile(r"\s*((?:[\w’'-]+\s+){0,1}[\w’'-]+)")


def _counts_the_noun(sentence: str, cand: SpanCandidate, asked: set[str]) -> float:
    """A number followed by a noun the question asks about: "about 300 flights" for "How many
    flights ...?", "18 stops" for "How many stops ...?" (the number counts the thing asked);
    the noun may close the phrase itself ("about 300 flights")."""
    if not any(ch.isdigit() for ch in cand.text) and cand.label not in NUMERIC_TYPES:
        return 0.0
    following = _NEXT_WORDS.match(sentence, cand.end)
    words = content_words(cand.text) | (content_words(following.group(1)) if following else set())
    return float(bool(stems(words) & asked))


# a place after "in", "at", "near" ... is where something happened
_LOCATIVE = re.compile(r"\b(?:in|at|near|outside|inside|across|from|to|into|off|around)\s+"
                       r"(?:the\s+)?$", re.I)


def names_the_place(people: str, place: str) -> bool:
    """Whether the demonym ``people`` ("Saudi Arabian", "Chinese", "Ukrainians") is formed
    from ``place`` ("Saudi Arabia", "China", "Ukraine"): the same words but the last, which
    continues the place's last word from at least all but its final letter with a demonym's
    ending ("Indiana" is no people of India)."""
    said, named = people.split(), place.split()
    if not said or len(said) != len(named) or said[:-1] != named[:-1]:
        return False
    return named[-1][:1].isupper() and continues(said[-1], named[-1])


def place_candidates(candidates: Sequence[SpanCandidate], texts: Sequence[str],
                     pieces: Sequence[Sequence[Piece]]) -> list[SpanCandidate]:
    """"Which country ...?" where the best sentence says "Saudi Arabian officials ...": the
    place each people (NORP) candidate is named for, where one of ``texts`` (the best
    sentences, then the same articles' other sentences) names it as a place."""
    out: list[SpanCandidate] = []
    for i, cand in enumerate(candidates):
        if cand.label not in PEOPLE_TYPES or cand.stands_for >= 0:
            continue
        for k, (text, found) in enumerate(zip(texts, pieces, strict=True)):
            hit = next(((a, b, label) for a, b, label in found
                        if label in PLACE_TYPES and names_the_place(cand.text, text[a:b])), None)
            if hit is not None:
                out.append(SpanCandidate(k, hit[0], hit[1], text[hit[0]:hit[1]], hit[2],
                                         stands_for=i))
                break
    return out


def may_name_a_place(text: str, peoples: Sequence[str]) -> bool:
    """A cheap test before parsing a support sentence: does it hold a word that could be the
    place one of ``peoples`` is named for."""
    return any(people.split()[-1][:4] in text for people in peoples if people.split())


def _headline_share(title: str, question_words: set[str], phrase: str) -> float:
    """The share of the question's words (less the phrase's) that the headline holds, by
    stem: how much the headline is about what is asked. The quizzes ask about the story a
    headline names, and their answers are often in it; a question about a detail of the
    story is not answered by its headline."""
    words = stems({w for w in question_words if len(w) > 2} - content_words(phrase))
    if not words or not title:
        return 0.0
    return len(words & stems(content_words(title))) / len(words)


def _in_headline(phrase: str, title: str, person: bool = False) -> float:
    """Whether the headline holds ``phrase`` as whole words, in any case; a ``person`` by
    surname too ("Kiplagat wins" for "David Kiplagat"): headlines name people so."""
    if not title or not phrase:
        return 0.0
    if person and len(phrase.split()) > 1 and _in_headline(phrase.split()[-1], title):
        return 1.0
    lowered, wanted = title.lower(), phrase.lower()
    if len(lowered) != len(title) or len(wanted) != len(phrase):  # lowering moved offsets
        return float(re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", title, re.I) is not None)
    # a pattern compiled per phrase cost ~0.3 ms each, ~15 phrases an answer
    at = lowered.find(wanted)
    while at >= 0:
        end = at + len(wanted)
        if not (at and _word_char(lowered[at - 1])) and not (
                end < len(lowered) and _word_char(lowered[end])):
            return 1.0
        at = lowered.find(wanted, at + 1)
    return 0.0


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _distance(sentence: str, cand: SpanCandidate, question_words: set[str]) -> float:
    """Characters (log) between the span and the nearest question word in its sentence; a
    question word inside the span is not near it ("Olympic" of "The Paris Olympics"), it is
    the question said again."""
    best = len(sentence)
    lowered = sentence.lower()
    for word in question_words:
        at = lowered.find(word)
        while at >= 0:
            if at + len(word) <= cand.start or at >= cand.end:
                gap = cand.start - (at + len(word)) if at < cand.start else at - cand.end
                best = min(best, gap)
            at = lowered.find(word, at + 1)
    return math.log1p(best)


def span_model() -> LinearModel | None:
    data = load_weights().get("span")
    return LinearModel.from_dict(data) if data else None


@dataclass(frozen=True)
class SpanEvidence:
    """What an answer phrase is chosen from: the best sentences (best first) with their
    scores and their articles' headlines, the pieces stored at ingest (by sentence text) and
    the same articles' other sentences (``support``), read only for the place of a people."""

    sentences: Sequence[str]
    scores: Sequence[float]
    titles: Sequence[str] = ()
    known: Mapping[str, Sequence[Piece]] | None = None
    support: Sequence[str] = ()


def span_pool(analysis: QuestionAnalysis, evidence: SpanEvidence,
              question_words: set[str]) -> tuple[list[SpanCandidate], np.ndarray]:
    """The answer-phrase candidates of the evidence and their features. Asked for a place, a
    people ("Ukrainian") that the best sentences or the support name a place for ("Ukraine")
    gives way to that place, scored in the people's context; a candidate's ``sentence``
    indexes the best sentences, then the support."""
    sentences, support = evidence.sentences, evidence.support
    pieces = pieces_of(sentences, evidence.known)
    candidates = span_candidates(sentences, pieces, question_words)
    peoples = [c.text for c in candidates if c.label in PEOPLE_TYPES
               and c.text.endswith(DEMONYM_ENDINGS)]
    if peoples and PLACE_TYPES & set(analysis.expected_types):
        wanted = [t for t in support if may_name_a_place(t, peoples)]
        found = dict(zip(wanted, pieces_of(wanted, evidence.known), strict=True))
        candidates += place_candidates(candidates, [*sentences, *support],
                                       [*pieces, *(found.get(t, ()) for t in support)])
    features = span_features(analysis, candidates, sentences, evidence.scores, question_words,
                             titles=evidence.titles)
    replaced = {c.stands_for for c in candidates if c.stands_for >= 0}
    if "PERSON" in analysis.expected_types or "NORP" not in analysis.expected_types:
        replaced |= _modifiers(candidates, pieces, sentences,
                               places_too="PERSON" in analysis.expected_types)
    people = [i for i, c in enumerate(candidates) if c.label == "PERSON" and c.core_end < 0]
    replaced |= {people[i] for i in the_person_asked_about(
        [candidates[i].text for i in people], analysis.entities)}
    expected = set(analysis.expected_types)
    # "When?" and "How many?" are answered by a date or a number of the kind asked for (spaCy
    # finds those reliably), "Where?" and "Who?" never by a date or a number; the type of a
    # name is less reliable, so other names stay candidates
    typed = bool(expected) and analysis.kind in TYPED_KINDS
    names_only = bool(expected) and not expected & NUMERIC_TYPES
    keep = [i for i, c in enumerate(candidates) if i not in replaced
            and (not typed or of_type(c.label, expected))
            and not (names_only and (c.label in NUMERIC_TYPES or WEEKDAY.fullmatch(c.text)))
            and not (analysis.kind == "how_many" and says_no_number(c.text, "CARDINAL"))
            and not (analysis.kind == "when" and _DURATION_MODIFIER.search(c.text))
            and not (analysis.kind == "how_much" and c.sentence < len(sentences)
                     and counts_things(sentences[c.sentence], c.end, c.label))]
    return [candidates[i] for i in keep], features[keep]


_POSSESSOR = re.compile(r"['’]s\s+")
_AGE = re.compile(r"\d{1,3}")
# "a four-day week", "the six-year debate": how long, said of something; never when
_DURATION_MODIFIER = re.compile(r"\b\w+-(?:day|week|month|year|hour|minute)\b", re.I)


def _modifiers(candidates: Sequence[SpanCandidate], pieces: Sequence[Sequence[Piece]],
               sentences: Sequence[str], places_too: bool) -> set[int]:
    """The names that only describe something inside a longer noun chunk: "French" in "French
    Olympic champions Teddy Riner and ...", and with ``places_too`` "US" in "the 2024 US
    presidential election", and with ``places_too`` a place that owns a person ("Kenya's" of
    "Kenya's David Kiplagat"). They answer "Which nationality?" or "Where?", not "Who?". A
    possessor of anything else ("Spain's victory") may be the one who acted, and stays."""
    labels = {"NORP", "GPE", "LOC"} if places_too else {"NORP"}
    persons = {(c.sentence, c.start) for c in candidates if c.label == "PERSON"}
    out = set()
    for i, cand in enumerate(candidates):
        if cand.label not in labels or cand.stands_for >= 0 or cand.sentence >= len(pieces):
            continue
        sentence = sentences[cand.sentence]
        owner = _POSSESSOR.match(sentence, cand.end)
        if places_too and owner and (cand.sentence, owner.end()) in persons:
            out.add(i)  # "Kenya's David Kiplagat": the place says where the person is from
            continue
        after = sentence[cand.end:cand.end + 1]
        if cand.label != "NORP" and after != " ":
            continue
        if any(label == "CHUNK" and start <= cand.start and end > cand.end
               for start, end, label in pieces[cand.sentence]):
            out.add(i)
    return out


def typed_sentences(analysis: QuestionAnalysis, sentences: Sequence[str],
                    known: Mapping[str, Sequence[Piece]] | None, question_words: set[str],
                    limit: int = SPAN_SENTENCES) -> list[int]:
    """The first ``limit`` of ``sentences`` (by index) that hold a date or an amount of the
    kind a typed question (``typed_question``) asks for, or a name next to what a "Who
    <verb>?" / "Who is the <role>?" asks (``neighbours``); none for other questions."""
    typed = typed_question(analysis)
    if not typed and not (analysis.verb or analysis.role):
        return []
    # one parse for those whose pieces were not stored at ingest
    parsed = dict(zip(sentences, pieces_of(sentences, known), strict=True))
    out: list[int] = []
    for i, sentence in enumerate(sentences):
        pool = span_pool(analysis, SpanEvidence([sentence], [1.0], known=parsed),
                         question_words)[0]
        if (answering if typed else neighbours)(analysis, pool, [sentence]):
            out.append(i)
            if len(out) == limit:
                break
    return out


def choose_span(analysis: QuestionAnalysis, evidence: SpanEvidence,
                question_words: set[str]) -> tuple[SpanCandidate, float] | None:
    """The best answer phrase of the evidence and its probability, or None."""
    model = span_model()
    if model is None or not evidence.sentences:
        return None
    candidates, features = span_pool(analysis, evidence, question_words)
    keep = answering(analysis, candidates, [*evidence.sentences, *evidence.support])
    if not keep:
        return None
    probabilities = model.probabilities(features[keep])
    best = int(np.argmax(probabilities))
    return candidates[keep[best]], float(probabilities[best])


def answering(analysis: QuestionAnalysis, candidates: Sequence[SpanCandidate],
              sentences: Sequence[str] = ()) -> list[int]:
    """The indexes of the candidates that may answer: for a typed question, those of the
    expected type. ``span_pool`` already keeps only those for "When?", "How many?" and "How
    much?" (the span model is fitted on that pool); "What share ...?" is held to it here, and
    a "How tall?" to a figure that measures a length, a "When?" to a point in time, not a
    stretch of it; asked who lost, not the winner; asked for a state or a country, not the
    town of "Brunswick, Georgia" (``sentences``: the candidates')."""
    if analysis.loser and sentences:
        return _the_losers(candidates, sentences)
    near = neighbours(analysis, candidates, sentences)
    if near:
        return near
    if analysis.wider_place and sentences:
        return _the_wider_places(candidates, sentences)
    if not typed_question(analysis):
        return list(range(len(candidates)))
    expected, dimension = set(analysis.expected_types), analysis.dimension
    return [i for i, c in enumerate(candidates) if of_type(c.label, expected, c.text) and (
        not dimension or (c.sentence < len(sentences)
                          and measures(sentences[c.sentence], c.start, c.end, dimension)))
        and not (analysis.kind == "when" and c.sentence < len(sentences)
                 and only_lasts(sentences[c.sentence], c.start, c.end))]


_COMMA = re.compile(r",\s+")
_A_LIST_GOES_ON = re.compile(r"\s+(?:and|or)\b|\s*,\s*[A-Z]")


def _the_wider_places(candidates: Sequence[SpanCandidate], sentences: Sequence[str]
                      ) -> list[int]:
    """Asked for a state or a country: not the town of "Brunswick, Georgia" or "Gdansk,
    Poland", where a place is followed by the place it lies in (not a list: "Spain, Germany
    and France")."""
    places = {(c.sentence, c.start): c for c in candidates if c.label in PLACE_TYPES}

    def inside(c: SpanCandidate) -> bool:
        if c.label not in PLACE_TYPES or c.sentence >= len(sentences):
            return False
        sentence = sentences[c.sentence]
        comma = _COMMA.match(sentence, c.end)
        wider = places.get((c.sentence, comma.end())) if comma else None
        return wider is not None and not _A_LIST_GOES_ON.match(sentence, wider.end)

    return [i for i, c in enumerate(candidates) if not inside(c)]


def neighbours(analysis: QuestionAnalysis, candidates: Sequence[SpanCandidate],
               sentences: Sequence[str]) -> list[int]:
    """The names that stand next to what a "Who <verb> ...?" or "Who is the <role>?" asks
    (``span_rules.next_to_the_asked``); none for other questions."""
    if not (analysis.verb or analysis.role):
        return []
    owners = {w.lower() for name in analysis.entities for w in name.split()}
    return [i for i, c in enumerate(candidates) if _a_name(c) and c.sentence < len(sentences)
            and next_to_the_asked(sentences[c.sentence], c.start, c.end, analysis.verb,
                                  analysis.role, owners)]


def _a_name(cand: SpanCandidate) -> bool:
    """An entity, or a noun chunk spaCy did not tag that is written as a name ("Ana Ruiz")."""
    return cand.label != "CHUNK" or all(w[:1].isupper() for w in cand.text.split())


def _the_losers(candidates: Sequence[SpanCandidate], sentences: Sequence[str]) -> list[int]:
    """Asked who lost: never a name the sentence says won; the ones it says lost, when any."""
    sides = [side_in_contest(sentences[c.sentence], c.start, c.end)
             if c.sentence < len(sentences) else None for c in candidates]
    lost = [i for i, side in enumerate(sides) if side == "lost"]
    return lost or [i for i, side in enumerate(sides) if side != "won"]
