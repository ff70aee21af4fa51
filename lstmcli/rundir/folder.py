"""A run folder: everything ``train`` leaves behind, and how other commands read it.

runs/NAME/
  spec.json         model spec, text settings, labels, training flags
  vocabulary.txt    one token per line in index order (0 = padding "", 1 = "[UNK]")
  model.keras       best-validation model (token ids in, probabilities out)
  history.csv       one row per epoch
  metrics.json      test metrics, training seconds, samples/s
  learning_curve.png
  confusion_matrix.png, roc_curve.png   evaluate --plots (…-<dataset>.png for another data set)
  report.html       lstmcli report
  checkpoints/      mid-epoch and end-of-epoch state for --resume
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.core import atomic
from lstmcli.core.errors import DataError, ModelFileError
from lstmcli.data.request import DataRequest
from lstmcli.model.spec import ModelSpec

# Every file name inside a run folder; nothing else in lstmcli spells them.
SPEC_FILE, VOCAB_FILE, MODEL_FILE = "spec.json", "vocabulary.txt", "model.keras"
HISTORY_FILE, METRICS_FILE, CURVE_FILE = "history.csv", "metrics.json", "learning_curve.png"
CHECKPOINT_DIR = "checkpoints"
CONFUSION_FILE, ROC_FILE, REPORT_FILE = "confusion_matrix.png", "roc_curve.png", "report.html"


@dataclass(frozen=True)
class RunFiles:
    """The paths of one run folder's files."""

    root: Path

    @property
    def spec(self) -> Path:
        return self.root / SPEC_FILE

    @property
    def vocabulary(self) -> Path:
        return self.root / VOCAB_FILE

    @property
    def model(self) -> Path:
        return self.root / MODEL_FILE

    @property
    def history(self) -> Path:
        return self.root / HISTORY_FILE

    @property
    def metrics(self) -> Path:
        return self.root / METRICS_FILE

    @property
    def curve(self) -> Path:
        return self.root / CURVE_FILE

    @property
    def checkpoints(self) -> Path:
        return self.root / CHECKPOINT_DIR

    @property
    def report(self) -> Path:
        return self.root / REPORT_FILE

    def eval_plots(self, dataset: str | None = None) -> tuple[Path, Path]:
        """The confusion-matrix and ROC pictures of ``evaluate --plots``: of the run's own
        split, or of ``dataset`` (its name in the file names, so neither replaces the other)."""
        if dataset is None:
            return self.root / CONFUSION_FILE, self.root / ROC_FILE
        import re

        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(dataset).stem)[:40].strip("-.") or "data"
        return tuple(  # type: ignore[return-value]
            self.root / f"{Path(name).stem}-{slug}.png" for name in (CONFUSION_FILE, ROC_FILE)
        )


@dataclass
class Run:
    path: Path  # the run folder
    spec: ModelSpec
    vocabulary: list[str]
    label_names: list[str]
    info: dict[str, Any] = field(default_factory=dict)  # the whole spec.json
    model_path: Path | None = None

    @property
    def seq_len(self) -> int:
        return self.spec.seq_len

    def data_request(self, data: str | None = None) -> DataRequest:
        """The dataset and split settings the run was trained with (``data``: another copy
        of the same IMDB archive or folder)."""
        req = DataRequest.from_saved(self.info.get("data"), str(self.path))
        return req.replace(data=data) if data else req

    def load_model(self) -> Any:
        from lstmcli.backend.modelfile import load_model

        path = self.model_path or self.path / MODEL_FILE
        return load_model(path)

    def encode(self, texts: Sequence[str]) -> Any:
        """Ragged token ids (``textpipe.Encoded``) with this run's vocabulary."""
        from lstmcli.data.textpipe import encode

        cut = self.spec.truncate, self.spec.head_tail[0]
        return encode(texts, self.vocabulary, self.seq_len, truncate=cut[0], head_tokens=cut[1])

    def cut_words(self, words: list[str]) -> tuple[list[str], str]:
        """The words of a text longer than ``seq_len`` that the model reads, and a note."""
        from lstmcli.data.textpipe import kept

        spec, n, t = self.spec, len(words), self.seq_len
        read = [words[i] for i in kept(n, t, spec.truncate, spec.head_tail[0])]
        how = {"pre": f"the last {t}", "post": f"the first {t}"}.get(spec.truncate)
        how = how or "the first {} and the last {}".format(*spec.head_tail)
        why = "seq_len" if spec.truncate == "pre" else f"seq_len, --truncate {spec.truncate}"
        return read, f"only {how} of {n} words are read ({why})"

    def padded(self, texts: Sequence[str], length: int | None = None) -> np.ndarray:
        """(n, T) int32 token ids padded at the front to ``length`` (default ``seq_len``)."""
        from lstmcli.data.textpipe import pad_front

        enc = self.encode(texts)
        return pad_front([enc.row(i) for i in range(len(enc))], length or self.seq_len)


