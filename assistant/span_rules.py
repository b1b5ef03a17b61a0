"""The rules about language that shape the answer phrase's candidates: a name never cut inside
its hyphens, a list of names read
as one, a number word given its unit, a place the question names by its people, a weekday
beside its date, the whole of "X of the Y", a name in full (without its possessive, not cut
short at a place or a party's last word), the person the question calls by surname, and
which labels answer which questions. Rules, not fitted weights: each is tested on a table
(``tests/test_answer_phrase.py``)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from assistant.scorer import content_words, stem
from ingest.sentence_pieces import Piece

DEMONYM_ENDINGS = ("an", "ans", "ese", "i", "is", "ish", "ic")
NUMERIC_TYPES = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE", "TIME",
                           "ORDINAL"})
WEEKDAY = re.compile(r"(?:on\s+)?(?:mon|tues|wednes|thurs|fri|satur|sun)day", re.I)
_DATE_AFTER = re.compile(r",?\s+(?:\d{1,2}\s+[A-Z][a-z]+|[A-Z][a-z]+\.?\s+\d{1,2})\b")
_PART_OF = re.compile(r"\b(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|"
                      r"half|most|all)\s+of\s+(?:the\s+|its\s+|their\s+)?$", re.I)


def restated(sentence: str, start: int, end: int, label: str) -> bool:
    """A piece the sentence says better next to it: the weekday of "on Wednesday, 23 August
    2023", and the whole of "411 of the 650 seats" (which answers no "how many")."""
    if label in ("DATE", "CHUNK") and WEEKDAY.fullmatch(sentence[start:end]):
        return bool(_DATE_AFTER.match(sentence, end))
    if label == "CARDINAL":
        return bool(_PART_OF.search(sentence[max(0, start - 40):start]))
    return False


Extended = tuple[int, int, str, int]  # a piece and where its core ends (-1: all of it)
MAX_LIST_WORDS = 12  # "US, Japan, Australia and India"
_JOINER = re.compile(r"(?:\s*,\s*(?:and\s+|&\s+)?|\s+(?:and|&)\s+)")
_NAME_TYPES = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "WORK_OF_ART",
                         "EVENT", "PRODUCT"})


_HYPHENATED_REST = re.compile(r"(?:-[\w’']+)+")


def whole_names(sentence: str, found: Sequence[Piece]) -> list[Piece]:
    """The pieces, a name that spaCy ended inside a hyphenated name carried to its end
    ("Chick" of "Chick-fil-A", "Coca" of "Coca-Cola"). Not when the word ends in lower case:
    "US-led", "Texas-based" describe, and the name is the first part."""
    out = []
    for start, end, label in found:
        rest = _HYPHENATED_REST.match(sentence, end)
        if (rest and label not in NUMERIC_TYPES and sentence[start:end][:1].isupper()
                and rest.group(0).rsplit("-", 1)[1][:1].isupper()):
            end = rest.end()
        out.append((start, end, label))
    return out


def coordinated(sentence: str, found: Sequence[Piece], question_words: set[str]
                 ) -> list[Extended]:
    """The pieces, with each run of two or more names of one label joined only by commas or
    "and" replaced by the whole run: the answer to "Who won ...?" is both laureates. Names the
    question gives are not joined ("Biden and Xi" answers "Who met Xi?" with "Biden")."""
    names = sorted((p for p in found if p[2] in _NAME_TYPES
                    and content_words(sentence[p[0]:p[1]]) - question_words),
                   key=lambda p: p[0])
    runs: list[list[Piece]] = []
    for piece in names:
        last = runs[-1][-1] if runs else None
        if (last is not None and last[2] == piece[2] and last[1] <= piece[0]
                and _JOINER.fullmatch(sentence[last[1]:piece[0]])):
            runs[-1].append(piece)
        else:
            runs.append([piece])
    joined = [r for r in runs if len(r) > 1
              and re.search(r"\band\b|&", sentence[r[-2][1]:r[-1][0]])]  # a list ends in "and"
    spans = [(r[0][0], r[-1][1]) for r in joined]
    members = {p for r in joined for p in r} | {  # and the chunks inside a list
        p for p in found if any(a <= p[0] and p[1] <= b for a, b in spans)}
    return [*((p[0], p[1], p[2], -1) for p in found if p not in members),
            *((r[0][0], r[-1][1], r[0][2], r[0][1]) for r in joined)]


