"""The throughput benchmark's report: each full crawl against the references on both sides of it,
targets judged on the median of the rounds (benchmarks/throughput.py; the runs themselves are not tests)."""

from __future__ import annotations

import argparse

import pytest

from benchmarks.throughput import compare_round, ratios, table


def checkpoint(extract_ms: float, plain_pps: float) -> dict:
    return {"stages_ms": {"fetch": 3.0, "extract": extract_ms, "write": 3.0}, "plain_pages_per_s": plain_pps,
            "fetch_only_pages_per_s": 300.0}


def full(pages_per_s: float, cpu_ms: float = 40.0) -> dict:
    return {"pages": 5000, "articles": 5000, "extract_failed": 0, "seconds": 5000 / pages_per_s,
            "pages_per_s": pages_per_s, "cpu_ms_per_page_all_processes": cpu_ms,
            "cpu_ms_per_page_crawl_process": 9.0, "cpu_ms_per_page_extract_workers": 31.0,
            "extract_workers_idle_share": 0.05, "peak_in_flight": 16}


def test_a_round_compares_its_crawl_with_the_mean_of_the_references_beside_it() -> None:
    result = compare_round(full(45.0), checkpoint(30.0, 50.0), checkpoint(40.0, 60.0), cores=2)

    assert result["stages_ms"] == {"fetch": 3.0, "extract": 35.0, "write": 3.0}
    assert result["stage_sum_limit_pages_per_s"] == pytest.approx(2 / 0.041)
    assert result["plain_trafilatura_pages_per_s"] == 55.0
    assert result["extract_drift"] == pytest.approx(1 / 3)
    assert result["full_vs_stage_sum_limit"] == pytest.approx(45.0 * 0.041 / 2)
    assert result["full_vs_plain_trafilatura"] == pytest.approx(45.0 / 55.0)
    assert result["stage_sum_cpu_vs_crawl_cpu"] == pytest.approx(41.0 / 40.0)


def test_the_targets_are_judged_on_the_median_round_and_every_round_is_printed() -> None:
    points = [checkpoint(30.0, 50.0), checkpoint(30.0, 50.0), checkpoint(30.0, 50.0), checkpoint(30.0, 50.0)]
    speeds = [30.0, 50.0, 45.0]  # a round that fell in a slow stretch, a lucky one, a middle one
    rounds = [compare_round(full(s), points[i], points[i + 1], cores=2) for i, s in enumerate(speeds)]
    result = {"machine": {"cores": 2, "cpu": "test", "load_average_at_start": (1.0, 1, 1),
                          "load_average_at_end": (2.0, 2, 2)},
              "pages": 5000, "checkpoints": points, "rounds": rounds,
              "news_please": {"pages": 1000, "pages_per_s": 5.0},
              "memory": {"1000": {"peak_pss_mib": 400.0, "pages_per_s": 40.0},
                         "20000": {"peak_pss_mib": 440.0, "pages_per_s": 45.0}}}
    args = argparse.Namespace(memory=(1000, 20000))

    result["ratios"] = ratios(result, args)

    limit = 2 / 0.036
    assert result["ratios"]["full_vs_stage_sum_limit"] == pytest.approx(45.0 / limit)
    assert result["ratios"]["per_round"]["full_vs_stage_sum_limit"] == pytest.approx([s / limit for s in speeds])
    assert result["ratios"]["full_vs_plain_trafilatura"] == pytest.approx(0.9)
    assert result["ratios"]["full_vs_news_please"] == pytest.approx(9.0)
    assert result["ratios"]["memory_large_vs_small"] == pytest.approx(1.1)
    printed = table(result)
    row = next(line for line in printed.splitlines() if line.startswith("full / stage-sum limit"))
    assert row.split()[4:9] == [f"{30 / limit:.2f}", f"{50 / limit:.2f}", f"{45 / limit:.2f}", f"{45 / limit:.2f}",
                                "target"]
    assert "round 3" in printed and "peak memory large / small" in printed
