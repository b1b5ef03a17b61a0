"""Who said what: the attributed statements of an article body.

For every sentence with a speech cue (a cheap regex prefilter: "said", "told", "warned",
"according to", ...) spaCy's dependency parse finds the verb of saying, its subject (the
speaker) and what was said: the quotation next to the attribution (``direct``) or the verb's
clausal complement or object (``reported``). Speakers are resolved within the article:
pronouns to the last named person (or organisation) before them, titles ("Ukraine's president",
"the police chief") to the person the article introduces with that title ("Ukrainian President
Volodymyr Zelenskyy"), short names to the fullest form the article uses ("Xi" -> "Xi Jinping").
A quotation that follows an attributed one in the same paragraph, with no attribution of its
own, continues it (multi-sentence and multi-paragraph quotes).

Every statement's ``text`` is verbatim: ``body[start:end] == text``. Only sentences with a cue
are parsed; named-entity recognition runs on the other sentences only when a pronoun or a
title has to be resolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ingest.sentences import sentence_spans

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

# Lemmas of verbs that report speech (and the inflected forms the prefilter looks for).
SPEECH_VERBS: dict[str, tuple[str, ...]] = {
    "say": ("say", "says", "said", "saying"),
    "tell": ("tell", "tells", "told", "telling"),
    "state": ("state", "states", "stated", "stating"),
    "add": ("added", "adding", "adds"),
    "warn": ("warn", "warns", "warned", "warning"),
    "reiterate": ("reiterate", "reiterates", "reiterated", "reiterating"),
    "acknowledge": ("acknowledge", "acknowledges", "acknowledged", "acknowledging"),
    "note": ("noted", "notes", "noting"),
    "point": ("pointed", "points", "pointing"),
    "claim": ("claim", "claims", "claimed", "claiming"),
    "argue": ("argue", "argues", "argued", "arguing"),
    "insist": ("insist", "insists", "insisted", "insisting"),
    "explain": ("explain", "explains", "explained", "explaining"),
    "announce": ("announce", "announces", "announced", "announcing"),
    "emphasize": ("emphasize", "emphasizes", "emphasized", "emphasizing"),
    "emphasise": ("emphasise", "emphasises", "emphasised", "emphasising"),
    "stress": ("stressed", "stresses", "stressing"),
    "assert": ("assert", "asserts", "asserted", "asserting"),
    "declare": ("declare", "declares", "declared", "declaring"),
    "write": ("wrote", "writes", "writing"),
    "tweet": ("tweeted", "tweets", "tweeting"),
    "post": ("posted",),
    "reply": ("replied", "replies", "replying"),
    "respond": ("responded", "responds", "responding"),
    "comment": ("commented", "comments", "commenting"),
    "suggest": ("suggested", "suggests", "suggesting"),
    "urge": ("urged", "urges", "urging"),
    "vow": ("vowed", "vows", "vowing"),
    "pledge": ("pledged", "pledges", "pledging"),
    "promise": ("promised", "promises", "promising"),
    "predict": ("predicted", "predicts", "predicting"),
    "confirm": ("confirmed", "confirms", "confirming"),
    "deny": ("denied", "denies", "denying"),
    "admit": ("admitted", "admits", "admitting"),
    "concede": ("conceded", "concedes", "conceding"),
    "caution": ("cautioned", "cautions", "cautioning"),
    "maintain": ("maintained", "maintains", "maintaining"),
    "contend": ("contended", "contends", "contending"),
    "affirm": ("affirmed", "affirms", "affirming"),
    "observe": ("observed", "observes", "observing"),
    "remark": ("remarked", "remarks", "remarking"),
    "recall": ("recalled", "recalls", "recalling"),
    "highlight": ("highlighted", "highlights", "highlighting"),
    "underscore": ("underscored", "underscores", "underscoring"),
    "testify": ("testified", "testifies", "testifying"),
    "ask": ("asked", "asks", "asking"),
    "describe": ("described", "describes", "describing"),
    "call": ("called", "calls"),
    "report": ("reported", "reports"),
    "complain": ("complained", "complains"),
    "boast": ("boasted", "boasts"),
    "estimate": ("estimated", "estimates"),
    "believe": ("believes", "believed"),
    "express": ("expressed", "expresses", "expressing"),
}
# verbs whose direct object is what was said ("reiterated China's position")
OBJECT_CONTENT = {
    "reiterate", "acknowledge", "emphasize", "emphasise", "stress", "highlight", "underscore",
    "announce", "confirm", "deny", "admit", "concede", "affirm", "promise", "pledge", "predict",
    "describe", "call", "urge", "note", "claim", "recall", "assert", "declare", "estimate",
    "report", "maintain", "post", "tweet", "write", "state", "point", "comment", "express",
}
# verbs that are speech only with a clause or a quote ("ask", "call", "believe", "describe")
NEEDS_CLAUSE = {"ask", "believe", "report", "estimate"}
ADDRESSEE_VERBS = {"tell", "warn", "assure", "inform", "remind", "urge", "ask"}

_CUE_WORDS = sorted({form for forms in SPEECH_VERBS.values() for form in forms}, key=len)
CUE_RE = re.compile(
    r"\b(?:" + "|".join(_CUE_WORDS[::-1]) + r"|according to)\b", re.IGNORECASE
)
QUOTE_CHARS = "\"“”"
# Titles and roles: words of a title that precede or describe a name
TITLE_WORDS = {
    "president", "vice", "prime", "minister", "chancellor", "secretary", "spokesperson",
    "spokesman", "spokeswoman", "chief", "ceo", "director", "general", "senator", "sen", "sen.",
    "rep", "rep.", "representative", "gov", "gov.", "governor", "mayor", "professor", "prof",
    "dr", "dr.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "king", "queen", "prince", "princess",
    "pope", "judge", "justice", "commissioner", "chairman", "chairwoman", "chair", "head",
    "leader", "ambassador", "envoy", "foreign", "defence", "defense", "interior", "finance",
    "health", "deputy", "state", "coach", "manager", "captain", "police", "fire", "officer",
    "lt", "lt.", "col", "col.", "sgt", "sgt.", "gen", "gen.", "adm", "adm.", "speaker",
    "attorney", "executive", "founder", "analyst", "economist", "associate", "assistant",
    "former", "acting", "then", "senior", "top", "official", "lawmaker", "minority",
    "majority", "house", "senate", "supreme", "sheriff", "detective", "inspector",
    "superintendent", "premier", "archbishop", "bishop", "rev", "rev.",
    "cardinal", "chief executive", "emir", "sultan", "sheikh", "crown", "first", "lady",
    "congressman", "congresswoman", "councillor", "councilman", "councilwoman", "mp",
}
TITLE_HEADS = {
    "president", "minister", "chancellor", "secretary", "spokesperson", "spokesman",
    "spokeswoman", "chief", "ceo", "director", "senator", "governor", "mayor", "professor",
    "king", "queen", "prince", "pope", "judge", "commissioner", "chairman", "chairwoman",
    "chair", "head", "leader", "ambassador", "envoy", "coach", "manager", "captain", "officer",
    "sheriff", "detective", "inspector", "superintendent", "premier", "executive", "founder",
    "attorney", "prosecutor", "lawyer", "economist", "analyst", "emir",
    "representative", "lawmaker", "official", "physician", "doctor", "scientist", "researcher",
    "engineer", "owner", "host", "supporter", "councillor", "chairs",
}
# common nouns that speak as organisations or groups
GROUP_NOUNS = {
    "police", "officials", "official", "company", "firm", "government", "ministry", "department",
    "agency", "authorities", "spokesperson", "spokesman", "spokeswoman", "statement", "report",
    "organisation", "organization", "group", "union", "court", "military", "army", "kremlin",
    "white", "researchers", "scientists", "experts", "analysts", "prosecutors", "investigators",
    "witnesses", "residents", "sources", "officers", "lawyers", "campaign", "team", "club",
    "council", "board", "committee", "commission", "office", "administration", "embassy",
    "hospital", "school", "university", "network", "studio", "airline", "bank", "regulator",
    "party", "coalition", "alliance", "league", "federation", "association", "service",
}
_ROLE_NOUNS = {"specialist", "expert", "member", "adviser", "advisor", "fellow", "author",
               "reporter", "correspondent", "spokesperson", "veteran", "activist", "resident",
               "owner", "partner", "student", "teacher", "worker", "nurse", "farmer", "pilot"}
_NOT_SOURCES = {"plan", "schedule", "tradition", "rule", "law", "custom", "script", "design",
                "expectation", "protocol", "procedure", "pattern", "form", "size", "age", "type",
                "order", "need", "standard", "season", "priority", "instruction", "recipe"}
_PRONOUNS_PERSON = {"he", "she", "him", "her"}
_PRONOUNS_ORG = {"it", "they"}
_SKIP_SUBJECTS = {"who", "which", "that", "what", "i", "we", "you", "this", "there", "one",
                  "someone", "anyone", "nobody", "everyone", "some", "many", "others"}
_DEMONYM_END = ("ian", "ese", "ish", "ch", "an", "i")
_NAME_TOKEN = r"[A-Z][\w'’.\-]*"


@dataclass(frozen=True)
class ExtractedStatement:
    """One attributed statement; ``body[start:end] == text`` and
    ``body[sentence_start:sentence_end] == sentence``."""

    speaker: str  # resolved: the article's fullest name for the person or organisation
    speaker_as_written: str  # "he", "Ukraine's president", "Xi"
    cue: str  # "said", "told CNN", "according to", "pointed out"
    text: str
    start: int
    end: int
    kind: str  # "direct" (inside quotation marks) or "reported"
    sentence: str
    sentence_start: int
    sentence_end: int
    speaker_type: str = ""  # PERSON, ORG or "" (a group: "officials", "witnesses")
    aliases: tuple[str, ...] = field(default=())  # other names of the speaker in the article
    previous: str = ""  # the sentence before, which often names the topic ("the issue")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        return data


# ---- quotations and sentence units ---------------------------------------------------------
def find_quotes(body: str) -> list[tuple[int, int]]:
    """(start, end) of the text inside each pair of quotation marks, within a paragraph; a
    quotation left open at the end of a paragraph (the convention of a quote running on into
    the next paragraph) ends there."""
    spans: list[tuple[int, int]] = []
    opened = -1
    for index, char in enumerate(body):
        if char == "\n":
            if opened >= 0 and index - opened > 1:
                spans.append((opened + 1, _rstrip_at(body, opened + 1, index)))
            opened = -1
        elif char in QUOTE_CHARS:
            if char == "“" or (opened < 0 and char == '"'):
                if opened >= 0 and char == "“":
                    spans.append((opened + 1, _rstrip_at(body, opened + 1, index)))
                opened = index
            elif opened >= 0:
                spans.append((opened + 1, index))
                opened = -1
    if opened >= 0 and len(body) - opened > 1:
        spans.append((opened + 1, _rstrip_at(body, opened + 1, len(body))))
    return [(s, e) for s, e in spans if e - s > 1]


def _rstrip_at(body: str, start: int, end: int) -> int:
    while end > start and body[end - 1].isspace():
        end -= 1
    return end


def sentence_units(body: str, quotes: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentences, merged so that no quotation and no attribution tail ('"Why?" she asked.')
    is cut in two."""
    spans = sentence_spans(body)
    units: list[tuple[int, int]] = []
    for start, end in spans:
        if units:
            prev_start, prev_end = units[-1]
            inside = any(qs < prev_end < qe + 1 for qs, qe in quotes)
            tail = body[start:end].lstrip()
            same_paragraph = "\n" not in body[prev_end:start]
            lower_tail = bool(tail) and tail[0].islower() and body[prev_end - 1] in QUOTE_CHARS
            abbreviation = _ABBREVIATION.search(body, prev_start, prev_end) is not None
            if same_paragraph and (inside or lower_tail or abbreviation):
                units[-1] = (prev_start, end)
                continue
        units.append((start, end))
    return units


