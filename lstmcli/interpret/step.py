"""One timestep of one unit, as the lecture writes it, with this model's numbers filled in.

Every quantity is an ``Equation``: a small expression over named symbols (``z_i``, ``c_{t−1}``),
the printed value of each symbol, and the value the NumPy recomputation gives. Printed values
have ``DIGITS`` decimals, and each result is computed from the printed values of its own
inputs, then rounded: so the arithmetic on every printed line is exact to the digits shown.
``exact`` keeps the model's unrounded value; a printout mentions it where the two differ.

>>> chain = Chain()
>>> chain.given("f", 0.7391); chain.given("c_{t−1}", -0.2114)
>>> eq = chain.define("c", mul(var("f"), var("c_{t−1}")))
>>> eq.inputs, eq.result, round(eq.exact, 4)
({'f': 0.74, 'c_{t−1}': -0.21}, -0.16, -0.1562)
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstmcli.core.errors import UsageError
from lstmcli.interpret.net import Cell, Feature, act_fn, act_name

DIGITS = 2


@dataclass(frozen=True)
class Expr:
    """``op``: var | add | mul | fn | one_minus. ``name``: a var's symbol, a fn's activation."""

    op: str
    args: tuple[Expr, ...] = ()
    name: str = ""

    def symbols(self) -> list[str]:
        if self.op == "var":
            return [self.name]
        return [s for a in self.args for s in a.symbols()]


def var(name: str) -> Expr:
    return Expr("var", name=name)


def add(*args: Expr) -> Expr:
    return Expr("add", args)


def mul(*args: Expr) -> Expr:
    return Expr("mul", args)


def fn(name: str, arg: Expr) -> Expr:
    return Expr("fn", (arg,), name)


def one_minus(arg: Expr) -> Expr:
    return Expr("one_minus", (arg,))


def evaluate(e: Expr, values: dict[str, float]) -> float:
    if e.op == "var":
        return values[e.name]
    parts = [evaluate(a, values) for a in e.args]
    if e.op == "add":
        return sum(parts)
    if e.op == "mul":
        return math.prod(parts)
    if e.op == "one_minus":
        return 1.0 - parts[0]
    return float(act_fn(e.name)(np.float64(parts[0])))


def rounded(x: float) -> float:
    """``x`` as printed (−0.00 becomes 0.00)."""
    return float(f"{x:.{DIGITS}f}") + 0.0


@dataclass
class Equation:
    name: str  # what it defines: "i", "c_t"
    expr: Expr
    inputs: dict[str, float]  # the printed value of each symbol of ``expr``
    exact: float  # the model's value (from unrounded inputs)

    @property
    def result(self) -> float:
        """The printed result: ``expr`` on the printed inputs, rounded."""
        return rounded(evaluate(self.expr, self.inputs))


@dataclass
class Chain:
    """Quantities defined one after the other; each printed result feeds the next line."""

    shown: dict[str, float] = field(default_factory=dict)
    exact: dict[str, float] = field(default_factory=dict)
    equations: list[Equation] = field(default_factory=list)

    def given(self, name: str, value: float) -> None:
        self.shown[name], self.exact[name] = rounded(value), float(value)

    def define(self, name: str, expr: Expr) -> Equation:
        eq = Equation(name, expr, {s: self.shown[s] for s in expr.symbols()},
                      evaluate(expr, self.exact))  # fmt: skip
        self.equations.append(eq)
        self.shown[name], self.exact[name] = eq.result, eq.exact
        return eq


@dataclass
class Step:
    """Unit ``unit`` of layer ``layer`` (``direction``) reading token ``position`` (0-based)."""

    position: int
    word: str
    token: str  # the vocabulary entry read ("[UNK]" for an unknown word)
    previous: str | None  # the token this direction read just before (None: the first)
    layer: int
    layer_name: str
    cell: str
    direction: str
    unit: int
    width: int  # the layer's units: h_{t−1} has this many numbers
    inputs: int  # numbers in x_t (the embedding, or the layer below's output)
    given: dict[str, float]  # the quantities the step starts from, unrounded
    equations: list[Equation]
    shown: dict[str, float]  # every symbol's printed value


def find_position(words: list[str], step: str) -> tuple[int, list[int]]:
    """``--step WORD|K``: the 0-based position (a word: its first occurrence) and the other
    positions of the same word."""
    if step.strip().isdigit():
        k = int(step)
        if not 1 <= k <= len(words):
            raise UsageError(
                f"--step {step}: the text has {len(words)} tokens; use 1..{len(words)}"
            )
        return k - 1, []
    word = step.strip().lower().strip(string.punctuation)  # as the vocabulary reads it
    hits = [i for i, w in enumerate(words) if w == word]
    if not hits:
        shown = " ".join(words[:30]) + (" …" if len(words) > 30 else "")
        raise UsageError(f"--step {step}: not a word of the text as read ({shown})")
    return hits[0], hits[1:]


def _gate_parts(chain: Chain, cell: Cell, x: np.ndarray, h: np.ndarray, unit: int,
                letters: tuple[str, ...]) -> None:  # fmt: skip
    """x_t·W, h_{t−1}·U and the bias(es) of each of the unit's kernel columns."""
    for g, letter in enumerate(letters):
        col, sub = g * cell.units + unit, f"_{letter}" if letter else ""
        chain.given(f"x_t·W{sub}", float(x @ cell.kernel[:, col]))
        chain.given(f"h_{{t−1}}·U{sub}", float(h @ cell.recurrent[:, col]))
        chain.given(f"b{sub}", float(cell.bias_in[col]))
        if cell.kind == "gru":  # reset_after: a second bias, added to h_{t−1}·U
            chain.given(f"b′{sub}", float(cell.bias_rec[col]))


