"""The allow-list walk over a ``.keras`` file's ``config.json`` (see ``modelfile``).

Every object in the config (a dict with ``class_name``), at any depth (nested models,
Bidirectional layers, compile config), must be an exact (class, module) pair listed here, with
no custom ``registered_name`` (except lstmcli's own pooling layers, by exact registered name). Serialized Python (``__lambda__``, ``__numpy__``,
``__typespec__``…), function references, Lambda, TFSMLayer, foreign modules (CVE-2024-3660,
CVE-2025-1550, CVE-2025-8747, CVE-2025-9906), path-valued vocabularies (CVE-2025-12058) and
layer names that could become paths (CVE-2026-12479) are refused. The walk also adds up an
upper bound on the weights the layers will allocate, so that a tiny file cannot make Keras
allocate terabytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NoReturn

from lstmcli.backend.layers import MODULE as LAYERS_MODULE
from lstmcli.backend.layers import REGISTERED
from lstmcli.core.errors import ModelFileError
from lstmcli.model.cells import BY_KERAS_CLASS
from lstmcli.model.limits import ACTIVATIONS as CELL_ACTIVATIONS

MAX_DEPTH = 64
MAX_DIM = 2**31
LAYERS = (
    "InputLayer", "Embedding", "LSTM", "GRU", "SimpleRNN", "LSTMCell", "GRUCell",
    "SimpleRNNCell", "Bidirectional", "Dense", "Dropout", "SpatialDropout1D", "Concatenate",
)  # fmt: skip
# lstmcli's own layers (backend/layers.py), as Keras writes them: this module and registered
# name exactly (Keras loads them from the classes modelfile passes, never by importing).
OWN_CLASSES = REGISTERED
OWN_MODULE = LAYERS_MODULE


def _pairs(*groups: tuple[str, str]) -> dict[str, frozenset[str]]:
    """(modules, class names) groups → class name → every module it may come from."""
    out: dict[str, frozenset[str]] = {}
    for modules, names in groups:
        for name in names.split():
            out[name] = out.get(name, frozenset()) | frozenset(modules.split())
    return out


# Exact class → modules, as Keras 3 writes them (checked against real lstmcli saves).
MODEL_CLASSES = _pairs(
    ("keras.layers", " ".join(LAYERS)),
    ("keras.src.models.functional", "Functional"),
    ("keras", "Sequential"),
    ("keras.src.ops.numpy", "NotEqual"),  # the mask op Embedding(mask_zero=True) adds
    ("keras keras.dtype_policies", "DTypePolicy FloatDTypePolicy"),
    (
        "keras.initializers",
        "Zeros Ones Constant RandomUniform RandomNormal TruncatedNormal GlorotUniform "
        "GlorotNormal HeUniform HeNormal LecunUniform LecunNormal Orthogonal VarianceScaling",
    ),
    ("keras.regularizers", "L1 L2 L1L2"),
    ("keras.constraints", "MaxNorm MinMaxNorm NonNeg UnitNorm"),
)
# Inside ``compile_config``: Keras ignores the top one (lstmcli loads with compile=False),
# but a nested model's compile_config would be deserialized, so it is walked all the same.
COMPILE_CLASSES = _pairs(
    ("keras.optimizers", "Adam AdamW SGD RMSprop Adagrad Adadelta Adamax Nadam Lion"),
    (
        "keras.optimizers.schedules",
        "ExponentialDecay CosineDecay CosineDecayRestarts PiecewiseConstantDecay "
        "PolynomialDecay InverseTimeDecay",
    ),
    (
        "keras.losses",
        "BinaryCrossentropy CategoricalCrossentropy SparseCategoricalCrossentropy "
        "BinaryFocalCrossentropy MeanSquaredError MeanAbsoluteError Huber",
    ),
    (
        "keras.metrics",
        "Accuracy BinaryAccuracy CategoricalAccuracy SparseCategoricalAccuracy AUC Precision "
        "Recall TopKCategoricalAccuracy SparseTopKCategoricalAccuracy Mean BinaryCrossentropy "
        "CategoricalCrossentropy SparseCategoricalCrossentropy",
    ),
)
ACTIVATIONS = frozenset(
    {"linear", "tanh", "sigmoid", "hard_sigmoid", "softmax", "relu", "elu", "selu", "gelu",
     "softplus", "softsign", "swish", "silu", *CELL_ACTIVATIONS}
)  # fmt: skip
OBJECT_KEYS = frozenset(
    {"module", "class_name", "config", "registered_name", "build_config", "compile_config",
     "shared_object_id", "name", "inbound_nodes"}
)  # fmt: skip
CODE_KEYS = frozenset(
    {"function", "function_type", "module_path", "output_shape_type", "output_shape_module",
     "spec_name", "call_endpoint"}
)  # fmt: skip
DTYPES = frozenset(
    {"float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
     "uint16", "uint32", "uint64", "bool", "mixed_float16", "mixed_bfloat16"}
)  # fmt: skip
_SHOWN = ("Embedding", "LSTM", "GRU", "SimpleRNN", "Bidirectional", "Dense", "Dropout",
          "SpatialDropout1D", "Concatenate", *OWN_CLASSES)  # fmt: skip
_GATES = {name: cell.gates for name, cell in BY_KERAS_CLASS.items()}
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,63}")


def clean(text: Any, limit: int = 80) -> str:
    """One printable line: untrusted text never brings newlines or escapes into a message."""
    text = str(text)[:limit]
    return text if text.isprintable() else ascii(text)


def check_config(config: Any, show: str) -> int:
    """Refuse anything not allowed; return an upper bound on the number of weights."""
    walk = _Walk(show)
    if not isinstance(config, dict) or config.get("class_name") not in ("Functional", "Sequential"):
        walk.fail([], "config.json does not describe a Functional or Sequential model")
    walk.value(config, [], compiled=False, depth=0)
    return walk.params


@dataclass
class _Walk:
    show: str
    params: int = 0

    def fail(self, where: list[str], message: str) -> NoReturn:
        at = f" at {'/'.join(clean(w, 40) for w in where)}" if where else ""
        raise ModelFileError(f"{self.show}: refused{at}: {message}")

    def value(self, node: Any, where: list[str], compiled: bool, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.fail(where, f"config.json is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, list):
            for item in node:
                self.value(item, where, compiled, depth + 1)
        elif isinstance(node, dict):
            if "class_name" in node:
                where = self.obj(node, where, compiled)
            for key, val in node.items():  # values first: an object is named for what it is
                self.value(val, where, compiled or key == "compile_config", depth + 1)
                self.key(key, val, where, compiled)

    def key(self, key: str, val: Any, where: list[str], compiled: bool) -> None:
        if key in CODE_KEYS:
            self.fail(where, f"config key {key!r} (a code reference) is not allowed")
        if key == "vocabulary" and isinstance(val, str):
            self.fail(where, f"path-valued vocabulary {clean(val)!r} is not allowed")
        if key == "shared_object_id" and type(val) is not int:
            self.fail(where, "shared_object_id must be a whole number")
        if compiled:
            return
        if key == "quantization_config" and val is not None:
            self.fail(where, "quantized layers are not something lstmcli builds")
        if key == "dtype" and isinstance(val, str) and val not in DTYPES:
            self.fail(where, f"dtype {clean(val, 40)!r} is not allowed")
        if key in ("activation", "recurrent_activation") and not (
            val is None or (isinstance(val, str) and val in ACTIVATIONS)
        ):
            self.fail(where, f"activation {clean(val, 60)!r} is not a built-in lstmcli allows")
        if key == "name" and isinstance(val, str) and not _NAME.fullmatch(val):
            self.fail(where, f"name {clean(val)!r} is not allowed (letters, digits, _ . - only)")

    def obj(self, node: dict[str, Any], where: list[str], compiled: bool) -> list[str]:
        cls, module, cfg = node.get("class_name"), node.get("module"), node.get("config")
        if not isinstance(cls, str):
            self.fail(where, "class_name must be a string")
        if isinstance(cfg, dict):
            if isinstance(cfg.get("name"), str) and not compiled and "Policy" not in cls:
                where = [*where, cfg["name"]]
            if isinstance(cfg.get("vocabulary"), str):
                vocab = clean(cfg["vocabulary"])
                self.fail(where, f"path-valued vocabulary {vocab!r} is not allowed")
        if cls == "__keras_tensor__":
            keys = set(cfg) if isinstance(cfg, dict) else {"?"}
            if set(node) - {"class_name", "config"} or keys - {"shape", "dtype", "keras_history"}:
                self.fail(where, "malformed __keras_tensor__")
            return where
        if cls.startswith("__"):
            self.fail(where, f"serialized Python object {clean(cls, 40)!r} is not allowed")
        if cls == "function":  # allowed only as a built-in loss/metric name in compile_config
            builtin = module == "builtins" and isinstance(cfg, str) and _IDENT.fullmatch(cfg)
            if not (compiled and builtin and node.get("registered_name") in (None, "function")):
                name = f"{clean(module, 40)}.{clean(cfg, 40)}"
                self.fail(where, f"function reference {name!r} is not allowed")
            return where
        if cls in OWN_CLASSES and not compiled:
            return self.own(node, cls, where)
        allowed = (COMPILE_CLASSES if compiled else MODEL_CLASSES).get(cls)
        if allowed is None:
            what = "compile setting" if compiled else "layer type"
            self.fail(
                where,
                f"{what} {clean(cls, 60)!r} is not allowed (lstmcli loads only its own: "
                f"{', '.join(_SHOWN)} in Functional/Sequential models)",
            )
        if module not in allowed:
            self.fail(where, f"{cls} from module {clean(module, 60)!r} is not allowed")
        if node.get("registered_name") not in (None, cls):
            custom = clean(node["registered_name"], 60)
            self.fail(where, f"custom object {custom!r} is not allowed")
        if set(node) - OBJECT_KEYS:
            self.fail(where, f"unexpected key {clean(min(set(node) - OBJECT_KEYS), 40)!r}")
        build = node.get("build_config")
        if not isinstance(cfg, dict) or not (
            build is None or (isinstance(build, dict) and set(build) <= {"input_shape"})
        ):
            self.fail(where, f"malformed config or build_config in {cls}")
        if "Policy" in cls and cfg.get("name") not in DTYPES:  # no quantized policies
            self.fail(where, f"dtype policy {clean(cfg.get('name'), 40)!r} is not allowed")
        if not compiled:
            self.params += self.size(cls, cfg, build, where)
        return where

    def own(self, node: dict[str, Any], cls: str, where: list[str]) -> list[str]:
        """One of lstmcli's own layers: exactly as Keras saves it, and no weights."""
        if node.get("module") != OWN_MODULE or node.get("registered_name") != OWN_CLASSES[cls]:
            self.fail(where, f"{cls} must be lstmcli's own ({OWN_MODULE}, {OWN_CLASSES[cls]})")
        build = node.get("build_config")
        if (
            set(node) - OBJECT_KEYS
            or not isinstance(node.get("config"), dict)
            or not (build is None or (isinstance(build, dict) and set(build) <= {"input_shape"}))
        ):
            self.fail(where, f"malformed config or build_config in {cls}")
        return where

    def size(self, cls: str, cfg: dict[str, Any], build: Any, where: list[str]) -> int:
        """An upper bound on how many weights the layer allocates when Keras builds it."""
        if cls == "Embedding":
            return self.dim(cfg.get("input_dim"), where) * self.dim(cfg.get("output_dim"), where)
        if cls != "Dense" and cls not in _GATES:
            return 0
        if cfg.get("stateful") or cfg.get("unroll"):
            self.fail(where, f"stateful or unrolled {cls} layers are not something lstmcli builds")
        shape = build.get("input_shape") if isinstance(build, dict) else None
        if not isinstance(shape, list) or not shape:
            self.fail(where, f"{cls} has no build_config input shape (lstmcli saves built models)")
        last, units = self.dim(shape[-1], where), self.dim(cfg.get("units"), where)
        return units * (last + 1) if cls == "Dense" else _GATES[cls] * units * (last + units + 2)

    def dim(self, value: Any, where: list[str]) -> int:
        if type(value) is not int or not 0 <= value <= MAX_DIM:
            self.fail(where, f"size {clean(value, 40)} is not a whole number up to {MAX_DIM:,}")
        return value
