"""Word-vector files: reading, writing, alignment by word text, nearest words, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lstmcli.cli.main import app
from lstmcli.core.errors import DataError, UsageError
from lstmcli.embed.vectors import (
    WordVectors,
    embedding_matrix,
    nearest,
    read_source,
    read_vectors,
    write_vectors,
)

runner = CliRunner()

# Four words, three dimensions; "good"/"great" point the same way, "bad" the other way.
TINY = """4 3
good 1.0 0.0 0.5
bad -1.0 0.1 -0.5
great 0.9 0.1 0.4
film 0.0 1.0 0.0
"""


def write(tmp_path: Path, text: str | bytes, name: str = "v.vec") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_read_vec_with_header(tmp_path: Path) -> None:
    wv = read_vectors(write(tmp_path, TINY))
    assert wv.words == ["good", "bad", "great", "film"]
    assert wv.matrix.dtype == np.float32 and wv.matrix.shape == (4, 3)
    np.testing.assert_allclose(wv.matrix[1], [-1.0, 0.1, -0.5])


def test_read_glove_without_header(tmp_path: Path) -> None:
    glove = "".join(TINY.splitlines(keepends=True)[1:]).replace("\n", "\r\n")  # CRLF too
    wv = read_vectors(write(tmp_path, glove, "glove.txt"))
    assert wv.words == ["good", "bad", "great", "film"] and wv.dim == 3


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(5, 7)).astype(np.float32)
    # U+0085 and U+00A0 are Unicode whitespace to Python but not to TextVectorization, so
    # such tokens occur in IMDB vocabularies: they must survive the round trip.
    words = ["[UNK]", "the", "é", "\x85", "a\xa0b"]
    path = tmp_path / "out" / "w.vec"
    write_vectors(path, words, matrix)
    assert path.read_text(encoding="utf-8").splitlines()[0] == "5 7"
    back = read_vectors(path)
    assert back.words == words
    np.testing.assert_allclose(back.matrix, matrix, rtol=1e-5)
    assert [p.name for p in path.parent.iterdir()] == ["w.vec"]  # no temporary file left


def test_trailing_spaces_and_tabs(tmp_path: Path) -> None:
    wv = read_vectors(write(tmp_path, "2 2\ngood 1 2 \nbad\t-1\t-2\n"))  # fastText ends rows in " "
    assert wv.words == ["good", "bad"]
    np.testing.assert_allclose(wv.matrix, [[1, 2], [-1, -2]])


def test_write_refuses_words_with_spaces(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="words must be non-empty"):
        write_vectors(tmp_path / "w.vec", ["a b"], np.zeros((1, 2)))


def test_alignment_by_text_not_index(tmp_path: Path) -> None:
    path = write(tmp_path, TINY)
    vocabulary = ["", "[UNK]", "film", "great", "missing", "good"]
    init = embedding_matrix(path, vocabulary, 3, seed=1)
    m = init.matrix
    assert m.shape == (6, 3) and m.dtype == np.float32
    np.testing.assert_array_equal(m[0], 0.0)  # padding
    np.testing.assert_allclose(m[2], [0.0, 1.0, 0.0])  # film
    np.testing.assert_allclose(m[3], [0.9, 0.1, 0.4])  # great
    np.testing.assert_allclose(m[5], [1.0, 0.0, 0.5])  # good
    assert init.found == 3 and init.total == 5
    # Missing words ([UNK], "missing") are small random vectors of the found vectors' scale.
    found = m[[2, 3, 5]]
    for row in (m[1], m[4]):
        assert np.any(row != 0) and np.abs(row).max() < 5 * found.std()
    again = embedding_matrix(path, vocabulary, 3, seed=1).matrix
    np.testing.assert_array_equal(m, again)  # seeded
    other = embedding_matrix(path, vocabulary, 3, seed=2).matrix
    assert not np.array_equal(m[4], other[4])
    assert any("3 of 5 vocabulary words" in n for n in init.notes)


def test_alignment_extra_rows(tmp_path: Path) -> None:
    init = embedding_matrix(write(tmp_path, TINY), ["", "[UNK]", "good"], 3, rows=6)
    assert init.matrix.shape == (6, 3)
    np.testing.assert_array_equal(init.matrix[0], 0.0)
    assert np.all(np.abs(init.matrix[3:]).sum(axis=1) > 0)


def test_dimension_mismatch_is_one_clear_line(tmp_path: Path) -> None:
    path = write(tmp_path, TINY)
    with pytest.raises(UsageError) as info:
        embedding_matrix(path, ["", "[UNK]", "good"], 32)
    assert str(info.value) == (
        f"--embed-dim 32 but vectors in {path} have 3 dimensions; pass --embed-dim 3"
    )


def test_no_word_found(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="none of the 2 vocabulary words"):
        embedding_matrix(write(tmp_path, TINY), ["", "[UNK]", "zzz"], 3)


MALFORMED = {
    "ragged": ("3 3\na 1 2 3\nb 1 2\nc 1 2 3\n", "line 3: 2 numbers after 'b', expected 3"),
    "ragged_glove": ("a 1 2 3\nb 1 2 3 4\n", "line 2: 4 numbers after 'b', expected 3"),
    "not_a_number": ("2 2\na 1 2\nb 1 x2\n", "line 3: 'x2' is not a number"),
    "not_finite": ("a 1 nan\n", "line 1: 'nan' is not a finite float32 number"),
    "header_count": ("5 2\na 1 2\nb 3 4\n", "line 1: header says 5 words but the file has 2"),
    "header_dim": ("2 4\na 1 2\nb 3 4\n", "line 2: 2 numbers after 'a', expected 4"),
    "no_numbers": ("lonely\n", "line 1: word 'lonely' has no numbers after it"),
    "empty": ("", "is empty"),
    "blank_lines_only": ("\n\n  \n", "is empty"),
    "header_only": ("0 3\n", "has a header but no word vectors"),
    "not_utf8": (b"a 1 2\n\xff\xfe 1 2\n", "line 2: not UTF-8 text"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files(tmp_path: Path, case: str) -> None:
    text, expected = MALFORMED[case]
    path = write(tmp_path, text)
    with pytest.raises(DataError) as info:
        read_vectors(path)
    message = str(info.value)
    assert expected in message and str(path) in message
    assert "\n" not in message


@pytest.mark.parametrize("case", ["ragged", "not_a_number", "header_count", "empty", "not_utf8"])
def test_neighbors_cli_malformed_is_one_line(tmp_path: Path, case: str) -> None:
    text, expected = MALFORMED[case]
    path = write(tmp_path, text)
    result = runner.invoke(app, ["neighbors", str(path), "a"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lstmcli: ") and expected in lines[0]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_vectors(tmp_path / "nope.vec")


def test_nearest_ranks_by_cosine(tmp_path: Path) -> None:
    rows = nearest(write(tmp_path, TINY), "good", 3)
    assert [w for w, _ in rows] == ["great", "film", "bad"]
    assert rows[0][1] == pytest.approx(0.9942, abs=1e-3)
    assert rows[-1][1] < -0.9
    assert len(nearest(write(tmp_path, TINY), "good", 50)) == 3  # never the word itself


def test_nearest_unknown_word(tmp_path: Path) -> None:
    path = write(tmp_path, TINY)
    with pytest.raises(DataError, match="'zzz' is not among the 4 words"):
        nearest(path, "zzz")
    with pytest.raises(DataError, match="did you mean 'good'"):
        nearest(path, "Good")


def test_neighbors_cli(tmp_path: Path) -> None:
    path = write(tmp_path, TINY)
    result = runner.invoke(app, ["neighbors", str(path), "good", "-k", "2"])
    assert result.exit_code == 0, result.output
    assert "great" in result.stdout and "0.99" in result.stdout
    result = runner.invoke(app, ["neighbors", str(path), "good", "--json"])
    data = json.loads(result.stdout)
    assert data["word"] == "good" and data["neighbors"][0]["word"] == "great"
    result = runner.invoke(app, ["neighbors", str(path), "nothere"])
    assert result.exit_code == 1 and "'nothere' is not among" in result.stderr


def make_run(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A tiny run folder whose Embedding rows are known."""
    from lstmcli.backend.build import build_model
    from lstmcli.backend.modelfile import save_model
    from lstmcli.model.spec import ModelSpec
    from lstmcli.rundir.folder import write_run_files

    spec = ModelSpec(vocab=6, embed_dim=4, seq_len=5, units=(2,))
    model = build_model(spec, seed=0)
    table = np.arange(24, dtype=np.float32).reshape(6, 4) / 10 - 1
    model.get_layer("embedding").set_weights([table])
    run = tmp_path / "run"
    write_run_files(run, spec, ["", "[UNK]", "good", "bad", "film"], ["neg", "pos"])
    save_model(model, run / "model.keras")
    return run, table


