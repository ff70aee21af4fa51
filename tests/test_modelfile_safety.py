"""Hostile ``.keras`` files: each is refused before Keras sees it, in one line, and never runs.

Every hostile file is built here with ``zipfile`` + ``json``. The Lambda payloads are real:
``test_lambda_payload_is_live`` shows that Keras runs them when safe mode is off.
"""

from __future__ import annotations

import base64
import json
import marshal
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from lstmcli.backend import modelfile
from lstmcli.core.errors import ModelFileError

HDF5 = b"\x89HDF\r\n\x1a\n"
META = {"keras_version": "3.15.1", "date_saved": "2026-01-01@00:00:00"}
WEIGHTS = HDF5 + bytes(248)
Obj = dict[str, Any]
pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # built on purpose

# -- configs shaped the way Keras 3 writes them ---------------------------------------------


def obj(cls: str, config: Any, module: str | None = "keras.layers", **extra: Any) -> Obj:
    return {"module": module, "class_name": cls, "config": config, "registered_name": None, **extra}


def tensor(source: str) -> Obj:
    shape = {"shape": [None, 3], "dtype": "float32", "keras_history": [source, 0, 0]}
    return {"class_name": "__keras_tensor__", "config": shape}


def called_on(source: str | None) -> Obj:
    return {} if source is None else {"inbound_nodes": [{"args": [tensor(source)], "kwargs": {}}]}


def input_layer(name: str) -> Obj:
    config = {"batch_shape": [None, 3], "dtype": "float32", "sparse": False, "name": name}
    return obj("InputLayer", config, name=name, inbound_nodes=[])


def layer(cls: str, name: str, config: Obj, source: str | None = "x", **extra: Any) -> Obj:
    """A layer as it sits in a Functional model's ``layers`` list (called on ``source``)."""
    policy = obj("DTypePolicy", {"name": "float32"}, module="keras")
    full = {"name": name, "trainable": True, "dtype": policy, **config}
    named = {"name": name} if source is not None else {}
    build = {"build_config": {"input_shape": [None, 3]}}
    return obj(cls, full, **build, **named, **called_on(source)) | extra


def dense(name: str, source: str | None = "x", **config: Any) -> Obj:
    return layer("Dense", name, {"units": 1, "activation": "linear", **config}, source)


def functional(name: str, layers: list[Obj], first: str, last: str, source: str | None = None):
    config = {"name": name, "layers": layers, "input_layers": [first, 0, 0]}
    config["output_layers"] = [last, 0, 0]
    named = {"name": name} if source is not None else {}
    return obj(
        "Functional",
        config,
        module="keras.src.models.functional",
        registered_name="Functional",
        build_config={"input_shape": None},
        compile_config={},
        **named,
        **called_on(source),
    )


def model_with(*layers: Obj) -> Obj:
    """Input ``x`` → the given layers (called on ``x``) → Dense ``head``."""
    last = layers[-1]["config"]["name"] if layers else "x"
    return functional("m", [input_layer("x"), *layers, dense("head", last)], "x", "head")


def lambda_layer(name: str, source: str | None, marker: Path) -> Obj:
    """A Lambda whose marshalled function (what Keras's ``func_dump`` writes) creates marker."""
    text = f"lambda x: (open({str(marker)!r}, 'w').write('pwned'), x)[1]"
    code = marshal.dumps(eval(compile(text, "<hostile>", "eval")).__code__)
    payload = {"code": base64.encodebytes(code).decode(), "defaults": None, "closure": None}
    function = {"class_name": "__lambda__", "config": payload}
    return layer("Lambda", name, {"function": function, "arguments": {}}, source)


def function_ref(module: str, name: str) -> Obj:
    return obj("function", name, module=module, registered_name="function")


