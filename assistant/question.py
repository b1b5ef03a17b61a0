"""What a question asks for: its kind (who / when / which ...), the entity types an answer
should be, the names it mentions and its time expression. Patterns only: cheap enough to run
on every question (well under a millisecond)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from assistant.speech_question import match_who_said_what
from assistant.timewords import resolve_time_expression
from ingest.sentences import NON_TERMINAL

FACTOID_KINDS = frozenset({"who", "when", "where", "how_many", "how_much", "which", "what"})

PERSON = ("PERSON",)
ORG = ("ORG",)
PLACE = ("GPE", "LOC", "FAC")
NUMBER = ("CARDINAL", "QUANTITY")
AMOUNT = ("MONEY", "PERCENT", "QUANTITY", "CARDINAL")
WHEN = ("DATE", "TIME")
MEASURE = ("QUANTITY", "CARDINAL")
DURATION = ("DATE", "TIME", "QUANTITY", "CARDINAL")  # spaCy tags "46 days" DATE, "25 hours" TIME
_MEASURES = frozenset(NUMBER + AMOUNT + WHEN)

# head noun of "which X" / "what X" -> entity types of the answer (spaCy OntoNotes labels)
_HEAD_TYPES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("country", "countries", "nation", "nations", "state", "states", "city", "cities", "town",
     "island", "islands", "jurisdiction", "province", "region", "territory", "capital",
     "county", "village", "area", "continent"): ("GPE", "LOC"),
    # a park or a river is no city, state or country; spaCy tags "Yellowstone National Park"
    # ORG as often as FAC
    ("park", "reserve", "forest"): ("FAC", "ORG", "LOC"),
    ("mountain", "river", "lake", "ocean", "sea", "volcano", "desert", "beach", "bay"): (
        "LOC", "FAC"),
    ("place", "location", "site"): ("LOC", "FAC", "GPE"),
    ("airport", "stadium", "building", "bridge", "museum", "landmark", "attraction",
     "venue", "prison", "hospital"): ("FAC", "ORG", "LOC"),
    ("company", "companies", "firm", "business", "airline", "automaker", "carmaker", "brand",
     "chain", "retailer", "network", "bank", "agency", "organization", "organisation", "group",
     "school", "university", "college", "team", "club", "league", "party", "service",
     "startup", "manufacturer", "maker", "publisher", "outlet", "newspaper", "platform",
     "app", "website", "union", "court", "department", "institution", "restaurant",
     "studio", "store", "entity", "publication", "magazine", "franchise", "giant",
     "conglomerate", "broadcaster"): ("ORG",),
    ("person", "people", "performer", "performers", "activist", "man", "woman", "star",
     "singer", "actor", "actress", "rapper",
     "player", "athlete", "official", "politician", "leader", "president", "senator",
     "governor", "lawmaker", "celebrity", "musician", "artist", "author", "writer",
     "billionaire", "ceo", "executive", "founder", "member", "candidate", "judge", "justice",
     "quarterback", "coach", "director", "host", "comedian", "legend", "icon", "king",
     "queen", "prince", "princess", "minister", "secretary", "head", "chief", "spokesperson",
     "journalist", "reporter", "scientist", "astronaut", "pope", "monarch", "figure",
     "personality", "influencer", "golfer", "tennis", "boxer", "swimmer", "gymnast",
     "pitcher", "rep", "congressman", "congresswoman", "mayor", "name", "child", "children",
     "son", "daughter", "wife", "husband", "brother", "sister", "mother", "father", "nominee",
     "suspect", "victim", "laureate"): ("PERSON",),
    ("show", "series", "movie", "film", "book", "novel", "song", "album", "play", "musical",
     "game", "title", "painting", "sitcom", "documentary", "podcast", "role"): ("WORK_OF_ART",),
    ("nationality", "religion", "ethnicity", "language"): ("NORP", "LANGUAGE"),
    ("percentage", "percent", "share", "proportion", "rate"): ("PERCENT",),
    ("year", "day", "date", "month", "decade", "century", "season"): ("DATE",),
    ("price", "cost", "amount", "sum", "salary", "fine", "fee", "budget"): ("MONEY",),
    ("age", "number", "magnitude", "figure", "score", "total", "count"): ("CARDINAL",
                                                                           "QUANTITY"),
    ("distance", "length", "height", "depth", "weight", "speed", "temperature"): (
        "QUANTITY", "CARDINAL"),
    ("time", "duration"): ("TIME", "DATE", "QUANTITY", "CARDINAL"),  # "the record time"
    # a change is an amount: "What pay rise ...?" -> "9 per cent"
    ("rise", "increase", "raise", "hike", "cut", "drop", "fall", "decline", "jump", "gain",
     "loss", "growth"): ("PERCENT", "MONEY", "CARDINAL", "QUANTITY"),
    ("event", "holiday", "festival", "tournament", "war", "storm", "hurricane", "award",
     "awards", "prize", "competition", "championship", "ceremony"): ("EVENT",),
    ("law", "bill", "act", "treaty", "amendment"): ("LAW",),
    ("product", "device", "car", "vehicle", "phone", "drug", "vaccine", "food", "item"):
        ("PRODUCT",),
}
HEAD_TYPES = {word: types for words, types in _HEAD_TYPES.items() for word in words}


def head_types(noun: str) -> tuple[str, ...] | None:
    """The answer types a head noun asks for, singular or plural ("airlines", "teams",
    "cities"); None for a noun that names no type."""
    noun = noun.lower()
    for form in (noun, noun[:-3] + "y" if noun.endswith("ies") else "",
                 noun[:-2] if noun.endswith(("ches", "shes", "sses", "xes")) else "",
                 noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else ""):
        if form in HEAD_TYPES:
            return HEAD_TYPES[form]
    return None


_AUX = ("is|are|was|were|do|does|did|has|have|had|will|would|can|could|should|shall|may|"
        "might|must|isn't|aren't|wasn't|weren't|don't|doesn't|didn't|hasn't|haven't|won't")
YES_NO = re.compile(rf"^\s*(?:{_AUX})\b", re.I)
WHY = re.compile(r"\b(why|how come|for what reason|what (?:caused|led to|prompted)|"
                 r"what is the reason|what was the reason)\b", re.I)
OPEN = re.compile(
    r"^\s*(?:(?:and |but |so |then )?(?:what|how) about\b|tell me (?:about|more)|"
    r"what(?:'s| is| was)? (?:happened|happening|the latest|new)|"
    r"what(?:'s| is) going on|summari[sz]e|give me|explain|describe|any news|news (?:on|about)|"
    r"what do (?:we|you) know|latest on|update on|how (?:is|are|did|does|do|was|were) )",
    re.I,
)
HOW_MANY = re.compile(r"\bhow many\b|\bwhat number of\b", re.I)
HOW_MANY_TIMES = re.compile(r"\bhow many (?:\w+ )?(?:seconds|minutes|hours|days|weeks|months|"
                            r"years|decades|centuries)\b", re.I)
HOW_MUCH = re.compile(r"\bhow (?:much|expensive|costly|high|low|far|long|big|large|tall|"
                      r"fast|heavy|deep|close|near|wide|thick|thin|hot|cold|warm)\b", re.I)
# a speed, a distance, a size: a measure, never money or a share; by what it measures
_DIMENSIONS = {
    "length": ("far", "tall", "deep", "close", "near", "wide", "thick", "thin"),
    "mass": ("heavy",),
    "speed": ("fast",),
    "temperature": ("hot", "cold", "warm"),
}
_DIMENSION_OF = {word: name for name, words in _DIMENSIONS.items() for word in words}
HOW_MEASURE = re.compile(rf"\bhow (?:{'|'.join(_DIMENSION_OF)})\b", re.I)
HOW_OLD = re.compile(r"\bhow old\b", re.I)
# "How much will the line cost?" asks for money, not for the line's length
MONEY_CUE = re.compile(r"\b(?:cost|pay|paid|spen[dt]|worth|money|fund|funding|budget|fined?|"
                       r"charged?|earn(?:ed)?|invest(?:ed)?|sell|sold|buy|bought)(?:s|ing)?\b",
                       re.I)
HOW_LONG = re.compile(r"\bhow long\b(?! ago)", re.I)
WHEN_RX = re.compile(r"\b(when|what time|what year|what date|what day|how soon|how long ago)\b",
                     re.I)
WHERE_RX = re.compile(r"\b(where|in what place)\b", re.I)
WHO_RX = re.compile(r"\b(who|whom|whose)\b", re.I)
WHICH_RX = re.compile(r"\b(which|what)\s+(.{0,80})", re.I | re.S)
_WORD_RX = re.compile(r"[\w’'-]+|[^\w\s]")
_COPULA = frozenset("is was are were did does do has have had will would can could".split())
# words that end the noun phrase after "which"/"what"
_PHRASE_END = frozenset(
    "is was are were did does do has have had will would can could a an the his her their its "
    "of in on at to for that which who by with from after this last as and or it he she they "
    "we you recently".split()
)
# not "this": "which country this week"
_DETERMINERS = frozenset("the a an his her its their our your".split())
THIS_X = re.compile(r"\b(?:this|these)\s+([^.,;:?!]{1,60})", re.I)
_NOT_A_THING = ("week", "month", "year", "weekend", "morning", "time")
_TIME_WORDS = ("recently", "this week", "last week", "this month", "this year", "today",
               "yesterday", "this weekend")
# capitalised runs ("Joey Chestnut", "Roe v. Wade", "New York Federal Reserve")
NAME_RUN = re.compile(
    r"(?:“[^”]{2,60}”|\"[^\"]{2,60}\")|"
    r"\b(?:[A-Z][\w’'.&-]*|\d+[A-Za-z]+)(?:\s+(?:(?:of|the|de|v\.|and|&|for)\s+)?"
    r"(?:[A-Z][\w’'.&-]*|\d+))*"
)
_NOT_NAMES = frozenset(
    "what which who whom whose when where why how is are was were do does did has have had "
    "will would can could should the a an in on at after before according despite due though "
    "nearly approximately about during since as for from this that these those it its he she "
    "they we i you tell and but also so then if police primary grocery rents gas baseball "
    "supermarkets hollywood nasa us with without amid among everyone everybody nobody someone "
    "dozens hundreds thousands millions several".split()
)
_KEEP_FIRST = frozenset({"nasa", "us"})
# not "May": a name too (Theresa May), and harmless as one ("may" is in most texts)
_CALENDAR = re.compile(r"(?:(?:jan|febr)uary|march|april|june|july|august|october|"
                       r"(?:sept|nov|dec)ember|(?:mon|tues|wednes|thurs|fri|satur|sun)day)", re.I)
_CONNECTORS = frozenset({"of", "and", "&", "for", "v."})  # inside a name, never first


@dataclass(frozen=True)
class QuestionAnalysis:
    """What the question asks: ``kind`` (who, when, where, how_many, how_much, which, what,
    yes_no, why, define, open, who_said_what), the entity labels an answer should carry, the names
    it mentions, a speaker/topic for who-said-what and its time expression."""

    kind: str
    expected_types: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    speaker: str | None = None
    topic: str | None = None
    time_expression: str | None = None
    # what a "How tall / heavy / fast / hot ...?" measures: length, mass, speed, temperature
    dimension: str | None = None
    # asks for the side that lost a contest ("Who lost the runoff?", "Who did Milei defeat?")
    loser: bool = False
    # asks for the larger place of "Brunswick, Georgia" ("In what state ...?")
    wider_place: bool = False
    # what the answer stands next to: the verb it is the subject of ("Who saved the penalty?"
    # -> "saved"), or the role that introduces it ("Who is the economy minister?" -> "minister")
    verb: str | None = None
    role: str | None = None

    @property
    def factoid(self) -> bool:
        """Answered by a short phrase (a name, a date, a number ...)."""
        return self.kind in FACTOID_KINDS


def analyse_question(question: str) -> QuestionAnalysis:
    """Kind, expected answer types, entities and time expression of ``question``."""
    text = " ".join(question.split())
    entities = question_entities(text)
    time_expression = find_time_expression(text)
    said = _who_said_what(text)
    if said is not None:
        return QuestionAnalysis("who_said_what", (), entities, said[0], said[1], time_expression)
    kind, types = classify(text)
    asked = _asking_clause(text)
    dimension = asked_dimension(asked) if kind == "how_much" else None
    loser = kind in ("who", "which") and bool(LOSER.search(asked))
    verb, role = asked_neighbour(asked) if kind == "who" else (None, None)
    wider = kind == "which" and bool(WIDER_PLACE.search(asked))
    return QuestionAnalysis(kind, types, entities, None, None, time_expression, dimension,
                            loser, wider, verb, role)


# "In what state / country ...?": of "near Brunswick, Georgia", the state
WIDER_PLACE = re.compile(r"\b(?:what|which)\s+(?:(?:US|U\.S\.|American|European|African|Asian)\s+)?"
                         r"(?:country|countries|nation|state|province|region)\b", re.I)


_WHO_VERB = re.compile(r"^\s*who\s+(?:also\s+|has\s+|have\s+|had\s+)?([a-z]{3,})\b", re.I)
_WHO_ROLE = re.compile(r"^\s*who\s+(?:is|was|are|were|will be)\s+(?:the\s+)?(?:[\w’'.-]+['’]s\s+)?"
                       r"((?:[\w-]+\s+){0,3}?[\w-]+)\s*(?:\bof\b|\bin\b|\bat\b|\bfor\b|\?|$)",
                       re.I)
_NOT_A_VERB = frozenset(_COPULA | {"will", "would", "can", "could", "should", "might", "must",
                                   "said", "says", "say", "told", "the", "else"})


def asked_neighbour(asked: str) -> tuple[str | None, str | None]:
    """For "Who saved the penalty?" the verb the answer is the subject of ("saved"); for "Who
    is Argentina's economy minister?" the role word that names the answer ("minister"); who
    said what is left to its own answerer."""
    role = _WHO_ROLE.match(asked)
    if role is not None:
        head = role.group(1).split()[-1]
        named = head[:1].isupper() and not head.isupper()  # "Who is Keir Starmer?": a name
        common = head.lower() not in _PHRASE_END and head[:1].isalpha()
        return None, head.lower() if common and not named else None
    verb = _WHO_VERB.match(asked)
    if verb is not None and verb.group(1).lower() not in _NOT_A_VERB:
        return verb.group(1).lower(), None
    return None, None


# "Who lost ...?", "Which team was beaten ...?", "Who did Spain beat ...?": the loser of a contest
LOSER = re.compile(r"\b(?:lost|conceded|(?:was|were|got) (?:defeated|beaten|ousted)|"
                   r"runners?-up)\b|\bdid\b[^?]*\b(?:beat|defeat|edge|overcome|oust|unseat)\b",
                   re.I)


_HOW_DIMENSION = re.compile(rf"\bhow ({'|'.join(_DIMENSION_OF)})\b", re.I)


def asked_dimension(asked: str) -> str | None:
    """The dimension a "How tall / heavy / fast / hot ...?" asks for, None for other questions
    ("How much / high / big ...?", "How long ...?": money, a share, a duration or a length)."""
    found = _HOW_DIMENSION.search(asked)
    if found is None or MONEY_CUE.search(asked):
        return None
    return _DIMENSION_OF[found.group(1).lower()]


# what a document or a finding says ("What did the COP28 agreement say about fossil fuels?",
# "What did the images show?"): a person's words go to who-said-what first; this is answered
# by the quoted sentences, not by one phrase of them
SAYS = re.compile(r"^\s*what\s+(?:did|does|do|has|have|had|will|would|could)\s+[^?]{1,80}?"
                  r"\b(?:say|show|reveal|find|state|mean|conclude|propose|recommend|warn|"
                  r"call for)\b", re.I)


def classify(text: str) -> tuple[str, tuple[str, ...]]:
    """(kind, expected types) from the question's wording."""
    asked = _asking_clause(text)
    if WHY.search(asked):
        return "why", ()
    if (OPEN.match(asked) or SAYS.match(asked)) and not HOW_MANY.search(asked) and not (
            HOW_MUCH.search(asked)):
        return "open", ()
    if HOW_MANY.search(asked):
        # spaCy tags "187 minutes" TIME and "46 days" DATE
        return "how_many", DURATION if HOW_MANY_TIMES.search(asked) else NUMBER
    if HOW_OLD.search(asked):
        return "how_many", ("CARDINAL", "DATE")
    if WHEN_RX.search(asked):
        return "when", WHEN
    if HOW_LONG.search(asked):  # a duration ("46 days") or a length ("1.6 miles")
        return "how_much", DURATION
    if HOW_MEASURE.search(asked) and not MONEY_CUE.search(asked):
        return "how_much", MEASURE
    if HOW_MUCH.search(asked):
        return "how_much", ("MONEY",) if MONEY_CUE.search(asked) else AMOUNT
    if (define := DEFINE.match(asked)) and _names_a_thing(define.group(2), bool(define.group(1))):
        return "define", ()
    which = _which_head(asked)
    if which is not None:
        return which
    if WHERE_RX.search(asked):
        return "where", PLACE
    if WHO_RX.search(asked):
        return "who", PERSON + ORG + ("NORP", "GPE")
    if YES_NO.match(asked):
        return "yes_no", ()
    if re.search(r"\bwhat\b", asked, re.I):
        return "what", ()
    types = _this_head(text)  # fill-in style: "... this country is also mourning ..."
    return ("which", types) if types is not None else ("open", ())