_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$")


def without_possessive(text: str) -> str:
    """"New York City’s" -> "New York City": the possessive is not part of the name."""
    return _POSSESSIVE.sub("", text)


def possessive(word: str) -> bool:
    """"Spain's", "Farage’s", "players'": a word that owns what follows it."""
    return bool(_POSSESSIVE.search(word))


def named_in_full(sentence: str, found: Sequence[Extended]) -> list[Extended]:
    """A people's word that ends a capitalised name stands for the whole name: "Liberal
    Democrats" (spaCy tags "Democrats"), "Sweden Democrats"; the name is the capitalised
    words before it in its noun chunk, after any article."""
    chunks = [(a, b) for a, b, label, _ in found if label == "CHUNK"]
    out = []
    for start, end, label, core_end in found:
        chunk = next(((a, b) for a, b in chunks if a < start and b == end), None)
        if label == "NORP" and chunk is not None:
            before = sentence[chunk[0]:start].split()
            while before and before[0].lower() in {"the", "a", "an"}:
                before = before[1:]
            named: list[str] = []
            for word in reversed(before):  # the capitalised run that ends at the word
                if not word[:1].isupper() or possessive(word):
                    break
                named.insert(0, word)
            if named:
                start = sentence.rindex(" ".join(named), chunk[0], start)
        out.append((start, end, label, core_end))
    return out


_CAPITALISED = re.compile(r"\s+([A-Z][\w&.-]*)")


def named_after_a_place(sentence: str, found: Sequence[Extended]) -> list[Extended]:
    """The pieces, and for a place or name that spaCy cut short inside its noun chunk
    ("Cleveland" of "Cleveland Browns quarterback Deshaun Watson") the capitalised run it
    opens, as one more candidate: a place's run is an organisation named after it ("Cleveland
    Browns"); the place stays a candidate for "Where?". A run that ends at a person's name is
    a title ("US President Joe Biden") and is left alone."""
    chunks = [(a, b) for a, b, label, _ in found if label == "CHUNK"]
    starts = {a: label for a, _, label, _ in found if label != "CHUNK"}
    out = list(found)
    for start, end, label, _ in found:
        if label not in _NAME_TYPES or possessive(sentence[start:end]):
            continue
        chunk = next(((a, b) for a, b in chunks if a <= start and end < b), None)
        if chunk is None:
            continue
        stop = end
        while ((word := _CAPITALISED.match(sentence, stop, chunk[1]))
               and not possessive(word.group(1)) and word.start(1) not in starts):
            stop = word.end()
        follows = _CAPITALISED.match(sentence, stop, chunk[1])
        if stop > end and not (follows and starts.get(follows.start(1)) == "PERSON"):
            out.append((start, stop, "ORG" if label in ("GPE", "LOC") else label, -1))
    return out


_NUMBER_WORDS = frozenset(
    "half third thirds quarter quarters fifth tenth one two three four five six seven eight "
    "nine ten dozen dozens hundred hundreds thousand thousands million billion".split())
_COUNTS = _NUMBER_WORDS | frozenset(
    "zero eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty "
    "thirty forty fifty sixty seventy eighty ninety millions billions trillion trillions "
    "twice double triple percent".split())


def says_no_number(text: str, label: str) -> bool:
    """A count or an amount without a figure or a number word: spaCy's "a little more than"
    (of "a little more than three hours") answers nothing."""
    return (label in ("CARDINAL", "QUANTITY", "MONEY", "PERCENT")
            and not any(ch.isdigit() for ch in text)
            and not any(w.strip(".,").lower() in _COUNTS for w in text.split()))


# nouns a "How much?" amount is counted in
_UNITS = frozenset(
    "dollars euros pounds yen yuan rupees francs cents pence points percent miles kilometres "
    "kilometers metres meters feet inches tons tonnes barrels gallons litres liters acres "
    "hectares hours minutes seconds days weeks months years degrees kilograms kilos "
    "grams calories watts megawatts gigawatts".split())
