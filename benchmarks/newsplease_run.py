"""news-please on a list of URLs, in its own virtual environment (benchmarks/.venv-newsplease).

    python newsplease_run.py URLS_FILE LIMIT  ->  prints one JSON line: pages, extracted, seconds
Image fetching is off (on by default, it fetches external images and slows to a crawl).
"""

import json
import sys
import time

from newsplease import NewsPlease

BATCH = 100


def main() -> None:
    path, limit = sys.argv[1], int(sys.argv[2])
    with open(path, encoding="utf-8") as fh:
        urls = [line.strip() for line in fh if line.strip()][:limit]
    extracted = 0
    started = time.monotonic()
    for at in range(0, len(urls), BATCH):
        results = NewsPlease.from_urls(urls[at:at + BATCH], request_args={"timeout": 30}, fetch_images=False)
        extracted += sum(1 for article in results.values() if getattr(article, "maintext", None))
    seconds = time.monotonic() - started
    print(json.dumps({"pages": len(urls), "extracted": extracted, "seconds": seconds}))


if __name__ == "__main__":
    main()
