"""Evaluation metrics on a tiny hand-made question set, every expected value worked out by hand."""

from __future__ import annotations

import copy
import csv
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from assistant.evaluation import (
    Question,
    QuestionSetError,
    aggregate,
    citation_precision,
    citation_validity,
    compare_reports,
    contains_reference,
    exact_match,
    hits_at_k,
    load_questions,
    load_report,
    normalize_answer,
    percentile,
    print_comparison,
    print_report,
    reciprocal_rank,
    score_question,
    token_f1,
    write_report,
)
from assistant.results import Answer, Citation, Passage

ARTICLES = {
    "a1": "President Joe Biden met the Chinese delegation in Washington on Monday.",
    "a2": "Lionel Messi lifted the World Cup in Qatar after a penalty shoot-out.",
    "a3": "A wave of earthquakes rattled Puerto Rico; some people slept outdoors.",
    "a4": "The Bonnaroo festival announced dates but no <b>headliners</b> yet.",
    "a5": "Markets fell sharply on Friday.",
}
NASTY_QUESTION = "Who headlines <script>alert('x')</script> & co?"


def get_body(article_id: str) -> str:
    return ARTICLES[article_id]  # KeyError for an unknown id, as the contract allows


def passage(article_id: str, rank: int) -> Passage:
    return Passage(
        article_id=article_id,
        chunk_id=f"{article_id}-{rank}",
        text=ARTICLES[article_id],
        score=1.0 / rank,
        title=f"Title of {article_id}",
    )


def cite(n: int, article_id: str, quote: str) -> Citation:
    start = max(ARTICLES[article_id].find(quote), 0)
    return Citation(n, article_id, "", "", "", "", quote, start, start + len(quote))


def answer(text: str, ranked: list[str], *, citations=(), abstained=False, timings=None) -> Answer:
    return Answer(
        question="",
        text=text,
        citations=list(citations),
        passages=[passage(a, i) for i, a in enumerate(ranked, start=1)],
        abstained=abstained,
        timings_ms=timings or {},
    )


def hand_made_set() -> list[tuple[Question, Answer]]:
    """Six questions covering hits, misses, abstentions, citations, a missing type and timings."""
    return [
        (  # evidence at distinct rank 3 (a1 appears twice: two chunks of one article)
            Question("q1", "Where did earthquakes hit?", "Puerto Rico", ("a3",), "politics"),
            answer(
                "The earthquakes hit Puerto Rico [1].",
                ["a1", "a1", "a2", "a3", "a4"],
                citations=[
                    cite(1, "a3", "rattled Puerto Rico"),
                    cite(2, "a1", "this sentence is not in a1"),
                ],
                timings={"retrieval": 10, "total": 100},
            ),
        ),
        (
            Question("q2", "Who met the delegation?", "Joe Biden", ("a1",), "politics"),
            answer(
                "President Joe Biden [1]",
                ["a1", "a5"],
                citations=[cite(1, "a1", "President Joe Biden met")],
                timings={"retrieval": 20, "total": 200},
            ),
        ),
        (  # unanswerable, correctly abstained
            Question("q3", "Who won the 2031 election?", None, (), "sports"),
            answer(
                "The sources do not say.",
                ["a4"],
                abstained=True,
                timings={"retrieval": 30, "total": 300},
            ),
        ),
        (  # answerable, wrongly abstained; the refusal text mentioning Messi must not count
            Question("q4", "Who lifted the cup?", "Lionel Messi", ("a2",), "sports"),
            answer(
                "I found nothing about Lionel Messi.",
                ["a4", "a5"],
                abstained=True,
                timings={"retrieval": 40, "total": 400},
            ),
        ),
        (  # no evidence field, no type, no timings: answer metrics only
            Question("q5", "Capital of France?", "Paris"),
            answer("Paris.", ["a5"]),
        ),
        (  # unanswerable but answered
            Question("q6", NASTY_QUESTION, None, (), "sports"),
            answer(
                "No <b>headliners</b> yet [1].",
                ["a4"],
                citations=[cite(1, "a4", "no <b>headliners</b> yet")],
                timings={"retrieval": 50, "total": 500},
            ),
        ),
    ]


