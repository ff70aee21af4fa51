"""The user's own labelled data: class folders, CSV, TSV, JSONL; errors are one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lstmcli.core.errors import DataError
from lstmcli.data.datasets import load_labelled
from lstmcli.data.userdata import label_names, load_user_data


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def balanced_rows(n: int = 10, labels: tuple[str, ...] = ("pos", "neg")) -> list[tuple[str, str]]:
    return [(f"review {i} of class {lab}", lab) for lab in labels for i in range(n)]


def csv_file(tmp_path: Path, name: str = "data.csv", n: int = 10) -> Path:
    rows = [f'"{t}, with a comma",{y}' for t, y in balanced_rows(n)]
    return write_csv(tmp_path / name, "text,label", rows)


def test_class_folders(tmp_path: Path) -> None:
    for label in ("b_good", "a_bad", "c_meh"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(5):
            (tmp_path / "data" / label / f"{i}.txt").write_text(f"{label} text {i}")
    (tmp_path / "data" / "unsup").mkdir()
    (tmp_path / "data" / "unsup" / "0.txt").write_text("no label")
    (tmp_path / "data" / ".hidden").mkdir()
    (tmp_path / "data" / "a_bad" / "notes.md").write_text("not a review")
    d = load_labelled(str(tmp_path / "data"), val_split=0.4)
    assert d.label_names == ["a_bad", "b_good", "c_meh"] and d.test is None
    assert (len(d.train), len(d.val)) == (9, 6)
    assert np.bincount(d.val.labels).tolist() == [2, 2, 2]
    for split in (d.train, d.val):
        assert all(
            t.startswith(d.label_names[y]) for t, y in zip(split.texts, split.labels, strict=True)
        )
    assert d.notes == []


def test_folder_of_folders_hint(tmp_path: Path) -> None:
    (tmp_path / "aclImdb" / "train" / "pos").mkdir(parents=True)
    (tmp_path / "aclImdb" / "test" / "neg").mkdir(parents=True)
    (tmp_path / "aclImdb" / "train" / "urls_pos.txt").write_text("http://example.invalid/")
    (tmp_path / "aclImdb" / "train" / "pos" / "0_9.txt").write_text("a review")
    with pytest.raises(DataError, match=r"holds folders, not \.txt files"):
        load_labelled(str(tmp_path / "aclImdb"))


def test_csv_split_is_seeded_and_stratified(tmp_path: Path) -> None:
    path = csv_file(tmp_path)
    a = load_labelled(str(path), seed=3)
    assert a.name == str(path) and a.label_names == ["neg", "pos"]
    assert (len(a.train), len(a.val)) == (16, 4)
    assert np.bincount(a.val.labels).tolist() == [2, 2]
    assert all(t.endswith(", with a comma") for t in a.train.texts)
    b = load_labelled(str(path), seed=3)
    assert a.val.texts == b.val.texts and a.fingerprint == b.fingerprint
    c = load_labelled(str(path), seed=4)
    assert c.val.texts != a.val.texts and c.fingerprint != a.fingerprint
    limited = load_labelled(str(path), seed=3, limit=4, eval_limit=2)
    assert np.bincount(limited.train.labels).tolist() == [2, 2] and len(limited.val) == 2
    assert set(limited.val.texts) < set(a.val.texts) and sorted(limited.val.labels) == [0, 1]


def test_csv_default_columns_quotes_and_newlines(tmp_path: Path) -> None:
    rows = [f'x{i},"Line one\nline ""two"" {y}",{y}' for i, y in enumerate(["good", "bad"] * 5)]
    d = load_user_data(write_csv(tmp_path / "r.csv", "id,Review,Sentiment", rows))
    assert d.label_names == ["bad", "good"]
    texts = d.train.texts + d.val.texts
    assert all(t.startswith('Line one\nline "two"') for t in texts)


def test_integer_labels_sort_numerically(tmp_path: Path) -> None:
    rows = [f"text {i} {y},{y}" for i, y in enumerate(["2", "10", "1"] * 4)]
    d = load_user_data(write_csv(tmp_path / "n.csv", "text,label", rows))
    assert d.label_names == ["1", "2", "10"]
    assert all(
        t.endswith(" " + d.label_names[y])
        for t, y in zip(d.train.texts, d.train.labels, strict=True)
    )
    assert label_names(["b", "a", "10", "9"]) == ["10", "9", "a", "b"]


def test_tsv_keeps_quotes(tmp_path: Path) -> None:
    rows = [f'a "quoted {i} word\t{y}' for i, y in enumerate(["pos", "neg"] * 5)]
    d = load_user_data(write_csv(tmp_path / "s.tsv", "sentence\tlabel", rows))
    assert len(d.train) + len(d.val) == 10
    assert all(t.startswith('a "quoted ') for t in d.train.texts)


def test_jsonl(tmp_path: Path) -> None:
    lines = [json.dumps({"content": f"text {i}", "target": i % 2, "x": None}) for i in range(10)]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines[:5]) + "\n\n" + "\n".join(lines[5:]) + "\n")
    d = load_user_data(path, val_split=0.2)
    assert d.label_names == ["0", "1"] and len(d.train) + len(d.val) == 10
    custom = load_user_data(path, text_col="content", label_col="target", test=path)
    assert custom.test is not None and len(custom.test) == 10


def test_jsonl_errors(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{"text": "b"}\n')
    with pytest.raises(DataError, match=r"d\.jsonl line 2 has no label"):
        load_user_data(path)
    path.write_text('{"text": "a", "label": 1}\n{"text": "b", \n')
    with pytest.raises(DataError, match="line 2 is not valid JSON"):
        load_user_data(path)
    path.write_text('["text", 1]\n')
    with pytest.raises(DataError, match="line 1 is not a JSON object"):
        load_user_data(path)


def test_missing_column_lists_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", "body,stars", ["great,5", "awful,1"])
    with pytest.raises(DataError) as info:
        load_user_data(path)
    message = str(info.value)
    assert "no text column" in message and "'body', 'stars'" in message and "--text-col" in message
    with pytest.raises(DataError, match=r"has no column 'review' \(its columns: 'body', 'stars'\)"):
        load_user_data(path, text_col="review", label_col="stars")


def test_one_class_only(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "one.csv", "text,label", ["a,pos", "b,pos", "c,pos"])
    with pytest.raises(DataError, match="every example has the label 'pos'"):
        load_user_data(path)


def test_empty_texts_are_skipped_and_counted(tmp_path: Path) -> None:
    rows = [f"t{i},{y}" for i, y in enumerate(["p", "n"] * 5)] + [",p", '"   ",n']
    d = load_user_data(write_csv(tmp_path / "e.csv", "text,label", rows))
    assert len(d.train) + len(d.val) == 10
    assert d.notes == [f"{tmp_path / 'e.csv'}: skipped 2 row(s) with an empty text"]
    empty = write_csv(tmp_path / "all.csv", "text,label", [",p", " ,n"])
    with pytest.raises(DataError, match="every text is empty"):
        load_user_data(empty)


def test_missing_label_names_the_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", "text,label", ["a,pos", "b,neg", "c", "d,pos"])
    with pytest.raises(DataError, match=r"m\.csv line 4 has no label"):
        load_user_data(path)


def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    body = "text,label\n" + "".join(f"ok {i},{'ab'[i % 2]}\n" for i in range(8))
    path.write_bytes(b"\xef\xbb\xbf" + body.encode() + b"caf\xe9 au lait,a\nna\xefve,b\n")
    d = load_user_data(path)
    texts = d.train.texts + d.val.texts
    assert "caf\ufffd au lait" in texts and "na\ufffdve" in texts
    assert d.notes == [f"{path}: 2 rows had bytes that are not UTF-8 (replaced with U+FFFD)"]
    folder = tmp_path / "folder"
    for label in ("x", "y"):
        (folder / label).mkdir(parents=True)
        for i in range(3):
            (folder / label / f"{i}.txt").write_bytes(b"bad \xff byte" if i == 0 else b"good")
    assert load_user_data(folder).notes == [
        f"{folder}: 2 files had bytes that are not UTF-8 (replaced with U+FFFD)"
    ]


def test_test_file(tmp_path: Path) -> None:
    train = csv_file(tmp_path, "train.csv")
    test = write_csv(tmp_path / "test.csv", "text,label", ["x,pos", "y,neg", "z,neg"])
    d = load_user_data(train, test=test)
    assert d.test is not None and sorted(d.test.labels.tolist()) == [0, 0, 1]
    assert load_user_data(train, test=test, eval_limit=2).test is not None
    bad = write_csv(tmp_path / "bad.csv", "text,label", ["x,pos", "y,meh"])
    with pytest.raises(DataError, match="label 'meh' is not among the training labels"):
        load_user_data(train, test=bad)


def test_path_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no dataset named .*missing\.csv: give imdb, sample"):
        load_labelled(str(tmp_path / "missing.csv"))
    with pytest.raises(DataError, match="does not exist"):
        load_user_data(tmp_path / "missing.csv")
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    with pytest.raises(DataError, match=r"unknown file type '\.xlsx'; give a folder"):
        load_user_data(tmp_path / "data.xlsx")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="is empty"):
        load_user_data(tmp_path / "empty.csv")
    write_csv(tmp_path / "header.csv", "text,label", [])
    with pytest.raises(DataError, match="no data"):
        load_user_data(tmp_path / "header.csv")
    with pytest.raises(DataError, match="too few examples"):
        load_user_data(write_csv(tmp_path / "two.csv", "text,label", ["a,x", "b,y"]))
    with pytest.raises(DataError, match="apply to table files only"):
        load_user_data(tmp_path, text_col="text")