def _first_typed(words: list[str]) -> tuple[str, ...] | None:
    """The answer types of the first typed noun of a phrase's words, up to its end; a
    possessive counts as its noun ("the company's new name" -> a company; "Trump's children"
    -> people). A compound's head is its last noun: "fast food chain" is a company, "Supreme
    Court Justice" and "talk show host" are people."""
    for at, word in enumerate(words):
        if word in _PHRASE_END or not word[0].isalnum():
            break
        if (types := head_types(word.removesuffix("’s").removesuffix("'s"))) is not None:
            return _compound_head(words, at, types)
    return None


def _compound_head(words: list[str], at: int, types: tuple[str, ...]) -> tuple[str, ...]:
    """The types of the last typed noun of the compound that ``words[at]`` opens. Not past a
    possessive, nor to a word ending in "s" (it may be a verb: "Which team plays ...?"), nor
    from a measure ("age group" asks for ages)."""
    while (at + 1 < len(words) and not words[at].endswith(("’s", "'s"))
           and not _MEASURES.intersection(types) and words[at + 1] not in _PHRASE_END
           and not words[at + 1].endswith("s")
           and (following := head_types(words[at + 1])) is not None):
        at, types = at + 1, following
    return types


def _this_head(text: str) -> tuple[str, ...] | None:
    """The answer types of the first typed noun after "this"/"these": "these two Democratic
    presidential candidates" -> a person, "This popular Canadian sitcom" -> a work; not
    "this week"."""
    for match in THIS_X.finditer(text):
        words = [w.lower() for w in _WORD_RX.findall(match.group(1))][:5]
        if words and not words[0].startswith(_NOT_A_THING):
            return _first_typed(words)
    return None


