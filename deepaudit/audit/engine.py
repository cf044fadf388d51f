"""Where per-batch audit work runs: in this process, or as Ray actors.

Audits that touch every evaluation row (predictions for group metrics, attributions of
every row, ...) express the work on one batch as a *kernel*, a picklable function
``kernel(target, batch) -> partial result``, and fold the partial results in batch
order. The local engine calls the kernel in this process; the Ray engine ships the
model once to each worker actor (one per GPU where there are GPUs, else one per CPU)
and sends batches to them, a bounded number in flight, so memory does not grow with
rows. Results come back in batch order, so both engines fold the same partial results
in the same order and give the same numbers for the same seed.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import secrets
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from deepaudit.errors import DeepAuditError

if TYPE_CHECKING:
    from deepaudit.audit.stream import Batch
    from deepaudit.audit.target import Target

ENGINES = ("local", "ray")
Kernel = Callable[["Target", "Batch"], Any]

#: The token of the local Ray clusters this process starts (one per process: Ray keeps
#: the first token it reads for the life of the process).
_LOCAL_TOKEN = secrets.token_hex(16)

RAY_MISSING_MESSAGE = (
    "AuditConfig(engine='ray') needs Ray, which is not installed. Install the extra with "
    "`pip install 'deepaudit[ray]'`, or use engine='local'."
)


class LocalEngine:
    """Runs every kernel in this process, one batch after the other."""

    name = "local"
    workers = 1

    def __init__(self, progress: bool = False) -> None:
        self.progress = progress

    def map(
        self, target: Target, kernel: Kernel, batches: Iterator[Batch]
    ) -> Iterator[tuple[Batch, Any]]:
        """``(batch, kernel(target, batch))`` for every batch, in order."""
        for batch in batches:
            yield batch, kernel(target, batch)

    def close(self) -> None:
        pass


class RayEngine:
    """Runs kernels on Ray actors that each hold a copy of the target's model.

    Parameters
    ----------
    workers
        Actors to start (``None``: one per GPU of the cluster, else one per CPU).
    address
        The Ray cluster to join (``None``: the one this process already joined, or a new
        local one, stopped again by :meth:`close`).
    in_flight
        Batches queued per worker; bounds the memory the driver holds.
    """

    name = "ray"

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        in_flight: int = 2,
        progress: bool = False,
    ) -> None:
        self.progress = progress
        try:
            import ray
        except ImportError as exc:
            raise DeepAuditError(RAY_MISSING_MESSAGE) from exc
        self._ray = ray
        self._started_here = False
        self._temp_dir: str | None = None
        self._token_set = False
        if not ray.is_initialized():
            extra: dict[str, Any] = {}
            if address is None:
                # A private local cluster: its session files go to a temporary folder and
                # its auth token stays in memory (Ray 2.60 otherwise writes one to
                # ~/.ray/auth_token); close() removes both.
                self._temp_dir = extra["_temp_dir"] = tempfile.mkdtemp(prefix="da-ray-")
                if "RAY_AUTH_TOKEN" not in os.environ:
                    os.environ["RAY_AUTH_TOKEN"] = _LOCAL_TOKEN  # Ray caches it per process
                    self._token_set = True
            with _local_only() if address is None else contextlib.nullcontext():
                ray.init(
                    address=address,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                    **extra,
                )
            self._started_here = True
        resources = ray.cluster_resources()
        self._gpus = int(resources.get("GPU", 0))
        default = self._gpus or int(resources.get("CPU", 1))
        self.workers = max(1, int(workers or default))
        self.in_flight = max(1, int(in_flight))
        self._actors: list[Any] = []
        self._actors_for: int | None = None

    def start(self, target: Target) -> None:
        """Start the actors for ``target``'s model now (otherwise: on first use)."""
        self._actors_of(target)

    def _actors_of(self, target: Target) -> list[Any]:
        """Actors holding ``target``'s model (started on first use, reused after)."""
        key = id(target.model)
        if self._actors_for == key:
            return self._actors
        self._kill_actors()
        ray = self._ray
        options = {"num_gpus": 1} if self._gpus else {"num_cpus": 1}
        worker_class = ray.remote(**options)(_Worker)
        shipped = ray.put(target.for_worker())
        device = "cuda" if self._gpus else "cpu"
        self._actors = [worker_class.remote(shipped, device) for _ in range(self.workers)]
        ray.get([actor.ready.remote() for actor in self._actors])  # started, model loaded
        self._actors_for = key
        return self._actors

    def map(
        self, target: Target, kernel: Kernel, batches: Iterator[Batch]
    ) -> Iterator[tuple[Batch, Any]]:
        """``(part, kernel(target, part))`` for every batch split in one part per worker
        (so that even a single batch keeps every worker busy), in order. Parts go to the
        actors round-robin, at most ``in_flight`` per actor at a time; the kernel is
        shipped once."""
        actors = self._actors_of(target)
        shipped = self._ray.put(kernel)
        pending: deque[tuple[Batch, Any]] = deque()
        limit = self.in_flight * len(actors)
        sent = 0
        for batch in batches:
            for part in split_batch(batch, len(actors)):
                pending.append((part, actors[sent % len(actors)].run.remote(shipped, part)))
                sent += 1
                if len(pending) >= limit:
                    yield self._collect(target, *pending.popleft())
        while pending:
            yield self._collect(target, *pending.popleft())

    def _collect(self, target: Target, batch: Batch, ref: Any) -> tuple[Batch, Any]:
        result, evaluations = self._ray.get(ref)
        target.n_evaluations += evaluations
        return batch, result

    def _kill_actors(self) -> None:
        for actor in self._actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor)
        self._actors, self._actors_for = [], None

    def close(self) -> None:
        """Stop the actors, and Ray itself when this engine started it."""
        self._kill_actors()
        if self._started_here:
            self._ray.shutdown()
            self._started_here = False
        if self._temp_dir is not None:
            remove_ray_folder(self._temp_dir)
            self._temp_dir = None
        if self._token_set:
            os.environ.pop("RAY_AUTH_TOKEN", None)
            self._token_set = False


