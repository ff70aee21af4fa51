"""Training on several devices or machines with ``tf.distribute``.

``--strategy one`` keeps Keras's default (one device). ``mirrored`` is a
``MirroredStrategy`` over every visible GPU, or over ``--cpu-devices N`` logical CPU
devices. ``multi-worker`` is a ``MultiWorkerMirroredStrategy`` over the processes that
``TF_CONFIG`` lists. Each step is synchronous: every replica takes its share of the same
global batch (the plan's batch, ``--batch-size`` × replicas) and the gradients are summed, so
the weights follow single-device training on the same global batches.

Only the chief writes the run folder. Every worker builds the same batches from the same
data and seed; ``agree_setup``, ``agree_state`` and ``share_weights`` make the others take the
chief's settings, position and (when resuming) weights, so only the chief needs the run folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.backend import device as dev
from lstmcli.backend.tf import tensorflow
from lstmcli.core.errors import DeviceError, LstmcliError, UsageError
from lstmcli.data.request import DataRequest
from lstmcli.model.spec import ModelSpec
from lstmcli.rundir.folder import read_info
from lstmcli.train import checkpoint as ckpt
from lstmcli.train.config import TrainConfig
from lstmcli.train.tfconfig import ClusterConfig, parse

STRATEGIES = ("auto", "one", "mirrored", "multi-worker")


@dataclass
class Cluster:
    """This process's part in a training run (the default: the only one, on one device)."""

    kind: str = "one"
    strategy: Any = None  # a tf.distribute.Strategy; None: Keras's default
    replicas: int = 1  # in the whole run, every worker together
    workers: int = 1
    index: int = 0  # this worker's place; 0 is the chief
    gpu: bool = False
    devices: tuple[str, ...] = ()
    config: ClusterConfig | None = None

    @staticmethod
    def single() -> Cluster:
        return Cluster(gpu=dev.gpu_in_use())

    @property
    def is_chief(self) -> bool:
        return self.index == 0

    def scope(self) -> Any:
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def layout(self, spec: ModelSpec) -> str:
        return dev.layout(spec.mask_zero and spec.token_input, self.gpu)

    def xla(self, spec: ModelSpec, wanted: bool) -> bool:
        return wanted and dev.xla_allowed(spec, self.gpu, self.replicas, self.workers)[0]

    def describe(self, batch_size: int) -> str:
        """One line for the user, e.g. "training mirrored over 2 devices (/cpu:0, /cpu:1):
        global batch 64 = 32 per replica × 2 replicas"."""
        where = {"one": f"on one device ({'GPU' if self.gpu else 'CPU'})",
                 "mirrored": f"mirrored over {len(self.devices)} devices ({', '.join(self.devices)})",
                 "multi-worker": f"as worker {self.index} of {self.workers}"
                                 f"{' (chief)' if self.is_chief else ''}"}[self.kind]  # fmt: skip
        if self.replicas == 1:
            return f"training {where}: batch {batch_size}"
        return (
            f"training {where}: global batch {batch_size} = {batch_size // self.replicas} "
            f"per replica × {self.replicas} replicas"
        )

    def global_batch(self, cfg: TrainConfig) -> TrainConfig:
        """``cfg`` with the per-replica ``--batch-size`` made the global batch (× replicas)."""
        return dataclasses.replace(cfg, batch_size=cfg.batch_size * self.replicas)

    def as_seen_by_user(self, outcome: Any, run_dir: Path) -> Any:
        """A worker's ``TrainOutcome`` names the chief's run folder, not its own temporary one."""
        if not self.is_chief:
            outcome.notes.append(f"worker {self.index}: the chief saves the run ({run_dir})")
            outcome.run_dir = run_dir
        return outcome

    # -- the chief's word, for every worker -----------------------------------------
    def barrier(self) -> None:
        """Return when every worker has come this far (a multi-worker cluster is up)."""
        if self.kind == "multi-worker":
            self.broadcast(np.zeros(1))

    def broadcast(self, values: np.ndarray) -> np.ndarray:
        """``values`` as the chief has them (float64 vector), on every worker."""
        tf = tensorflow()

        def chief_only(v: Any) -> Any:
            first = tf.distribute.get_replica_context().replica_id_in_sync_group == 0
            return v * tf.cast(first, v.dtype)

        per_replica = self.strategy.run(chief_only, args=(tf.constant(values, tf.float64),))
        return np.asarray(self.strategy.reduce("SUM", per_replica, axis=None))

    def _broadcast_json(self, doc: Any) -> Any:
        data = np.frombuffer(json.dumps(doc).encode(), np.uint8) if self.is_chief else np.zeros(0)
        n = int(self.broadcast(np.array([len(data)], np.float64))[0])
        got = self.broadcast(
            np.resize(data.astype(np.float64), n) if self.is_chief else np.zeros(n)
        )
        return json.loads(got.astype(np.uint8).tobytes().decode())

    def agree_setup(
        self, spec: ModelSpec, cfg: TrainConfig, req: DataRequest
    ) -> tuple[ModelSpec, TrainConfig, DataRequest]:
        """The chief's model, training settings and data (the ones it saved, when resuming)."""
        if self.kind != "multi-worker":
            return spec, cfg, req
        doc = self._broadcast_json(
            {"model": spec.to_dict(), "train": dataclasses.asdict(cfg), "data": req.to_dict()}
        )
        return (ModelSpec.from_dict(doc["model"]), TrainConfig(**doc["train"]),
                DataRequest.from_saved(doc["data"], "the chief"))  # fmt: skip

    def agree_state(self, state: ckpt.TrainState, resume: bool) -> tuple[ckpt.TrainState, bool]:
        """The chief's training state, and whether it resumes from a checkpoint."""
        if self.kind != "multi-worker":
            return state, resume
        doc = self._broadcast_json({"state": dataclasses.asdict(state), "resume": resume})
        return ckpt.TrainState(**doc["state"]), bool(doc["resume"])

    def share_weights(self, model: Any) -> None:
        """Give every worker the chief's weights and optimizer variables (after a resume)."""
        if self.kind != "multi-worker":
            return
        variables = list(model.weights) + list(model.optimizer.variables)
        values = [np.asarray(v.numpy()) for v in variables]
        flat = np.concatenate([v.astype(np.float64).ravel() for v in values])
        got, at = self.broadcast(flat), 0
        for var, old in zip(variables, values, strict=True):
            var.assign(got[at : at + old.size].reshape(old.shape).astype(old.dtype))
            at += old.size


