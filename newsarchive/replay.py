"""`newsarchive replay`: the archive in a browser, through pywb on 127.0.0.1.

pywb pins old releases of libraries that newsarchive also uses (redis 2.x; brotlipy, which installs
over Brotli's `brotli` module), so it is run from its own virtual environment, as programs: its
`wb-manager` builds a collection from symlinks to the WARCs and indexes it, its `wayback` serves it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from newsarchive.verify import warc_files

logger = logging.getLogger(__name__)

COLLECTION = "newsarchive"
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Pywb:
    """pywb's two programs."""

    wb_manager: Path
    wayback: Path


def find_pywb(bin_dir: Path | None = None) -> Pywb:
    """pywb's programs in `bin_dir`, else beside this Python, in ./.venv-pywb/bin, or on PATH."""
    folders = [bin_dir] if bin_dir else [Path(sys.executable).parent, Path.cwd() / ".venv-pywb" / "bin"]
    for folder in folders:
        manager, wayback = folder.absolute() / "wb-manager", folder.absolute() / "wayback"
        if manager.is_file() and wayback.is_file():
            return Pywb(manager, wayback)
    if bin_dir is None and shutil.which("wb-manager") and shutil.which("wayback"):
        return Pywb(Path(shutil.which("wb-manager") or ""), Path(shutil.which("wayback") or ""))
    where = bin_dir or "beside this Python, in ./.venv-pywb/bin or on PATH"
    raise FileNotFoundError(f"pywb's wb-manager and wayback not found ({where}); install it in its own "
                            "environment: python3 -m venv .venv-pywb && .venv-pywb/bin/pip install pywb")


def link_name(path: Path, root: Path) -> str:
    """A WARC's name in the collection: its path under the archive, folders joined with `__`."""
    return str(path.relative_to(root)).replace(os.sep, "__")


def build_collection(root: Path, work_dir: Path, pywb: Pywb, name: str = COLLECTION, framed: bool = False) -> int:
    """Creates (or refreshes) collection `name` in `work_dir` over the WARCs under `root`.

    The WARCs are linked, not copied; only links in the collection are replaced. `work_dir`'s
    config.yaml is pywb's: frameless replay (the page itself, rewritten, with pywb's banner and
    wombat.js in it) unless `framed` (pywb's default: the page in an iframe under a top frame).
    Returns the number of WARCs.
    """
    warcs = warc_files(root)
    if not warcs:
        raise FileNotFoundError(f"no WARC files under {root}")
    collection = work_dir / "collections" / name
    if not collection.is_dir():
        _run([str(pywb.wb_manager), "init", name], work_dir)
    archive = collection / "archive"
    archive.mkdir(parents=True, exist_ok=True)
    for old in archive.iterdir():
        if old.is_symlink():
            old.unlink()
    for warc in warcs:
        (archive / link_name(warc, root)).symlink_to(warc.resolve())
    _run([str(pywb.wb_manager), "reindex", name], work_dir)
    (work_dir / "config.yaml").write_text(f"framed_replay: {'true' if framed else 'false'}\n", encoding="utf-8")
    logger.info("pywb collection %s in %s: %d WARC files", name, work_dir, len(warcs))
    return len(warcs)


def _run(command: list[str], cwd: Path) -> None:
    proc = subprocess.run(command, check=False, cwd=cwd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(command[-2:])} failed: {(proc.stderr or proc.stdout)[-800:]}")


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def start_wayback(work_dir: Path, pywb: Pywb, host: str, port: int) -> subprocess.Popen[bytes]:
    """Starts pywb's server on host:port; returns once it answers (or raises with its log)."""
    log = open(work_dir / "wayback.log", "wb")
    proc = subprocess.Popen([str(pywb.wayback), "-b", host, "-p", str(port)], cwd=work_dir,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while proc.poll() is None and time.monotonic() < deadline and not listening(host, port):
        time.sleep(0.2)
    if proc.poll() is not None or not listening(host, port):
        stop(proc)
        tail = (work_dir / "wayback.log").read_text(errors="replace")[-800:]
        raise RuntimeError(f"pywb did not start on {host}:{port}: {tail}")
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stops pywb (its own process group, started by us), politely and then firmly."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def replay_url(base: str, url: str, timestamp: str = "", mode: str = "", collection: str = COLLECTION) -> str:
    """pywb's address of an archived URL: `BASE/COLL/[TIMESTAMP[MODE]/]URL` (mode `id_`: as archived)."""
    prefix = f"{timestamp}{mode}/" if timestamp or mode else ""
    return f"{base}/{collection}/{prefix}{quote(url, safe=':/?&=%#~+,;@!$*()[]')}"


def timestamp14(warc_date: str) -> str:
    """WARC-Date (`2026-11-26T09:30:12.345Z`) as the 14 digits of a replay URL."""
    return re.sub(r"\D", "", warc_date)[:14]


def replay(root: Path, host: str = "127.0.0.1", port: int = 0, work_dir: Path | None = None,
           pywb: Pywb | None = None, on_ready: Callable[[str, int], None] | None = None,
           framed: bool = False) -> int:
    """Builds the collection, serves it until interrupted (Ctrl-C), returns pywb's exit status.

    `on_ready(base_url, warcs)` is called once pywb answers. Without `work_dir`, the collection
    lives in a temporary folder removed afterwards.
    """
    pywb = pywb or find_pywb()
    with tempfile.TemporaryDirectory(prefix="newsarchive-replay-") as tmp:
        folder = work_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        warcs = build_collection(root, folder, pywb, framed=framed)
        port = port or free_port(host)
        proc = start_wayback(folder, pywb, host, port)
        # `kill` stops pywb too, like Ctrl-C; and Ctrl-C (SIGINT) works even when started from a
        # background job of a script, which starts its children with SIGINT ignored.
        previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if on_ready is not None:
                on_ready(f"http://{host}:{port}", warcs)
            return proc.wait()
        except KeyboardInterrupt:
            logger.info("Stopping pywb")
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            stop(proc)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