_ABBREVIATION = re.compile(
    r"(?:^|\s)(?:Dr|Mr|Mrs|Ms|Prof|Sen|Rep|Gov|Lt|Gen|Col|Sgt|Capt|St|Rev|Adm|Cmdr|Insp|Supt|"
    r"Jr|Sr|No|Mt|Ft|[A-Z])\.$"
)


# ---- the article's names -------------------------------------------------------------------
@dataclass
class Mention:
    text: str  # the name as written, titles stripped ("Volodymyr Zelenskyy")
    label: str  # PERSON, ORG, NORP, GPE ...
    start: int
    end: int
    title: str = ""  # title words before it or an apposition ("Ukrainian President")


class ArticleNames:
    """Named entities of one article: from the parsed units, plus NER over the rest of the
    article when a pronoun or a title has to be resolved (``complete``)."""

    def __init__(self, body: str, nlp: Language, units: Sequence[tuple[int, int]]) -> None:
        self.body = body
        self.nlp = nlp
        self.units = list(units)
        self.mentions: list[Mention] = []
        self.covered: set[tuple[int, int]] = set()
        self.completed = False
        self.genders: dict[str, dict[str, int]] = {}
        self._acronyms: dict[str, str] | None = None

    def add_doc(self, doc: Doc, offset: int, unit: tuple[int, int]) -> None:
        self.covered.add(unit)
        for ent in doc.ents:
            self._add(ent.text, ent.label_, offset + ent.start_char, offset + ent.end_char)
        self.mentions.sort(key=lambda m: m.start)

    def complete(self) -> None:
        if self.completed:
            return
        self.completed = True
        rest = [u for u in self.units if u not in self.covered]
        texts = [self.body[s:e] for s, e in rest]
        keep = {"ner"}
        disable = [name for name in self.nlp.pipe_names if name not in keep]
        for (start, _), doc in zip(rest, self.nlp.pipe(texts, disable=disable), strict=True):
            for ent in doc.ents:
                self._add(ent.text, ent.label_, start + ent.start_char, start + ent.end_char)
        self.mentions.sort(key=lambda m: m.start)

    def _add(self, text: str, label: str, start: int, end: int) -> None:
        if label not in ("PERSON", "ORG", "NORP", "GPE"):
            return
        if any(m.start == start and m.end == end for m in self.mentions):
            return
        name = strip_titles(text) if label == "PERSON" else re.sub(
            r"^(?:the|a|an)\s+", "", text, flags=re.I)
        if not name:
            return
        shift = text.find(name)
        start += max(shift, 0)
        end = start + len(name)
        self.mentions.append(Mention(name, label, start, end, self._title_of(start, end)))

    def _title_of(self, start: int, end: int) -> str:
        """Title words right before a name ("Ukrainian President"), else an apposition
        right after it (", a Russia specialist at Curtin University,")."""
        before = self.body[max(0, start - 80) : start]
        found = re.search(r"((?:[\w.'’\-]+\s+){1,5})$", before)
        words: list[str] = []
        if found:
            for word in reversed(found.group(1).split()):
                bare = word.lower().strip(",")
                if bare in TITLE_WORDS or (word[0].isupper() and _is_demonym(word)) or (
                    bare.endswith(("'s", "’s")) and word[0].isupper()
                ):
                    words.insert(0, word)
                else:
                    break
        if words:
            return " ".join(words)
        described = re.search(r"((?:[Tt]he|[Aa]n?)\s+[^,.;\"“”]{3,60}),\s*$", before)
        if described and any(w.lower().strip("'’s") in TITLE_HEADS | _ROLE_NOUNS
                             for w in described.group(1).split()):
            return described.group(1)
        after = re.match(r",\s+((?:a|an|the)\s+[^,.;]{3,80}?)[,.;]", self.body[end : end + 120])
        if after and any(w.lower().strip("'’s") in TITLE_HEADS | _ROLE_NOUNS
                         for w in after.group(1).split()):
            return after.group(1)
        return ""

    def last_before(
        self, position: int, labels: Iterable[str], *, gender: str = ""
    ) -> Mention | None:
        """The last mention before ``position`` with one of ``labels``; with ``gender``
        ("m", "f"), one the article does not refer to with the other gender's pronouns."""
        wanted = set(labels)
        found = None
        mentions = self.mentions
        if "PERSON" in wanted:
            mentions = sorted(self.mentions + self._person_occurrences(), key=lambda m: m.start)
        for mention in mentions:
            if mention.start >= position:
                break
            if mention.label in wanted and (
                not gender or self.gender_of(mention.text) in ("", gender)
            ):
                found = mention
        return found

    def _person_occurrences(self) -> list[Mention]:
        """Every place the body names a person NER found somewhere in the article, by full
        name or surname (NER of a small model misses some of them)."""
        people: dict[str, str] = {}
        for mention in self.mentions:
            if mention.label == "PERSON" and mention.text.split():
                surname = mention.text.split()[-1]
                if len(surname) > 2 and len(mention.text) > len(people.get(surname, "")):
                    people[surname] = mention.text
        found = []
        for surname, full in people.items():
            for hit in re.finditer(rf"\b{re.escape(surname)}\b", self.body):
                found.append(Mention(full, "PERSON", hit.start(), hit.end()))
        return found

    def note_speaker(self, name: str, label: str, position: int, sentence: str) -> None:
        """A resolved speaker counts as a mention where they speak; the pronouns of their
        sentence ("her government") are evidence of their gender."""
        self.mentions.append(Mention(name, label, position, position + 1))
        self.mentions.sort(key=lambda m: m.start)
        if label == "PERSON":
            words = set(re.findall(r"[a-z]+", sentence.lower()))
            male, female = bool(words & {"he", "his", "him"}), bool(words & {"she", "her"})
            if male != female:
                key = (_name_words(name) or [name.lower()])[-1]
                votes = self.genders.setdefault(key, {"m": 0, "f": 0})
                votes["m" if male else "f"] += 1

    def gender_of(self, name: str) -> str:
        key = (_name_words(name) or [name.lower()])[-1]
        votes = self.genders.get(key)
        if not votes or votes["m"] == votes["f"]:
            return ""
        return "m" if votes["m"] > votes["f"] else "f"

    @property
    def acronyms(self) -> dict[str, str]:
        """"Centers for Disease Control and Prevention (CDC)" -> {"CDC": "Centers for ..."}."""
        if self._acronyms is None:
            self._acronyms = {}
            for found in re.finditer(r"((?:[A-Z][\w&'’\-]*\s+(?:(?:of|for|and|the|on)\s+)*)+)"
                                     r"\(([A-Z][A-Za-z]{1,7})\)", self.body):
                full = re.sub(r"^(?:The|A|An)\s+", "", found.group(1).strip())
                words = [w for w in full.split() if w[0].isupper()]
                initials = "".join(w[0] for w in words)
                acronym = found.group(2)
                if acronym.upper() in initials.upper() or initials.upper().startswith(
                    acronym.upper()[:2]
                ):
                    self._acronyms[acronym] = full
        return self._acronyms

    def acronyms_of(self, name: str) -> tuple[str, ...]:
        return tuple(a for a, full in self.acronyms.items() if full == name)

    def label_of(self, name: str, fallback: str) -> str:
        """The label NER gives the name most often in this article."""
        words = set(_name_words(name))
        votes: dict[str, int] = {}
        for mention in self.mentions:
            if words and words <= set(_name_words(mention.text)):
                votes[mention.label] = votes.get(mention.label, 0) + 1
        if votes.get("PERSON") and len(name.split()) > 1:
            return "PERSON"
        return max(votes, key=lambda k: votes[k]) if votes else fallback

    def fullest(self, name: str, label: str | None = None) -> str:
        """The longest name in the article that contains every word of ``name``."""
        words = set(_name_words(name))
        if not words:
            return name
        best = name
        for mention in self.mentions:
            if label and mention.label != label:
                continue
            if words <= set(_name_words(mention.text)) and len(mention.text) > len(best):
                best = mention.text
        if best == name and label != "ORG":
            best = self._fullest_in_text(name) or name
        return best

    def person_form(self, name: str) -> str | None:
        """A first name before ``name`` somewhere in the body ("Donald Trump"): a person."""
        for found in re.finditer(rf"\b([A-Z][a-z]+)\s+{re.escape(name)}\b", self.body):
            first = found.group(1)
            if first.lower() not in TITLE_WORDS and not _is_demonym(first) and (
                first.lower() not in ("the", "a", "an", "in", "at", "on", "by", "for", "and")
            ):
                return f"{first} {name}"
        return None

    def _fullest_in_text(self, name: str) -> str | None:
        """Capitalised runs of words around ``name`` in the body ("President Xi Jinping" ->
        "Xi Jinping"): the fullest form even where NER did not run."""
        pattern = re.compile(
            rf"((?:{_NAME_TOKEN}\s+){{0,3}}){re.escape(name)}((?:\s+{_NAME_TOKEN}){{0,2}})"
        )
        best = None
        for found in pattern.finditer(self.body):
            text = found.group(0)
            at = text.find(name)
            # stay within the sentence: "... in Ukraine. Xi reiterated" is not a name
            pieces = re.split(r"(?<=[\w]{2})\.\s+", text[:at])
            head = pieces[-1] if len(pieces) > 1 else text[:at]
            tail = re.split(r"\.\s", text[at:], maxsplit=1)[0]
            candidate = strip_titles(head + tail)
            if len(candidate.split()) > 4:
                continue
            if best is None or len(candidate) > len(best):
                best = candidate
        return best

    def aliases_of(self, name: str) -> tuple[str, ...]:
        """The forms the article gives the speaker: with the titles before the name
        ("Chinese President Xi Jinping"), and the titles alone, also appositions ("a Russia
        specialist at Curtin University")."""
        forms: list[str] = []
        last = name.split()[-1] if name.split() else ""
        for variant in dict.fromkeys((name, last)):
            if len(variant) < 2:
                continue
            for found in re.finditer(rf"\b{re.escape(variant)}\b", self.body):
                title = self._title_of(found.start(), found.end())
                if not title:
                    continue
                if self.body[: found.start()].rstrip().endswith(title):
                    forms.extend([f"{title} {found.group(0)}", title])
                else:
                    forms.append(title)  # an apposition
        return tuple(dict.fromkeys(f for f in forms if f.lower() != name.lower()))

    def by_title(self, phrase: str, position: int) -> Mention | None:
        """The person the article introduces with the title in ``phrase`` ("Ukraine's
        president" -> "Ukrainian President Volodymyr Zelenskyy"); the latest one before
        ``position`` wins, else the first after."""
        words = [w.lower().strip("'’s") for w in re.findall(r"[\w'’]+", phrase)]
        heads = [w for w in words if w in TITLE_HEADS]
        if not heads:
            return None
        mods = [w for w in words if w not in heads and w not in ("the", "a", "an", "s")]
        before, after = None, None
        for mention in self.mentions:
            if mention.label != "PERSON" or not mention.title:
                continue
            title_words = [w.lower().strip("'’s") for w in re.findall(r"[\w'’]+", mention.title)]
            if not all(h in title_words for h in heads):
                continue
            if not all(any(_same_stem(m, t) for t in title_words) for m in mods):
                continue
            if mention.start < position:
                before = mention
            elif after is None:
                after = mention
        return before or after


