"""Evaluation runs end to end: a real index of the fixture articles, the runner, the CLI as a
process (report files, --json, --articles caching, bad rows, --compare) and the HTML report in
headless Chromium."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.evaluation import Question, aggregate, load_report
from assistant.evaluation.runner import run_evaluation
from tests.conftest import FIXTURES

EVAL = FIXTURES / "eval"
ARTICLES = EVAL / "articles.jsonl"
QUESTIONS = EVAL / "questions.jsonl"
ANSWERABLE = {  # id -> evidence, as in questions.jsonl
    "marathon": ["ev-marathon"],
    "turbines": ["ev-wind"],
    "heat-record": ["ev-heat"],
    "bridge-cost": ["ev-bridge-vote", "ev-bridge-design"],
    "library-books": ["ev-library"],
}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, embedder) -> Path:
    from assistant import NewsAssistant

    path = tmp_path_factory.mktemp("eval") / "index"
    report = NewsAssistant(index=path, embedder=embedder).ingest([ARTICLES])
    assert report.ok and len(report.added) == 8
    return path


@pytest.fixture
def eval_bot(index_dir: Path, embedder):
    from assistant import NewsAssistant

    return NewsAssistant(index=index_dir, embedder=embedder)


# --- the runner ------------------------------------------------------------------------------


def test_evaluate_writes_a_consistent_report(eval_bot, tmp_path: Path):
    result = eval_bot.evaluate(QUESTIONS, out_dir=tmp_path / "out")
    assert not result.interrupted and result.n_errors == 0 and result.row_errors == []
    by_id = {s.question.id: s for s in result.scores}
    assert list(by_id) == [*ANSWERABLE, "grand-prix"]
    for qid, evidence in ANSWERABLE.items():  # distinct topics: the evidence ranks first
        score = by_id[qid]
        assert score.retrieved[0] in evidence, (qid, score.retrieved)
        assert score.rr == 1.0 and score.hits == {1: 1.0, 5: 1.0, 10: 1.0}
        assert score.false_abstention == 0.0 and score.contains == 1.0
        assert score.citation_validity == 1.0  # quotes are verbatim article text
        assert score.retrieval_ms and score.total_ms and score.total_ms >= score.retrieval_ms
    assert by_id["grand-prix"].correct_abstention == 1.0
    assert result.run_info["dates"] == "as_of = question date"
    assert result.metrics == aggregate(result.scores)

    files = result.files
    report = load_report(files.json)
    assert report["metrics"] == json.loads(json.dumps(result.metrics))
    assert report["run"]["k"] == 10 and report["run"]["answer_mode"] == "extractive"
    assert report["metrics"]["overall"]["retrieval"]["mrr@10"] == 1.0
    assert "judged" not in json.dumps(report)  # extractive mode: no LLM judge, not even empty
    with files.csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == list(by_id)
    assert rows[0]["retrieved_ids"].split(";")[0] == "ev-marathon"
    assert "<svg" in files.html.read_text(encoding="utf-8")


def test_question_dates_are_passed_as_of(eval_bot):
    # Dated years before the marathon article: as of that day the article does not exist yet.
    early = Question("early", "Who won the Harbour City marathon?", "Lena Sorensen",
                     ("ev-marathon",), date="2020-01-01")
    dated = eval_bot.evaluate([early])
    undated = eval_bot.evaluate([early], use_dates=False)
    assert dated.run_info["dates"] == "as_of = question date"
    assert dated.scores[0].retrieved == [] and dated.scores[0].rr == 0.0
    assert undated.run_info["dates"] == "off (--no-dates)"
    assert undated.scores[0].retrieved[0] == "ev-marathon" and undated.scores[0].rr == 1.0


def test_an_assistant_without_as_of_still_runs(eval_bot):
    class Undated:  # an assistant from before as_of existed: ask(question) only
        settings = eval_bot.settings

        def ask(self, question):
            return eval_bot.ask(question)

        def search(self, query, k=10):
            return eval_bot.search(query, k=k)

        def get_article(self, article_id):
            return eval_bot.get_article(article_id)

    early = Question("early", "Who won the Harbour City marathon?", "Lena Sorensen",
                     ("ev-marathon",), date="2020-01-01")
    result = run_evaluation(Undated(), [early])
    assert result.run_info["dates"] == "unused (ask() has no as_of)"
    assert result.scores[0].rr == 1.0  # asked as of today: the article is found


def test_k_passages_ranked_answer_passages_first(index_dir: Path, embedder):
    from assistant import NewsAssistant

    # The answer uses 2 passages; the retrieval metrics rank k = 5, topped up by search.
    bot = NewsAssistant(index=index_dir, embedder=embedder,
                        settings=Settings.from_env().with_(k=2))
    question = Question("heat", "What temperature did Port Alder record in the heatwave?",
                        "38.2 degrees", ("ev-heat",))
    own = [p.chunk_id for p in bot.ask(question.question).passages]
    assert len(own) == 2
    for k, expected in ((5, 5), (1, 1)):
        score = bot.evaluate([question], k=k, use_dates=False).scores[0]
        ranked = [p.chunk_id for p in score.answer.passages]
        assert len(ranked) == expected and ranked == own[:expected] + ranked[len(own):]
        assert len(set(ranked)) == len(ranked)
    assert len(bot.evaluate([question], k=5).scores[0].retrieved) == 5


def test_a_failing_question_is_recorded_and_the_run_goes_on(eval_bot, tmp_path: Path):
    questions = [
        Question("empty", "   ", "x", ("ev-heat",)),  # ask() raises InvalidRequest on it
        Question("marathon", "Who won the Harbour City marathon?", "Lena Sorensen",
                 ("ev-marathon",)),
    ]
    result = eval_bot.evaluate(questions, out_dir=tmp_path)
    failed, ok = result.scores
    assert failed.error == "InvalidRequest: the question is empty"
    assert failed.failures == ["error: InvalidRequest: the question is empty"]
    assert ok.rr == 1.0 and not ok.error
    assert result.metrics["overall"]["n_errors"] == 1
    assert result.metrics["overall"]["retrieval"]["n"] == 1
    rows = list(csv.DictReader(result.files.csv.open(encoding="utf-8", newline="")))
    assert rows[0]["failure"] == "error: InvalidRequest: the question is empty"


def test_ctrl_c_leaves_a_partial_report(eval_bot, tmp_path: Path):
    seen = []

    def interrupt_after_two(done: int, total: int, score) -> None:
        seen.append((done, total, score.question.id))
        if done == 2:
            raise KeyboardInterrupt

    result = eval_bot.evaluate(QUESTIONS, out_dir=tmp_path, on_progress=interrupt_after_two)
    assert seen == [(1, 6, "marathon"), (2, 6, "turbines")]
    assert result.interrupted and result.n_planned == 6 and len(result.scores) == 2
    report = load_report(result.files.json)
    assert report["run"]["partial"] is True and report["run"]["n_answered"] == 2
    assert report["metrics"]["overall"]["n_questions"] == 2
    assert len(list(csv.DictReader(result.files.csv.open(encoding="utf-8")))) == 2
    assert "Partial report" in result.files.html.read_text(encoding="utf-8")


def test_limit(eval_bot):
    result = eval_bot.evaluate(QUESTIONS, limit=2)
    assert [s.question.id for s in result.scores] == ["marathon", "turbines"]
    assert result.run_info["limit"] == 2


# --- the CLI ---------------------------------------------------------------------------------


def run_cli(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NEWS_ASSISTANT_"))}
    env["NEWS_ASSISTANT_CACHE"] = str(cache)
    return subprocess.run([sys.executable, "-m", "assistant", "eval", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


def test_cli_articles_json_and_cache(tmp_path: Path, cache: Path):
    first = run_cli(str(QUESTIONS), "--articles", str(ARTICLES), "--out", "r1", "--json",
                    cwd=tmp_path, cache=cache)
    assert first.returncode == 0, first.stderr
    metrics = json.loads(first.stdout)  # stdout is the metrics object and nothing else
    assert set(metrics) == {"overall", "per_type"}
    assert sorted(metrics["per_type"]) == ["number", "person", "unanswerable"]
    assert metrics["overall"]["n_questions"] == 6
    assert metrics["overall"]["retrieval"]["hits@1"] == 1.0
    for name in ("report.json", "questions.csv", "report.html"):
        assert (tmp_path / "r1" / name).is_file()
    assert load_report(tmp_path / "r1" / "report.json")["metrics"] == metrics

    entries = list((cache / "eval-index").iterdir())
    assert len(entries) == 1 and entries[0].name.endswith("-minilm")
    built = json.loads((entries[0] / "built.json").read_text())
    assert built["ingest"]["added"] == 8 and built["ingest"]["chunks_written"] == 8
    assert "Building an index" in first.stderr and "Traceback" not in first.stderr

    second = run_cli(str(QUESTIONS), "--articles", str(ARTICLES), "--out", "r2",
                     cwd=tmp_path, cache=cache)
    assert second.returncode == 0, second.stderr
    assert "Using the cached index" in second.stderr and "Building" not in second.stderr
    assert json.loads((entries[0] / "built.json").read_text()) == built  # not rebuilt
    run = load_report(tmp_path / "r2" / "report.json")["run"]
    assert run["ingest"] == "cached" and run["index_cache"] == str(entries[0])
    assert "Hits@1" in second.stdout and "report: r2/report.html" in second.stdout

    undated = run_cli(str(QUESTIONS), "--articles", str(ARTICLES), "--out", "r3", "--no-dates",
                      "--limit", "2", "--k", "3", cwd=tmp_path, cache=cache)
    assert undated.returncode == 0, undated.stderr
    run = load_report(tmp_path / "r3" / "report.json")["run"]
    assert (run["dates"], run["limit"], run["k"], run["n_questions"]) == (
        "off (--no-dates)", 2, 3, 2)


def test_cli_reports_bad_rows_by_line(tmp_path: Path, cache: Path):
    bad = EVAL / "questions-bad.jsonl"
    done = run_cli(str(bad), "--articles", str(ARTICLES), "--out", "out", cwd=tmp_path,
                   cache=cache)
    assert done.returncode == 1, done.stderr  # done, but rows were skipped
    assert "Traceback" not in done.stderr
    assert f"{bad}:2: invalid JSON" in done.stderr
    assert f"{bad}:4: missing question" in done.stderr
    assert f"{bad}:5: evidence must be a list" in done.stderr
    report = load_report(tmp_path / "out" / "report.json")
    assert [r["line"] for r in report["skipped_rows"]] == [2, 4, 5]
    assert report["metrics"]["overall"]["n_questions"] == 2


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        (EVAL / "questions-no-header.csv", "CSV header has no 'question' column"),
        (EVAL / "missing.jsonl", "cannot read"),
    ],
)
def test_cli_unusable_question_file_exits_2(tmp_path: Path, cache: Path, questions, message):
    done = run_cli(str(questions), "--articles", str(ARTICLES), cwd=tmp_path, cache=cache)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "eval-reports").exists()


def test_cli_rejects_conflicting_and_bad_flags(tmp_path: Path, cache: Path):
    done = run_cli(str(QUESTIONS), "--articles", str(ARTICLES), "--index", "x", cwd=tmp_path,
                   cache=cache)
    assert done.returncode == 2 and "not both" in done.stderr
    done = run_cli(str(QUESTIONS), "--compare", "nowhere.json", cwd=tmp_path, cache=cache)
    assert done.returncode == 2 and "cannot read report" in done.stderr


def test_cli_compare_flags_a_regression(tmp_path: Path, cache: Path):
    baseline = run_cli(str(QUESTIONS), "--articles", str(ARTICLES), "--out", "old",
                       cwd=tmp_path, cache=cache)
    assert baseline.returncode == 0, baseline.stderr
    # The same articles without the heatwave story: its question can no longer be answered.
    fewer = tmp_path / "fewer.jsonl"
    fewer.write_text("".join(line for line in ARTICLES.read_text().splitlines(keepends=True)
                             if '"ev-heat"' not in line))
    done = run_cli(str(QUESTIONS), "--articles", str(fewer), "--out", "new", "--compare",
                   "old/report.json", cwd=tmp_path, cache=cache)
    assert done.returncode == 1, done.stderr
    assert "REGRESSION" in done.stdout and "regression(s)" in done.stdout
    old = load_report(tmp_path / "old" / "report.json")["metrics"]["overall"]
    new = load_report(tmp_path / "new" / "report.json")["metrics"]["overall"]
    assert old["retrieval"]["hits@10"] == 1.0 and new["retrieval"]["hits@10"] == pytest.approx(0.8)
    assert len(list((cache / "eval-index").iterdir())) == 2  # another file, another index


# --- the HTML report in a real browser -------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_report_html_renders_charts_in_chromium(eval_bot, tmp_path: Path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed")
    result = eval_bot.evaluate(QUESTIONS, out_dir=tmp_path / "out")
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(result.files.html.as_uri())
            charts = page.locator("svg")
            assert charts.count() >= 10  # 9 metric charts and 2 latency histograms
            for i in range(charts.count()):
                chart = charts.nth(i)
                chart.scroll_into_view_if_needed()
                box = chart.bounding_box()
                assert chart.is_visible() and box and box["width"] > 100 and box["height"] > 20
            bars = page.locator("svg rect")
            widths = [bars.nth(i).bounding_box()["width"] for i in range(bars.count())]
            assert max(widths) > 50  # MRR 1.0 is drawn as a full-length bar
            assert page.get_by_text("Metrics per type").is_visible()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert all(url.startswith("file://") for url in requests)  # self-contained: no network


# --- LLM-judged scores -----------------------------------------------------------------------


def test_parse_judgement():
    from assistant.evaluation.judge import parse_judgement

    exact = parse_judgement('{"faithfulness": 5, "relevance": 3}')
    assert (exact.faithfulness, exact.relevance, exact.error) == (1.0, 0.5, "")
    loose = parse_judgement("Faithfulness: 1\nRelevance = 4 (mostly on topic)")
    assert (loose.faithfulness, loose.relevance) == (0.0, 0.75)
    half = parse_judgement('{"faithfulness": 9, "relevance": 2}')  # 9 is off the 1-5 scale
    assert half.faithfulness is None and half.relevance == 0.25 and "unparsed" in half.error


@pytest.mark.llm
@pytest.mark.slow
def test_llm_mode_is_judged_by_its_own_model(index_dir: Path, embedder, tmp_path: Path):
    pytest.importorskip("xllamacpp")
    from rich.console import Console

    from assistant import NewsAssistant
    from assistant.evaluation.eval_command import judged_table

    settings = Settings.from_env().with_(llm="local", local_model="qwen2.5-coder-0.5b")
    bot = NewsAssistant(index=index_dir, embedder=embedder, settings=settings)
    result = bot.evaluate(QUESTIONS, out_dir=tmp_path, limit=3)
    model = result.run_info["judged_by"]
    assert model and "judge_error" not in result.run_info
    judged = result.metrics["overall"]["judged"]
    answered = [s for s in result.scores if s.answer and not s.answer.abstained]
    assert judged["judged_by"] == model and judged["n"] == len(answered) >= 1
    for key in ("faithfulness", "answer_relevance"):
        assert judged[key] is None or 0.0 <= judged[key] <= 1.0
    assert judged["n_unparsed"] < judged["n"]  # the model's replies can be read
    assert load_report(result.files.json)["metrics"]["overall"]["judged"] == judged
    console = Console(record=True, width=200)
    console.print(judged_table(result.metrics))
    assert f"judged by {model}" in console.export_text()
    skipped = bot.evaluate(QUESTIONS, limit=1, judge=False)
    assert "judged" not in skipped.metrics["overall"] and "judged_by" not in skipped.run_info