def test_run_folder_source(tmp_path: Path) -> None:
    run, table = make_run(tmp_path)
    wv = read_source(run)
    assert wv.words == ["", "[UNK]", "good", "bad", "film"]  # only the vocabulary's rows
    np.testing.assert_allclose(wv.matrix, table[:5])
    init = embedding_matrix(run, ["", "[UNK]", "film", "good", "new"], 4, seed=0)
    np.testing.assert_array_equal(init.matrix[0], 0.0)
    np.testing.assert_allclose(init.matrix[1], table[1])  # [UNK] by text
    np.testing.assert_allclose(init.matrix[2], table[4])  # film
    np.testing.assert_allclose(init.matrix[3], table[2])  # good
    assert init.found == 3 and init.total == 4
    with pytest.raises(UsageError, match="pass --embed-dim 4"):
        embedding_matrix(run, ["", "good"], 8)
    words = [w for w, _ in nearest(run, "good", 10)]
    assert "" not in words and "good" not in words and len(words) == 3
    result = runner.invoke(app, ["neighbors", str(run), "good", "--json"])
    assert result.exit_code == 0, result.output


def test_nearest_accepts_loaded_vectors() -> None:
    wv = WordVectors(["a", "b", "c"], np.array([[1, 0], [0, 1], [1, 0.1]], np.float32), "x")
    assert nearest(wv, "a", 1)[0][0] == "c"
