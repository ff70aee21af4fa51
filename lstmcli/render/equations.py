"""``inspect --step``: one timestep of one unit, the lecture's equations with the numbers in.

Each line reads ``name = formula = the formula with numbers = result``; the result is computed
from the numbers on its own line (``interpret/step.py``), so a reader can redo every line.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.console import Console

from lstmcli.interpret.step import DIGITS, LETTERS, Equation, Expr, Step, rounded
from lstmcli.model.cells import CELLS
from lstmcli.render.inspect_common import ARROW, num

ALIGN = 40  # the notes after shorter equations start in one column
FN = {"sigmoid": "σ"}  # every other activation is printed by its name
# Symbols whose number is this unit's share of a whole vector product.
VECTOR_PARTS = ("x_t·W", "h_{t−1}·U")


def formula(e: Expr) -> str:
    """The expression in symbols: f·c_{t−1} + i·c̃."""
    if e.op == "var":
        return e.name
    if e.op == "add":
        return " + ".join(formula(a) for a in e.args)
    if e.op == "mul":
        return "·".join(f"({formula(a)})" if a.op == "add" else formula(a) for a in e.args)
    if e.op == "one_minus":
        return f"(1 − {formula(e.args[0])})"
    return f"{FN.get(e.name, e.name)}({formula(e.args[0])})"


def filled(e: Expr, values: dict[str, float], wrap: bool = False) -> str:
    """The expression with the printed numbers: 0.74×(−0.21) + 0.58×(−0.64). ``wrap``: put a
    negative number in parentheses (after an operator)."""
    if e.op == "var":
        text = num(values[e.name], DIGITS)
        return f"({text})" if wrap and values[e.name] < 0 and text.startswith("−") else text
    if e.op == "add":
        return " + ".join(filled(a, values, wrap=i > 0) for i, a in enumerate(e.args))
    if e.op == "mul":
        return "×".join(f"({filled(a, values)})" if a.op == "add" else filled(a, values, True)
                        for a in e.args)  # fmt: skip
    if e.op == "one_minus":
        return f"(1 − {filled(e.args[0], values, True)})"
    return f"{FN.get(e.name, e.name)}({filled(e.args[0], values)})"


def drifted(eq: Equation) -> bool:
    """Whether the model's own value rounds to something else than the printed result."""
    return rounded(eq.exact) != eq.result


def line(eq: Equation) -> str:
    """name = formula = numbers = result (``*``: the model's unrounded value differs)."""
    symbols = formula(eq.expr)
    text = eq.name if symbols == eq.name else f"{eq.name} = {symbols}"
    return text + f" = {filled(eq.expr, eq.inputs)} = {num(eq.result)}" + "*" * drifted(eq)


def _describe(cell: str) -> dict[str, str]:
    """The cell table's words for each equation, by the symbol it defines."""
    out = {}
    for eq in CELLS[cell].equations:
        lhs, _, rest = eq.partition(" = ")
        if "   " in rest:
            out[lhs.strip()] = rest.split("   ", 1)[1].strip()
    return out


def _header(console: Console, step: Step, bidirectional: bool) -> None:
    cell = CELLS[step.cell]
    arrow = f" {ARROW[step.direction]}" if bidirectional else ""
    before = f'after "{step.previous}"' if step.previous else "the first token read"
    say = f"{step.direction} direction, " if step.direction == "backward" else ""
    _p(console, f'Layer {step.layer} ({step.layer_name}): {cell.keras_class}({step.width}), unit {step.unit}{arrow}, '
                f'token {step.position + 1}: "{step.word}" ({say}{before})')  # fmt: skip
    source = f'the embedding of "{step.word}"' if step.layer == 1 else "the layer below's output"
    if step.layer == 1 and step.token == "[UNK]":
        source = f'the embedding of [UNK] ("{step.word}" is not in the vocabulary)'
    _p(console, f"x_t: the {step.inputs} numbers of {source}")
    _p(console, f"h_{{t−1}}: the layer's {step.width} units "
                f"{'after the previous token' if step.previous else 'at 0'}")  # fmt: skip
    known = [f"h_{{t−1}} = {num(step.shown['h_{t−1}'])}"]
    if "c_{t−1}" in step.shown:
        known.append(f"c_{{t−1}} = {num(step.shown['c_{t−1}'])}")
    _p(console, f"Unit {step.unit} before this token: {', '.join(known)}")