# "What is the AI Act?", "What is mpox?": asks what a thing is, not for a phrase of a sentence
DEFINE = re.compile(r"^\s*what(?:'s|’s|\s+is|\s+are|\s+was|\s+were)\s+(?:(the|an?)\s+)?"
                    r"([^?]{1,60}?)\s*\??\s*$", re.I)


def _names_a_thing(phrase: str, article: bool = False) -> bool:
    """A name ("AI Act", "COP28", "Chandrayaan-3") or a single word ("mpox"): not "the name of
    the show" or "the margin in the final", which ask for a phrase, nor a common noun after an
    article ("What was the culprit?")."""
    words = phrase.split()
    if len(words) == 1:
        if article and not words[0][:1].isupper():
            return False
        return words[0].lower() not in _PHRASE_END and words[0][:1].isalnum()
    return len(words) <= 5 and all(w[:1].isupper() or w[:1].isdigit() for w in words)


_QUESTION_WORD = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.I)


def _asking_clause(text: str) -> str:
    """The sentence that asks: quizzes lead with context ("NASA made history ... Where did
    it launch?"), so the last sentence with a question word, else the whole text."""
    parts = [p for p in re.split(r"(?<=[.?!])\s+(?=[A-Z])", text) if p.strip()]
    asking = [p for p in parts if _QUESTION_WORD.search(p)] or [p for p in parts if "?" in p]
    return asking[-1] if asking else text


