"""CliRunner tests for `lstmcli shapes` (alias `explain-shapes`)."""

from __future__ import annotations

import json

from helpers import invoke

LECTURE = ["--timesteps", "8", "--features", "16", "--stacked", "3", "--classes", "10"]


def test_lecture_stacked_example(golden) -> None:
    result = invoke(["shapes", *LECTURE])
    assert result.exit_code == 0, result.output
    for shape in ("(batch, 8, 32)", "(batch, 32)", "(batch, 10)"):
        assert shape in result.output
    assert "[i | f | c̃ | o]" in result.output
    golden("shapes_stacked_vectors.out", result.output)


def test_default_token_model_explains_padding(golden) -> None:
    result = invoke(["shapes", "--batch", "32"])
    assert "(32, 500)" in result.output and "(32, 500, 32)" in result.output
    assert "padded with 0 at the front" in result.output
    golden("shapes_default_batch32.out", result.output)


def test_alias_and_json() -> None:
    result = invoke(["explain-shapes", *LECTURE, "--json"])
    data = json.loads(result.stdout)
    assert [layer["output_shape"] for layer in data["layers"]] == [
        [None, 8, 32],
        [None, 8, 32],
        [None, 32],
        [None, 10],
    ]
    assert data["checked"] is False


def test_bidirectional_gru_json() -> None:
    data = json.loads(invoke(["shapes", "--bidirectional", "--cell", "gru", "--json"]).stdout)
    rnn = data["layers"][1]
    assert rnn["output_shape"] == [None, 64]
    assert any(t["symbol"] == "z" and t["shape"] == [None, 96] for t in rnn["timestep"])
    assert "Bidirectional" in rnn["why"]


def test_check_confirms_with_keras() -> None:
    result = invoke(["shapes", *LECTURE, "--check"])
    assert result.exit_code == 0, result.output
    assert result.output.count("✓ confirmed by Keras") == 4
    data = json.loads(
        invoke(["shapes", "--return-sequences", "--seq-len", "5", "--check", "--json"]).stdout
    )
    assert data["checked"] is True
    assert all(layer["confirmed"] for layer in data["layers"])
    assert data["layers"][-1]["output_shape"] == [None, 5, 1]
