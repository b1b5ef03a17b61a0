"""One writer at a time per local index: an exclusive lock file in the index directory.

Chroma's local client is not safe for two processes writing at once (a reader in one process
can find the other's vector segment not yet on disk: "Error creating hnsw segment reader:
Nothing found on disk"), and a second writer of the lexical index would repair it from a
snapshot of Chroma taken in the middle of the first one's writes. So every writer (an ingest,
a delete, a repair of the lexical index) holds ``<index dir>/write.lock`` for its whole run:

- across processes by ``fcntl.flock`` (released by the kernel when a process dies, so a crashed
  ingest never leaves the index locked);
- across threads of one process by a lock per directory (flock alone would let two threads that
  share a file descriptor in at once); a thread that already holds it may take it again.

A second ingest waits, says so on stderr after ``NOTICE_AFTER`` seconds, and then finds the
articles the first one wrote. Readers take no lock: they see the last commit.

A Chroma server (``chroma_url``) has no directory to lock; its writes are retried on transient
errors instead (``ingest.retry``).
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCK_FILE = "write.lock"
GENERATION_FILE = "generation"  # a new token after every writer: "someone wrote since"
NOTICE_AFTER = 1.0  # seconds of waiting before saying why nothing happens
POLL_SECONDS = 0.05
WAIT_MESSAGE = "waiting for another ingest to finish"

_guard = threading.Lock()
_holders: dict[Path, _Holder] = {}


class IndexLockTimeout(TimeoutError):
    """Another writer held the index for longer than the caller would wait."""


class _Holder:
    """The in-process side of one directory's lock: which thread holds it, how often."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None


def _say_waiting(directory: Path) -> None:
    print(f"{WAIT_MESSAGE} (index {directory})", file=sys.stderr, flush=True)


@contextmanager
def index_write_lock(
    directory: str | Path | None,
    *,
    timeout: float | None = None,
    on_wait: Callable[[Path], None] | None = _say_waiting,
) -> Iterator[None]:
    """Hold the write lock of the local index in ``directory`` (``None``: a server-backed
    index, nothing to lock). Waits for another holder; calls ``on_wait`` once when that takes
    longer than ``NOTICE_AFTER``; raises ``IndexLockTimeout`` after ``timeout`` seconds."""
    if directory is None:
        yield
        return
    path = Path(directory).resolve()
    with _guard:
        holder = _holders.setdefault(path, _Holder())
    started = time.monotonic()
    waiting = _Waiting(path, started, timeout, on_wait)
    while not holder.lock.acquire(timeout=POLL_SECONDS):  # another thread of this process
        waiting.tick()
    try:
        if holder.depth == 0:
            holder.fd = _lock_file(path, waiting)
        holder.depth += 1
        try:
            yield
        finally:
            holder.depth -= 1
            if holder.depth == 0 and holder.fd is not None:
                fd, holder.fd = holder.fd, None
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
    finally:
        holder.lock.release()


def is_locked(directory: str | Path) -> bool:
    """Whether some writer (another process or thread) holds the lock of ``directory`` now."""
    path = Path(directory).resolve()
    with _guard:
        holder = _holders.get(path)
    if holder is not None and holder.depth:
        return True
    lock_path = path / LOCK_FILE
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:  # no lock file yet (or an unreadable one): no writer to wait for
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock taken just now
    return False


class _Waiting:
    def __init__(self, path: Path, started: float, timeout: float | None,
                 on_wait: Callable[[Path], None] | None) -> None:
        self.path, self.started, self.timeout, self.on_wait = path, started, timeout, on_wait
        self.said = False

    def tick(self) -> None:
        waited = time.monotonic() - self.started
        if not self.said and waited > NOTICE_AFTER and self.on_wait is not None:
            self.said = True
            self.on_wait(self.path)
        if self.timeout is not None and waited > self.timeout:
            raise IndexLockTimeout(
                f"another writer has held the index {self.path} for over {self.timeout:g} s")


def _lock_file(path: Path, waiting: _Waiting) -> int:
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                waiting.tick()
                time.sleep(POLL_SECONDS)
    except BaseException:
        os.close(fd)
        raise


def read_generation(directory: str | Path) -> str:
    """The token of the last writer of ``directory`` ("" before the first)."""
    try:
        return (Path(directory) / GENERATION_FILE).read_text()
    except FileNotFoundError:
        return ""


def bump_generation(directory: str | Path) -> str:
    """A new token, written atomically (call while holding the lock); returns it."""
    token = f"{time.time_ns()}-{os.getpid()}-{threading.get_ident()}"
    target = Path(directory) / GENERATION_FILE
    temporary = target.with_name(f"{GENERATION_FILE}.{os.getpid()}.tmp")
    temporary.write_text(token)
    os.replace(temporary, target)
    return token


def local_index_directory(client: Any) -> Path | None:
    """The directory of a local (persistent) Chroma client; ``None`` for a server."""
    try:
        settings = client.get_settings()
    except AttributeError:
        return None
    if not getattr(settings, "is_persistent", False) or not settings.persist_directory:
        return None
    return Path(settings.persist_directory)