def _which_head(text: str) -> tuple[str, tuple[str, ...]] | None:
    """"Which US national park ..." -> ("which", place types): the first typed head noun of
    the phrase after which/what; ("which", ()) for an untyped one; None for a bare "what"."""
    for match in WHICH_RX.finditer(text):
        words = [w.lower() for w in _WORD_RX.findall(match.group(2))][:6]
        if not words or not words[0][0].isalnum():
            continue
        if words[0] == "of":  # "which of the candidates", "which of Trump's children"
            words = words[1:]
            while words and words[0] in _DETERMINERS:
                words = words[1:]
            if not words:
                return "which", ()
        elif len(words) > 1 and words[1] in _DETERMINERS and words[0] not in _COPULA:
            continue  # "What cost the US economy ...": a verb, not the answer's noun
        if words[0] in _COPULA:  # "What was the magnitude of the quake?"
            types = _head_after_copula(words[0], match.group(2)[len(words[0]):])
            if types is not None:
                return "which", types
            continue
        if (types := _first_typed(words)) is not None:
            return "which", types
        if words[0] not in _PHRASE_END:  # a noun of no known type: "Which virus ...?"
            return "which", ()
    return None


def _head_after_copula(verb: str, rest: str) -> tuple[str, ...] | None:
    """"What is the name of ..." / "What was the record high average price" -> the types of
    the first typed noun of the phrase after the article. After another auxiliary the phrase
    is a subject and its verb ("What did the images show?"): its first word only."""
    match = re.match(r"\s*(?:the|a|an|her|his|their|its)\s+(.{1,60})", rest, re.I)
    if not match:
        return None
    words = [w.lower() for w in _WORD_RX.findall(match.group(1))]
    return _first_typed(words[:5] if verb in ("is", "are", "was", "were") else words[:1])


