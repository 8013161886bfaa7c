"""Score article-body extraction the way the article-extraction benchmark (AEB) does.

Why a module of its own: the CLI (`newsarchive eval-extract`), the tests and anyone tuning the
extractor must compute the very same figures, so the scoring lives in one place and follows
``shared/data/README.md`` to the letter:

1. tokens are ``\\w+`` matches (Unicode word characters);
2. each token list becomes a multiset of overlapping 4-token shingles (a text with fewer than
   four tokens is one shingle of all its tokens, as the reference implementation does; an empty
   text has none);
3. per page, TP/FP/FN are the multiset intersection and the two differences, divided by their
   sum so that every page weighs the same (empty prediction, non-empty truth: TP=0, FN=1);
4. precision and recall are means over *all* pages (a page with TP+FP = 0 counts 0 for
   precision, TP+FN = 0 counts 0 for recall), F1 is the harmonic mean of those two means, and
   accuracy is the share of pages whose token list equals the truth's exactly.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from newsarchive.boilerplate import BlockStats, site_of
from newsarchive.extraction import ExtractionOptions, extract_article

logger = logging.getLogger(__name__)

SHINGLE_SIZE = 4
_TOKEN_RE = re.compile(r"\w+")

#: Extracts an article body from ``(html, url)``; ``None`` means "nothing found".
PageExtractor = Callable[[str, str], "str | None"]
#: Extracts bodies for a whole dataset at once (needed when extraction learns across pages).
BatchExtractor = Callable[[Sequence["DatasetPage"]], Mapping[str, "str | None"]]


def tokenize(text: str | None) -> list[str]:
    """Split text into ``\\w+`` tokens, the benchmark's language-agnostic tokenisation."""
    return _TOKEN_RE.findall(text or "")


def shingles(tokens: Sequence[str], size: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    """Multiset of overlapping ``size``-token shingles of ``tokens``."""
    if not tokens:
        return Counter()
    if len(tokens) < size:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


@dataclass(frozen=True)
class PageScore:
    """Normalised shingle counts for one page (``tp + fp + fn == 1`` unless all are 0)."""

    tp: float
    fp: float
    fn: float
    exact: bool

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp > 0 else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn > 0 else 0.0


def score_page(truth: str | None, prediction: str | None) -> PageScore:
    """Compare one predicted body with its ground truth."""
    true_tokens = tokenize(truth)
    pred_tokens = tokenize(prediction)
    true_sh = shingles(true_tokens)
    pred_sh = shingles(pred_tokens)
    tp = sum((true_sh & pred_sh).values())
    fp = sum((pred_sh - true_sh).values())
    fn = sum((true_sh - pred_sh).values())
    total = tp + fp + fn
    if total:
        return PageScore(tp / total, fp / total, fn / total, true_tokens == pred_tokens)
    return PageScore(0.0, 0.0, 0.0, true_tokens == pred_tokens)


@dataclass(frozen=True)
class Scores:
    """Benchmark figures over a set of pages."""

    f1: float
    precision: float
    recall: float
    accuracy: float
    pages: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "f1": self.f1,
            "precision": self.precision,
            "recall": self.recall,
            "accuracy": self.accuracy,
            "pages": self.pages,
        }

    def __str__(self) -> str:
        return (
            f"F1={self.f1:.4f} P={self.precision:.4f} R={self.recall:.4f} "
            f"acc={self.accuracy:.3f} n={self.pages}"
        )


def aggregate(page_scores: Iterable[PageScore]) -> Scores:
    """Mean precision and recall over pages, F1 of the means, exact-match accuracy."""
    items = list(page_scores)
    if not items:
        return Scores(0.0, 0.0, 0.0, 0.0, 0)
    n = len(items)
    precision = sum(s.precision for s in items) / n
    recall = sum(s.recall for s in items) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    accuracy = sum(1 for s in items if s.exact) / n
    return Scores(f1, precision, recall, accuracy, n)


@dataclass(frozen=True)
class DatasetPage:
    """One page of an AEB-layout dataset: its id, URL, HTML and hand-checked body."""

    page_id: str
    url: str
    html: str
    truth: str


def load_dataset(dataset_dir: Path) -> list[DatasetPage]:
    """Load ``html/<id>.html.gz`` + ``ground-truth.json`` (ids sorted for reproducible runs)."""
    truth_path = dataset_dir / "ground-truth.json"
    with truth_path.open(encoding="utf-8") as fh:
        ground_truth: dict[str, dict[str, str]] = json.load(fh)
    pages = []
    for page_id in sorted(ground_truth):
        entry = ground_truth[page_id]
        html_path = dataset_dir / "html" / f"{page_id}.html.gz"
        html = gzip.decompress(html_path.read_bytes()).decode("utf-8", errors="replace")
        pages.append(DatasetPage(page_id, entry.get("url", ""), html, entry.get("articleBody", "") or ""))
    logger.info("Loaded %d pages from %s", len(pages), dataset_dir)
    return pages


