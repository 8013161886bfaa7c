"""Is a change to the extractor free of output changes, and what does it save? Snapshots and A/B timing.

Why: a cost change to ``extract_page`` must leave every field of its output as it was; and on a shared,
noisy machine two runs taken one after the other differ by more than the change measures. So:

    .venv/bin/python -m benchmarks.extract_compare snapshot [--source SRC_DIR] OUT.json
    .venv/bin/python -m benchmarks.extract_compare diff OLD.json NEW.json
    .venv/bin/python -m benchmarks.extract_compare ab [--rounds 5] SRC_DIR...

``snapshot`` writes ``extract_page``'s result (the article's ``as_dict()`` and the next-page links) and
a digest of ``parse_html``'s tree for the pages of DATA_DIR (default ``../shared/data/aeb``), the seed
layouts in ``../shared/fixtures/seed`` and every HTML page under ``tests/`` (decoded as UTF-8 and as
cp1252), under three option sets: default; comments and links; precision without structural cleaning.
``ab`` times ``extract_page`` from several source trees (directories holding a ``newsarchive`` package,
e.g. made with ``git archive COMMIT newsarchive | tar -x -C DIR``), one worker process each, page by
page in turn, so that all see the same load: CPU ms per page, least of the rounds' means, and the mean
of each page's least time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "aeb"
SEED = ROOT.parent / "shared" / "fixtures" / "seed"

_WORKER = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import newsarchive
assert newsarchive.__file__.startswith(sys.argv[1]), newsarchive.__file__
from pathlib import Path
from newsarchive.evaluation import load_dataset
from newsarchive.extract_pool import extract_page
pages = [(p.url, p.html.encode("utf-8")) for p in load_dataset(Path(sys.argv[2]))]
for url, body in pages:
    extract_page(body, "utf-8", url)
print(len(pages), flush=True)
for line in sys.stdin:
    url, body = pages[int(line)]
    start = time.process_time()
    extract_page(body, "utf-8", url)
    print(repr(time.process_time() - start), flush=True)
"""


def snapshot(out: Path, data: Path, source: Path | None) -> int:
    if source is not None:  # another checkout's package, ahead of this one's
        sys.path.insert(0, str(source.resolve()))
    from lxml import etree

    import newsarchive
    from newsarchive.evaluation import load_dataset
    from newsarchive.extract_pool import extract_page
    from newsarchive.extraction import ExtractionOptions, parse_html
    from newsarchive.items import page_text

    pages = [(p.page_id, p.url, p.html.encode("utf-8"), "utf-8") for p in load_dataset(data)]
    for path in sorted(SEED.glob("*.html")) + sorted((ROOT / "tests").rglob("*.html")):
        for encoding in ("utf-8", "cp1252"):
            pages.append((f"{path.relative_to(ROOT.parent)}#{encoding}", f"https://example.org/{path.stem}/",
                          path.read_bytes(), encoding))
    option_sets = {
        "default": ExtractionOptions(),
        "comments_links": ExtractionOptions(include_comments=True, include_links=True),
        "precision_noclean": ExtractionOptions(favor_precision=True, clean_structure=False),
    }
    results: dict[str, Any] = {}
    for page_id, url, body, encoding in pages:
        tree = parse_html(page_text(body, encoding))
        results[f"{page_id}|tree"] = None if tree is None else hashlib.sha1(
            etree.tostring(tree.getroottree())).hexdigest()
        for name, options in option_sets.items():
            result = extract_page(body, encoding, url, options)
            results[f"{page_id}|{name}"] = {"article": result.article.as_dict() if result.article else None,
                                            "next": list(result.next_links)}
    out.write_text(json.dumps(results, indent=1, sort_keys=True, ensure_ascii=False))
    print(f"{len(pages)} pages, {len(results)} entries from {Path(newsarchive.__file__).parent} written to {out}")
    return 0


def diff(old: Path, new: Path) -> int:
    before, after = json.loads(old.read_text()), json.loads(new.read_text())
    changed = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    print(f"{len(before)} entries, {len(changed)} differences")
    for key in changed[:20]:
        print("  ", key)
    return 1 if changed else 0


def ab(sources: Sequence[str], data: Path, rounds: int) -> int:
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, str(Path(s).resolve()), str(data)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for s in sources]
    counts = {int(w.stdout.readline()) for w in workers if w.stdout}
    pages = counts.pop()
    times = [[[0.0] * pages for _ in range(rounds)] for _ in sources]
    for round_ in range(rounds):
        for page in range(pages):
            order = list(enumerate(workers))
            if (page + round_) % 2:
                order.reverse()  # neither source always goes first
            for index, worker in order:
                assert worker.stdin and worker.stdout
                worker.stdin.write(f"{page}\n")
                worker.stdin.flush()
                times[index][round_][page] = float(worker.stdout.readline())
    for worker in workers:
        if worker.stdin:
            worker.stdin.close()
        worker.wait()
    print(f"extract_page over {pages} pages of {data}, CPU ms per page, {rounds} rounds interleaved page by page")
    for source, runs in zip(sources, times, strict=True):
        means = [sum(run) / pages * 1000 for run in runs]
        least = statistics.mean(min(run[page] for run in runs) for page in range(pages)) * 1000
        print(f"{source:40} least-of-{rounds} mean {min(means):6.2f}  per-page least {least:6.2f}  "
              f"rounds {' '.join(f'{m:.2f}' for m in means)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("snapshot")
    take.add_argument("out", type=Path)
    take.add_argument("--data", type=Path, default=DEFAULT_DATA)
    take.add_argument("--source", type=Path, help="directory holding the newsarchive package to run")
    compare = commands.add_parser("diff")
    compare.add_argument("old", type=Path)
    compare.add_argument("new", type=Path)
    timing = commands.add_parser("ab")
    timing.add_argument("sources", nargs="+")
    timing.add_argument("--data", type=Path, default=DEFAULT_DATA)
    timing.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "snapshot":
        return snapshot(args.out, args.data, args.source)
    if args.command == "diff":
        return diff(args.old, args.new)
    return ab(args.sources, args.data, args.rounds)


if __name__ == "__main__":
    sys.exit(main())
