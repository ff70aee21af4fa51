"""The facts of each recurrent cell, in one table that every other module reads.

Keras's class, the blocks its kernel holds side by side (in Keras's order), the bias layout,
the parameter formula, the equations, and what ``inspect`` traces per step. Adding a cell or
an option means editing this table, not eight modules.

>>> CELLS["lstm"].formula(32, 32)
('4·32·(32+32)+4·32', 8320)
>>> CELLS["gru"].bias_shape(32)
(2, 96)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    key: str  # the --cell value
    keras_class: str  # keras.layers.<keras_class>
    blocks: tuple[str, ...]  # what the kernel's column blocks are, in Keras's order
    letters: str  # the blocks as the equations name them
    bias_rows: int  # GRU's default reset_after=True keeps two biases: (2, 3h)
    quantities: tuple[str, ...]  # what inspect traces per token, per unit
    equations: tuple[str, ...]  # one step, as ``shapes`` prints it
    short_equation: str  # one line under inspect's table

    @property
    def gates(self) -> int:
        """How many (x, h) weight blocks the kernel holds side by side."""
        return len(self.blocks)

    def bias_shape(self, h: int) -> tuple[int, ...]:
        g = self.gates * h
        return (self.bias_rows, g) if self.bias_rows > 1 else (g,)

    def params(self, h: int, x: int, use_bias: bool = True) -> int:
        """Parameters of one direction of one layer of ``h`` units reading ``x`` numbers."""
        return self.gates * h * (h + x) + (self.bias_rows * self.gates * h if use_bias else 0)

    def formula(self, h: int, x: int, use_bias: bool = True) -> tuple[str, int]:
        """The formula with the numbers filled in, and its value."""
        g = f"{self.gates}·" if self.gates > 1 else ""
        text = f"{g}{h}·({h}+{x})"
        if use_bias:
            rows = f"{self.bias_rows}·" if self.bias_rows > 1 else ""
            text += f"+{rows}{g}{h}"
        return text, self.params(h, x, use_bias)


CELLS: dict[str, Cell] = {
    "lstm": Cell(
        "lstm", "LSTM", ("input", "forget", "candidate", "output"), "i, f, c̃, o", 1,
        ("input", "forget", "candidate", "output", "cell", "hidden"),
        (
            "z = x_t·W + h_{t-1}·U + b   split in Keras's order [i | f | c̃ | o]",
            "i = σ(z_i)   input gate: how much of the candidate to write",
            "f = σ(z_f)   forget gate: how much of c_{t-1} to keep",
            "c̃ = tanh(z_c)   candidate values",
            "o = σ(z_o)   output gate: how much of the cell to show",
            "c_t = f ⊙ c_{t-1} + i ⊙ c̃   the conveyor belt",
            "h_t = o ⊙ tanh(c_t)",
        ),
        "c = forget·c + input·cand, h = output·tanh(c)",
    ),
    "gru": Cell(
        "gru", "GRU", ("update", "reset", "candidate"), "z, r, h̃", 2,
        ("update", "reset", "candidate", "hidden"),
        (
            "z = x_t·W + b_x,  r_h = h_{t-1}·U + b_h   split in Keras's order [z | r | h̃]",
            "u = σ(z_z + r_h,z)   update gate",
            "r = σ(z_r + r_h,r)   reset gate",
            "h̃ = tanh(z_h + r ⊙ r_h,h)   candidate (reset_after: reset applied after U)",
            "h_t = u ⊙ h_{t-1} + (1 − u) ⊙ h̃",
        ),
        "h = update·h + (1 − update)·cand, cand = tanh(x·W + reset·(h·U))",
    ),
    "simplernn": Cell(
        "simplernn", "SimpleRNN", ("hidden",), "h", 1, ("hidden",),
        ("h_t = tanh(x_t·W + h_{t-1}·U + b)",),
        "h = tanh(x·W + h·U + b)",
    ),
}  # fmt: skip

CELL_KEYS = tuple(CELLS)
# Keras class name (layer or its cell) → the cell's facts.
BY_KERAS_CLASS: dict[str, Cell] = {
    **{c.keras_class: c for c in CELLS.values()},
    **{c.keras_class + "Cell": c for c in CELLS.values()},
}
