"""Exact and near-duplicate articles (syndicated wire copies), found with datasketch's MinHash LSH.

The first article of a group (in crawl order) is kept; the others are dropped and their URLs listed
on the kept one. Memory per distinct article: its record id, a text hash, its MinHash (`num_perm`
32-bit values, 512 bytes at the default 128) and the LSH's band keys (most of it): about 6 KB,
so 6.5 GB for a million articles (measured, see the README). Duplicates cost only their URL.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

logger = logging.getLogger(__name__)

WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-case word tokens: punctuation, case and white space do not make two copies differ."""
    return WORD.findall(text.lower())


def body_text(row: dict[str, Any]) -> str:
    """The article's text without its headline, when the extractor kept it as the first line:
    syndicated copies often differ only in their headlines."""
    text = str(row.get("text") or "")
    first, _, rest = text.partition("\n")
    title = str(row.get("title") or "")
    return rest if title and words(first) == words(title) else text


def shingles(tokens: list[str], size: int) -> set[bytes]:
    """Overlapping word n-grams; a text shorter than one n-gram is its own single shingle."""
    if len(tokens) <= size:
        return {" ".join(tokens).encode()}
    return {" ".join(tokens[i:i + size]).encode() for i in range(len(tokens) - size + 1)}


@dataclass
class DuplicateFinder:
    """Feed rows with `add()`; afterwards `kept_with()` and `is_duplicate()` answer per record id."""

    threshold: float = 0.7
    num_perm: int = 128
    shingle_size: int = 5
    _lsh: MinHashLSH = field(init=False)
    _permutations: Any = field(init=False)
    _kept: list[str] = field(init=False, default_factory=list)  # record ids; the LSH keys are positions here
    _signatures: list[np.ndarray] = field(init=False, default_factory=list)
    _exact: dict[bytes, int] = field(init=False, default_factory=dict)
    _duplicate_of: dict[str, str] = field(init=False, default_factory=dict)
    _urls: dict[str, list[str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.1 <= self.threshold <= 0.95:
            raise ValueError(f"dedup threshold must be between 0.1 and 0.95 (MinHash LSH bands), not {self.threshold}")
        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)
        self._permutations = MinHash(num_perm=self.num_perm).permutations  # made once: they cost 1 ms each

    def add(self, row: dict[str, Any]) -> str | None:
        """Registers one article; returns the record id of the article it duplicates, if any."""
        record_id = str(row["warc_record_id"])
        tokens = words(body_text(row))
        exact_key = hashlib.blake2b(" ".join(tokens).encode(), digest_size=16).digest()
        original = self._exact.get(exact_key)
        if original is None:
            signature = MinHash(num_perm=self.num_perm, permutations=self._permutations, scheme="affine32")
            signature.update_batch(list(shingles(tokens, self.shingle_size)))
            original = self._closest(signature)
            if original is None:
                original = len(self._kept)
                self._kept.append(record_id)
                self._signatures.append(signature.hashvalues)
                self._lsh.insert(original, signature, check_duplication=False)
                self._exact[exact_key] = original
                return None
        kept = self._kept[original]
        self._duplicate_of[record_id] = kept
        self._urls.setdefault(kept, []).append(str(row.get("final_url") or row.get("url")))
        logger.debug("%s duplicates %s", row.get("url"), kept)
        return kept

    def _closest(self, signature: MinHash) -> int | None:
        """The most similar kept article at or above the threshold (LSH candidates, then checked)."""
        best, best_score = None, 0.0
        for candidate in self._lsh.query(signature):
            score = float(np.count_nonzero(signature.hashvalues == self._signatures[candidate])) / self.num_perm
            if score >= self.threshold and score > best_score:
                best, best_score = candidate, score
        return best

    def add_all(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.add(row)

    def is_duplicate(self, record_id: str) -> bool:
        return record_id in self._duplicate_of

    def kept_with(self, record_id: str) -> list[str]:
        """URLs of the copies dropped in favour of this article (empty for a unique one)."""
        return list(self._urls.get(record_id, []))

    @property
    def duplicates(self) -> int:
        return len(self._duplicate_of)