def strip_titles(text: str) -> str:
    """The name without leading determiners, titles and demonyms, and trailing possessive."""
    words = text.strip().split()
    while words and (
        words[0].lower() in TITLE_WORDS
        or all(part in TITLE_WORDS for part in words[0].lower().split("-"))
        or words[0].lower() in ("the", "a", "an")
        or (len(words) > 1 and _is_demonym(words[0]))
        or (len(words) > 1 and words[0].endswith(("'s", "’s")))
    ):
        words.pop(0)
    name = " ".join(words)
    return re.sub(r"['’]s?$", "", name).strip(" ,;:")


def _is_demonym(word: str) -> bool:
    return (
        word[:1].isupper()
        and word.lower().endswith(_DEMONYM_END)
        and word.lower() in _DEMONYMS
    )


_DEMONYMS = {
    "american", "british", "chinese", "russian", "ukrainian", "french", "german", "italian",
    "spanish", "japanese", "korean", "indian", "israeli", "palestinian", "iranian", "iraqi",
    "syrian", "turkish", "egyptian", "saudi", "canadian", "mexican", "brazilian", "australian",
    "polish", "dutch", "belgian", "swedish", "norwegian", "danish", "finnish", "greek",
    "irish", "scottish", "welsh", "english", "pakistani", "afghan", "nigerian", "kenyan",
    "south", "north", "taiwanese", "vietnamese", "thai", "filipino", "indonesian", "european",
    "african", "argentine", "chilean", "colombian", "venezuelan", "cuban", "hungarian",
    "austrian", "swiss", "portuguese", "czech", "romanian", "serbian", "belarusian",
    "lebanese", "jordanian", "qatari", "emirati", "yemeni", "libyan", "sudanese", "ethiopian",
}