def read_tf_config(env: dict[str, str] | None = None) -> ClusterConfig | None:
    text = (os.environ if env is None else env).get("TF_CONFIG", "")
    return parse(text) if text.strip() else None


def check_strategy(strategy: str, config: ClusterConfig | None, cpu_devices: int = 1) -> None:
    """The --strategy errors that need no TensorFlow (checked before it configures devices)."""
    many = strategy == "multi-worker" or (
        strategy == "auto" and config is not None and config.workers > 1
    )
    if cpu_devices > 1 and (strategy == "one" or many):
        raise UsageError("--cpu-devices N (N > 1) is for --strategy mirrored")
    if strategy not in STRATEGIES:
        raise UsageError(f"--strategy: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    if strategy == "multi-worker" and config is None:
        raise UsageError(
            "--strategy multi-worker needs TF_CONFIG, the cluster's addresses and this "
            "worker's place; see README, 'More than one device or machine'"
        )


def make_cluster(strategy: str, choice: dev.DeviceChoice, config: ClusterConfig | None) -> Cluster:
    """Create the strategy; call after ``device.use_devices`` and before other TensorFlow work.
    A multi-worker cluster waits here for its peers (see ``unreachable_peers``)."""
    check_strategy(strategy, config, choice.cpu_devices)
    if strategy == "auto":
        strategy = ("multi-worker" if config is not None and config.workers > 1 else
                    "mirrored" if max(choice.gpus, choice.cpu_devices) > 1 else "one")  # fmt: skip
    gpu = choice.kind == "gpu"
    if strategy == "one":
        return Cluster(gpu=gpu)
    tf = tensorflow()
    tf.get_logger().setLevel("ERROR")  # strategies log notes on stderr; lstmcli prints its own
    if strategy == "mirrored":
        devices = tuple(
            f"/{'gpu' if gpu else 'cpu'}:{i}" for i in range(choice.gpus or choice.cpu_devices)
        )
        # NCCL (the default) is for GPUs; CPU replicas sum their gradients on one device.
        ops = None if gpu else tf.distribute.ReductionToOneDevice()
        s = tf.distribute.MirroredStrategy(devices=list(devices), cross_device_ops=ops)
        return Cluster("mirrored", s, s.num_replicas_in_sync, gpu=gpu, devices=devices)
    assert config is not None
    s = _multi_worker_strategy(tf)
    return Cluster("multi-worker", s, s.num_replicas_in_sync, config.workers, config.index,
                   gpu=gpu, devices=(config.address,), config=config)  # fmt: skip


def _multi_worker_strategy(tf: Any) -> Any:
    class KerasReduce(tf.distribute.MultiWorkerMirroredStrategy):  # type: ignore[misc,name-defined]
        """Keras 3's ``fit`` calls this strategy's ``reduce`` in two ways it refuses
        (keras/src/backend/tensorflow/trainer.py): on the first (x, y) batch, a tuple
        (``_maybe_symbolic_build``; MirroredStrategy takes a tuple, this one only one value),
        and on each step's scalar loss with ``axis=0`` (``reduce_per_replica``: "Invalid
        reduction dimension 0 for input with 0 dimensions"). Reduce the parts one by one;
        a scalar over the replicas."""

        def reduce(self, reduce_op: Any, value: Any, axis: Any = None) -> Any:
            one = super().reduce

            def part(v: Any) -> Any:
                parts = getattr(v, "values", (v,))
                scalar = axis is not None and tf.convert_to_tensor(parts[0]).shape.rank == 0
                return one(reduce_op, v, None if scalar else axis)

            return tf.nest.map_structure(part, value)

    return KerasReduce()


def unreachable_peers(config: ClusterConfig, timeout: float = 1.0) -> list[str]:
    """The peers whose port does not accept a connection (they have not started)."""
    missing = []
    for address in config.peers:
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                pass
        except OSError:
            missing.append(address)
    return missing


def peer_timeout_message(config: ClusterConfig, seconds: float) -> str:
    missing = unreachable_peers(config) or config.peers
    return (
        f"worker {config.index}: {', '.join(missing)} did not join within {seconds:g} s; start "
        "every process listed in TF_CONFIG (or wait longer with --peer-timeout)"
    )


@contextlib.contextmanager
def cluster_errors(cluster: Cluster) -> Iterator[None]:
    """A peer that stops answering mid-run, as one line saying how to go on."""
    if cluster.kind != "multi-worker":
        yield
        return
    tf = tensorflow()
    lost = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.AbortedError,
            tf.errors.CancelledError, tf.errors.InternalError)  # fmt: skip
    try:
        yield
    except lost as exc:
        raise DeviceError(
            f"worker {cluster.index}: lost contact with the other workers ({type(exc).__name__}); "
            "restart every worker with the same command and --resume"
        ) from None


def global_batch(cfg: TrainConfig, run_dir: Path, resuming: bool) -> int:
    """The global batch the run uses: a resumed run keeps the one it was started with, so its
    batch plans (and the position in them) stay the same whatever the replicas now."""
    if resuming:
        with contextlib.suppress(LstmcliError, TypeError, ValueError):
            return int(read_info(run_dir)[0]["train"]["batch_size"])
    return cfg.batch_size


@contextlib.contextmanager
def worker_folder(cluster: Cluster, run_dir: Path) -> Iterator[Path]:
    """Where this process writes: the run folder for the chief; for any other worker a
    temporary folder of its own, removed at the end (nothing of it goes into the run)."""
    if cluster.is_chief:
        yield run_dir
        return
    tmp = Path(tempfile.mkdtemp(prefix=f"lstmcli-worker{cluster.index}-"))
    try:
        yield tmp / "run"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def worker_run(cluster: Cluster, run_dir: Path) -> Iterator[Path]:
    """``worker_folder`` with ``cluster_errors``: where to write, a lost peer as one line."""
    with worker_folder(cluster, run_dir) as work_dir, cluster_errors(cluster):
        yield work_dir
