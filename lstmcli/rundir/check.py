"""The files of a run folder must belong together, and ``spec.json`` must say what it means.

``read_spec_json`` checks every entry of ``spec.json`` (types, known keys, the label count
against the model's classes) and names the file and the key that is wrong. ``check_model``
holds a loaded model against the spec and the vocabulary before it is used: a
``model.keras`` copied in from another run would otherwise read token ids past its
embedding (an error on CPU, silently zeros under XLA) or map outputs to the wrong labels.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lstmcli.core.errors import DataError, ModelFileError, UsageError
from lstmcli.core.files import read_regular
from lstmcli.model.spec import ModelSpec

MAX_SPEC_BYTES = 16 * 1024**2
_FLAG = re.compile(r"--([a-z][a-z-]*):? (.*)")
_OPT_INT, _OPT_STR = (int, type(None)), (str, type(None))
# What each ``data`` entry may hold (``DataRequest``'s fields).
DATA_TYPES: dict[str, tuple[type, ...]] = {
    "name_or_path": (str,), "data": _OPT_STR, "seed": (int,), "limit": _OPT_INT,
    "eval_limit": _OPT_INT, "val_split": (float, int), "test": _OPT_STR,
    "text_col": _OPT_STR, "label_col": _OPT_STR, "val_by": (str,),
}  # fmt: skip
TOP_TYPES: dict[str, tuple[type, ...]] = {"run_id": (str,), "vocabulary_sha256": (str,)}


def model_name(run_id: str | None) -> str:
    """The name a run's models carry: ``lstmcli-<run id>`` (plain ``lstmcli`` without one)."""
    return f"lstmcli-{run_id}" if run_id else "lstmcli"


def check_types(
    doc: Any,
    types: dict[str, tuple[type, ...]],
    path: Path,
    section: str,
    required: tuple[str, ...] = (),
) -> dict[str, Any]:
    """``doc`` must be an object whose keys are known and whose values have their types."""
    if not isinstance(doc, dict):
        raise DataError(f"{path}: key {section!r} must be an object, not {_kind(doc)}")
    for key, value in doc.items():
        if key not in types:
            raise DataError(f"{path}: unknown key {section}.{str(key)[:60]}")
        ok = types[key]
        if (type(value) is bool and bool not in ok) or not isinstance(value, ok):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in ok)
            raise DataError(f"{path}: key {section}.{key} must be {names}, not {_kind(value)}")
    for key in required:
        if key not in doc:
            raise DataError(f"{path}: key {section}.{key} is missing")
    return doc


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def read_spec_json(path: Path) -> tuple[dict[str, Any], ModelSpec, list[str]]:
    """``spec.json``: the whole document, its model spec and its labels (all checked)."""
    raw = read_regular(path, MAX_SPEC_BYTES, str(path), DataError)
    try:
        info = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise DataError(f"{path} is not valid JSON ({str(exc)[:120]})") from None
    if not isinstance(info, dict):
        raise DataError(f"{path} must hold a JSON object, not {_kind(info)}")
    model = info.get("model")
    if not isinstance(model, dict):
        raise DataError(f"{path}: key 'model' must be an object, not {_kind(model)}")
    try:
        spec = ModelSpec.from_dict(model)
    except UsageError as exc:
        m = _FLAG.fullmatch(str(exc))
        key, detail = (m.group(1).replace("-", "_"), m.group(2)) if m else ("", str(exc))
        raise DataError(f"{path}: key model{'.' + key if key else ''}: {detail}") from None
    labels = info.get("labels")
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise DataError(f"{path}: key 'labels' must be a list of strings")
    wanted = 2 if spec.classes == 1 else spec.classes
    if len(labels) != wanted:
        raise DataError(
            f"{path}: key 'labels' lists {len(labels)} label(s), but model.classes "
            f"{spec.classes} needs {wanted}"
        )
    if len(set(labels)) != len(labels):
        raise DataError(f"{path}: key 'labels' lists a label twice")
    for key, types in TOP_TYPES.items():
        if key in info and not isinstance(info[key], types):
            raise DataError(f"{path}: key {key!r} must be a string")
    if info.get("data") is not None:
        check_types(info["data"], DATA_TYPES, path, "data", required=("name_or_path",))
    return info, spec, labels


def check_model(
    model: Any, spec: ModelSpec, vocabulary: list[str], model_path: Path, run_id: Any = None
) -> None:
    """Refuse a model whose shapes are not those ``spec.json`` and ``vocabulary.txt`` describe,
    or (``run_id``: recorded in ``spec.json`` by ``train``) that another run saved."""
    from lstmcli.model.arith import layer_rows

    folder = model_path.parent
    problem = _first_mismatch(model, spec, len(vocabulary))
    if problem is None and run_id is not None and model.name != model_name(str(run_id)):
        problem = f"it was saved by another run (it is named {str(model.name)[:60]!r})"
    if problem is None:
        expected = sorted(tuple(w.shape) for r in layer_rows(spec) for w in r.weights)
        actual = sorted(tuple(int(d) for d in w.shape) for w in model.weights)
        if expected != actual:
            problem = f"its weights are not those of {spec.describe()}"
    if problem:
        raise ModelFileError(
            f"{model_path} does not belong with {folder / 'spec.json'} and its vocabulary: "
            f"{problem}; copy a run folder whole, never its files one by one"
        )


def _first_mismatch(model: Any, spec: ModelSpec, words: int) -> str | None:
    if spec.token_input and words > spec.vocab:
        return f"vocabulary.txt has {words:,} entries, more than spec.json's vocab {spec.vocab:,}"
    rows = [int(layer.weights[0].shape[0]) for layer in model.layers
            if type(layer).__name__ == "Embedding" and layer.weights]  # fmt: skip
    if spec.token_input and rows != [spec.vocab]:
        shown = rows[0] if len(rows) == 1 else len(rows)
        what = "rows" if len(rows) == 1 else "embedding layers"
        return f"its embedding has {shown:,} {what}, spec.json says vocab {spec.vocab:,}"
    length = model.inputs[0].shape[1] if len(model.inputs[0].shape) > 1 else None
    if length is not None and int(length) != spec.seq_len:
        return f"it reads {int(length)} timesteps, spec.json says seq_len {spec.seq_len}"
    from lstmcli.model.arith import layer_rows

    out, want = int(model.outputs[0].shape[-1]), layer_rows(spec)[-1].output_shape[-1]
    if out != want:
        said = f"classes {spec.classes}" if spec.head == "dense" else f"{want} outputs"
        return f"it has {out} output(s), spec.json says {said}"
    return None
