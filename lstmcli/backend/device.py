"""Which device TensorFlow trains and predicts on, and what that implies for the batches.

``use_devices`` runs before TensorFlow starts its runtime: ``--device cpu`` hides the GPUs,
``--cpu-devices N`` splits the CPU into N logical devices (how ``--strategy mirrored`` is
tried without GPUs). Both are ``tf.config`` settings that cannot change once the runtime
has started; in a process where it already has, a request that differs is refused.

On a GPU, Keras runs LSTM and GRU layers with cuDNN, which accepts only masks of
right-padded rows with at least one step each (``_assert_valid_mask`` in
keras/src/backend/tensorflow/rnn.py), and which XLA cannot compile. ``layout`` and
``uses_cudnn`` say what follows for a model.
"""

from __future__ import annotations

from dataclasses import dataclass

from lstmcli.backend.tf import tensorflow
from lstmcli.core.errors import DeviceError, UsageError
from lstmcli.model.spec import ModelSpec

DEVICES = ("auto", "cpu", "gpu")


@dataclass(frozen=True)
class DeviceChoice:
    kind: str  # "cpu" or "gpu": where the model runs
    gpus: int  # GPUs TensorFlow sees (0 with --device cpu)
    cpu_devices: int  # logical CPU devices


def cuda_build() -> bool:
    """Whether this TensorFlow was built with CUDA (tensorflow-cpu and macOS builds are not)."""
    info = tensorflow().sysconfig.get_build_info()
    return bool(info.get("is_cuda_build"))


def _no_gpu_message() -> str:
    if not cuda_build():
        return (
            "--device gpu: this TensorFlow has no GPU support (a CPU-only build); "
            "on Linux x86-64 install lstmcli[gpu], then see lstmcli doctor"
        )
    return (
        "--device gpu: TensorFlow sees no GPU (no driver, or CUDA libraries not found: "
        "install lstmcli[gpu]); lstmcli doctor lists what it sees"
    )


def use_devices(device: str = "auto", cpu_devices: int | None = None) -> DeviceChoice:
    """Configure TensorFlow's devices for this process; call before any TensorFlow work."""
    if device not in DEVICES:
        raise UsageError(f"--device: {device!r} is not one of {', '.join(DEVICES)}")
    if cpu_devices is not None and cpu_devices < 1:
        raise UsageError(f"--cpu-devices: {cpu_devices} is not a positive number of devices")
    if cpu_devices is not None and device == "gpu":
        raise UsageError("--cpu-devices splits the CPU; it cannot be combined with --device gpu")
    tf = tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise DeviceError(_no_gpu_message())
    want_cpu = device == "cpu" or cpu_devices is not None or not gpus
    if want_cpu and gpus:
        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError:  # the runtime has started: fine if the GPUs are hidden already
            if tf.config.list_logical_devices("GPU"):
                raise DeviceError(
                    "--device cpu: TensorFlow already runs on the GPU in this process"
                ) from None
    if cpu_devices is not None:
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(cpu_devices)]
            )
        except RuntimeError:  # the runtime has started: fine if it has that many already
            have = len(tf.config.list_logical_devices("CPU"))
            if have != cpu_devices:
                raise DeviceError(
                    f"--cpu-devices {cpu_devices}: TensorFlow already runs with {have} CPU "
                    "device(s) in this process"
                ) from None
    if want_cpu:
        return DeviceChoice("cpu", 0, cpu_devices or 1)
    return DeviceChoice("gpu", len(gpus), 1)


def gpu_in_use() -> bool:
    """Whether ops run on a GPU by default in this process (GPUs visible to TensorFlow)."""
    return bool(tensorflow().config.list_logical_devices("GPU"))


def uses_cudnn(spec: ModelSpec, gpu: bool) -> bool:
    """Whether Keras will run the recurrent layers with cuDNN: LSTM and GRU with their default
    activations on a GPU, without recurrent dropout (which needs the step-by-step loop)."""
    return gpu and spec.cell in ("lstm", "gru") and not spec.recurrent_dropout


def layout(masked: bool, gpu: bool) -> str:
    """Where padding goes in a batch: "end" for masked input on a GPU (what cuDNN accepts),
    else "front", so an unmasked model reads its text right before its last state.

    Masked, the two layouts give the same predictions (tests/test_layout.py), so a model
    file never depends on where it was trained.
    """
    return "end" if masked and gpu else "front"


def xla_allowed(spec: ModelSpec, gpu: bool, replicas: int, workers: int) -> tuple[bool, str]:
    """Whether XLA may compile the training step, and why not when it may not."""
    if uses_cudnn(spec, gpu):
        return False, "cuDNN recurrent layers cannot be compiled by XLA"
    if replicas > 1 or workers > 1:
        # jit_compile under MirroredStrategy over logical CPU devices fails ("resource located
        # in device CPU:1"), and the cross-replica gradient sum cannot sit inside XLA.
        return False, "XLA is not used with more than one replica"
    return True, ""