def _same_stem(a: str, b: str) -> bool:
    """'ukraine' ~ 'ukrainian', 'china' ~ 'chinese', 'police' ~ 'police'."""
    if a == b:
        return True
    n = min(len(a), len(b), 5)
    return n >= 4 and a[:n - 1] == b[:n - 1]


def _name_words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[\w\-]+", strip_titles(text)) if w]


# ---- extraction ----------------------------------------------------------------------------
@dataclass
class _Found:
    verb_start: int
    subject: Span | None
    subject_text: str
    cue: str
    start: int
    end: int
    kind: str
    unit: tuple[int, int]
    label: str = ""
    appos: Span | None = None  # "The club's owner, Sofia Marchetti, said": the name


def extract_statements(body: str, nlp: Language | None = None) -> list[ExtractedStatement]:
    """Every attributed statement of ``body``, in order of appearance."""
    return extract_many([body], nlp)[0]


def extract_many(bodies: Sequence[str], nlp: Language | None = None) -> list[
    list[ExtractedStatement]
]:
    """``extract_statements`` for several bodies, parsing their cue sentences in one batch."""
    plans = []
    texts: list[str] = []
    for body in bodies:
        quotes = find_quotes(body)
        units = sentence_units(body, quotes)
        cued = [u for u in units if CUE_RE.search(body, u[0], u[1])]
        plans.append((body, quotes, units, cued))
        texts.extend(body[s:e] for s, e in cued)
    if texts and nlp is None:
        from ingest.nlp import load_english

        nlp = load_english()
    docs = iter(nlp.pipe(texts, batch_size=64, disable=list(PARSE_DISABLE))) if (
        nlp is not None and texts) else iter(())
    staged: list[tuple[str, ArticleNames, list[_Found]] | None] = []
    for body, quotes, units, cued in plans:
        if not cued or nlp is None:
            staged.append(None)
            continue
        names = ArticleNames(body, nlp, units)
        found: list[_Found] = []
        for unit in cued:
            doc = next(docs)
            names.add_doc(doc, unit[0], unit)
            found.extend(_statements_in(doc, unit, body, quotes))
        found.extend(_continued_quotes(found, quotes, body, units))
        staged.append((body, names, found))
    # NER over the other sentences of the articles whose speakers need it, in one batch
    _complete_all([x[1] for x in staged if x is not None and any(_needs_names(f) for f in x[2])])
    return [_resolve(x[2], x[0], x[1]) if x is not None else [] for x in staged]


