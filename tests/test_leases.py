"""The shared frontier's scripts against a real redis-server: leases, acknowledgements, expiry, runs."""

from __future__ import annotations

import time

import pytest

from newsarchive.leases import LeaseStore
from newsarchive.redis_config import CrawlKeys, default_crawl_id
from tests.redis_helpers import RedisServer


@pytest.fixture
def stores(redis_server: RedisServer, request: pytest.FixtureRequest) -> tuple[LeaseStore, LeaseStore]:
    """Two workers of a fresh crawl."""
    client = redis_server.client()
    keys = CrawlKeys("unit-" + request.node.name)
    client.delete(keys.meta, *keys.run_keys())
    a, b = LeaseStore(client, keys, "host-1-aaaa"), LeaseStore(client, keys, "host-2-bbbb")
    a.open("article", {"url": "x"})
    b.open("article", {"url": "x"})
    return a, b


def test_seen_requests_are_queued_once_and_leased_by_priority(stores: tuple[LeaseStore, LeaseStore]) -> None:
    a, b = stores
    assert a.push(b"low", 0, "fp-low")
    assert not b.push(b"low again", 0, "fp-low")  # a second seeding is filtered
    assert a.push(b"high", -5, "fp-high")
    assert a.push(b"unfiltered", 0, None) and a.push(b"unfiltered-2", 0, None)
    assert a.pending() == (4, 0)
    first = b.lease(60)
    assert first is not None and first.data == b"high"
    assert a.pending() == (3, 1)


def test_ack_counts_once_and_late_acks_are_told_apart(stores: tuple[LeaseStore, LeaseStore]) -> None:
    a, b = stores
    a.push(b"r1", 0, "fp1")
    a.push(b"r2", 0, "fp2")
    l1, l2 = a.lease(60), a.lease(60)
    assert l1 and l2 and b.lease(60) is None
    assert a.ack([(l1.id, "done"), (l2.id, "failed")]) == 2
    assert a.ack([(l1.id, "done")]) == 0
    counters = {k.decode(): int(v) for k, v in a.server.hgetall(a.keys.counters).items()}
    assert counters == {"leased": 2, "done": 1, "failed": 1, "late_acks": 1}
    assert int(a.server.hget(a.keys.worker_done, "host-1-aaaa") or 0) == 2
    assert a.pending() == (0, 0)


def test_expired_leases_go_back_with_their_priority_and_renewed_ones_stay(
        stores: tuple[LeaseStore, LeaseStore]) -> None:
    a, b = stores
    a.push(b"kept", -1, "fp-kept")
    a.push(b"lost", -3, "fp-lost")
    lost, kept = a.lease(0.3), a.lease(0.3)
    assert lost and lost.data == b"lost" and kept and kept.data == b"kept"
    time.sleep(0.2)
    assert a.renew([kept.id], 5) == 1
    time.sleep(0.2)
    assert b.reclaim_expired() == 1
    again = b.lease(60)
    assert again is not None and again.data == b"lost" and again.id != lost.id
    assert a.ack([(lost.id, "done")]) == 0  # the dead (or slow) holder cannot ack it any more
    assert a.ack([(kept.id, "done")]) == 1


def test_release_hands_back_at_once(stores: tuple[LeaseStore, LeaseStore]) -> None:
    a, b = stores
    a.push(b"r", 0, "fp")
    lease = a.lease(60)
    assert lease and a.release([lease.id, "no-such-lease"]) == 1
    assert a.pending() == (1, 0)
    assert b.lease(60) is not None


def test_finish_only_when_empty_and_a_finished_crawl_starts_a_new_run(
        stores: tuple[LeaseStore, LeaseStore]) -> None:
    a, b = stores
    a.push(b"r", 0, "fp")
    assert not a.finish()
    lease = b.lease(60)
    assert lease and not a.finish()
    b.ack([(lease.id, "done")])
    assert b.claim_article("url-key", "capture-1") and not a.claim_article("url-key", "capture-2")
    assert b.claim_article("url-key", "capture-1")  # asked again after a lost reply: still ours
    assert not b.claim_article("url-key", "capture-3")  # the same worker's second capture: not again
    sent = a.send_claim("other-url", "capture-4")  # sent before the line is written, read after
    assert a.read_claim(sent) and not b.read_claim(b.send_claim("other-url", "capture-5"))
    assert a.finish()
    restarted, run = b.open("article", {"url": "x"})
    assert restarted and run == 2
    assert a.push(b"r", 0, "fp")  # new run: seen set, articles and counters start empty
    assert a.claim_article("url-key", "capture-2")
    restarted, run = a.open("article", {"url": "x"})
    assert not restarted and run == 2


def test_default_crawl_id_names_spider_and_arguments() -> None:
    one = default_crawl_id("article", {"url": "https://a.example/x"})
    assert one == default_crawl_id("article", {"url": "https://a.example/x"})
    assert one.startswith("article-") and one != default_crawl_id("article", {"url": "https://b.example/"})