def _p(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _summary(step: Step) -> list[str]:
    """What the step did, in words, from the printed numbers only."""
    s = step.shown
    if step.cell == "lstm":
        return [f"c goes from {num(s['c_{t−1}'])} to {num(s['c_t'])}: f keeps "
                f"{s['f'] * 100:.0f}% of the old cell, i writes {s['i'] * 100:.0f}% of the "
                f"candidate {num(s['c̃'])}",
                f"h_t = {num(s['h_t'])}: o lets {s['o'] * 100:.0f}% of tanh(c_t) through"]  # fmt: skip
    if step.cell == "gru":
        return [f"h goes from {num(s['h_{t−1}'])} to {num(s['h_t'])}: u keeps "
                f"{s['u'] * 100:.0f}% of the old state, takes {(1 - s['u']) * 100:.0f}% of the "
                f"candidate {num(s['h̃'])}"]  # fmt: skip
    return [f"h goes from {num(s['h_{t−1}'])} to {num(s['h_t'])}"]


def render_step(console: Console, step: Step, label: str, bidirectional: bool = False) -> None:
    """One step: where it is, the equations with numbers, what it did."""
    _header(console, step, bidirectional)
    describe = _describe(step.cell)
    if step.cell == "simplernn":
        _p(console, f"z = x_t·W + h_{{t−1}}·U + b, with unit {step.unit}'s column of W and U:")
    else:
        blocks = " | ".join(LETTERS[step.cell])
        bias = " + b + h_{t−1}·U + b′" if step.cell == "gru" else " + h_{t−1}·U + b"
        _p(console, f"z = x_t·W{bias}, unit {step.unit}'s column of each block [{blocks}]:")
    if step.cell == "gru":
        _p(console, "(GRU keeps two biases: b′ is added to h_{t−1}·U, the part the reset gate "
                    "scales in h̃)")  # fmt: skip
    notes = {eq.name: describe.get(eq.name, "") for eq in step.equations}
    if "w·h_t" in notes:
        notes["w·h_t"] = f"unit {step.unit}'s share of the logit had the text ended here"
    lengths = [cell_len(line(eq)) for eq in step.equations if notes[eq.name]]
    width = min(max(lengths, default=0), ALIGN)
    for eq in step.equations:
        text = line(eq)
        pad = " " * max(width - cell_len(text), 0) if notes[eq.name] else ""
        _p(console, f"  {text}{pad}   {notes[eq.name]}".rstrip())
    if off := [eq for eq in step.equations if drifted(eq)]:
        _p(console, "  * unrounded: " + ", ".join(f"{eq.name} = {num(eq.exact, 4)}" for eq in off))
    for text in _summary(step):
        _p(console, text)


def render_steps(console: Console, steps: list[Step], label: str, bidirectional: bool) -> None:
    for i, step in enumerate(steps):
        if i:
            console.print()
        render_step(console, step, label, bidirectional)
    _p(console, f"Each result is computed from the numbers on its own line, rounded to {DIGITS} "
                "decimals (*: the\nmodel's own value rounds differently). x_t·W and h_{t−1}·U "
                "each sum over all the numbers\nof x_t and h_{t−1}, with this unit's column of "
                "W and U.")  # fmt: skip


def step_json(step: Step) -> dict[str, Any]:
    return {
        "position": step.position + 1, "word": step.word, "token": step.token, "previous": step.previous,
        "layer": step.layer, "cell": step.cell, "direction": step.direction, "unit": step.unit,
        "units": step.width, "input_size": step.inputs, "digits": DIGITS, "given": step.given,
        "equations": [{"name": eq.name, "formula": formula(eq.expr),
                       "filled": filled(eq.expr, eq.inputs), "inputs": eq.inputs,
                       "result": eq.result, "exact": eq.exact} for eq in step.equations],
    }  # fmt: skip