#: The environment of the processes of a local Ray this engine starts: usage stats off,
#: and Ray's local mode (its default on macOS and Windows), which each process reads as
#: it imports Ray: the node address is then the loopback one, not the one a UDP socket
#: towards 8.8.8.8 gets.
_LOCAL_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


@contextlib.contextmanager
def _local_only() -> Iterator[None]:
    """Inside the block, a new local Ray stays on this machine; after it, the caller's
    environment and Ray's module attributes are as they were.

    * Ray's servers (the GCS, the raylet's node and object managers, each worker's gRPC
      server, the runtime-env and dashboard agents) listen on loopback only when the node
      address is the loopback one, else on every interface (``::``). On Linux Ray takes
      the address a UDP socket towards 8.8.8.8 gets, and turns an explicit
      ``_node_ip_address="127.0.0.1"`` into that one too; only its local mode keeps
      loopback. This process read that mode when it imported Ray: it is set for the
      block here, and the processes started inherit :data:`_LOCAL_ENV`.
    * Ray's API server process is not started: with ``include_dashboard=False`` it only
      runs the usage-stats module, which sends nothing for a ``ray.init`` cluster with
      usage stats off, yet first probes 169.254.169.254 and metadata.google.internal to
      name the cloud (``get_cluster_config_to_report``, whatever the setting). Ray lets
      a node run without it, as when it fails to start.
    """
    from ray._private import ray_constants, services

    patches = [
        (ray_constants, "ENABLE_RAY_CLUSTER", False),
        (services, "start_api_server", lambda *args, **kwargs: ("", None)),  # (url, process)
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    saved_env = {name: os.environ.get(name) for name in _LOCAL_ENV}
    os.environ.update(_LOCAL_ENV)
    for owner, name, value in patches:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)
        for name, value in saved_env.items():  # ray.init sets RAY_USAGE_STATS_ENABLED too
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def remove_ray_folder(path: str, seconds: float = 10.0) -> None:
    """Remove a Ray session folder after ``ray.shutdown()``: Ray's processes may still
    write their last logs for a moment, so retry until it stays gone."""
    deadline = time.monotonic() + seconds
    while True:
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.exists(path) or time.monotonic() > deadline:
            return
        time.sleep(0.1)


