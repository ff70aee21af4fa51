"""Word vectors on disk (word2vec/GloVe text format) and as an Embedding layer's start.

A ``.vec`` file (word2vec, fastText) starts with a header line ``N D``; a GloVe ``.txt`` file
has no header. Every other line is a word followed by ``D`` numbers, separated by spaces.

``embedding_matrix`` lines a source of vectors (such a file, or the Embedding layer of an
lstmcli run folder) up with a vocabulary *by word text*, never by index: index 0 (padding)
gets zeros, words the source lacks get small seeded random vectors of the same scale.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstmcli.core import atomic
from lstmcli.core.errors import DataError, UsageError

BLOCK = 8192  # rows parsed into floats at once
_FIELDS = re.compile(r"[ \t]+")


@dataclass
class WordVectors:
    """Words and their vectors, row ``i`` of ``matrix`` belongs to ``words[i]``."""

    words: list[str]
    matrix: np.ndarray  # float32 (len(words), dim)
    origin: str  # where they came from, for messages
    notes: list[str] = field(default_factory=list)

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def index(self) -> dict[str, int]:
        """Word → row; the first occurrence wins when a file repeats a word."""
        out: dict[str, int] = {}
        for i, w in enumerate(self.words):
            out.setdefault(w, i)
        return out


@dataclass
class EmbeddingInit:
    """Initial Embedding weights for a vocabulary, and how many words the source had."""

    matrix: np.ndarray  # float32 (rows, dim)
    found: int  # vocabulary words (padding excluded) that the source has a vector for
    total: int  # vocabulary words, padding excluded
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading


def _bad(path: Path, line: int, what: str) -> DataError:
    return DataError(f"{path} line {line}: {what}")


def _decode(path: Path, raw: bytes, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(
            path, line, "not UTF-8 text (binary word2vec files are not supported; save as text)"
        ) from None


def _is_header(parts: list[str]) -> bool:
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def read_vectors(path: str | Path, keep: set[str] | None = None) -> WordVectors:
    """Read a word2vec ``.vec`` (with ``N D`` header) or GloVe ``.txt`` (without) file.

    ``keep`` reads only those words' vectors (every line's shape is still checked), which
    saves memory on a large file. Raises ``DataError`` naming the file and line.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a word-vector file")
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise DataError(f"word-vector file {path} does not exist") from None
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror})") from None
    words: list[str] = []
    blocks: list[np.ndarray] = []  # float32 rows, converted a block at a time (less memory)
    numbers: list[list[str]] = []
    lines: list[int] = []
    header: tuple[int, int] | None = None
    dim: int | None = None
    rows = 0
    with fh:
        for number, raw in enumerate(fh, 1):
            # Only ASCII spaces and tabs separate fields: tokens may hold other Unicode
            # "whitespace" (U+0085, U+00A0...) that TextVectorization does not split on.
            parts = _FIELDS.split(_decode(path, raw, number).strip(" \t\r\n"))
            if parts == [""]:
                continue  # blank line
            if number == 1 and _is_header(parts):
                header = (int(parts[0]), int(parts[1]))
                if header[1] < 1:
                    raise _bad(path, 1, f"header says {header[1]} dimensions; need at least 1")
                dim = header[1]
                continue
            if dim is None:
                dim = len(parts) - 1
                if dim < 1:
                    raise _bad(path, number, f"word {parts[0]!r} has no numbers after it")
            if len(parts) != dim + 1:
                raise _bad(
                    path,
                    number,
                    f"{len(parts) - 1} numbers after {parts[0]!r}, expected {dim}"
                    + (" (from the header)" if header else " (from the first row)"),
                )
            rows += 1
            if keep is None or parts[0] in keep:
                words.append(parts[0])
                numbers.append(parts[1:])
                lines.append(number)
                if len(numbers) == BLOCK:
                    blocks.append(_to_floats(path, numbers, lines, dim))
                    numbers, lines = [], []
    if dim is None:
        raise DataError(f"{path} is empty; expected word vectors (one word and its numbers a line)")
    if header is not None and header[0] != rows:
        raise _bad(path, 1, f"header says {header[0]} words but the file has {rows} rows")
    if rows == 0:
        raise DataError(f"{path} has a header but no word vectors")
    blocks.append(_to_floats(path, numbers, lines, dim))
    return WordVectors(words, np.concatenate(blocks), str(path))


def _to_floats(path: Path, numbers: list[list[str]], lines: list[int], dim: int) -> np.ndarray:
    if not numbers:
        return np.zeros((0, dim), np.float32)
    try:
        matrix = np.array(numbers, dtype=np.float32)
    except ValueError:
        matrix = None
    if matrix is None or not np.isfinite(matrix).all():
        for row, line in zip(numbers, lines, strict=True):
            for value in row:
                try:
                    x = float(value)
                except ValueError:
                    raise _bad(path, line, f"{value[:40]!r} is not a number") from None
                if not math.isfinite(x) or not math.isfinite(np.float32(x)):
                    raise _bad(path, line, f"{value[:40]!r} is not a finite float32 number")
        raise DataError(f"{path}: numbers on lines {lines[0]}..{lines[-1]} cannot be read")
    return matrix


def read_source(source: str | Path, keep: set[str] | None = None) -> WordVectors:
    """Word vectors from a vector file, or from the Embedding layer of an lstmcli run."""
    source = Path(source)
    if source.is_dir() or source.suffix == ".keras":
        return _from_run(source)
    return read_vectors(source, keep)


