"""The user's own labelled texts: a folder of class subfolders, or a CSV / TSV / JSONL file.

* Folder: one subfolder per class holding ``.txt`` files (like ``aclImdb/train``, any class
  names); a subfolder named ``unsup`` and hidden ones are ignored.
* CSV (``.csv``): a header row, then quoted-as-needed rows (RFC 4180, as spreadsheets write).
* TSV (``.tsv``): a header row, then one row per line, *no quoting* (the GLUE/SST convention,
  so quotes inside texts are kept as they are); use CSV for texts with tabs or newlines.
* JSONL (``.jsonl``/``.ndjson``): one JSON object per line.

The text column defaults to the first of text/review/sentence/content that is present, the
label column to the first of label/sentiment/class/target. Labels are mapped to class
indices in sorted order (numerically when they are all integers). Texts that are empty are
skipped and counted; bytes that are not UTF-8 are replaced and counted (both in ``notes``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmcli.core.errors import DataError
from lstmcli.data.request import DataRequest, as_request
from lstmcli.data.textdata import (
    LabelledData,
    TextSplit,
    check_fraction,
    check_limit,
    decode,
    fingerprint,
    limit_split,
    replaced_note,
    stratified_split,
)

TEXT_COLUMNS = ("text", "review", "sentence", "content")
LABEL_COLUMNS = ("label", "sentiment", "class", "target")
TABLES = {".csv": ",", ".tsv": "\t", ".jsonl": None, ".ndjson": None}
IGNORED_FOLDERS = {"unsup"}
MAX_CLASSES = 1000
KINDS = "a folder with one subfolder of .txt files per class, or a .csv, .tsv or .jsonl file"
_SURROGATE = re.compile("[\udc80-\udcff]")
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass
class Rows:
    """Texts and their label strings as read from one file or folder."""

    path: Path
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    empty: int = 0  # skipped: empty or whitespace-only text
    replaced: int = 0  # rows/files with bytes that are not UTF-8
    unit: str = "row"

    def add(self, text: str, label: str, bad_bytes: bool) -> None:
        self.replaced += bad_bytes
        if text.strip():
            self.texts.append(text)
            self.labels.append(label)
        else:
            self.empty += 1

    def notes(self) -> list[str]:
        notes = [f"{self.path}: {n}" for n in replaced_note(self.replaced, self.unit)]
        if self.empty:
            notes.append(f"{self.path}: skipped {self.empty} {self.unit}(s) with an empty text")
        return notes


def read_rows(path: Path, text_col: str | None = None, label_col: str | None = None) -> Rows:
    """Read a folder or table file (see the module docstring). Raises ``DataError``."""
    if not path.exists():
        raise DataError(f"{path} does not exist; give {KINDS}")
    if path.is_dir():
        if text_col is not None or label_col is not None:
            raise DataError(f"{path} is a folder: --text-col/--label-col apply to table files only")
        rows = _read_folder(path)
    else:
        suffix = path.suffix.lower()
        if suffix not in TABLES:
            raise DataError(f"{path}: unknown file type {suffix or '(none)'!r}; give {KINDS}")
        delimiter = TABLES[suffix]
        if delimiter is None:
            rows = _read_jsonl(path, text_col, label_col)
        else:
            rows = _read_delimited(path, delimiter, text_col, label_col)
    if not rows.texts:
        what = "every text is empty" if rows.empty else f"it has no {rows.unit}s"
        raise DataError(f"{path}: no data ({what})")
    return rows


def _read_folder(path: Path) -> Rows:
    rows = Rows(path, unit="file")
    classes = sorted(
        (d for d in os.scandir(path)
         if d.is_dir() and d.name not in IGNORED_FOLDERS and not d.name.startswith(".")),
        key=lambda d: d.name,
    )  # fmt: skip
    if not classes:
        raise DataError(f"{path} has no class subfolders; give {KINDS}")
    for folder in classes:
        files = sorted(
            e.path for e in os.scandir(folder.path) if e.name.endswith(".txt") and e.is_file()
        )
        nested = [e for e in os.scandir(folder.path) if e.is_dir() and e.name != "unsup"]
        if any(f.name.endswith(".txt") for d in nested for f in os.scandir(d.path)):
            raise DataError(
                f"{folder.path} holds folders, not .txt files: give the folder whose subfolders "
                "hold the .txt files (e.g. the train folder, with --test for the test folder)"
            )
        for file in files:
            with open(file, "rb") as fh:
                text, bad = decode(fh.read())
            rows.add(text, folder.name, bad)
    return rows


def _column(path: Path, columns: list[str], wanted: str | None, kind: str) -> str:
    lowered = {c.strip().lower(): c for c in reversed(columns)}
    have = ", ".join(repr(c) for c in columns)
    if wanted is not None:
        if wanted in columns:
            return wanted
        if wanted.strip().lower() in lowered:
            return lowered[wanted.strip().lower()]
        raise DataError(f"{path} has no column {wanted!r} (its columns: {have})")
    defaults = TEXT_COLUMNS if kind == "text" else LABEL_COLUMNS
    for name in defaults:
        if name in lowered:
            return lowered[name]
    raise DataError(
        f"{path} has no {kind} column (looked for {', '.join(defaults)}; its columns: {have}); "
        f"name it with --{kind}-col"
    )


def _read_delimited(
    path: Path, delimiter: str, text_col: str | None, label_col: str | None
) -> Rows:
    rows = Rows(path)
    content = path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, quoting=quoting)
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path} is empty (expected a header row naming the columns)")
        header = [_clean(h)[0].strip() for h in header]
        ti = header.index(_column(path, header, text_col, "text"))
        li = header.index(_column(path, header, label_col, "label"))
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            text, bad_text = _clean(row[ti] if ti < len(row) else "")
            label, bad_label = _clean(row[li] if li < len(row) else "")
            rows.add(text, _label(path, reader.line_num, label), bad_text or bad_label)
    except csv.Error as exc:
        raise DataError(f"{path} line {reader.line_num}: not valid CSV/TSV ({exc})") from None
    return rows


def _clean(cell: str) -> tuple[str, bool]:
    """Undo ``surrogateescape``: bytes that were not UTF-8 become U+FFFD."""
    if _SURROGATE.search(cell) is None:
        return cell, False
    return cell.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), True


def _read_jsonl(path: Path, text_col: str | None, label_col: str | None) -> Rows:
    rows = Rows(path)
    keys: tuple[str, str] | None = None
    for number, raw in enumerate(path.read_bytes().split(b"\n"), 1):
        line, bad = decode(raw)
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} line {number} is not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise DataError(f"{path} line {number} is nested too deeply") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path} line {number} is not a JSON object")
        if keys is None:
            columns = [str(k) for k in obj]
            keys = (
                _column(path, columns, text_col, "text"),
                _column(path, columns, label_col, "label"),
            )
        text = obj.get(keys[0])
        text = "" if text is None else text if isinstance(text, str) else json.dumps(text)
        rows.add(text, _label(path, number, _json_label(obj.get(keys[1]))), bad)
    return rows


def _json_label(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return "" if value is None else str(value)


def _label(path: Path, line: int, label: str) -> str:
    label = label.strip()
    if not label:
        raise DataError(f"{path} line {line} has no label")
    return label


def label_names(labels: list[str]) -> list[str]:
    """Distinct labels in sorted order: numerically when all are integers, else as strings."""
    names = set(labels)
    if all(_INTEGER.fullmatch(n) for n in names):
        return sorted(names, key=lambda n: (int(n), n))
    return sorted(names)


def _split(rows: Rows, index: dict[str, int], what: str) -> TextSplit:
    unknown = sorted(set(rows.labels) - index.keys())
    if unknown:
        raise DataError(
            f"{rows.path}: label {unknown[0]!r} is not among the {what} labels ({', '.join(index)})"
        )
    return TextSplit(rows.texts, np.array([index[x] for x in rows.labels], dtype=np.int64))


def load_user_data(
    path: Path, req: DataRequest | None = None, *, name: str | None = None, **fields: Any
) -> LabelledData:
    """Read ``path``, split it (seeded, stratified) into train/validation; ``test`` (same form)
    becomes the test split, else there is none. ``limit``/``eval_limit`` as in ``load_imdb``.
    The request's fields may also be given as keywords."""
    req = as_request(req or str(path), **fields)
    check_fraction(req.val_split)
    check_limit("limit", req.limit)
    check_limit("eval_limit", req.eval_limit)
    rows = read_rows(path, req.text_col, req.label_col)
    names = label_names(rows.labels)
    if len(names) < 2:
        raise DataError(
            f"{path}: every example has the label {names[0]!r}; need two classes or more"
        )
    if len(names) > MAX_CLASSES:
        raise DataError(
            f"{path}: {len(names)} different labels (at most {MAX_CLASSES} allowed); "
            "is the label column right?"
        )
    index = {n: i for i, n in enumerate(names)}
    full = _split(rows, index, "")
    rng = np.random.default_rng(req.seed)
    train_idx, val_idx = stratified_split(full.labels, req.val_split, rng)
    if len(val_idx) == 0:
        raise DataError(f"{path}: too few examples ({len(full)}) to split off a validation set")
    train = limit_split(full.take(train_idx), req.limit)
    val = limit_split(full.take(val_idx), req.eval_limit)
    notes = rows.notes()
    test_split = None
    if req.test_path is not None:
        test_rows = read_rows(req.test_path, req.text_col, req.label_col)
        test_split = _split(test_rows, index, "training")
        test_split = limit_split(test_split.take(rng.permutation(len(test_split))), req.eval_limit)
        notes += test_rows.notes()
    return LabelledData(
        name=name or str(path),
        train=train,
        val=val,
        test=test_split,
        label_names=names,
        fingerprint=fingerprint(names, [train, val, test_split]),
        notes=notes,
    )
