"""Hostile ``.keras`` files: each is refused before Keras sees it, in one line, and never runs.

Every hostile file is built here with ``zipfile`` + ``json``. The Lambda payloads are real:
``test_lambda_payload_is_live`` shows Keras runs them when safe mode is off.
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

from lstmcli import modelfile
from lstmcli.errors import ModelFileError

HDF5 = b"\x89HDF\r\n\x1a\n"
META = {"keras_version": "3.15.1", "date_saved": "2026-01-01@00:00:00"}
WEIGHTS = HDF5 + bytes(248)


# -- building configs the way Keras 3 writes them ------------------------------------------


def policy() -> dict[str, Any]:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": None}  # fmt: skip


def tensor(source: str, width: int = 3) -> dict[str, Any]:
    return {"class_name": "__keras_tensor__",
            "config": {"shape": [None, width], "dtype": "float32", "keras_history": [source, 0, 0]}}  # fmt: skip


def input_layer(name: str, width: int = 3) -> dict[str, Any]:
    return {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
            "config": {"batch_shape": [None, width], "dtype": "float32", "sparse": False,
                       "ragged": False, "name": name, "optional": False},
            "name": name, "inbound_nodes": []}  # fmt: skip


def node(cls: str, name: str, config: dict[str, Any], source: str | None, **extra: Any) -> dict:
    """A layer as it sits in a Functional model's ``layers`` list."""
    out = {"module": "keras.layers", "class_name": cls, "registered_name": None,
           "config": {"name": name, "trainable": True, "dtype": policy(), **config},
           "build_config": {"input_shape": [None, 3]}, **extra}  # fmt: skip
    if source is not None:
        out |= {"name": name, "inbound_nodes": [{"args": [tensor(source)], "kwargs": {}}]}
    return out


def dense(name: str, source: str | None, **config: Any) -> dict[str, Any]:
    return node("Dense", name, {"units": 1, "activation": "linear", "use_bias": True, **config},
                source)  # fmt: skip


def lambda_code(marker: Path) -> str:
    """Marshalled bytecode of a function that creates ``marker`` (what Keras's func_dump writes)."""
    source = f"lambda x: (open({str(marker)!r}, 'w').write('pwned'), x)[1]"
    fn = eval(compile(source, "<hostile>", "eval"))
    return base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")


def lambda_layer(name: str, source: str | None, marker: Path) -> dict[str, Any]:
    fn = {"class_name": "__lambda__",
          "config": {"code": lambda_code(marker), "defaults": None, "closure": None}}  # fmt: skip
    return node("Lambda", name, {"function": fn, "arguments": {}}, source)


def functional(name: str, layers: list[dict], first: str, last: str, source: str | None = None):
    out = {"module": "keras.src.models.functional", "class_name": "Functional",
           "registered_name": "Functional", "build_config": {"input_shape": None},
           "compile_config": {},
           "config": {"name": name, "trainable": True, "layers": layers,
                      "input_layers": [first, 0, 0], "output_layers": [last, 0, 0]}}  # fmt: skip
    if source is not None:
        out |= {"name": name, "inbound_nodes": [{"args": [tensor(source)], "kwargs": {}}]}
    return out


def model_with(*layers: dict[str, Any]) -> dict[str, Any]:
    """Input ``x`` → the given layers (already wired to ``x``) → Dense ``head``."""
    last = layers[-1]["config"]["name"] if layers else "x"
    return functional("m", [input_layer("x"), *layers, dense("head", last)], "x", "head")


def write_keras(path: Path, config: Any = None, *, meta: Any = META, weights: bytes = WEIGHTS,
                raw_config: bytes | None = None, extra: tuple[tuple[str, bytes], ...] = (),
                compress: int = zipfile.ZIP_STORED) -> Path:  # fmt: skip
    with zipfile.ZipFile(path, "w", compression=compress) as zf:
        zf.writestr("metadata.json", json.dumps(meta))
        zf.writestr("config.json", raw_config or json.dumps(config or model_with()).encode())
        if weights:
            zf.writestr("model.weights.h5", weights)
        for name, data in extra:
            zf.writestr(zipfile.ZipInfo(name), data)
    return path


# -- the hostile files ---------------------------------------------------------------------

Builder = Callable[[Path, Path], Path]  # (folder, marker) -> hostile file
HOSTILE: dict[str, Builder] = {}