def _needs_names(item: _Found) -> bool:
    """A pronoun or a description ("the police chief") is resolved with the whole article."""
    span = item.appos or item.subject
    if span is None:
        return True
    if any(_propn(t) for t in span):
        return False
    words = [w.lower().strip("'’s") for w in span.text.split()]
    return span.root.lower_ in _PRONOUNS_PERSON | _PRONOUNS_ORG or bool(
        (words and words[-1] in TITLE_HEADS) or (words and words[-1] in GROUP_NOUNS
        and span.root.tag_ == "NN")
    )


def _complete_all(articles: list[ArticleNames]) -> None:
    if not articles:
        return
    nlp = articles[0].nlp
    jobs = [(names, unit) for names in articles for unit in names.units
            if unit not in names.covered]
    disable = [name for name in nlp.pipe_names if name != "ner"]
    texts = [names.body[s:e] for names, (s, e) in jobs]
    for (names, (start, _)), doc in zip(
        jobs, nlp.pipe(texts, batch_size=128, disable=disable), strict=True
    ):
        for ent in doc.ents:
            names._add(ent.text, ent.label_, start + ent.start_char, start + ent.end_char)
    for names in articles:
        names.completed = True
        names.mentions.sort(key=lambda m: m.start)


def _statements_in(
    doc: Doc, unit: tuple[int, int], body: str, quotes: Sequence[tuple[int, int]]
) -> list[_Found]:
    offset = unit[0]
    here = [q for q in quotes if q[0] >= unit[0] - 1 and q[1] <= unit[1] + 1]
    inside = [q for q in here]  # quotes in this unit, body offsets of their inner text
    out: list[_Found] = []
    used_quotes: set[tuple[int, int]] = set()
    for token in doc:
        absolute = offset + token.idx
        if any(qs <= absolute < qe for qs, qe in inside):
            continue  # a verb inside a quotation is part of what was said
        following = doc[token.i + 1] if token.i + 1 < len(doc) else None
        if token.lower_ == "according" and following is not None and following.lower_ == "to":
            item = _according_to(doc, token, unit, body)
            if item:
                out.append(item)
            continue
        lemma = _lemma(token)
        if lemma not in SPEECH_VERBS or not token.tag_.startswith("VB"):
            continue
        if token.dep_ in ("amod", "compound", "acomp") or (token.tag_ == "VBN" and any(
            c.dep_ == "auxpass" for c in token.children
        )):
            continue
        subject = _subject(token)
        if subject is None:
            continue
        subject_span = _subject_span(subject)
        appos = _apposed_name(subject)
        cue = _cue(token)
        subject_start = offset + subject_span.start_char
        attribution = (
            min(subject_start, absolute),
            offset + max(subject_span.end_char, token.idx + len(token.text)),
        )
        direct = _adjacent_quotes(body, attribution, inside, token, offset)
        if direct:
            for qs, qe in direct:
                start, end = _trim(body, qs, qe)
                if end > start:
                    used_quotes.add((qs, qe))
                    out.append(_Found(absolute, subject_span, subject_span.text, cue, start, end,
                                      "direct", unit, _label(subject_span), appos))
            continue
        span = _reported_content(token, lemma, doc)
        if span is None:
            continue
        start, end = _trim(body, offset + span[0], offset + span[1])
        if end - start < 3:
            continue
        kind = "direct" if any(qs <= start and end <= qe for qs, qe in inside) else "reported"
        out.append(_Found(absolute, subject_span, subject_span.text, cue, start, end, kind,
                          unit, _label(subject_span), appos))
    return out