def _parts(sub: str, gru: bool = False) -> Expr:
    x, h, b = var(f"x_t·W{sub}"), var(f"h_{{t−1}}·U{sub}"), var(f"b{sub}")
    return add(x, b, h, var(f"b′{sub}")) if gru else add(x, h, b)


def _lstm(chain: Chain, ra: str, act: str) -> None:
    for g in LETTERS["lstm"]:
        chain.define(f"z_{g}", _parts(f"_{g}"))
    for g in LETTERS["lstm"]:
        chain.define(g, fn(act if g == "c̃" else ra, var(f"z_{g}")))
    chain.define("c_t", add(mul(var("f"), var("c_{t−1}")), mul(var("i"), var("c̃"))))
    chain.define("h_t", mul(var("o"), fn(act, var("c_t"))))


def _gru(chain: Chain, ra: str, act: str) -> None:
    for g in ("u", "r"):
        chain.define(f"z_{g}", _parts(f"_{g}", gru=True))
        chain.define(g, fn(ra, var(f"z_{g}")))
    rec = add(var("h_{t−1}·U_h̃"), var("b′_h̃"))  # reset_after: r scales h_{t−1}·U + b′
    chain.define("z_h̃", add(var("x_t·W_h̃"), var("b_h̃"), mul(var("r"), rec)))
    chain.define("h̃", fn(act, var("z_h̃")))
    chain.define("h_t", add(mul(var("u"), var("h_{t−1}")), mul(one_minus(var("u")), var("h̃"))))


def _simplernn(chain: Chain, ra: str, act: str) -> None:
    chain.define("z", _parts(""))
    chain.define("h_t", fn(act, var("z")))


# The symbols of each cell's kernel blocks, in Keras's order (cells.CELLS[...].blocks).
LETTERS = {"lstm": ("i", "f", "c̃", "o"), "gru": ("u", "r", "h̃"), "simplernn": ("",)}
_BUILD = {"lstm": _lstm, "gru": _gru, "simplernn": _simplernn}


def explain_step(insp: Any, position: int, unit: int, direction: int = 0) -> Step:
    """Unit ``unit`` of the inspected layer reading token ``position`` (0-based), every
    quantity from the inspection's own float64 pass (``insp.full``)."""
    net, full, layer = insp.net, insp.full, insp.layer
    cell = net.layers[layer - 1].cells[direction]
    ids = net.layout([insp.ids])[0][0]
    x_seq = net.embedding[ids] if layer == 1 else full.sequences[layer - 2][0]
    p, trace = insp.pad + position, full.traces[direction]
    before = p + 1 if cell.backwards else p - 1
    inside = 0 <= before < len(ids)
    zero = np.zeros(cell.units)
    h = trace["hidden"][0, before] if inside else zero
    chain = Chain()
    _gate_parts(chain, cell, x_seq[p], h, unit, LETTERS[cell.kind])
    chain.given("h_{t−1}", float(h[unit]))
    if cell.kind == "lstm":
        chain.given("c_{t−1}", float(trace["cell"][0, before, unit]) if inside else 0.0)
    _BUILD[cell.kind](chain, act_name(cell.recurrent_activation), act_name(cell.activation))
    feature = Feature(insp.directions[direction], unit)
    if insp.feeds_head and not cell.backwards and feature in net.features():
        col = insp.explained.column
        chain.given("w", float(net.head_kernel[net.features().index(feature), col]))
        chain.define("w·h_t", mul(var("w"), var("h_t")))
    prev = position + (1 if cell.backwards else -1)
    given = {k: v for k, v in chain.exact.items() if k not in {e.name for e in chain.equations}}
    return Step(
        position, insp.words[position], insp.tokens[position], insp.words[prev] if 0 <= prev < len(insp.words) else None,
        layer, insp.layer_name, cell.kind, insp.directions[direction], unit, cell.units, int(x_seq.shape[1]),
        given, chain.equations, dict(chain.shown),
    )  # fmt: skip


def explain_steps(insp: Any, step: str, unit: int | None) -> tuple[list[Step], list[str]]:
    """``--step WORD|K [--unit N]``: the step of unit N in each direction, or without ``--unit``
    of the unit that adds most to the logit; and notes for the reader."""
    position, others = find_position(insp.words, step)
    notes = []
    if others:
        also = ", ".join(str(i + 1) for i in others[:5])
        notes.append(f'"{insp.words[position]}" is also token {also}: --step K picks one')
    if unit is None:
        if not insp.feeds_head:
            raise UsageError(f"--step on layer {insp.layer}: give --unit N (the head reads "
                             f"layer {len(insp.net.layers)}, not this one)")  # fmt: skip
        pairs = insp.deciders(1)
        notes.append(f"unit {pairs[0][1]}: the unit that adds most to the logit; "
                     "--unit N shows another")  # fmt: skip
    else:
        pairs = insp.deciders(0, unit)
    return [explain_step(insp, position, u, d) for d, u in pairs], notes