def write_run_files(
    folder: Path,
    spec: ModelSpec,
    vocabulary: list[str],
    label_names: list[str],
    extra: dict[str, Any] | None = None,
) -> None:
    """Write ``spec.json`` and ``vocabulary.txt`` (atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    info = {
        "model": spec.to_dict(),
        "labels": list(label_names),
        "text": text_entry(spec),
        **(extra or {}),
    }  # fmt: skip
    atomic.write_json(folder / SPEC_FILE, info)
    # Tokens never contain newlines (the standardiser splits on whitespace).
    atomic.write_text(folder / VOCAB_FILE, "\n".join(vocabulary) + "\n")


def text_entry(spec: ModelSpec) -> dict[str, Any]:
    """How the run turns text into token ids (``read_info`` holds the model entry to it)."""
    entry: dict[str, Any] = {"padding": "pre", "truncating": spec.truncate}
    if spec.truncate == "head+tail":
        entry["head_tokens"] = spec.head_tail[0]
    return {**entry, "standardize": "lower, no <br />, no punctuation"}


def read_info(folder: Path) -> tuple[dict[str, Any], ModelSpec, list[str]]:
    """``spec.json`` of a run folder: the whole document, its model spec and its labels."""
    spec_path = folder / SPEC_FILE
    try:
        info = json.loads(spec_path.read_text(encoding="utf-8"))
        spec = ModelSpec.from_dict(info["model"])
        labels = [str(x) for x in info["labels"]]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{spec_path} is corrupt ({type(exc).__name__}: {exc})") from None
    text = info.get("text")
    if isinstance(text, dict) and "truncating" in text:
        # A run written before --truncate existed says "pre" here and nothing in "model".
        keys, want = ("truncating", "head_tokens"), text_entry(spec)
        if any(text.get(k) != want.get(k) for k in keys):
            raise DataError(f"{spec_path} is corrupt (its text and model entries disagree)")
    return info, spec, labels


def open_run(path: str | Path) -> Run:
    """Open a run folder, or a ``.keras`` file that has ``spec.json`` beside it."""
    path = Path(path)
    model_path = None
    if path.suffix == ".keras" and not path.is_dir():
        model_path, path = path, path.parent
    if not path.exists():
        raise DataError(f"run {path} does not exist")
    spec_path = path / SPEC_FILE
    if not spec_path.is_file():
        raise DataError(
            f"{path} is not an lstmcli run (no {SPEC_FILE}); give a folder made by lstmcli train"
        )
    info, spec, labels = read_info(path)
    vocab_path = path / VOCAB_FILE
    try:
        vocabulary = vocab_path.read_text(encoding="utf-8").split("\n")[:-1]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {vocab_path} ({exc})") from None
    if len(vocabulary) < 2 or vocabulary[0] != "":
        raise DataError(f"{vocab_path} is corrupt: line 1 must be the empty padding token")
    if model_path is None and not (path / MODEL_FILE).is_file():
        raise ModelFileError(f"{path} has no {MODEL_FILE} (did training finish an epoch?)")
    return Run(path, spec, vocabulary, labels, info, model_path)