# Inflected forms of the verbs of saying -> lemma: the parse needs no lemmatizer (nor the
# attribute ruler, whose coarse tags we read off the fine-grained ones: ~30 % of parse time)
_FORMS = {form: lemma for lemma, forms in SPEECH_VERBS.items() for form in (*forms, lemma)}
_FORMS.update({"according": "according"})
PARSE_DISABLE = ("lemmatizer", "attribute_ruler")


def _lemma(token: Token) -> str:
    return _FORMS.get(token.lower_, token.lower_)


def _propn(token: Token) -> bool:
    return token.tag_ in ("NNP", "NNPS")


def _pron(token: Token) -> bool:
    return token.tag_ in ("PRP", "PRP$", "WP", "EX") or token.lower_ in _SKIP_SUBJECTS


def _apposed_name(subject: Token) -> Span | None:
    """A name in apposition to a described subject ("the bank's economist, Li Wen,"), also
    when spaCy reads a capitalised title as a name ("The Health Minister, Karen Whitfield,")."""
    if _propn(subject) and subject.lower_ not in TITLE_HEADS:
        return None  # a name already ("Acme, the maker of ...")
    for child in subject.children:
        if child.dep_ == "appos" and _propn(child):
            return _subject_span(child)
    return None


def _label(span: Span) -> str:
    for ent in span.ents:
        if ent.label_ in ("PERSON", "ORG"):
            return ent.label_
    return ""


def _subject(verb: Token) -> Token | None:
    current = verb
    for step in range(5):
        if step and current.dep_ == "ccomp" and _lemma(current.head) in SPEECH_VERBS:
            current = current.head  # "X said the decline was over, while warning ...": X
            continue
        for child in current.children:
            if child.dep_ in ("nsubj", "nsubjpass") and not (
                child.dep_ == "nsubjpass" and current is verb
            ):
                if child.lower_ in ("who", "that", "which") and current.dep_ == "relcl":
                    return current.head
                return None if child.tag_ == "CD" else child
        if current.dep_ in ("conj", "advcl", "xcomp", "ccomp") and current.head is not current:
            if current.dep_ == "ccomp" and current is verb:
                return None  # "officials expected him to say": not this verb's speaker
            current = current.head
            continue
        if current.dep_ == "relcl":
            return current.head
        return None
    return None


_SUBJECT_DROP = {"appos", "relcl", "acl", "punct", "advmod", "prep", "cc"}


def _subject_span(subject: Token) -> Span:
    """The subject's noun phrase without appositions and relative clauses; a coordination
    ("Smith and Jones") is kept."""
    doc = subject.doc
    keep = {subject.i}
    stack = [c for c in subject.children if c.dep_ not in _SUBJECT_DROP]
    for child in subject.children:
        if child.dep_ == "prep" and child.i < subject.i:
            stack.append(child)
        if child.dep_ == "prep" and child.lower_ == "of" and child.i > subject.i:
            stack.append(child)  # "the head of the agency"
    while stack:
        token = stack.pop()
        keep.add(token.i)
        stack.extend(token.children)
    start, end = min(keep), max(keep) + 1
    while start < end and doc[start].is_punct:
        start += 1
    while end > start and doc[end - 1].is_punct:
        end -= 1
    return doc[start:end]


def _cue(verb: Token) -> str:
    parts = [verb]
    for child in verb.children:
        if child.dep_ == "prt" or (child.dep_ == "neg"):
            parts.append(child)
        elif child.dep_ in ("dative", "dobj") and _lemma(verb) in ADDRESSEE_VERBS and (
            _propn(child) or _pron(child) or child.lower_ in _ADDRESSEES
            or _lemma(verb) == "tell"
        ):
            parts.extend(t for t in child.subtree if t.i >= child.left_edge.i)
        elif child.dep_ == "agent":
            continue
    parts.sort(key=lambda t: t.i)
    start, end = parts[0].i, parts[-1].i + 1
    if any(verb.doc[i].is_punct or verb.doc[i].text in QUOTE_CHARS for i in range(start, end)):
        return verb.text
    return verb.doc[start:end].text


_ADDRESSEES = {"reporters", "journalists", "lawmakers", "parliament", "congress", "supporters",
               "crowd", "audience", "students", "investors", "listeners", "viewers", "residents",
               "officials", "colleagues", "staff", "employees", "delegates", "senators"}