@pytest.fixture
def scores():
    return [score_question(q, a, get_body) for q, a in hand_made_set()]


# --- pure metric functions -------------------------------------------------------------------


def test_hit_at_rank_three():
    ranked = ["a1", "a2", "a3", "a4"]
    assert hits_at_k(ranked, ["a3"], 1) == 0.0
    assert hits_at_k(ranked, ["a3"], 2) == 0.0
    assert hits_at_k(ranked, ["a3"], 3) == 1.0
    assert hits_at_k(ranked, ["a3"], 5) == 1.0
    assert reciprocal_rank(ranked, ["a3"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, ["a3"], k=2) == 0.0
    # the first of several evidence articles counts; repeated ids are one article
    assert reciprocal_rank(["a1", "a1", "a4", "a2"], ["a2", "a4"]) == pytest.approx(1 / 2)
    assert reciprocal_rank([], ["a1"]) == 0.0
    with pytest.raises(ValueError):
        hits_at_k(ranked, [], 5)
    with pytest.raises(ValueError):
        hits_at_k(ranked, ["a1"], 0)


def test_answer_normalisation_and_overlap():
    assert normalize_answer("  The “Snowy Day”!  ") == "snowy day"
    assert normalize_answer("A U.S. plan, an idea") == "us plan idea"
    assert exact_match("the Snowy Day.", "“The Snowy Day”") == 1.0
    assert exact_match("Snowy", "The Snowy Day") == 0.0
    # "President Joe Biden" vs "Joe Biden": P = 2/3, R = 1, F1 = 2PR/(P+R) = 0.8
    assert token_f1("President Joe Biden", "Joe Biden") == pytest.approx(0.8)
    # "he met joe" vs "joe biden": 1 common, P = 1/3, R = 1/2 -> F1 = 0.4
    assert token_f1("He met Joe", "Joe Biden") == pytest.approx(0.4)
    assert token_f1("Paris", "London") == 0.0
    assert contains_reference("It struck Puerto Rico on Monday.", "puerto rico") == 1.0
    assert contains_reference("The Puerto Rican coast", "Puerto Rico") == 0.0  # whole tokens only


def test_citation_validity_and_precision():
    good, bad = cite(1, "a3", "rattled Puerto Rico"), cite(2, "a1", "not in the article")
    unknown = Citation(3, "zz", "", "", "", "", "anything", 0, 8)
    assert citation_validity([good, bad], get_body) == 0.5
    assert citation_validity([good, unknown], get_body) == 0.5  # unknown article: invalid
    assert citation_validity([], get_body) is None
    assert citation_precision([good, bad], ["a3"]) == 0.5
    assert citation_precision([good, good], ["a3"]) == 1.0  # distinct articles
    assert citation_precision([good], None) is None


def test_percentile_interpolates():
    assert percentile([40, 10, 30, 20, 50], 50) == 30
    assert percentile([10, 20, 30, 40, 50], 95) == pytest.approx(48)  # 40 + 0.8 * 10
    assert percentile([None], 50) is None


# --- per question and aggregated -------------------------------------------------------------


def test_score_question_by_hand(scores):
    q1, q2, q3, q4, q5, q6 = scores
    assert q1.retrieved == ["a1", "a2", "a3", "a4"]
    assert q1.hits == {1: 0.0, 5: 1.0, 10: 1.0}
    assert q1.rr == pytest.approx(1 / 3)
    # "earthquakes hit puerto rico" (marker dropped) vs "puerto rico": P = 2/4, R = 1 -> 2/3
    assert (q1.em, q1.contains) == (0.0, 1.0)
    assert q1.f1 == pytest.approx(2 / 3)
    assert q1.citation_validity == 0.5
    assert q1.citation_precision == 0.5
    assert q1.failures == ["citation quote not in article", "cited article not in evidence"]
    assert q2.rr == 1.0 and q2.f1 == pytest.approx(0.8) and q2.failures == []
    assert q3.correct_abstention == 1.0 and q3.hits is None and q3.em is None
    assert q4.false_abstention == 1.0 and (q4.em, q4.f1, q4.contains) == (0.0, 0.0, 0.0)
    assert q4.failures == ["wrong abstention", "evidence not retrieved"]
    assert q5.hits is None and q5.em == 1.0 and q5.false_abstention == 0.0
    assert q6.correct_abstention == 0.0
    assert q6.failures == ["answered an unanswerable question"]
    assert (q1.retrieval_ms, q1.total_ms, q5.total_ms) == (10.0, 100.0, None)


def test_aggregate_overall_by_hand(scores):
    overall = aggregate(scores)["overall"]
    assert overall["n_questions"] == 6
    retrieval = overall["retrieval"]  # q1 (rank 3), q2 (rank 1), q4 (miss)
    assert retrieval["n"] == 3
    assert retrieval["hits@1"] == pytest.approx(1 / 3)
    assert retrieval["hits@5"] == pytest.approx(2 / 3)
    assert retrieval["hits@10"] == pytest.approx(2 / 3)
    assert retrieval["mrr@10"] == pytest.approx((1 / 3 + 1 + 0) / 3)
    ans = overall["answer"]  # q1, q2, q4, q5
    assert ans["n"] == 4
    assert ans["exact_match"] == pytest.approx(1 / 4)
    assert ans["f1"] == pytest.approx((2 / 3 + 0.8 + 0 + 1) / 4)
    assert ans["contains_reference"] == pytest.approx(3 / 4)
    cites = overall["citations"]  # validity: q1 0.5, q2 1, q6 1; precision: answerable q1, q2
    assert cites["validity"] == pytest.approx(2.5 / 3)
    assert cites["precision"] == pytest.approx(0.75)
    abst = overall["abstention"]
    assert (abst["n_unanswerable"], abst["correct_abstention_rate"]) == (2, 0.5)
    assert (abst["n_answerable"], abst["false_abstention_rate"]) == (4, 0.25)
    latency = overall["latency_ms"]  # q5 has no timings
    assert latency["n"] == 5
    assert latency["retrieval_p50"] == 30 and latency["retrieval_p95"] == pytest.approx(48)
    assert latency["total_p50"] == 300 and latency["total_p95"] == pytest.approx(480)


def test_aggregate_per_type_by_hand(scores):
    per_type = aggregate(scores)["per_type"]
    assert sorted(per_type) == ["politics", "sports", "untyped"]
    politics, sports, untyped = per_type["politics"], per_type["sports"], per_type["untyped"]
    assert politics["retrieval"]["hits@1"] == 0.5
    assert politics["retrieval"]["mrr@10"] == pytest.approx((1 / 3 + 1) / 2)
    assert politics["answer"]["f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert politics["abstention"]["correct_abstention_rate"] is None
    assert sports["retrieval"] == {
        "n": 1,
        "hits@1": 0.0,
        "hits@5": 0.0,
        "hits@10": 0.0,
        "mrr@10": 0.0,
    }
    assert sports["abstention"]["correct_abstention_rate"] == 0.5
    assert sports["abstention"]["false_abstention_rate"] == 1.0
    assert untyped["retrieval"]["n"] == 0 and untyped["retrieval"]["hits@1"] is None
    assert untyped["answer"]["exact_match"] == 1.0


def test_failed_question_is_counted_but_not_scored(scores):
    failed = score_question(Question("q7", "Anything?", "x", ("a1",)), None, get_body, error="boom")
    overall = aggregate([*scores, failed])["overall"]
    assert failed.failures == ["error: boom"]
    assert overall["n_questions"] == 7 and overall["n_errors"] == 1
    assert overall["retrieval"]["n"] == 3  # unchanged by the failed question


# --- loading ---------------------------------------------------------------------------------


def test_load_jsonl_with_bad_rows(tmp_path: Path):
    lines = [
        '{"id": "q1", "question": "Who?", "answer": "Ann", "evidence": ["a1"], "type": "t",'
        ' "date": "2022-06-16", "choices": ["Ann", "Bob"]}',
        "",
        '{"question": "broken"',
        "[1, 2]",
        '{"id": "q3", "answer": "x"}',
        '{"question": "Where?", "evidence": "a1"}',
        '{"id": 7, "question": "Numeric id, no evidence", "answer": 1989}',
        '{"id": "q1", "question": "Duplicate id"}',
        '{"question": "Bad date", "date": "16/06/2022"}',
        '{"id": "u", "question": "Unanswerable?", "answer": "", "evidence": []}',
    ]
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    questions, errors = load_questions(path)
    assert [(e.line, e.reason.split(":")[0].split(" (")[0]) for e in errors] == [
        (3, "invalid JSON"),
        (4, "expected a JSON object, got list"),
        (5, "missing question"),
        (6, "evidence must be a list of article ids, got str"),
        (8, "duplicate id 'q1'"),
        (9, "date is not ISO 8601"),
    ]
    assert str(errors[0]).startswith("line 3: invalid JSON")
    assert [q.id for q in questions] == ["q1", "7", "u"]
    q1, q7, unanswerable = questions
    assert q1.evidence == ("a1",) and q1.date == "2022-06-16" and q1.line == 1
    assert q1.extra == {"choices": ["Ann", "Bob"]}
    assert q7.answer == "1989" and q7.evidence is None and q7.answerable is True
    assert unanswerable.evidence == () and unanswerable.answer is None
    assert unanswerable.answerable is False


def test_load_csv_with_bad_rows(tmp_path: Path):
    text = (
        "id,question,answer,evidence,type,date\n"
        'c1,"Who won?",Messi,a1; a2,sports,2022-12-18\n'
        'c2,"A question\nover two lines?",,[],,\n'
        "c3,,x,a1,,\n"
        'c4,"Bad evidence",y,"[""a1""",,\n'
        'c5,"JSON evidence",z,"[""a1"", ""a2""]",,\n'
        'c6,"No evidence",w,,,\n'
        "c7,Too many,a,b,c,d,e\n"
    )
    path = tmp_path / "questions.csv"
    path.write_text(text, encoding="utf-8")
    questions, errors = load_questions(path)
    assert [(e.line, e.reason.split(":")[0]) for e in errors] == [
        (5, "missing question"),
        (6, "evidence is not a valid JSON list"),
        (9, "more cells than header columns"),
    ]
    by_id = {q.id: q for q in questions}
    assert sorted(by_id) == ["c1", "c2", "c5", "c6"]
    assert by_id["c1"].evidence == ("a1", "a2") and by_id["c1"].type == "sports"
    assert by_id["c2"].evidence == () and by_id["c2"].answer is None and by_id["c2"].line == 3
    assert by_id["c5"].evidence == ("a1", "a2")
    assert by_id["c6"].evidence is None and by_id["c6"].answer == "w"


def test_unusable_question_files(tmp_path: Path):
    no_question = tmp_path / "q.csv"
    no_question.write_text("id,text\n1,hello\n", encoding="utf-8")
    with pytest.raises(QuestionSetError, match="no 'question' column"):
        load_questions(no_question)
    with pytest.raises(QuestionSetError, match="cannot read"):
        load_questions(tmp_path / "missing.jsonl")


# --- reports ---------------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href")]

    def handle_data(self, data):
        self.text.append(data)


def test_report_files(tmp_path: Path, scores):
    files = write_report(
        tmp_path / "out", scores, run_info={"questions": "hand-made", "partial": True}
    )
    report = json.loads(files.json.read_text(encoding="utf-8"))
    assert report["run"]["questions"] == "hand-made"
    assert report["metrics"] == json.loads(json.dumps(aggregate(scores)))
    assert load_report(files.json)["metrics"]["overall"]["n_questions"] == 6

    with files.csv.open(encoding="utf-8", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert list(rows) == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert rows["q1"]["retrieved_ids"] == "a1;a2;a3;a4"
    assert (rows["q1"]["hits@1"], rows["q1"]["hits@5"], rows["q1"]["rr@10"]) == ("0", "1", "0.3333")
    assert rows["q1"]["citation_validity"] == "0.5"
    assert rows["q4"]["failure"] == "wrong abstention; evidence not retrieved"
    assert rows["q4"]["abstained"] == "true" and rows["q4"]["em"] == "0"
    assert rows["q6"]["question"] == NASTY_QUESTION
    assert rows["q3"]["hits@1"] == "" and rows["q3"]["total_ms"] == "300"
    assert (rows["q3"]["evidence"], rows["q5"]["evidence"], rows["q1"]["evidence"]) == (
        "[]",
        "",
        "a3",
    )

    raw = files.html.read_text(encoding="utf-8")
    page = _Page()
    page.feed(raw)
    text = "".join(page.text)
    assert page.tags.count("svg") >= 2  # per-type charts and latency histograms
    assert "rect" in page.tags
    assert not {"script", "link", "img", "iframe", "b"} & set(page.tags)  # escaped, self-contained
    assert not [u for u in page.urls if u.startswith(("http:", "https:", "//"))]
    assert NASTY_QUESTION in text and "&lt;script&gt;" in raw
    assert "No <b>headliners</b> yet" in text  # answer of a worst question, escaped
    assert "Partial report" in text
    assert "answered an unanswerable question" in text and "politics" in text


def test_print_report(scores):
    console = Console(record=True, width=160)
    print_report(aggregate(scores), console)
    out = console.export_text()
    assert "Hits@1" in out and "politics" in out and "untyped" in out
    assert "0.333" in out and "480.0 ms" in out


def test_compare_flags_regressions(scores):
    old = {"metrics": aggregate(scores)}
    new = copy.deepcopy(old)
    overall = new["metrics"]["overall"]
    overall["retrieval"]["hits@1"] -= 0.05  # worse
    overall["retrieval"]["mrr@10"] += 0.10  # better
    overall["answer"]["f1"] -= 0.005  # within the 0.01 threshold
    overall["abstention"]["false_abstention_rate"] += 0.02  # higher is worse
    overall["latency_ms"]["total_p95"] *= 1.5  # +50 %
    overall["latency_ms"]["total_p50"] *= 1.05  # +5 %: noise
    rows = compare_reports(old, new)
    status = {(r.scope, r.path): r.status for r in rows if r.status}
    assert status == {
        ("overall", "retrieval.hits@1"): "regression",
        ("overall", "retrieval.mrr@10"): "improvement",
        ("overall", "abstention.false_abstention_rate"): "regression",
        ("overall", "latency_ms.total_p95"): "regression",
    }
    hits = next(r for r in rows if r.scope == "overall" and r.path == "retrieval.hits@1")
    assert hits.delta == pytest.approx(-0.05)
    assert compare_reports(old, old) and not any(r.status for r in compare_reports(old, old))
    console = Console(record=True, width=160)
    assert print_comparison(rows, console) == 3
    assert "REGRESSION" in console.export_text()


def test_judged_scores_appear_in_html_only_when_a_model_judged():
    from assistant.evaluation.html_report import _judged_section

    assert _judged_section({"overall": {"n_questions": 2}, "per_type": {}}) == ""
    judged = {"judged_by": "qwen-small", "faithfulness": 0.5, "answer_relevance": 1.0}
    html = _judged_section({"overall": {"judged": judged}, "per_type": {}})
    assert "judged by qwen-small" in html and "Faithfulness" in html
