"""``inspect --step``: one step's equations, equal to the traced pass and exact as printed."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import helpers
import pytest
from rich.console import Console

from lstmcli.core.errors import UsageError
from lstmcli.interpret import gates, step
from lstmcli.model.spec import ModelSpec
from lstmcli.render import equations
from lstmcli.rundir.folder import open_run

TEXT = "The movie was great, and FUN! Not boring... zorblax"
BASE = ModelSpec(units=(4,), vocab=12, embed_dim=4, seq_len=100)
# the equation that defines each traced quantity
TRACED = {
    "lstm": {"i": "input", "f": "forget", "c̃": "candidate", "o": "output", "c_t": "cell",
             "h_t": "hidden"},
    "gru": {"u": "update", "r": "reset", "h̃": "candidate", "h_t": "hidden"},
    "simplernn": {"h_t": "hidden"},
}  # fmt: skip
CASES = {
    "lstm": (BASE, True),
    "gru": (BASE.replace(cell="gru"), True),
    "simplernn": (BASE.replace(cell="simplernn"), True),
    "bi-gru-stacked": (BASE.replace(cell="gru", units=(3, 2), bidirectional=True), True),
    "lstm-fixed-masked": (BASE.replace(seq_len=12, mask_zero=True), False),
    "lstm-fixed-unmasked": (BASE.replace(seq_len=12), False),
}


def inspection(folder: Path, spec: ModelSpec, variable: bool = True, layer: int | None = None):
    model = helpers.make_model(spec, variable=variable, seed=3, scale=0.8)
    run = open_run(helpers.make_run(folder, spec, model=model))
    return gates.inspect_text(run, TEXT, layer=layer, model=model)


@pytest.mark.parametrize("case", list(CASES))
def test_step_values_are_the_traced_pass(tmp_path: Path, case: str) -> None:
    spec, variable = CASES[case]
    insp = inspection(tmp_path / "run", spec, variable)
    e = insp.explained
    for d, direction in enumerate(insp.directions):
        for unit in range(insp.units):
            for pos in range(len(insp.words)):
                s = step.explain_step(insp, pos, unit, d)
                assert s.direction == direction and s.word == insp.words[pos]
                exact = {eq.name: eq.exact for eq in s.equations}
                for name, quantity in TRACED[spec.cell].items():
                    want = insp.traces[d][quantity][pos, unit]
                    assert exact[name] == pytest.approx(want, abs=1e-9), (name, pos)
                if direction == "forward":  # had the text ended here, the unit adds w·h_t
                    j = e.features.index((direction, unit, "last"))
                    assert exact["w·h_t"] == pytest.approx(e.weights[j] * exact["h_t"])
                    if pos == len(insp.words) - 1:
                        assert exact["w·h_t"] == pytest.approx(e.contributions[j], abs=1e-12)
                else:
                    assert "w·h_t" not in exact


def recompute(filled: str) -> float:
    """Evaluate the printed arithmetic: 0.74×(−0.21) + σ(0.31)."""
    code = filled.replace("−", "-").replace("×", "*").replace("σ", "sig")
    assert re.fullmatch(r"[-+*() .0-9sigtanh]+", code), code
    names = {"sig": lambda z: 1 / (1 + math.exp(-z)), "tanh": math.tanh}
    return eval(code, {"__builtins__": {}}, names)  # our own printed digits only (checked above)


def printed_equations(text: str) -> list[tuple[str, str, str]]:
    """(name, numbers, result) of every printed equation line."""
    out = []
    for line in text.splitlines():
        if not line.startswith("  ") or " = " not in line or line.startswith("  *"):
            continue
        parts = line.strip().split(" = ")
        out.append((parts[0], parts[-2], parts[-1].split()[0]))
    return out


@pytest.mark.parametrize("case", ["lstm", "gru", "simplernn", "bi-gru-stacked"])
def test_printed_arithmetic_is_exact_to_the_digits_shown(tmp_path: Path, case: str) -> None:
    spec, variable = CASES[case]
    insp = inspection(tmp_path / "run", spec, variable)
    checked = 0
    for pos in range(len(insp.words)):
        steps, _ = step.explain_steps(insp, str(pos + 1), pos % insp.units)
        console = Console(file=io.StringIO(), width=100, color_system=None)
        equations.render_steps(console, steps, "pos", len(insp.directions) == 2)
        text = console.file.getvalue()
        lines = printed_equations(text)
        assert len(lines) == sum(len(s.equations) for s in steps)
        for name, numbers, result in lines:
            got = float(result.rstrip("*").replace("−", "-"))
            assert abs(recompute(numbers) - got) <= 0.005 + 1e-9, (name, numbers, result)
            assert re.fullmatch(r"−?\d+\.\d\d\*?", result), result  # two decimals
            checked += 1
        # a starred result names the model's own value, which rounds differently
        for s in steps:
            for eq in s.equations:
                if eq.result != step.rounded(eq.exact):
                    assert f"{eq.name} = {equations.num(eq.exact, 4)}" in text
    assert checked >= 3 * len(insp.words)


def test_each_line_uses_the_printed_results_of_the_lines_before(tmp_path: Path) -> None:
    insp = inspection(tmp_path / "run", CASES["gru"][0])
    s = step.explain_step(insp, 3, 2)
    data = equations.step_json(s)
    printed = {k: step.rounded(v) for k, v in data["given"].items()}
    for eq, expr in zip(data["equations"], (e.expr for e in s.equations), strict=True):
        for symbol, value in eq["inputs"].items():
            assert value == printed[symbol], symbol
        assert eq["result"] == step.rounded(step.evaluate(expr, eq["inputs"]))
        assert recompute(eq["filled"]) == pytest.approx(eq["result"], abs=0.005 + 1e-9)
        printed[eq["name"]] = eq["result"]
    assert [eq["name"] for eq in data["equations"]] == ["z_u", "u", "z_r", "r", "z_h̃", "h̃",
                                                        "h_t", "w·h_t"]  # fmt: skip
    assert data["position"] == 4 and data["word"] == "great" and data["previous"] == "was"


def test_result_is_computed_from_the_printed_inputs() -> None:
    chain = step.Chain()
    chain.given("f", 0.7391)
    chain.given("c_{t−1}", -0.2114)
    chain.given("i", 0.5849)
    chain.given("c̃", -0.6449)
    eq = chain.define("c_t", step.add(step.mul(step.var("f"), step.var("c_{t−1}")),
                                      step.mul(step.var("i"), step.var("c̃"))))  # fmt: skip
    assert eq.inputs == {"f": 0.74, "c_{t−1}": -0.21, "i": 0.58, "c̃": -0.64}
    assert eq.result == -0.53  # 0.74×(−0.21) + 0.58×(−0.64) = −0.5266
    assert eq.exact == pytest.approx(0.7391 * -0.2114 + 0.5849 * -0.6449)
    assert equations.line(eq) == "c_t = f·c_{t−1} + i·c̃ = 0.74×(−0.21) + 0.58×(−0.64) = −0.53"
    z = chain.define("i2", step.fn("sigmoid", step.var("c_t")))
    assert equations.line(z) == "i2 = σ(c_t) = σ(−0.53) = 0.37"
    for name in ("a", "b", "c"):  # each prints as 0.00, together they are 0.012
        chain.given(name, 0.004)
    drift = chain.define("s", step.add(step.var("a"), step.var("b"), step.var("c")))
    assert drift.result == 0.0 and step.rounded(drift.exact) == 0.01
    assert equations.line(drift) == "s = a + b + c = 0.00 + 0.00 + 0.00 = 0.00*"


def test_find_position() -> None:
    words = ["the", "movie", "was", "not", "the", "worst"]
    assert step.find_position(words, "the") == (0, [4])
    assert step.find_position(words, "Worst") == (5, [])
    assert step.find_position(words, "2") == (1, [])
    with pytest.raises(UsageError, match=r"--step 7: the text has 6 tokens; use 1\.\.6"):
        step.find_position(words, "7")
    with pytest.raises(UsageError, match="--step boring: not a word of the text"):
        step.find_position(words, "boring")
