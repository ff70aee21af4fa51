"""Pure arithmetic: the lecture's numbers, digit for digit, with no TensorFlow."""

from __future__ import annotations

import pytest

from lstmcli.core.errors import UsageError
from lstmcli.model.arith import layer_rows, summarize
from lstmcli.model.spec import ModelSpec, parse_units


@pytest.mark.parametrize(
    ("spec", "total", "rows"),
    [
        (ModelSpec(), 328_353, [320_000, 8_320, 33]),
        (ModelSpec(units=(32, 32, 32), dropout=0.2), 344_993, [320_000, 8_320, 8_320, 8_320, 33]),
        (ModelSpec(bidirectional=True, dropout=0.2), 336_705, [320_000, 16_640, 65]),
        (ModelSpec(cell="simplernn"), 322_113, [320_000, 2_080, 33]),
        (ModelSpec(cell="gru"), 326_369, [320_000, 6_336, 33]),
    ],
)
def test_lecture_tables(spec: ModelSpec, total: int, rows: list[int]) -> None:
    s = summarize(spec)
    assert s.totals.total_params == total
    assert [r.params for r in s.layers] == rows
    # every column adds up to the printed total
    assert sum(r.params for r in s.layers) == s.totals.total_params


def test_formulas_have_numbers_filled_in() -> None:
    rows = {r.name: r.formula for r in layer_rows(ModelSpec())}
    assert rows == {
        "embedding": "10000·32 = 320,000",
        "lstm": "4·32·(32+32)+4·32 = 8,320",
        "dense": "32·1+1 = 33",
    }
    bi = layer_rows(ModelSpec(bidirectional=True))[1]
    assert bi.formula == "2·(4·32·(32+32)+4·32) = 16,640"
    gru = layer_rows(ModelSpec(cell="gru"))[1]
    assert gru.formula == "3·32·(32+32)+2·3·32 = 6,336"
    assert [w.shape for w in gru.weights] == [(32, 96), (32, 96), (2, 96)]


def test_lstm_weight_shapes_and_macs() -> None:
    lstm = layer_rows(ModelSpec())[1]
    assert [(w.name, w.shape) for w in lstm.weights] == [
        ("kernel", (32, 128)),
        ("recurrent_kernel", (32, 128)),
        ("bias", (128,)),
    ]
    assert lstm.macs == 500 * 4 * 32 * (32 + 32)
    s = summarize(ModelSpec())
    assert s.totals.param_bytes == 328_353 * 4
    assert s.totals.macs_per_sample == 500 * 4 * 32 * 64 + 32


def test_stacked_shapes_from_lecture_notes() -> None:
    rows = layer_rows(ModelSpec(features=16, seq_len=8, units=(32, 32, 32), classes=10))
    assert [r.output_shape for r in rows] == [(None, 8, 32), (None, 8, 32), (None, 32), (None, 10)]


def test_frozen_embedding_is_non_trainable() -> None:
    s = summarize(ModelSpec(trainable_embedding=False))
    assert s.totals.non_trainable_params == 320_000
    assert s.totals.trainable_params == 8_353


@pytest.mark.parametrize(
    ("value", "stacked", "expected"),
    [("32", None, (32,)), ("64,32", None, (64, 32)), (16, 3, (16, 16, 16)), ("8,4", 2, (8, 4))],
)
def test_parse_units(value: object, stacked: int | None, expected: tuple[int, ...]) -> None:
    assert parse_units(value, stacked) == expected


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"units": (0,)}, "--units"),
        ({"dropout": 1.5}, "--dropout"),
        ({"recurrent_dropout": -0.1}, "--recurrent-dropout"),
        ({"cell": "foo"}, "--cell"),
        ({"classes": 0}, "--classes"),
        ({"features": 4, "mask_zero": True}, "--mask-zero"),
    ],
)
def test_bad_specs(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        ModelSpec(**kwargs)


@pytest.mark.parametrize(
    ("value", "stacked"), [("32,abc", None), ("0", None), ("8,4", 3), ("8", 0)]
)
def test_bad_units(value: str, stacked: int | None) -> None:
    with pytest.raises(UsageError):
        parse_units(value, stacked)