def hostile(name: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        HOSTILE[name] = fn
        return fn

    return register


def simple(name: str, make_layer: Callable[[Path], dict[str, Any]]) -> None:
    """A hostile layer wired between the input and the head of a small model."""
    HOSTILE[name] = lambda d, m: write_keras(d / f"{name}.keras", model_with(make_layer(m)))


simple("lambda", lambda m: lambda_layer("evil", "x", m))  # CVE-2024-3660


@hostile("lambda-nested-two-levels")
def _(d: Path, m: Path) -> Path:
    inner = functional("inner", [input_layer("xi"), lambda_layer("evil", "xi", m)], "xi", "evil",
                       source="xm")  # fmt: skip
    mid = functional("mid", [input_layer("xm"), inner], "xm", "inner", source="xo")
    outer = functional("outer", [input_layer("xo"), mid, dense("head", "mid")], "xo", "head")
    return write_keras(d / "nested.keras", outer)


simple("lambda-in-bidirectional",
       lambda m: node("Bidirectional", "bi", {"layer": lambda_layer("evil", None, m),
                                              "merge_mode": "concat"}, "x"))  # fmt: skip


@hostile("lambda-in-sequential")
def _(d: Path, m: Path) -> Path:
    seq = {"module": "keras", "class_name": "Sequential", "registered_name": None,
           "config": {"name": "s", "layers": [input_layer("x"), lambda_layer("evil", None, m)]},
           "build_config": {"input_shape": [None, 3]}}  # fmt: skip
    return write_keras(d / "seq.keras", seq)


def function_ref(module: str, name: str) -> dict[str, Any]:
    return {"module": module, "class_name": "function", "config": name, "registered_name": "function"}


# CVE-2025-9906 / CVE-2025-8747: Keras functions reached through a config.
simple("function-enable-unsafe",
       lambda m: dense("d", "x", activation=function_ref("keras.config", "enable_unsafe_deserialization")))  # fmt: skip
simple("function-get-file",
       lambda m: dense("d", "x", kernel_initializer=function_ref("keras.utils", "get_file")))  # fmt: skip
simple("foreign-module-os-system",
       lambda m: {"module": "os", "class_name": "system", "registered_name": None,
                  "config": {"command": f"touch {m}"}, "name": "sys", "inbound_nodes": []})  # fmt: skip
simple("foreign-module-known-class", lambda m: dense("d", "x") | {"module": "os"})
simple("keras-internal-module",
       lambda m: dense("d", "x") | {"module": "keras.src.utils.file_utils"})  # fmt: skip
simple("tfsmlayer",
       lambda m: node("TFSMLayer", "t", {"filepath": str(m.parent), "call_endpoint": "serve"}, "x"))  # fmt: skip
simple("custom-registered-name", lambda m: dense("d", "x") | {"registered_name": "Evil>Dense"})
simple("custom-class",
       lambda m: node("EvilLayer", "e", {}, "x", module=None, registered_name="Custom>EvilLayer"))  # fmt: skip
simple("textvectorization-vocabulary-path",
       lambda m: node("TextVectorization", "tv", {"vocabulary": "/etc/passwd"}, "x"))  # fmt: skip
simple("stringlookup-vocabulary-path",
       lambda m: node("StringLookup", "sl", {"vocabulary": "/etc/passwd"}, "x"))  # fmt: skip
simple("numpy-object",
       lambda m: dense("d", "x", kernel_initializer={"class_name": "__numpy__",
                       "config": {"value": [1], "dtype": "object"}}))  # fmt: skip
simple("typespec",
       lambda m: dense("d", "x", bias_initializer={"class_name": "__typespec__", "spec_name": "X",
                       "module": "os", "registered_name": None, "config": []}))  # fmt: skip
simple("unknown-activation", lambda m: dense("d", "x", activation="exec"))
simple("layer-name-traversal", lambda m: dense("../../evil", "x"))  # CVE-2026-12479
simple("stateful-rnn", lambda m: node("LSTM", "l", {"units": 2, "stateful": True}, "x"))
simple("huge-embedding",  # a 1 KB file that would allocate 4 TB
       lambda m: node("Embedding", "e", {"input_dim": 10**9, "output_dim": 1000}, "x"))  # fmt: skip
simple("unbuilt-dense", lambda m: dense("d", "x") | {"build_config": None})


@hostile("compile-foreign-optimizer")
def _(d: Path, m: Path) -> Path:
    config = model_with()
    config["compile_config"] = {"optimizer": {"module": "os", "class_name": "system",
                                              "config": {"command": "true"}, "registered_name": None}}  # fmt: skip
    return write_keras(d / "compile.keras", config)


@hostile("compile-function-reference")
def _(d: Path, m: Path) -> Path:
    config = model_with()
    config["compile_config"] = {"loss": function_ref("keras.config", "enable_unsafe_deserialization")}
    return write_keras(d / "compile-fn.keras", config)


HOSTILE["top-level-not-a-model"] = lambda d, m: write_keras(d / "top.keras", dense("d", None))


def _nested(depth: int) -> Builder:
    def build(d: Path, m: Path) -> Path:
        text = json.dumps(model_with(dense("d", "x", seed="DEEP")))
        raw = text.replace('"DEEP"', "[" * depth + "]" * depth).encode()
        return write_keras(d / f"deep{depth}.keras", raw_config=raw)

    return build


HOSTILE["deep-nesting-json"] = _nested(100_000)  # deeper than the JSON parser goes
HOSTILE["deep-nesting-walk"] = _nested(100)  # parses, but deeper than the walk allows
HOSTILE["config-not-json"] = lambda d, m: write_keras(d / "nj.keras", raw_config=b"\xff{not json")
HOSTILE["keras2-metadata"] = lambda d, m: write_keras(d / "k2.keras", meta={"keras_version": "2.15.0"})
HOSTILE["metadata-not-object"] = lambda d, m: write_keras(d / "mo.keras", meta=["3.15.1"])
HOSTILE["missing-weights"] = lambda d, m: write_keras(d / "nw.keras", weights=b"")
HOSTILE["pickle-weights"] = lambda d, m: write_keras(d / "pk.keras", weights=b"\x80\x04\x95" + bytes(64))
HOSTILE["npz-weights"] = lambda d, m: write_keras(
    d / "npz.keras", weights=b"", extra=(("model.weights.npz", b"PK\x03\x04"),))  # fmt: skip

# Archive-level attacks.
for _name, _member in {"escape-dotdot": "../evil", "escape-absolute": "/etc/evil",
                       "escape-backslash": "..\\evil", "escape-drive": "C:/evil",
                       "assets-member": "assets/vocab.txt"}.items():  # fmt: skip
    HOSTILE[_name] = lambda d, m, _member=_member: write_keras(
        d / "escape.keras", extra=((_member, b"x"),))  # fmt: skip
HOSTILE["duplicate-member"] = lambda d, m: write_keras(
    d / "dup.keras", extra=(("config.json", json.dumps(model_with()).encode()),))  # fmt: skip
HOSTILE["too-many-members"] = lambda d, m: write_keras(
    d / "many.keras", extra=tuple((f"x{i}", b"") for i in range(modelfile.MAX_MEMBERS)))  # fmt: skip
HOSTILE["oversized-config"] = lambda d, m: write_keras(
    d / "big.keras", raw_config=b" " * modelfile.MEMBER_LIMITS["config.json"] + b"{}")  # fmt: skip
HOSTILE["zip-bomb"] = lambda d, m: write_keras(  # 2 MiB of zeros in ~2 KB
    d / "bomb.keras", weights=HDF5 + bytes(2 * 1024**2), compress=zipfile.ZIP_DEFLATED)  # fmt: skip


@hostile("declared-huge-member")
def _(d: Path, m: Path) -> Path:
    """The central directory claims model.weights.h5 holds 4 GB (never read: refused first)."""
    path = write_keras(d / "huge.keras")
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    while data[at + 46 : at + 46 + 16] != b"model.weights.h5":
        at = data.index(b"PK\x01\x02", at + 4)
    data[at + 24 : at + 28] = struct.pack("<L", 0xFFFFFFF0)  # the uncompressed size field
    path.write_bytes(bytes(data))
    return path


def _mangle(name: str, change: Callable[[bytes], bytes]) -> Builder:
    def build(d: Path, m: Path) -> Path:
        path = write_keras(d / f"{name}.keras")
        path.write_bytes(change(path.read_bytes()))
        return path

    return build


HOSTILE["truncated-half"] = _mangle("half", lambda b: b[: len(b) // 2])
HOSTILE["truncated-end-record"] = _mangle("tail", lambda b: b[:-5])
HOSTILE["trailing-data"] = _mangle("trail", lambda b: b + b"extra")
HOSTILE["prepended-data"] = _mangle("pre", lambda b: b"#!/bin/sh\n" + b)
HOSTILE["corrupt-crc"] = _mangle("crc", lambda b: b.replace(b'"trainable": true', b'"trainable": tru3', 1))
HOSTILE["hdf5-model"] = lambda d, m: _write(d / "model.h5", HDF5 + bytes(1024))
HOSTILE["hdf5-named-keras"] = lambda d, m: _write(d / "model.keras", HDF5 + bytes(1024))
HOSTILE["hdf5-with-userblock"] = lambda d, m: _write(d / "ub.keras", bytes(512) + HDF5 + bytes(64))
HOSTILE["not-a-zip"] = lambda d, m: _write(d / "text.keras", b"just some text\n")
HOSTILE["empty-file"] = lambda d, m: _write(d / "empty.keras", b"")
HOSTILE["missing-file"] = lambda d, m: d / "nowhere.keras"
HOSTILE["folder"] = lambda d, m: _mkdir(d / "folder.keras")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


# -- tests: refused, one line, nothing run, Keras never called -----------------------------


@pytest.fixture
def keras_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record any call that would hand the file to Keras (none must happen)."""
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
        assert message and "\n" not in message and "\r" not in message, message
        assert len(message) < 400, message
    assert keras_calls == []
    assert not marker.exists()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_through_cli(name: str, tmp_path: Path, keras_calls: list[Path]) -> None:
    from lstmcli.cli import app

    marker = tmp_path / "MARKER"
    path = HOSTILE[name](tmp_path, marker)
    result = CliRunner().invoke(app, ["summary", "--model", str(path)])
    lines = result.stderr.splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith("lstmcli: "), result.stderr
    assert "Traceback" not in result.output
    assert "unexpected" not in result.stderr  # a ModelFileError, not a stray exception
    assert result.stdout == ""
    assert keras_calls == []
    assert not marker.exists()


def test_messages_name_the_problem(tmp_path: Path) -> None:
    expect = {
        "lambda": "layer type 'Lambda' is not allowed",
        "lambda-nested-two-levels": "(at outer/mid/inner/evil)",
        "escape-dotdot": "'../evil' escapes the archive folder",
        "hdf5-model": "is an HDF5 (.h5) model",
        "foreign-module-known-class": "Dense from module 'os' is not allowed",
        "custom-registered-name": "custom object 'Evil>Dense'",
        "textvectorization-vocabulary-path": "path-valued vocabulary '/etc/passwd'",
        "truncated-half": "truncated",
        "missing-file": "does not exist",
        "zip-bomb": "zip bomb",
        "declared-huge-member": "declares 4,294,967,280 bytes",
        "huge-embedding": "weights but model.weights.h5 holds only",
        "keras2-metadata": "need Keras 3",
    }
    for name, fragment in expect.items():
        folder = _mkdir(tmp_path / name)
        with pytest.raises(ModelFileError) as info:
            modelfile.check_archive(HOSTILE[name](folder, folder / "MARKER"))
        assert fragment in str(info.value), (name, str(info.value))


# -- tests that need Keras -----------------------------------------------------------------


def test_lambda_payload_is_live(tmp_path: Path) -> None:
    """Control: with safe mode off, Keras itself runs the payload; so the refusals above matter."""
    from lstmcli.tf import keras

    k = keras()
    marker = tmp_path / "MARKER"
    path = HOSTILE["lambda"](tmp_path, marker)
    with pytest.raises(Exception):  # noqa: B017 - the fake weights fail after the payload ran
        k.saving.load_model(path, compile=False, safe_mode=False)
    assert marker.exists()


def test_safe_mode_is_forced_even_if_the_walk_missed_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: no config walk, unsafe mode switched on globally, still refused."""
    from lstmcli.tf import keras

    k = keras()
    from keras.src.backend.common import global_state

    marker = tmp_path / "MARKER"
    path = HOSTILE["lambda"](tmp_path, marker)
    monkeypatch.setattr(modelfile._Walk, "top", lambda self, config: None)
    before = global_state.get_global_attribute("safe_mode_saving")
    k.config.enable_unsafe_deserialization()
    try:
        with pytest.raises(ModelFileError, match="Lambda|lambda") as info:
            modelfile.load_model(path)
    finally:
        global_state.set_global_attribute("safe_mode_saving", before)
    assert "\n" not in str(info.value)
    assert not marker.exists()


def _specs() -> list[Any]:
    from lstmcli.spec import ModelSpec

    small = {"vocab": 50, "embed_dim": 4, "seq_len": 6}
    return [
        pytest.param(ModelSpec(units=(4,), **small), False, id="lstm"),
        pytest.param(ModelSpec(cell="gru", units=(4,), **small), False, id="gru"),
        pytest.param(ModelSpec(cell="simplernn", units=(4,), **small), False, id="simplernn"),
        pytest.param(ModelSpec(bidirectional=True, units=(4, 3), **small), False, id="bi-stacked"),
        pytest.param(ModelSpec(cell="gru", units=(3, 3, 2), classes=5, **small), True,
                     id="stacked-classes-variable-length"),  # fmt: skip
        pytest.param(ModelSpec(cell="simplernn", features=3, seq_len=5, units=(4,),
                               return_sequences=True, dropout=0.2, recurrent_dropout=0.1),
                     False, id="vectors-return-sequences"),  # fmt: skip
        pytest.param(ModelSpec(mask_zero=True, bidirectional=True, cell="gru", units=(4,), **small),
                     False, id="mask-zero-bi"),  # fmt: skip
        pytest.param(ModelSpec(trainable_embedding=False, classes=3, units=(4,), **small), False,
                     id="frozen-embedding"),  # fmt: skip
    ]


@pytest.mark.parametrize(("spec", "variable_length"), _specs())
def test_legitimate_models_round_trip(spec: Any, variable_length: bool, tmp_path: Path) -> None:
    from lstmcli.kbuild import build_model

    model = build_model(spec, variable_length=variable_length, seed=1)
    path = tmp_path / "m.keras"
    modelfile.save_model(model, path)
    config = modelfile.check_archive(path)
    assert config["class_name"] == "Functional"
    loaded = modelfile.load_model(path)
    assert [type(lyr).__name__ for lyr in loaded.layers] == [
        type(lyr).__name__ for lyr in model.layers
    ]
    old, new = model.get_weights(), loaded.get_weights()
    assert len(old) == len(new) > 0
    for a, b in zip(old, new, strict=True):
        np.testing.assert_array_equal(a, b)


def test_compiled_models_load(tmp_path: Path) -> None:
    """A compile_config written by Keras (optimizer, schedule, loss, metrics) is allowed."""
    from lstmcli.kbuild import build_model
    from lstmcli.spec import ModelSpec
    from lstmcli.tf import keras

    k = keras()
    model = build_model(ModelSpec(units=(4,), vocab=50, embed_dim=4, seq_len=6, classes=3))
    schedule = k.optimizers.schedules.ExponentialDecay(1e-3, 100, 0.9)
    for i, (opt, loss, metrics) in enumerate([
        ("adam", "sparse_categorical_crossentropy", ["accuracy"]),
        (k.optimizers.Adam(schedule), k.losses.SparseCategoricalCrossentropy(),
         [k.metrics.SparseCategoricalAccuracy(), "auc"]),
        (k.optimizers.RMSprop(), k.losses.sparse_categorical_crossentropy, ["accuracy"]),
    ]):  # fmt: skip
        model.compile(optimizer=opt, loss=loss, metrics=metrics)
        path = tmp_path / f"c{i}.keras"
        modelfile.save_model(model, path)
        assert modelfile.check_archive(path)["compile_config"]
        modelfile.load_model(path)


def test_cli_summary_of_a_legitimate_file(tmp_path: Path) -> None:
    from lstmcli.cli import app
    from lstmcli.kbuild import build_model
    from lstmcli.spec import ModelSpec

    path = tmp_path / "ok.keras"
    modelfile.save_model(build_model(ModelSpec(units=(4,), vocab=50, embed_dim=4, seq_len=6)), path)
    result = CliRunner().invoke(app, ["summary", "--model", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