def _from_run(source: Path) -> WordVectors:
    from lstmcli.rundir.folder import open_run

    run = open_run(source)
    model = run.load_model()
    # lstmcli models are flat: the Embedding layer, if any, is a top-level layer.
    tables = [layer for layer in model.layers if type(layer).__name__ == "Embedding"]
    if not tables:
        raise DataError(f"the model of run {source} has no Embedding layer (it reads vectors)")
    table = np.asarray(tables[0].get_weights()[0], dtype=np.float32)
    n = min(len(run.vocabulary), table.shape[0])
    notes = [f"the Embedding layer of run {source} ({table.shape[0]:,} × {table.shape[1]})"]
    return WordVectors(list(run.vocabulary[:n]), table[:n], f"run {source}", notes)


# --------------------------------------------------------------------------- writing


def write_vectors(
    path: str | Path, words: Sequence[str], matrix: np.ndarray, digits: int = 6
) -> None:
    """Write a word2vec text file (``N D`` header) atomically."""
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(words):
        raise ValueError(f"{len(words)} words but a matrix of shape {matrix.shape}")
    for w in words:
        if not w or _FIELDS.search(w) or "\n" in w or "\r" in w:
            raise DataError(
                f"cannot write word {w!r} to {path}: words must be non-empty, no spaces"
            )
    row_fmt = " ".join([f"%.{digits}g"] * matrix.shape[1])
    with atomic.atomic_open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(f"{matrix.shape[0]} {matrix.shape[1]}\n")
        for w, row in zip(words, matrix.tolist(), strict=True):
            fh.write(f"{w} {row_fmt % tuple(row)}\n")


# --------------------------------------------------------------------------- using


def embedding_matrix(
    source: str | Path,
    vocabulary: list[str],
    dim: int,
    seed: int = 0,
    rows: int | None = None,
) -> EmbeddingInit:
    """Initial Embedding weights (``rows`` × ``dim``, default one row per vocabulary word).

    Row ``i`` is the source's vector for ``vocabulary[i]`` (matched by text); row 0, the
    padding token, is zeros; missing words (and rows past the vocabulary) get seeded random
    vectors with the standard deviation of the vectors found.
    """
    source = Path(source)
    rows = len(vocabulary) if rows is None else rows
    if rows < len(vocabulary):
        raise ValueError(f"rows={rows} is fewer than the {len(vocabulary)} vocabulary words")
    vectors = read_source(source, keep=set(vocabulary))
    if vectors.dim != dim:
        raise UsageError(
            f"--embed-dim {dim} but vectors in {source} have {vectors.dim} dimensions; "
            f"pass --embed-dim {vectors.dim}"
        )
    where = vectors.index()
    rng = np.random.default_rng(seed)
    matrix = np.zeros((rows, dim), np.float32)
    found_mask = np.zeros(rows, bool)
    for i, word in enumerate(vocabulary):
        j = where.get(word)
        if i == 0 or j is None:
            continue
        matrix[i] = vectors.matrix[j]
        found_mask[i] = True
    total = max(len(vocabulary) - 1, 0)
    found = int(found_mask.sum())
    if found == 0:
        raise DataError(
            f"none of the {total:,} vocabulary words has a vector in {vectors.origin}; "
            "is it for this language and lower-cased text?"
        )
    scale = float(matrix[found_mask].std())
    missing = np.flatnonzero(~found_mask)
    missing = missing[missing != 0]
    matrix[missing] = rng.normal(0.0, scale, size=(len(missing), dim)).astype(np.float32)
    notes = list(vectors.notes)
    pct = 100.0 * found / total if total else 0.0
    notes.append(
        f"{found:,} of {total:,} vocabulary words ({pct:.1f}%) have a vector in "
        f"{vectors.origin}; the other {total - found:,} start random (std {scale:.3g})"
    )
    if rows > len(vocabulary):
        notes.append(f"rows {len(vocabulary):,}..{rows - 1:,} have no word and start random")
    notes.append("row 0 (padding) is zeros")
    if pct < 50:
        notes.append(f"warning: only {pct:.1f}% of the vocabulary was found; check the source")
    return EmbeddingInit(matrix, found, total, notes)


def nearest(source: str | Path | WordVectors, word: str, k: int = 10) -> list[tuple[str, float]]:
    """The ``k`` words whose vectors have the highest cosine similarity to ``word``'s."""
    vectors = source if isinstance(source, WordVectors) else read_source(source)
    where = vectors.index()
    if word not in where:
        hint = f"; did you mean {word.lower()!r}?" if word.lower() in where else ""
        raise DataError(f"{word!r} is not among the {len(where):,} words in {vectors.origin}{hint}")
    norms = np.linalg.norm(vectors.matrix, axis=1)
    q = where[word]
    if norms[q] == 0:
        raise DataError(f"{word!r} has an all-zero vector in {vectors.origin}; no direction")
    safe = np.where(norms > 0, norms, 1.0)
    sims = (vectors.matrix @ vectors.matrix[q]) / (safe * norms[q])
    sims[norms == 0] = -np.inf
    sims[q] = -np.inf
    for i, w in enumerate(vectors.words):  # repeated words and the padding token
        if w == word or w == "":
            sims[i] = -np.inf
    k = max(0, min(k, int(np.isfinite(sims).sum())))
    top = np.argpartition(-sims, k - 1)[:k] if k else np.zeros(0, int)
    top = top[np.argsort(-sims[top], kind="stable")]
    return [(vectors.words[i], float(sims[i])) for i in top]