_CURRENCIES = frozenset("dollars euros pounds yen yuan rupees francs pesos cents pence".split())
_UNIT_AFTER = re.compile(r" ([a-z]+)\b")
_PERCENT_AFTER = re.compile(r" ?(?:per ?cent\b|percent\b|%)")
_PERCENT_END = re.compile(r"\d\s?(?:per ?cent|percent|%)$", re.I)


def is_percentage(text: str) -> bool:
    """A figure in per cent ("about 56 per cent", "9.1%"), whatever spaCy labelled it."""
    return bool(_PERCENT_END.search(text))


_FIGURE = re.compile(r"(?:(?:more|fewer|less) than |about |nearly |almost |over |some |at least )?"
                     r"\d[\d,.]*(?: (?:million|billion|trillion|thousand|hundred))?")


def numbers_in_chunks(sentence: str, found: Sequence[Extended]) -> list[Extended]:
    """A figure that spaCy read only as part of a noun chunk ("more than 900 engineers", no
    entity) is a count all the same: "more than 900"."""
    numeric = [(s, e) for s, e, label, _ in found if label in NUMERIC_TYPES]
    out = list(found)
    for start, end, label, _ in found:
        if label != "CHUNK" or any(s < end and start < e for s, e in numeric):
            continue
        figure = _FIGURE.match(sentence, start)
        if figure is not None and figure.end() < end:
            out.append((start, figure.end(), "CARDINAL", -1))
    return out


def with_units(sentence: str, found: Sequence[Extended]) -> list[Extended]:
    """A number written as a word only ("half") stands for the noun chunk it opens ("half a
    percentage point"): alone it answers nothing. A number spaCy left without its unit ("1.5
    billion" of "1.5 billion euros") is given it: the unit is part of the amount."""
    chunks = {p[0]: p for p in found if p[2] == "CHUNK"}
    out = []
    for start, end, label, core_end in found:
        chunk = chunks.get(start)
        words = sentence[start:end].lower().split()
        unit = _UNIT_AFTER.match(sentence, end) if label == "CARDINAL" else None
        share = _PERCENT_AFTER.match(sentence, end) if label == "CARDINAL" else None
        if (label in NUMERIC_TYPES and chunk is not None and chunk[1] > end
                and words and all(w in _NUMBER_WORDS or w in {"a", "an"} for w in words)):
            out.append((start, chunk[1], label, end))
        elif share is not None:  # "only about 34" of "only about 34 per cent"
            out.append((start, share.end(), "PERCENT", -1))
        elif unit is not None and unit.group(1) in _UNITS:
            out.append((start, unit.end(), "MONEY" if unit.group(1) in _CURRENCIES
                        else "QUANTITY", -1))
        else:
            out.append((start, end, label, core_end))
    return out


def continues(demonym: str, name: str, endings: tuple[str, ...] = DEMONYM_ENDINGS) -> bool:
    """Whether the people's word ``demonym`` is formed from the place's word ``name``: it
    continues it from at least all but its final letter and ends as a people's word does
    ("Chinese" from "China"; "Indiana" is no people of India)."""
    if demonym == name or len(name) < 4 or not demonym.endswith(endings):
        return False
    shared = next((i for i, (a, b) in enumerate(zip(demonym, name, strict=False)) if a != b),
                  min(len(demonym), len(name)))
    return shared >= len(name) - 1 and len(demonym) > shared


def named_by_its_people(place: str, question_words: set[str]) -> bool:
    """Whether the question names ``place`` by its people: "Argentine" for "Argentina",
    "Chinese" for "China" (the same words but the last, which the people's word continues)."""
    words = place.lower().split()
    if not words or not all(w in question_words for w in words[:-1]):
        return False
    return any(continues(said, words[-1], (*DEMONYM_ENDINGS, "ine")) for said in question_words)


def the_person_asked_about(names: Sequence[str], question_names: Sequence[str]) -> set[int]:
    """Indexes of the names that are the person the question calls by surname alone: "Donald
    Trump" for "Who did Trump defeat?". Of several people of that surname, the one named most
    often (then first) is meant: asked "Which Trump child ...?", "Ivanka Trump" stays."""
    surnames = {n.lower() for n in question_names if len(n.split()) == 1}
    bare = [without_possessive(n).lower() for n in names]  # "Trump's"
    out: set[int] = set()
    for surname in surnames:
        full = [i for i, n in enumerate(bare) if len(n.split()) > 1 and n.split()[-1] == surname]
        if not full:
            continue
        counts: dict[str, int] = {}  # in order of first mention: ties go to the first
        for i in full:
            counts[bare[i]] = counts.get(bare[i], 0) + 1
        meant = max(counts, key=counts.__getitem__)
        out |= {i for i in full if bare[i] == meant}
    return out


