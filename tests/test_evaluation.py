"""AEB scoring on hand-computed cases."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from newsarchive.evaluation import (
    aggregate,
    evaluate_batch,
    evaluate_extractor,
    load_dataset,
    score_page,
    shingles,
    tokenize,
    write_predictions,
)


def test_tokenize_uses_unicode_word_characters() -> None:
    assert tokenize("Ça va, l'ami? 42 x_y") == ["Ça", "va", "l", "ami", "42", "x_y"]
    assert tokenize(None) == []


def test_shingles_are_a_multiset_of_four_grams() -> None:
    sh = shingles(["a", "b", "c", "d", "a", "b", "c", "d"])
    assert sum(sh.values()) == 5
    assert sh[("a", "b", "c", "d")] == 2
    assert shingles(["a", "b"]) == {("a", "b"): 1}  # short text: one shingle of all its tokens
    assert shingles([]) == {}


def test_identical_texts_score_perfectly() -> None:
    s = score_page("one two three four five", "one, two; three four five!")
    assert (s.tp, s.fp, s.fn, s.exact) == (1.0, 0.0, 0.0, True)


def test_partial_overlap_hand_computed() -> None:
    # truth a b c d e -> {abcd, bcde}; prediction a b c d x -> {abcd, bcdx}
    # TP=1, FP=1, FN=1, normalised by 3.
    s = score_page("a b c d e", "a b c d x")
    assert s.tp == pytest.approx(1 / 3) and s.fp == pytest.approx(1 / 3) and s.fn == pytest.approx(1 / 3)
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(0.5)
    assert not s.exact


def test_multiplicity_counts() -> None:
    # truth: {abcd}; prediction a b c d a b c d -> abcd x2, bcda, cdab, dabc: TP=1, FP=4
    s = score_page("a b c d", "a b c d a b c d")
    assert s.tp == pytest.approx(1 / 5) and s.fp == pytest.approx(4 / 5) and s.fn == 0


def test_empty_prediction_scores_fn_one() -> None:
    s = score_page("a b c d e", "")
    assert (s.tp, s.fp, s.fn) == (0.0, 0.0, 1.0)
    assert s.precision == 0.0 and s.recall == 0.0


def test_aggregate_means_then_f1() -> None:
    perfect = score_page("a b c d", "a b c d")
    half = score_page("a b c d e", "a b c d x")
    empty = score_page("a b c d e", None)
    scores = aggregate([perfect, half, empty])
    assert scores.precision == pytest.approx((1 + 0.5 + 0) / 3)
    assert scores.recall == pytest.approx((1 + 0.5 + 0) / 3)
    assert scores.f1 == pytest.approx(0.5)
    assert scores.accuracy == pytest.approx(1 / 3)
    assert scores.pages == 3


def _write_dataset(root: Path) -> None:
    (root / "html").mkdir(parents=True)
    truth = {
        "p1": {"url": "https://example.org/a", "articleBody": "alpha beta gamma delta"},
        "p2": {"url": "https://example.org/b", "articleBody": "one two three four five"},
    }
    (root / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    for page_id, html in {"p1": "<p>alpha beta gamma delta</p>", "p2": "<p>one two</p>"}.items():
        (root / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(html.encode()))


def test_load_dataset_and_runners(tmp_path: Path) -> None:
    _write_dataset(tmp_path)
    pages = load_dataset(tmp_path)
    assert [p.page_id for p in pages] == ["p1", "p2"]
    assert pages[0].html == "<p>alpha beta gamma delta</p>"
    echo = evaluate_extractor("echo", pages, lambda html, url: html)
    # p1: tokens p alpha beta gamma delta p -> 3 shingles, 1 true: P=1/3, R=1
    # p2: tokens p one two p -> 1 shingle, none true (truth has 2): P=0, R=0
    assert echo.scores.precision == pytest.approx(1 / 6)
    assert echo.scores.recall == pytest.approx(1 / 2)
    batch = evaluate_batch("batch", pages, lambda ps: {p.page_id: p.truth for p in ps})
    assert batch.scores.f1 == pytest.approx(1.0) and batch.scores.accuracy == 1.0
    out = tmp_path / "pred.json"
    write_predictions(out, batch.predictions)
    assert json.loads(out.read_text())["p2"] == {"articleBody": "one two three four five"}