def write_keras(
    path: Path,
    config: Any = None,
    *,
    meta: Any = META,
    weights: bytes = WEIGHTS,
    raw_config: bytes | None = None,
    extra: tuple[tuple[str, bytes], ...] = (),
    compress: int = zipfile.ZIP_STORED,
) -> Path:
    with zipfile.ZipFile(path, "w", compression=compress) as zf:
        zf.writestr("metadata.json", json.dumps(meta))
        zf.writestr("config.json", raw_config or json.dumps(config or model_with()).encode())
        if weights:
            zf.writestr("model.weights.h5", weights)
        for name, data in extra:
            zf.writestr(zipfile.ZipInfo(name), data)
    return path


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- the hostile files: name -> builder(folder, marker) -> path -----------------------------

Builder = Callable[[Path, Path], Path]
HOSTILE: dict[str, Builder] = {}


def hostile(name: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        HOSTILE[name] = fn
        return fn

    return register


def in_model(name: str, make: Callable[[Path], Obj]) -> None:
    """A hostile object as the middle layer of a small Functional model."""
    HOSTILE[name] = lambda d, m: write_keras(d / f"{name}.keras", model_with(make(m)))


def compiled_with(name: str, compile_config: Obj) -> None:
    config = model_with() | {"compile_config": compile_config}
    HOSTILE[name] = lambda d, m: write_keras(d / f"{name}.keras", config)


in_model("lambda", lambda m: lambda_layer("evil", "x", m))  # CVE-2024-3660
in_model(
    "lambda-in-bidirectional",
    lambda m: layer("Bidirectional", "bi", {"layer": lambda_layer("evil", None, m)}),
)
in_model(  # CVE-2025-9906: a config that switches safe mode off
    "function-enable-unsafe",
    lambda m: dense("d", activation=function_ref("keras.config", "enable_unsafe_deserialization")),
)
in_model(  # CVE-2025-8747: a Keras utility reached through a config
    "function-get-file",
    lambda m: dense("d", kernel_initializer=function_ref("keras.utils", "get_file")),
)
in_model(
    "foreign-module-os-system",
    lambda m: obj("system", {"name": "sys", "cmd": f"touch {m}"}, module="os", **called_on("x")),
)
in_model("foreign-module-known-class", lambda m: dense("d") | {"module": "os"})
in_model("keras-internal-module", lambda m: dense("d") | {"module": "keras.src.utils.file_utils"})
in_model(
    "tfsmlayer",
    lambda m: layer("TFSMLayer", "t", {"filepath": str(m.parent), "call_endpoint": "serve"}),
)
in_model("custom-registered-name", lambda m: dense("d") | {"registered_name": "Evil>Dense"})
in_model(
    "custom-class",
    lambda m: layer("EvilLayer", "e", {}, module=None, registered_name="Custom>EvilLayer"),
)
in_model(  # CVE-2025-12058
    "textvectorization-vocabulary-path",
    lambda m: layer("TextVectorization", "tv", {"vocabulary": "/etc/passwd"}),
)
in_model(
    "stringlookup-vocabulary-path",
    lambda m: layer("StringLookup", "sl", {"vocabulary": "/etc/passwd"}),
)
in_model(
    "numpy-object",
    lambda m: dense("d", kernel_initializer=obj("__numpy__", {"value": [1], "dtype": "O"})),
)
in_model(
    "typespec",
    lambda m: dense("d", bias_initializer=obj("__typespec__", [], module="os", spec_name="X")),
)
in_model("unknown-activation", lambda m: dense("d", activation="exec"))
in_model("layer-name-traversal", lambda m: dense("../../evil"))  # CVE-2026-12479
in_model("stateful-rnn", lambda m: layer("LSTM", "l", {"units": 2, "stateful": True}))
in_model(  # a 1 KB file that would make Keras allocate 4 TB
    "huge-embedding",
    lambda m: layer("Embedding", "e", {"input_dim": 10**9, "output_dim": 1000}),
)
in_model("quantized-dense", lambda m: dense("d", quantization_config={"mode": "int8"}))
# lstmcli's own pooling layers are allowed by exact module and registered name only (issue 15)
OWN_POOL = {
    "module": "lstmcli.backend.layers",
    "registered_name": "lstmcli>MaskedGlobalMaxPooling1D",
}
in_model(
    "own-layer-foreign-module",
    lambda m: layer("MaskedGlobalMaxPooling1D", "p", {}) | OWN_POOL | {"module": "os"},
)
in_model(
    "own-layer-other-registered-name",
    lambda m: layer("MaskedGlobalMaxPooling1D", "p", {}) | OWN_POOL | {"registered_name": "Evil>X"},
)
in_model(  # ignores masks (backend/layers.py), so lstmcli never builds it
    "keras-global-max-pooling", lambda m: layer("GlobalMaxPooling1D", "p", {})
)
in_model(
    "unknown-recurrent-activation",
    lambda m: layer("LSTM", "l", {"units": 2, "recurrent_activation": "exec"}),
)
in_model(
    "quantized-dtype-policy",
    lambda m: dense("d", dtype=obj("DTypePolicy", {"name": "int8_from_float32"}, module="keras")),
)
in_model("unbuilt-dense", lambda m: dense("d") | {"build_config": None})
compiled_with("compile-foreign-optimizer", {"optimizer": obj("system", {}, module="os")})
compiled_with("compile-function-reference", {"loss": function_ref("keras.config", "disable")})


@hostile("lambda-nested-two-levels")
def _nested_lambda(d: Path, m: Path) -> Path:
    inner_layers = [input_layer("xi"), lambda_layer("evil", "xi", m)]
    inner = functional("inner", inner_layers, "xi", "evil", source="xm")
    mid = functional("mid", [input_layer("xm"), inner], "xm", "inner", source="xo")
    outer = functional("outer", [input_layer("xo"), mid, dense("head", "mid")], "xo", "head")
    return write_keras(d / "nested.keras", outer)


@hostile("lambda-in-sequential")
def _sequential_lambda(d: Path, m: Path) -> Path:
    layers = [input_layer("x"), lambda_layer("evil", None, m)]
    seq = obj("Sequential", {"name": "s", "layers": layers}, module="keras")
    return write_keras(d / "seq.keras", seq)


def nested_json(depth: int) -> Builder:
    def build(d: Path, m: Path) -> Path:
        text = json.dumps(model_with(dense("d", seed="DEEP")))
        raw = text.replace('"DEEP"', "[" * depth + "]" * depth).encode()
        return write_keras(d / f"deep{depth}.keras", raw_config=raw)

    return build


HOSTILE["deep-nesting-json"] = nested_json(100_000)  # deeper than the JSON parser goes
HOSTILE["deep-nesting-walk"] = nested_json(100)  # parses, but deeper than the walk allows
HOSTILE["top-level-not-a-model"] = lambda d, m: write_keras(d / "top.keras", dense("d", None))
HOSTILE["config-not-json"] = lambda d, m: write_keras(d / "nj.keras", raw_config=b"\xff{x")
HOSTILE["keras2-metadata"] = lambda d, m: write_keras(
    d / "k2.keras", meta={"keras_version": "2.15"}
)
HOSTILE["metadata-not-object"] = lambda d, m: write_keras(d / "mo.keras", meta=["3.15.1"])
HOSTILE["missing-weights"] = lambda d, m: write_keras(d / "nw.keras", weights=b"")
HOSTILE["pickle-weights"] = lambda d, m: write_keras(d / "pk.keras", weights=b"\x80\x04\x95" * 9)


def with_member(name: str, member: str, data: bytes = b"x", weights: bytes = WEIGHTS) -> None:
    HOSTILE[name] = lambda d, m: write_keras(
        d / f"{name}.keras", extra=((member, data),), weights=weights
    )


with_member("escape-dotdot", "../evil")
with_member("escape-absolute", "/etc/evil")
with_member("escape-backslash", "..\\evil")
with_member("escape-drive", "C:/evil")
with_member("assets-member", "assets/vocab.txt")
with_member("npz-weights", "model.weights.npz", b"PK\x03\x04", weights=b"")
with_member("duplicate-member", "config.json", json.dumps(model_with()).encode())
HOSTILE["too-many-members"] = lambda d, m: write_keras(
    d / "many.keras", extra=tuple((f"x{i}", b"") for i in range(modelfile.MAX_MEMBERS))
)
HOSTILE["oversized-config"] = lambda d, m: write_keras(
    d / "big.keras", raw_config=b" " * modelfile.MEMBER_LIMITS["config.json"] + b"{}"
)
HOSTILE["zip-bomb"] = lambda d, m: write_keras(  # 2 MiB of zeros stored in about 2 KiB
    d / "bomb.keras", weights=HDF5 + bytes(2 * 1024**2), compress=zipfile.ZIP_DEFLATED
)


@hostile("declared-huge-member")
def _declared_huge(d: Path, m: Path) -> Path:
    """The central directory says model.weights.h5 holds 4 GB (refused before any read)."""
    data = bytearray(write_keras(d / "huge.keras").read_bytes())
    at = data.index(b"PK\x01\x02")
    while data[at + 46 : at + 46 + 16] != b"model.weights.h5":
        at = data.index(b"PK\x01\x02", at + 4)
    data[at + 24 : at + 28] = struct.pack("<L", 0xFFFFFFF0)  # the uncompressed size field
    return write(d / "huge.keras", bytes(data))


def mangled(name: str, change: Callable[[bytes], bytes]) -> None:
    def build(d: Path, m: Path) -> Path:
        path = write_keras(d / f"{name}.keras")
        return write(path, change(path.read_bytes()))

    HOSTILE[name] = build


mangled("truncated-half", lambda b: b[: len(b) // 2])
mangled("truncated-end-record", lambda b: b[:-5])
mangled("trailing-data", lambda b: b + b"extra")
mangled("prepended-data", lambda b: b"#!/bin/sh\n" + b)
mangled("corrupt-crc", lambda b: b.replace(b'"trainable": true', b'"trainable": tru3', 1))
HOSTILE["hdf5-model"] = lambda d, m: write(d / "model.h5", HDF5 + bytes(1024))
HOSTILE["hdf5-named-keras"] = lambda d, m: write(d / "model.keras", HDF5 + bytes(1024))
HOSTILE["hdf5-user-block"] = lambda d, m: write(d / "ub.keras", bytes(512) + HDF5 + bytes(64))
HOSTILE["not-a-zip"] = lambda d, m: write(d / "text.keras", b"just some text\n")
HOSTILE["empty-file"] = lambda d, m: write(d / "empty.keras", b"")
HOSTILE["missing-file"] = lambda d, m: d / "nowhere.keras"
HOSTILE["folder"] = lambda d, m: (d / "folder.keras").mkdir() or d / "folder.keras"


# -- refused, in one line, nothing run, Keras never called ----------------------------------


@pytest.fixture
def keras_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records any attempt to hand the file to Keras (there must be none)."""
    calls: list[Path] = []

    def spy(fh: Any, path: Path) -> None:
        calls.append(path)
        raise AssertionError("Keras was handed a hostile file")

    monkeypatch.setattr(modelfile, "_keras_load", spy)
    return calls


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_refused(name: str, tmp_path: Path, keras_calls: list[Path]) -> None:
    marker = tmp_path / "MARKER"
    path = HOSTILE[name](tmp_path, marker)
    for fn in (modelfile.check_archive, modelfile.load_model):
        with pytest.raises(ModelFileError) as info:
            fn(path)
        message = str(info.value)
        assert message.isprintable() and len(message) < 400, message
    assert keras_calls == []
    assert not marker.exists()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_through_cli(name: str, tmp_path: Path, keras_calls: list[Path]) -> None:
    from lstmcli.cli.main import app

    marker = tmp_path / "MARKER"
    path = HOSTILE[name](tmp_path, marker)
    result = CliRunner().invoke(app, ["summary", "--model", str(path)])
    lines = result.stderr.splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith("lstmcli: "), result.stderr
    assert "Traceback" not in result.output
    assert not lines[0].startswith("lstmcli: unexpected")  # a ModelFileError, not a stray one
    assert result.stdout == ""
    assert keras_calls == []
    assert not marker.exists()


def test_messages_name_the_problem(tmp_path: Path) -> None:
    expect = {
        "lambda": "layer type 'Lambda' is not allowed",
        "lambda-nested-two-levels": "refused at outer/mid/inner/evil: layer type 'Lambda'",
        "escape-dotdot": "'../evil' escapes the archive folder",
        "hdf5-model": "is an HDF5 (.h5) model",
        "foreign-module-known-class": "Dense from module 'os' is not allowed",
        "custom-registered-name": "custom object 'Evil>Dense'",
        "textvectorization-vocabulary-path": "at m/tv: path-valued vocabulary '/etc/passwd'",
        "function-enable-unsafe": "'keras.config.enable_unsafe_deserialization' is not allowed",
        "truncated-half": "truncated",
        "missing-file": "does not exist",
        "zip-bomb": "(a zip bomb)",
        "declared-huge-member": "declares 4,294,967,280 bytes",
        "huge-embedding": "weights but model.weights.h5 holds only",
        "keras2-metadata": "Keras 3",
        "compile-foreign-optimizer": "compile setting 'system' is not allowed",
        "own-layer-foreign-module": "MaskedGlobalMaxPooling1D must be lstmcli's own",
        "own-layer-other-registered-name": "(lstmcli.backend.layers, lstmcli>MaskedGlobal",
        "keras-global-max-pooling": "layer type 'GlobalMaxPooling1D' is not allowed",
        "unknown-recurrent-activation": "activation 'exec' is not a built-in lstmcli allows",
    }
    for name, fragment in expect.items():
        folder = tmp_path / name
        folder.mkdir()
        with pytest.raises(ModelFileError) as info:
            modelfile.check_archive(HOSTILE[name](folder, folder / "MARKER"))
        assert fragment in str(info.value), (name, str(info.value))


# -- with Keras ----------------------------------------------------------------------------


def test_lambda_payload_is_live(tmp_path: Path) -> None:
    """Control: with safe mode off, Keras itself runs the payload, so the refusals matter."""
    from lstmcli.backend.tf import keras

    marker = tmp_path / "MARKER"
    path = HOSTILE["lambda"](tmp_path, marker)
    with pytest.raises(Exception):  # noqa: B017 - the fake weights fail after the payload ran
        keras().saving.load_model(path, compile=False, safe_mode=False)
    assert marker.exists()


def test_safe_mode_is_forced_even_if_the_walk_missed_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: no config walk and unsafe mode switched on globally; still refused."""
    from lstmcli.backend.tf import keras

    k = keras()
    from keras.src.backend.common import global_state

    marker = tmp_path / "MARKER"
    path = HOSTILE["lambda"](tmp_path, marker)
    monkeypatch.setattr(modelfile, "check_config", lambda config, show: 0)
    before = global_state.get_global_attribute("safe_mode_saving")
    k.config.enable_unsafe_deserialization()
    try:
        with pytest.raises(ModelFileError, match="lambda") as info:
            modelfile.load_model(path)
    finally:
        global_state.set_global_attribute("safe_mode_saving", before)
    assert str(info.value).isprintable()
    assert not marker.exists()


def _specs() -> list[Any]:
    from lstmcli.model.spec import ModelSpec

    small = {"vocab": 50, "embed_dim": 4, "seq_len": 6}
    vectors = {"features": 3, "seq_len": 5, "return_sequences": True, "dropout": 0.2}
    return [
        pytest.param(ModelSpec(units=(4,), **small), False, id="lstm"),
        pytest.param(ModelSpec(cell="gru", units=(4,), **small), False, id="gru"),
        pytest.param(ModelSpec(cell="simplernn", units=(4,), **small), False, id="simplernn"),
        pytest.param(ModelSpec(bidirectional=True, units=(4, 3), **small), False, id="bi-stacked"),
        pytest.param(
            ModelSpec(cell="gru", units=(3, 3, 2), classes=5, **small), True, id="variable-length"
        ),
        pytest.param(
            ModelSpec(cell="simplernn", units=(4,), recurrent_dropout=0.1, **vectors),
            False,
            id="vectors-return-sequences",
        ),
        pytest.param(
            ModelSpec(mask_zero=True, bidirectional=True, cell="gru", units=(4,), **small),
            False,
            id="mask-zero-bi",
        ),
        pytest.param(
            ModelSpec(trainable_embedding=False, classes=3, units=(4,), **small),
            False,
            id="frozen-embedding",
        ),
    ]


@pytest.mark.parametrize(("spec", "variable_length"), _specs())
def test_legitimate_models_round_trip(spec: Any, variable_length: bool, tmp_path: Path) -> None:
    from lstmcli.backend.build import build_model

    model = build_model(spec, variable_length=variable_length, seed=1)
    path = tmp_path / "m.keras"
    modelfile.save_model(model, path)
    assert modelfile.check_archive(path)["class_name"] == "Functional"
    loaded = modelfile.load_model(path)
    names = [type(lyr).__name__ for lyr in model.layers]
    assert [type(lyr).__name__ for lyr in loaded.layers] == names
    old, new = model.get_weights(), loaded.get_weights()
    assert len(old) == len(new) > 0
    for a, b in zip(old, new, strict=True):
        np.testing.assert_array_equal(a, b)


def test_compiled_models_load(tmp_path: Path) -> None:
    """A compile_config written by Keras (optimizer, schedule, loss, metrics) is allowed."""
    from lstmcli.backend.build import build_model
    from lstmcli.backend.tf import keras
    from lstmcli.model.spec import ModelSpec

    k = keras()
    model = build_model(ModelSpec(units=(4,), vocab=50, embed_dim=4, seq_len=6, classes=3))
    schedule = k.optimizers.schedules.ExponentialDecay(1e-3, 100, 0.9)
    settings = [
        ("adam", "sparse_categorical_crossentropy", ["accuracy"]),
        (
            k.optimizers.Adam(schedule),
            k.losses.SparseCategoricalCrossentropy(),
            [k.metrics.SparseCategoricalAccuracy(), "auc"],
        ),
        (k.optimizers.RMSprop(), k.losses.sparse_categorical_crossentropy, ["accuracy"]),
    ]
    for i, (optimizer, loss, metrics) in enumerate(settings):
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
        path = tmp_path / f"c{i}.keras"
        modelfile.save_model(model, path)
        assert modelfile.check_archive(path)["compile_config"]
        modelfile.load_model(path)


def test_cli_summary_of_a_legitimate_file(tmp_path: Path) -> None:
    from lstmcli.backend.build import build_model
    from lstmcli.cli.main import app
    from lstmcli.model.spec import ModelSpec

    path = tmp_path / "ok.keras"
    modelfile.save_model(build_model(ModelSpec(units=(4,), vocab=50, embed_dim=4, seq_len=6)), path)
    result = CliRunner().invoke(app, ["summary", "--model", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_garbage_weights_behind_a_clean_config(tmp_path: Path) -> None:
    """Passes every check, then Keras fails on the weights: still one ModelFileError line."""
    from lstmcli.cli.main import app

    path = write_keras(tmp_path / "garbage.keras")
    assert modelfile.check_archive(path)
    with pytest.raises(ModelFileError, match="Keras could not load it") as info:
        modelfile.load_model(path)
    assert str(info.value).isprintable()
    result = CliRunner().invoke(app, ["summary", "--model", str(path)])
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1, result.output
