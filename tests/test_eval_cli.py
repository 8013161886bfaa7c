"""`newsarchive eval-extract` on a tiny dataset in the AEB layout built from tests/pages."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

from newsarchive.evaluation import load_dataset, score_predictions
from tests.helpers import PAGES, SEED, fold, load_seed_expected

SEED_URL = "https://sputniknews.com/politics/201609061044940452-us-russia-syria-cooperation/"


def build_dataset(root: Path) -> dict[str, dict[str, str]]:
    """Seed layouts plus four pages of the magazine template, with their hand-written bodies."""
    (root / "html").mkdir(parents=True)
    truth: dict[str, dict[str, str]] = {}
    expected = load_seed_expected()
    for page_id, name in (("seed-semantic", "sputnik-article.html"), ("seed-divsoup", "sputnik-article-divsoup.html")):
        (root / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress((SEED / name).read_bytes()))
        truth[page_id] = {"url": SEED_URL, "articleBody": "\n".join(expected["body_paragraphs"])}
    site = json.loads((PAGES / "templates" / "magazine" / "site.json").read_text(encoding="utf-8"))
    for number in range(1, 5):
        name = f"article-{number}.html"
        page_id = f"magazine-{number}"
        (root / "html" / f"{page_id}.html.gz").write_bytes(
            gzip.compress((PAGES / "templates" / "magazine" / name).read_bytes()))
        truth[page_id] = {"url": f"https://magazine.example.com/news/{name}",
                          "articleBody": "\n".join(site["pages"][name]["paragraphs"])}
    (root / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    return truth


def table(stdout: str) -> dict[str, list[float]]:
    """Rows of the printed table: name -> [precision, recall, F1, exact]."""
    rows = {}
    for line in stdout.splitlines():
        match = re.match(r"^(\S.*?)\s+([01]\.\d{4})\s+([01]\.\d{4})\s+([01]\.\d{4})\s+([01]\.\d{3})\s+[\d.]+$", line)
        if match:
            rows[match.group(1)] = [float(x) for x in match.groups()[1:]]
    return rows


def test_eval_extract_prints_both_extractors_and_writes_predictions(tmp_path: Path) -> None:
    truth = build_dataset(tmp_path / "data")
    output = tmp_path / "pred.json"
    result = subprocess.run([sys.executable, "-m", "newsarchive.cli", "eval-extract", str(tmp_path / "data"),
                             "--output", str(output)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"6 pages from {tmp_path / 'data'}" in result.stdout
    rows = table(result.stdout)
    assert set(rows) == {"newsarchive", "trafilatura extract() default"}, result.stdout
    ours, plain = rows["newsarchive"], rows["trafilatura extract() default"]
    assert ours[2] > plain[2]  # the widgets plain trafilatura keeps cost it precision
    assert ours[0] > 0.9 and ours[1] > 0.95  # bylines and author notes are not in the truth

    predictions = json.loads(output.read_text(encoding="utf-8"))
    assert sorted(predictions) == sorted(truth)
    assert all(set(entry) == {"articleBody"} for entry in predictions.values())
    divsoup = fold(predictions["seed-divsoup"]["articleBody"])
    for widget in load_seed_expected()["boilerplate_absent"]:
        assert fold(widget) not in divsoup
    # The printed figures are the scores of the written predictions.
    pages = load_dataset(tmp_path / "data")
    rescored = score_predictions("x", pages, {k: v["articleBody"] for k, v in predictions.items()}).scores
    assert [round(rescored.precision, 4), round(rescored.recall, 4), round(rescored.f1, 4)] == ours[:3]


def test_eval_extract_rejects_a_folder_without_ground_truth(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "newsarchive.cli", "eval-extract", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "cannot evaluate" in result.stderr and "ground-truth.json" in result.stderr