_AMOUNTS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})


def of_type(label: str, expected: set[str], text: str = "") -> bool:
    """Whether a candidate's label is one the question expects; spaCy's amounts are often
    labelled one for another, so any amount serves for one, but only a figure in per cent
    (``text``) for a question that asks for a share alone ("270" of "270 electoral votes"
    answers no "What percentage ...?")."""
    if expected == {"PERCENT"} and text:
        return is_percentage(text)
    return label in expected or (label in _AMOUNTS and bool(expected & _AMOUNTS))


_NEXT_WORD = re.compile(r"\s+([a-z][a-z-]+)\b")


def counts_things(sentence: str, end: int, label: str) -> bool:
    """A bare number that counts things ("Nearly 8 million borrowers"): an answer to "How
    many ...?", not to "How much loan forgiveness will borrowers receive?"."""
    if label != "CARDINAL":
        return False
    after = _NEXT_WORD.match(sentence, end)
    if after is None:
        return False
    noun = after.group(1)
    return (noun.endswith("s") and not noun.endswith("ss") and len(noun) > 3
            and noun not in _UNITS)


# the units of each dimension a "How tall / heavy / fast / hot ...?" asks for
_LENGTH = ("km cm mm ft metre metres meter meters kilometre kilometres kilometer kilometers "
           "centimetre centimetres centimeter centimeters millimetre millimetres mile miles foot "
           "feet inch inches yard yards storey storeys stories floors").split()
UNITS_OF = {
    "length": frozenset(_LENGTH),
    "mass": frozenset("kg g lb lbs kilogram kilograms kilo kilos gram grams tonne tonnes ton tons "
                      "pound pounds ounce ounces".split()),
    # a speed is often a length per hour: "160,000 kilometres an hour"
    "speed": frozenset(["mph", "kph", "km/h", "knot", "knots", *_LENGTH]),
    "temperature": frozenset("degree degrees °c °f c f celsius fahrenheit °".split()),
}
_UNIT_OF_NUMBER = re.compile(r"\d[\d,.]*(?:\s+(?:million|billion|thousand|hundred))?[\s-]*"
                             r"(°[CF]?|[A-Za-z/°]+)")


def measures(sentence: str, start: int, end: int, dimension: str) -> bool:
    """Whether the phrase at ``start:end`` is a figure in a unit of ``dimension``: "260 metres"
    answers "How tall?", but not "1.4" of "a 1.4-gigawatt wind farm", "95" of "95 turbines"
    or "half that amount": a measure without its unit answers nothing."""
    figure = None
    for figure in _UNIT_OF_NUMBER.finditer(sentence, start, min(len(sentence), end + 24)):
        if figure.start() >= end or figure.end(1) >= end:
            break  # the unit of the phrase's last figure
    if figure is None or figure.start() >= end:
        return False
    return figure.group(1).lower() in UNITS_OF[dimension]


# "Spain beat England", "Milei has won ..., defeating Sergio Massa", "a victory over England"
_WON_AFTER = re.compile(r"(?:['’]s?)?\s+(?:has |have |had )?(?:won|wins|beat|beats|defeated|"
                        r"defeats|edged|edges|clinched|retained|routed|ousted|unseated)\b", re.I)
_LOST_BEFORE = re.compile(r"\b(?:defeating|defeated|beating|beat|beats|over|against|edging|"
                          r"edged|ousting|unseating|routing)\s+(?:[\w’'-]+\s+){0,3}$", re.I)
_LOST_AFTER = re.compile(r"\s+(?:has |have |had )?(?:lost|conceded|was defeated|were defeated|"
                         r"was beaten|were beaten)\b", re.I)