def _adjacent_quotes(
    body: str,
    attribution: tuple[int, int],
    quotes: Sequence[tuple[int, int]],
    verb: Token,
    offset: int,
) -> list[tuple[int, int]]:
    """Quotations that the attribution ("she said", "said the minister") introduces or closes:
    only punctuation (or a short phrase like "on Tuesday:") between them."""
    a_start, a_end = attribution
    # the attribution extends over the verb's adverbials and addressee up to a comma or colon
    tail = body[a_end : a_end + 60]
    stop = re.match(r"[^\"“”,:.;]*", tail)
    a_tail_end = a_end + (stop.end() if stop else 0)
    found = []
    for qs, qe in quotes:
        open_mark, close_mark = qs - 1, qe
        if close_mark <= a_start:  # quotation before the attribution
            between = body[close_mark + 1 : a_start] if close_mark < len(body) else ""
            if re.fullmatch(r"[\s,;:—–\-]*", between):
                found.append((qs, qe))
        elif open_mark >= a_end:  # quotation after it
            between = body[a_end:open_mark]
            if re.fullmatch(r"[\s,:—–\-]*", between) or (
                open_mark <= a_tail_end + 2
                and re.fullmatch(r"[^\"“”.;]{0,60}[,:]\s*", between)
            ) or re.fullmatch(r"\s*(?:that\s*)?", between):
                found.append((qs, qe))
    # "A," he said, "B." : keep the closing quote before and the one after; a quotation
    # further away belongs to someone else
    return found


def _reported_content(verb: Token, lemma: str, doc: Doc) -> tuple[int, int] | None:
    """Character span (in ``doc``) of what was said: the clausal complement, else (for verbs
    like "reiterated", "acknowledged") the object, up to the end of the verb's phrase."""
    right = [c for c in verb.children if c.i > verb.i]
    clauses = [c for c in right if c.dep_ == "ccomp" or (
        c.dep_ == "xcomp" and lemma not in NEEDS_CLAUSE)]
    objects = [c for c in right if c.dep_ in ("dobj", "attr", "oprd") and not (
        _pron(c) or c.lower_ in ("nothing", "anything", "something"))]
    preps = [c for c in right if c.dep_ == "prep" and c.lower_ == "for" and lemma == "call"]
    if lemma in ADDRESSEE_VERBS and clauses:
        content = clauses[0]
    elif lemma in OBJECT_CONTENT and (objects or preps):
        content = min(objects + preps + clauses, key=lambda t: t.i)
    elif clauses:
        content = clauses[0]
    elif (statement_clause := _clause_after_statement(right)) is not None:
        content = statement_clause  # "said in a statement that ..."
    else:
        return _fronted_content(verb, doc)
    first = content.left_edge.i
    last = content.right_edge.i
    for child in verb.children:  # adverbial clauses after the content belong to it
        if child.i > last and child.dep_ in (
            "advcl", "prep", "npadvmod", "advmod", "dobj", "oprd", "xcomp", "ccomp"
        ):
            last = max(last, child.right_edge.i)
        elif child.i > last and child.dep_ == "conj":
            break
    if first <= verb.i:
        return _fronted_content(verb, doc)
    tokens = doc[first : last + 1]
    return tokens.start_char, tokens.end_char


def _clause_after_statement(right: list[Token]) -> Token | None:
    """The that-clause the parser hangs on the noun of "said in a statement that ..."."""
    for prep in (c for c in right if c.dep_ == "prep"):
        for pobj in (c for c in prep.children if c.dep_ == "pobj"):
            for clause in pobj.children:
                if clause.dep_ in ("acl", "relcl", "ccomp") and clause.left_edge.lower_ == "that":
                    return clause
    return None


def _fronted_content(verb: Token, doc: Doc) -> tuple[int, int] | None:
    """"The year was the hottest on record, the agency said.": the clause before the
    attribution, when the verb closes the sentence."""
    left = [c for c in verb.children if c.i < verb.i and c.dep_ == "ccomp"]
    if not left or any(
        c.i > verb.i and c.dep_ not in ("punct", "prep", "npadvmod", "advmod", "nsubj")
        and not (c.dep_ in ("dobj", "dative") and _lemma(verb) in ADDRESSEE_VERBS)
        for c in verb.children
    ):
        return None
    content = left[0]
    tokens = doc[content.left_edge.i : content.right_edge.i + 1]
    return tokens.start_char, tokens.end_char


def _according_to(doc: Doc, token: Token, unit: tuple[int, int], body: str) -> _Found | None:
    to = doc[token.i + 1]
    objects = [c for c in to.children if c.dep_ == "pobj"] or [
        c for c in token.children if c.dep_ == "pobj"
    ]
    if not objects:
        return None
    speaker = objects[0]
    if not speaker.tag_.startswith("NN") or speaker.lower_.rstrip("s") in _NOT_SOURCES:
        return None  # "according to plan"
    phrase = doc[token.i : speaker.right_edge.i + 1]
    subject = _subject_span(speaker)
    sent_start, sent_end = 0, len(doc.text)
    before = doc.text[sent_start : phrase.start_char].rstrip(" ,;—–-")
    after = doc.text[phrase.end_char : sent_end].lstrip(" ,;—–-")
    offset = unit[0]
    if len(before.strip()) >= len(after.strip()):
        start, end = offset + sent_start, offset + sent_start + len(before)
    else:
        start = offset + sent_end - len(after)
        end = offset + sent_end
    start, end = _trim(body, start, end)
    if end - start < 3:
        return None
    return _Found(offset + token.idx, subject, subject.text, "according to", start, end,
                  "reported", unit, _label(subject))


def _trim(body: str, start: int, end: int) -> tuple[int, int]:
    """Without surrounding spaces, quotation marks, a leading "that" and trailing commas."""
    while start < end and (body[start].isspace() or body[start] in QUOTE_CHARS):
        start += 1
    if body[start : start + 5].lower() == "that " and end - start > 8:
        start += 5
    while end > start and (body[end - 1].isspace() or body[end - 1] in ",;:—–-" or (
        body[end - 1] in QUOTE_CHARS and sum(body[start:end].count(q) for q in QUOTE_CHARS) % 2
    )):
        end -= 1
    if end > start and body[end - 1] == "." and body[start:end].count('"') % 2 == 0:
        end -= 1
    return start, end