@dataclass(frozen=True)
class EvalResult:
    """Scores of one extractor plus its predictions and per-page detail."""

    name: str
    scores: Scores
    predictions: dict[str, str]
    page_scores: dict[str, PageScore]
    seconds: float


def score_predictions(
    name: str, pages: Sequence[DatasetPage], predictions: Mapping[str, str | None], seconds: float = 0.0
) -> EvalResult:
    """Score ready-made predictions (missing ids count as empty predictions)."""
    preds = {p.page_id: predictions.get(p.page_id) or "" for p in pages}
    per_page = {p.page_id: score_page(p.truth, preds[p.page_id]) for p in pages}
    return EvalResult(name, aggregate(per_page.values()), preds, per_page, seconds)


def evaluate_extractor(name: str, pages: Sequence[DatasetPage], extractor: PageExtractor) -> EvalResult:
    """Run a page-at-a-time extractor over the dataset and score it."""
    start = time.perf_counter()
    predictions = {p.page_id: extractor(p.html, p.url) for p in pages}
    return score_predictions(name, pages, predictions, time.perf_counter() - start)


def evaluate_batch(name: str, pages: Sequence[DatasetPage], extractor: BatchExtractor) -> EvalResult:
    """Run an extractor that sees the whole dataset (e.g. to learn site boilerplate first)."""
    start = time.perf_counter()
    predictions = extractor(pages)
    return score_predictions(name, pages, predictions, time.perf_counter() - start)


@dataclass(frozen=True)
class EvalReport:
    """What ``newsarchive eval-extract`` reports: the project's extractor next to plain trafilatura."""

    dataset: Path
    project: EvalResult
    baseline: EvalResult
    extra: list[EvalResult] = field(default_factory=list)

    def rows(self) -> list[tuple[str, Scores, float]]:
        results = [self.project, self.baseline, *self.extra]
        return [(r.name, r.scores, r.seconds) for r in results]


def format_report(report: EvalReport) -> str:
    """The table ``newsarchive eval-extract`` prints: one row per extractor, same pages."""
    lines = [f"{report.project.scores.pages} pages from {report.dataset}",
             f"{'extractor':<32} {'precision':>9} {'recall':>9} {'F1':>9} {'exact':>9} {'seconds':>8}"]
    for name, scores, seconds in report.rows():
        lines.append(f"{name:<32} {scores.precision:>9.4f} {scores.recall:>9.4f} {scores.f1:>9.4f} "
                     f"{scores.accuracy:>9.3f} {seconds:>8.1f}")
    return "\n".join(lines)


def write_predictions(path: Path, predictions: Mapping[str, str]) -> None:
    """Write predictions in the benchmark's layout ``{"<id>": {"articleBody": "..."}}``."""
    payload = {pid: {"articleBody": predictions[pid]} for pid in sorted(predictions)}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")


def project_extractor(
    options: ExtractionOptions | None = None, block_stats: BlockStats | None = None
) -> BatchExtractor:
    """The crawl's code path over a dataset: ``extract_article`` per page, then site-level
    boilerplate learned from the dataset's own pages (two passes: observe all, then filter)."""

    def run(pages: Sequence[DatasetPage]) -> dict[str, str | None]:
        stats = block_stats if block_stats is not None else BlockStats()
        articles = {p.page_id: extract_article(p.html, p.url, options) for p in pages}
        for page in pages:
            article = articles[page.page_id]
            if article is not None:
                stats.observe(site_of(page.url), page.url, article.paragraphs)
        predictions: dict[str, str | None] = {}
        for page in pages:
            article = articles[page.page_id]
            if article is None:
                predictions[page.page_id] = None
                continue
            kept = stats.filter(site_of(page.url), article.paragraphs)
            predictions[page.page_id] = "\n".join(kept)
        return predictions

    return run


def trafilatura_default(html: str, url: str) -> str | None:
    """Plain trafilatura ``extract()`` with its defaults: the baseline the README quotes."""
    import trafilatura

    return trafilatura.extract(html, url=url)


def run_eval(dataset_dir: Path, output: Path | None = None) -> EvalReport:
    """What ``newsarchive eval-extract DIR [--output PRED.json]`` does: score the project's
    extractor and plain trafilatura on the same pages; optionally write our predictions."""
    pages = load_dataset(dataset_dir)
    project = evaluate_batch("newsarchive", pages, project_extractor())
    baseline = evaluate_extractor("trafilatura extract() default", pages, trafilatura_default)
    logger.info("newsarchive: %s; trafilatura default: %s", project.scores, baseline.scores)
    if output is not None:
        write_predictions(output, project.predictions)
    return EvalReport(dataset_dir, project, baseline)