def side_in_contest(sentence: str, start: int, end: int) -> str | None:
    """"won" for the name that the sentence says won or beat someone ("Spain beat ..."),
    "lost" for the one beaten ("defeating Sergio Massa", "victory over England", "Sunak
    conceded"), None when it says neither."""
    if _WON_AFTER.match(sentence, end):
        return "won"
    if _LOST_BEFORE.search(sentence[max(0, start - 60):start]) or _LOST_AFTER.match(sentence,
                                                                                    end):
        return "lost"
    return None


_VERB_AFTER = re.compile(r"(?:,[^,]{1,60},)?\s+(has |have |had |was |were |also |then |"
                         r"later |finally )?([a-z]+)\b")
# the agent of a passive: "was founded in 2011 by two former classmates, Ana Ruiz"
_AGENT_BEFORE = re.compile(r"\b([a-z]+)(?:\s+(?:in|on|at) [\w-]+)?\s+by\s+(?:[\w’'-]+,?\s+){0,8}$")
_WORD_BEFORE = re.compile(r"\b([\w-]+),?\s+$")
_NAME_BEFORE = re.compile(r"\b(?!(?:The|A|An|His|Her|Its|Their|Our|My|Your|This|That)\b)"
                          r"([A-Z][\w-]+)(?:['’]s)?\s+$")
_ROLE_AFTER = re.compile(r",\s+(?:the |its |their |an? )?(?:[\w’'-]+\s+){0,3}?([\w-]+)\s*[,.;]")
# a role a question shortens and a sentence writes out ("CEO" -> "chief executive")
_ROLE_WORDS = {"ceo": {"ceo", "execut"}, "cfo": {"cfo", "offic"}}


def next_to_the_asked(sentence: str, start: int, end: int, verb: str | None,
                      role: str | None, owners: Collection[str] = ()) -> bool:
    """Whether the name at ``start:end`` is the subject of the question's verb ("Mary Earps
    saved" for "Who saved the penalty?", "founded ... by Ana Ruiz" for "Who founded ...?", the
    verb as a title: "captain Sam Cane" for "Who captained ...?") or the one its role word
    introduces ("economy minister Sergio Massa", "Her mother, Zola," or "Zola, the calf's
    mother"). A role another name owns is not the one asked about: "Ravenholt coach Marco
    Feld" answers no "Who is Harbourside's coach?" (``owners``: the question's names, lower
    case)."""
    if verb is not None:
        after = _VERB_AFTER.match(sentence, end)
        if after is not None and stem(after.group(2)) == stem(verb):
            return after.group(1) not in ("was ", "were ")  # "Austin, Texas, was founded"
        agent = _AGENT_BEFORE.search(sentence[max(0, start - 80):start])
        if agent is not None and stem(agent.group(1)) == stem(verb):
            return True
        role = verb  # the verb as a title: "captain Sam Cane" for "Who captained ...?"
    if role is None:
        return False
    wanted = _ROLE_WORDS.get(role, {stem(role)})
    window = sentence[max(0, start - 40):start]
    before = _WORD_BEFORE.search(window)
    if before is not None and stem(before.group(1).lower()) in wanted:
        owner = _NAME_BEFORE.search(window[:before.start(1)])
        return owner is None or not owners or owner.group(1).lower() in owners
    after = _ROLE_AFTER.match(sentence, end)
    return after is not None and stem(after.group(1).lower()) in wanted


_SPELLED = ("a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|few|"
            "a few|many|some|\\d[\\d,.]*")
_A_DURATION = re.compile(rf"(?:the (?:past|last|next|first) |for |over |about |nearly |almost |"
                         rf"more than |some |just )*(?:{_SPELLED})(?: more)?[\s-]"
                         rf"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)",
                         re.I)
_A_POINT_BEFORE = re.compile(r"\b(?:in|within|after|by)\s+$", re.I)
_A_POINT_AFTER = re.compile(r"\s+(?:ago|later|earlier|from now)\b", re.I)


def only_lasts(sentence: str, start: int, end: int) -> bool:
    """A stretch of time that says how long, not when: "three years" of "three years after
    engineers closed it", "the past two years"; not "in two years" or "two weeks ago"."""
    if not _A_DURATION.fullmatch(sentence[start:end]):
        return False
    return not (_A_POINT_BEFORE.search(sentence[max(0, start - 10):start])
                or _A_POINT_AFTER.match(sentence, end))