def question_entities(text: str) -> tuple[str, ...]:
    """Names the question mentions: quoted titles and capitalised runs, minus question words
    and capitalised sentence openers."""
    found: list[str] = []
    for match in NAME_RUN.finditer(text):
        for at, piece in _sentence_pieces(match.group(0), match.start()):
            _add_name(found, text, at, piece)
    return tuple(found)


def _sentence_pieces(run: str, at: int) -> list[tuple[int, str]]:
    """A capitalised run split where a sentence ends inside it ("Buffett. How")."""
    pieces, cursor = [], 0
    for end in re.finditer(r"\b([A-Za-z]{2,})[.?!]\s+(?=[A-Z])", run):
        if end.group(1).lower() in NON_TERMINAL:
            continue  # "Lt. Gov. Dan Patrick"
        pieces.append((at + cursor, run[cursor : end.end(1)]))
        cursor = end.end()
    pieces.append((at + cursor, run[cursor:]))
    return pieces


def _add_name(found: list[str], text: str, at: int, run: str) -> None:
    """Add the name in ``run`` (at ``at`` of ``text``) unless it is a question word, a plain
    sentence opener or a quoted common word."""
    name = run.strip(" .,’'")
    words = name.split()
    while words and (words[0].lower() in _CONNECTORS or words[0].lower().strip("’'s") in
                     _NOT_NAMES) and not (
        words[0].lower() in _KEEP_FIRST and len(words[0]) > 1 and words[0].isupper()
    ):
        words = words[1:]
    if (len(words) > 2 and words[1] == "of" and HEAD_TYPES.get(words[0].lower()) == PERSON
            and words[2].lower() not in HEAD_TYPES):
        # "CEO of CrowdStrike", "President of France": the role is what is asked; not
        # "Secretary of State", a title of its own
        words = words[2:]
    name = " ".join(words).removesuffix("’s").removesuffix("'s").strip(" .,")
    if not name or len(name) < 2 or name.isdigit() or _CALENDAR.fullmatch(name):
        return  # "Tuesday", "October": when, not what (the time expression reads them)
    if name.startswith(("“", '"')):
        name = name.strip("“”\" ,.")
        if not name[:1].isupper():
            return  # a quoted word ("bankrupt"), not a title
    if (_sentence_initial(text, at) and len(words) == 1 and name.lower() in _NOT_NAMES
            and not name.isupper()):
        return
    if name not in found:
        found.append(name)


def _sentence_initial(text: str, at: int) -> bool:
    before = text[:at].rstrip()
    return not before or before[-1] in ".?!"


def find_time_expression(text: str) -> str | None:
    """The relative time phrase ("this week", "last month", "in 2022") or None."""
    scope = resolve_time_expression(text, date.today())
    if scope is not None:
        return scope.phrase
    lowered = text.lower()
    return next((w for w in _TIME_WORDS if w in lowered), None)


def _who_said_what(text: str) -> tuple[str, str | None] | None:
    return match_who_said_what(text)