def _continued_quotes(
    found: list[_Found],
    quotes: Sequence[tuple[int, int]],
    body: str,
    units: Sequence[tuple[int, int]],
) -> list[_Found]:
    """Unattributed quotations right after an attributed one (same paragraph, or the next
    paragraph continuing a quote left open): the same speaker goes on."""
    direct = sorted((f for f in found if f.kind == "direct"), key=lambda f: f.start)
    claimed = [(f.start, f.end) for f in found]
    out: list[_Found] = []
    for qs, qe in quotes:
        start, end = _trim(body, qs, qe)
        if end <= start or any(s < end and start < e for s, e in claimed):
            continue
        previous = [f for f in direct + out if f.end <= start]
        if not previous:
            continue
        last = max(previous, key=lambda f: f.end)
        gap = body[last.end : qs - 1]
        para_break = gap.count("\n")
        opened_across = para_break >= 1 and body[last.end : last.end + 2].strip(" ") in ("\n", "")
        gap_text = re.sub(r"[\"“”]", "", gap)
        # only the attribution or nothing stands between the two quotations
        if para_break == 0 and len(gap_text) > 80:
            continue
        if para_break >= 1 and not opened_across:
            continue
        if para_break == 0 and re.search(r"[A-Z][a-z]+\s+(?:said|says|told)", gap_text) and (
            last.subject_text not in gap_text
        ):
            continue
        unit = next((u for u in units if u[0] <= start < u[1]), (start, end))
        out.append(_Found(last.verb_start, last.subject, last.subject_text, last.cue, start,
                          end, "direct", unit, last.label, last.appos))
    return out


def _resolve(found: list[_Found], body: str, names: ArticleNames) -> list[ExtractedStatement]:
    statements: list[ExtractedStatement] = []
    seen: set[tuple[int, int, str]] = set()
    for item in sorted(found, key=lambda f: (f.start, f.end)):
        speaker, label = _resolve_speaker(item, names)
        if not speaker:
            continue
        names.note_speaker(speaker, label, item.verb_start, body[item.unit[0] : item.unit[1]])
        key = (item.start, item.end, speaker)
        if key in seen:
            continue
        seen.add(key)
        u_start, u_end = item.unit
        u_start, u_end = min(u_start, item.start), max(u_end, item.end)
        before = [u for u in names.units if u[1] <= u_start]
        statements.append(ExtractedStatement(
            speaker=speaker,
            speaker_as_written=item.subject_text,
            cue=item.cue,
            text=body[item.start : item.end],
            start=item.start,
            end=item.end,
            kind=item.kind,
            sentence=body[u_start:u_end],
            sentence_start=u_start,
            sentence_end=u_end,
            speaker_type=label,
            aliases=names.aliases_of(speaker) if label == "PERSON" else names.acronyms_of(speaker),
            previous=body[before[-1][0] : before[-1][1]] if before else "",
        ))
    return statements


def _resolve_speaker(item: _Found, names: ArticleNames) -> tuple[str, str]:
    written = item.subject_text.strip()
    lowered = written.lower()
    if lowered in _SKIP_SUBJECTS or not written:
        return "", ""
    if lowered in _PRONOUNS_PERSON | _PRONOUNS_ORG:
        names.complete()
        labels = ("PERSON",) if lowered in _PRONOUNS_PERSON else ("ORG",)
        gender = {"he": "m", "him": "m", "she": "f", "her": "f"}.get(lowered, "")
        mention = names.last_before(item.verb_start, labels, gender=gender)
        if mention is None:
            return "", ""
        return names.fullest(mention.text, mention.label), mention.label
    span = item.subject
    if item.appos is not None:  # the name, not its description ("The Health Minister")
        span, written = item.appos, item.appos.text
    has_name = span is not None and any(_propn(t) for t in span)
    if has_name and not _is_title_phrase(written):
        assert span is not None
        entity = _entity_at_root(span)
        label = entity.label_ if entity is not None else (item.label or "PERSON")
        label = "ORG" if label == "GPE" else label  # "China said": the country speaks
        text = entity.text if entity is not None else written
        name = strip_titles(text) if label != "ORG" else re.sub(r"^(?:the|a|an)\s+", "", text,
                                                                 flags=re.I)
        if not name:
            return written, label
        if name in names.acronyms:
            return names.acronyms[name], "ORG"
        if label == "ORG" and " " not in name:
            person = names.person_form(name)  # "Trump" in an article naming "Donald Trump"
            if person:
                return person, "PERSON"
        label = names.label_of(name, label)
        label = "ORG" if label in ("GPE", "NORP") else label
        return names.fullest(name, label), label
    # a description: a title ("Ukraine's president") or an organisation noun ("police")
    if span is not None and span.root.tag_ in ("NNS", "NNPS"):
        return re.sub(r"^(?:the|a|an)\s+", "", written, flags=re.I), ""  # "Economists"
    names.complete()
    titled = names.by_title(written, item.verb_start)
    if titled is not None:
        return names.fullest(titled.text, "PERSON"), "PERSON"
    head = written.split()[-1].lower()
    for mention in reversed([m for m in names.mentions if m.label == "ORG"]):
        if head in {w.lower() for w in mention.text.split()} and head in GROUP_NOUNS:
            return mention.text, "ORG"
    bare = re.sub(r"^(?:the|a|an)\s+", "", written, flags=re.I)
    return bare, item.label


def _entity_at_root(span: Span) -> Span | None:
    """The named entity holding the subject's head word ("George Kurtz" in "CrowdStrike chief
    executive George Kurtz"), else the last one in the subject."""
    for ent in span.ents:
        if ent.start <= span.root.i < ent.end and ent.label_ in ("PERSON", "ORG", "GPE"):
            return ent
    ents = [e for e in span.ents if e.label_ in ("PERSON", "ORG")]
    return ents[-1] if ents else None


def _is_title_phrase(text: str) -> bool:
    """'Ukraine's president', 'the police chief': a title, no personal name."""
    words = [w.lower().strip("'’s") for w in text.split()]
    return bool(words) and words[-1] in TITLE_HEADS and not any(
        w[:1].isupper() and w.lower() not in TITLE_WORDS and not w.endswith(("'s", "’s"))
        and not _is_demonym(w) for w in text.split()[:-1]
    )