def split_batch(batch: Batch, parts: int) -> list[Batch]:
    """``batch`` cut into at most ``parts`` consecutive batches of near-equal size."""
    from deepaudit.audit.stream import Batch

    n = len(batch)
    if parts <= 1 or n < 2 * parts:
        return [batch]
    bounds = np.linspace(0, n, parts + 1).astype(int)
    return [
        Batch(
            batch.x[a:b],
            None if batch.labels is None else batch.labels[a:b],
            None if batch.sensitive is None else batch.sensitive.iloc[a:b].reset_index(drop=True),
            batch.start + int(a),
        )
        for a, b in itertools.pairwise(bounds)
    ]


class _Worker:
    """A Ray actor: the model on its device, running kernels on the batches it is sent."""

    def __init__(self, target: Target, device: str) -> None:
        import torch

        if device == "cpu":  # Ray gives each actor one CPU (OMP_NUM_THREADS=1)
            torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1"))))
        self.target = target.to(device)

    def ready(self) -> bool:
        return True

    def run(self, kernel: Kernel, batch: Batch) -> tuple[Any, int]:
        before = self.target.n_evaluations
        result = kernel(self.target, batch)
        return result, self.target.n_evaluations - before


_ACTIVE: contextvars.ContextVar[LocalEngine | RayEngine | None] = contextvars.ContextVar(
    "deepaudit_engine", default=None
)


def active_engine() -> LocalEngine | RayEngine:
    """The engine of the running audit (the local one outside ``run_audit``)."""
    return _ACTIVE.get() or LocalEngine()


@contextlib.contextmanager
def use_engine(engine: LocalEngine | RayEngine) -> Iterator[LocalEngine | RayEngine]:
    """Make ``engine`` the active one inside the block."""
    token = _ACTIVE.set(engine)
    try:
        yield engine
    finally:
        _ACTIVE.reset(token)


def open_engine(
    name: str, workers: int | None = None, address: str | None = None, progress: bool = False
) -> LocalEngine | RayEngine:
    """A new engine by name (``"local"`` or ``"ray"``); close it when done."""
    if name == "ray":
        return RayEngine(workers=workers, address=address, progress=progress)
    return LocalEngine(progress=progress)


def map_batches(
    target: Target, kernel: Kernel, *, desc: str | None = None
) -> Iterator[tuple[Batch, Any]]:
    """Every batch of ``target``'s evaluation rows with ``kernel``'s result on it, in
    order, computed by the active engine (with a progress bar when the audit shows them)."""
    engine = active_engine()
    batches = target.iter_batches(desc=desc if engine.progress else None)
    return engine.map(target, kernel, batches)


def add_up(total: Any, part: Any) -> Any:
    """Two partial results added: numbers and arrays add, dicts key by key (a key on
    one side only is kept). ``None`` is nothing yet."""
    if total is None:
        return part
    if isinstance(part, dict):
        return {key: add_up(total.get(key), part.get(key)) for key in {**total, **part}}
    if part is None:
        return total
    return total + part


def sum_over_rows(target: Target, kernel: Kernel, *, desc: str | None = None) -> Any:
    """The sum of ``kernel``'s partial results over every batch of ``target``'s rows
    (``None`` when there are no rows): counts and sums that do not grow with rows."""
    total = None
    for _, part in map_batches(target, kernel, desc=desc):
        total = add_up(total, part)
    return total


# -- kernels used by several families -------------------------------------------------


def proba_kernel(target: Target, batch: Batch) -> Any:
    """Class probabilities of a classifier on one batch (N×C float64)."""
    return target.predict_proba(batch.x)


def error_kernel(target: Target, batch: Batch) -> Any:
    """Reconstruction errors of an autoencoder on one batch (N,)."""
    return target.reconstruction_error(batch.x)
