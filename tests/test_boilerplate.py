"""Site-level boilerplate statistics: counting distinct documents, thresholds, persistence."""

from __future__ import annotations

import json

import pytest

from newsarchive.boilerplate import BlockStats, block_key, learn_and_filter, normalize_block, site_of


def test_normalisation_ignores_case_digits_punctuation() -> None:
    assert normalize_block("Comments (12)!") == normalize_block("comments 35")
    assert block_key("  ") is None
    assert block_key("Share") == block_key("SHARE:")


def test_site_is_registered_domain() -> None:
    assert site_of("https://www.example.co.uk/a") == site_of("https://news.example.co.uk/b") == "example.co.uk"


def test_block_in_k_documents_is_boilerplate_and_unique_blocks_never() -> None:
    stats = BlockStats(min_docs=3)
    for i in range(3):
        stats.observe("s", f"doc{i}", ["Subscribe now", f"unique paragraph {chr(97 + i)}"])
    assert stats.is_boilerplate("s", "Subscribe now")
    assert not stats.is_boilerplate("s", "unique paragraph a")
    assert stats.filter("s", ["unique paragraph a", "Subscribe now"]) == ["unique paragraph a"]
    assert not stats.is_boilerplate("other", "Subscribe now")  # per site


def test_two_documents_quoting_a_paragraph_keep_it() -> None:
    stats = BlockStats(min_docs=3)
    stats.observe("s", "a", ["A quoted paragraph.", "Widget"])
    stats.observe("s", "b", ["A quoted paragraph.", "Widget"])
    stats.observe("s", "c", ["Widget"])
    assert not stats.is_boilerplate("s", "A quoted paragraph.")
    assert stats.is_boilerplate("s", "Widget")


def test_reobserving_a_document_counts_once_and_repeats_inside_count_once() -> None:
    stats = BlockStats(min_docs=3)
    for _ in range(5):
        stats.observe("s", "same", ["x y", "x y"])
    assert stats.doc_frequency("s", "x y") == 1 and stats.site_docs("s") == 1


def test_filter_waits_for_enough_documents_and_fraction() -> None:
    stats = BlockStats(min_docs=2, min_fraction=0.5, min_site_docs=4)
    stats.observe("s", "a", ["w"])
    stats.observe("s", "b", ["w"])
    assert not stats.is_active("s") and stats.filter("s", ["w"]) == ["w"]
    stats.observe("s", "c", ["z"])
    stats.observe("s", "d", ["z"])
    assert stats.is_boilerplate("s", "w")  # 2 of 4 docs = 0.5
    stats.observe("s", "e", ["y"])
    assert not stats.is_boilerplate("s", "w")  # 2 of 5 < 0.5


def test_min_docs_below_two_is_refused() -> None:
    with pytest.raises(ValueError):
        BlockStats(min_docs=1)


def test_round_trip_through_json() -> None:
    stats = BlockStats(min_docs=3)
    for i in range(4):
        stats.observe("s", f"d{i}", ["Most read", f"paragraph {chr(97 + i)}"])
    data = json.loads(json.dumps(stats.to_dict()))
    again = BlockStats.from_dict(data)
    assert again.to_dict() == stats.to_dict()
    assert again.is_boilerplate("s", "Most read") and not again.is_boilerplate("s", "paragraph b")
    assert all(len(k) == 16 for k in data["sites"]["s"]["blocks"])  # hashed keys, no page text


def test_learn_and_filter_two_passes() -> None:
    pages = {f"id{i}": (f"https://www.site.org/{i}", ["Cookie notice", f"body {chr(97 + i)}"]) for i in range(3)}
    out = learn_and_filter(pages)
    assert out == {f"id{i}": [f"body {chr(97 + i)}"] for i in range(3)}


def test_site_of_keeps_an_explicit_port() -> None:
    assert site_of("http://127.0.0.1:8001/a") != site_of("http://127.0.0.1:8002/a")
    assert site_of("https://example.com:443/a") == site_of("https://www.example.com/b") == "example.com"
    assert site_of("https://example.com:8443/a") == "example.com:8443"


def test_counts_round_trip_through_a_store_of_added_counters() -> None:
    """What the crawl state keeps per site: only additions, so runs add up without double counting."""
    store: dict[str, int] = {}

    def save(stats: BlockStats) -> None:
        for name, value in stats.take_unsaved("s").items():
            store[name] = store.get(name, 0) + value

    widget, quote = "Sign up for our newsletter today", "A quote that two articles share"
    run1 = BlockStats()
    run1.observe("s", "u1", [widget, "one", quote])
    run1.observe("s", "u2", [widget, "two", quote])
    save(run1)
    save(run1)  # nothing new: nothing added
    assert store["block:" + str(block_key(widget))] == 2 and sum(k.startswith("doc:") for k in store) == 2

    run2 = BlockStats()
    run2.observe("s", "u2", [widget, "two", quote])  # seen again before the store is read
    run2.observe("s", "u3", [widget, "three"])
    run2.merge_counts("s", store)
    assert run2.site_docs("s") == 3
    assert run2.doc_frequency("s", widget) == 3 and run2.doc_frequency("s", quote) == 2
    assert run2.filter("s", [widget, "three"]) == ["three"]
    save(run2)
    assert store["block:" + str(block_key(widget))] == 3  # u2 not counted twice
    assert sum(k.startswith("doc:") for k in store) == 3


def _letters(number: int) -> str:
    return "".join(chr(ord("a") + int(digit)) for digit in str(number))


def test_memory_stays_bounded_and_the_template_is_still_found() -> None:
    """Past max_blocks a site's rarest blocks are forgotten: articles' own paragraphs go, the
    template's recurring blocks stay, and a paragraph two articles quote is never removed."""
    stats = BlockStats(min_docs=3, max_blocks=1000)
    template = ["Listen Live", "Get short URL", "Share this article"]
    for i in range(400):
        own = [f"paragraph {_letters(i)} {_letters(j)} of its own" for j in range(20)]  # digits normalise to 0
        stats.observe("s", f"doc{i}", [*template, *own])
        assert len(stats._sites["s"].block_docs) <= 1000
    assert stats.forgotten > 0
    assert all(stats.is_boilerplate("s", block) for block in template)
    stats.observe("s", "a", ["A paragraph both quote."])
    stats.observe("s", "b", ["A paragraph both quote."])
    assert stats.filter("s", ["Listen Live", "A paragraph both quote."]) == ["A paragraph both quote."]
    assert stats.unsaved_docs("s") == 402
    delta = stats.take_unsaved("s")
    assert delta["block:" + str(block_key("Listen Live"))] == 400  # the store's counts stay exact
    assert sum(name.startswith("block:") for name in delta) == 3 + 400 * 20 + 1
    assert stats.unsaved_docs("s") == 0 and stats.site_docs("s") == 402
