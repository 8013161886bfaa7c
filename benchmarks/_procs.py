"""Running a measured subprocess: its CPU time (with its reaped children) and the peak memory of its tree.

Memory is PSS summed over the process and all its descendants, read from /proc/PID/smaps_rollup: pages
shared between forked workers are split between them, so nothing is counted twice.
"""

from __future__ import annotations

import ast
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return kids


def tree(pid: int) -> list[int]:
    """The process and its descendants, now."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += _children(current)
    return out


def pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class TreeSampler:
    """Samples a process tree in a thread until stopped: the CPU time each process was last seen with
    (wait4 misses grandchildren) and, if asked, the peak of its summed PSS.

    A PSS sample costs about 27 ms of CPU with a crawl's five processes (the kernel walks their page
    tables), a CPU sample about 1 ms: a run timed for speed should sample CPU only."""

    def __init__(self, pid: int, interval: float = 0.2, memory: bool = True) -> None:
        self.pid = pid
        self.interval = interval
        self.memory = memory
        self.peak_kib = 0
        self.peak_processes = 0
        self.samples = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree(self.pid)
            total = sum(pss_kib(p) for p in pids) if self.memory else 0
            for p in pids:
                self.cpu[p] = max(self.cpu.get(p, 0.0), cpu_seconds(p))
            self.samples += 1
            if total > self.peak_kib:
                self.peak_kib, self.peak_processes = total, len(pids)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    returncode: int
    wall: float
    cpu: float  # user + system seconds of the process and the children it reaped
    log: str
    peak_pss_mib: float | None = None
    tree_cpu: float | None = None  # CPU seconds of every process of the tree, as last sampled
    stats: dict[str, Any] = field(default_factory=dict)


def run(command: list[str], *, cwd: Path, log_path: Path, sample_memory: bool = False, sample_cpu: bool = False,
        sample_every: float = 0.2, env: dict[str, str] | None = None, timeout: float = 7200) -> Run:
    """Runs command to completion, its output into log_path; CPU from wait4, and sampled every
    ``sample_every`` seconds if asked: the tree's CPU (``sample_cpu``, cheap) or also its peak memory
    (``sample_memory``: reading smaps_rollup makes the kernel walk the page tables, a few ms per large
    process, so frequent sampling takes CPU from the run it measures)."""
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
        sampler = TreeSampler(proc.pid, sample_every, sample_memory) if sample_memory or sample_cpu else None
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if sampler:
        sampler.stop()
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return Run(proc.returncode, wall, usage.ru_utime + usage.ru_stime, text,
               peak_pss_mib=sampler.peak_kib / 1024 if sampler and sampler.memory else None, stats=scrapy_stats(text),
               tree_cpu=sum(sampler.cpu.values()) if sampler else None)


def scrapy_stats(log: str) -> dict[str, Any]:
    """Scrapy's final stats dump, parsed from the log."""
    start = log.rfind("Dumping Scrapy stats:")
    if start < 0:
        return {}
    text = log[log.index("{", start): log.index("}\n", start) + 1]
    text = text.replace("datetime.datetime(", "(").replace("tzinfo=datetime.timezone.utc", "0")
    return dict(ast.literal_eval(text))
