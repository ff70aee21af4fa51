"""The lecture's four claims, judged from a comparison's accuracies by one fixed rule.

The rule (stated in ``compare --help`` and the README, tested in tests/test_compare_verdicts.py):
an arm's accuracy is its mean over seeds, ± its *spread*: the larger of the standard deviation
over seeds and the standard error of one accuracy measured on n texts, √(p(1−p)/n) (so a
single seed still carries the noise of a finite test set). For a claim "A is better than B":

- **supported** when mean(A) − mean(B) > spread(A) + spread(B);
- **not supported** when mean(B) − mean(A) > spread(A) + spread(B);
- **within seed spread: cannot tell** otherwise.

The rule is symmetric and has no threshold to tune. Each claim compares the first pair of
arms (in the order given) that differ only in what the claim is about — dropout aside, since
the lecture's own stacked and bidirectional models add dropout 0.2.

>>> judge(ArmStats("LSTM", (0.88, 0.89), 25000), ArmStats("SimpleRNN", (0.81, 0.82), 25000))
'supported'
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lstmcli.train.arms import ArmPlan

SUPPORTED, NOT_SUPPORTED, CANNOT_TELL, NOT_MEASURED = (
    "supported", "not supported", "within seed spread: cannot tell", "not measured",
)  # fmt: skip
RULE = (
    "± is the larger of the standard deviation over seeds and the standard error √(p(1−p)/n) "
    "of one accuracy on n texts; a claim that A beats B is supported when mean(A) − mean(B) "
    "exceeds spread(A) + spread(B), not supported when B wins by as much, and cannot be told "
    "otherwise"
)


@dataclass(frozen=True)
class ArmStats:
    """An arm's accuracies, one per seed, each measured on ``n_eval`` texts."""

    name: str
    accuracies: tuple[float, ...]
    n_eval: int

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracies)

    @property
    def spread(self) -> float:
        p = min(max(self.mean, 0.0), 1.0)
        standard_error = math.sqrt(p * (1 - p) / self.n_eval) if self.n_eval > 0 else 0.0
        sd = statistics.stdev(self.accuracies) if len(self.accuracies) > 1 else 0.0
        return max(sd, standard_error)

    def shown(self) -> str:
        """``88.10 ± 0.50`` (percent)."""
        return f"{100 * self.mean:.2f} ± {100 * self.spread:.2f}"


def judge(better: ArmStats, worse: ArmStats) -> str:
    """The verdict on "``better`` beats ``worse``" (see the module docstring)."""
    diff, margin = better.mean - worse.mean, better.spread + worse.spread
    if diff > margin:
        return SUPPORTED
    if -diff > margin:
        return NOT_SUPPORTED
    return CANNOT_TELL


Profile = dict[str, Any]


@dataclass(frozen=True)
class Claim:
    key: str
    text: str
    about: frozenset[str]  # the profile keys the two arms may differ in
    better: Callable[[Profile], bool]
    worse: Callable[[Profile], bool]
    needs: str  # what pair of arms the claim needs, for "not measured"
    condition: str | None = None  # "big" / "small": the claim is about the number of labels


CLAIMS = (
    Claim("lstm-over-simplernn", "Always use LSTM instead of SimpleRNN.", frozenset({"cell"}),
          lambda p: p["cell"] == "lstm", lambda p: p["cell"] == "simplernn",
          "an LSTM arm and a SimpleRNN arm that differ only in the cell"),
    Claim("bidirectional", "Use Bi-RNN instead of RNN whenever possible.",
          frozenset({"bidirectional"}), lambda p: p["bidirectional"],
          lambda p: not p["bidirectional"], "a bidirectional arm and the same arm one-way"),
    Claim("stacked", "Stacked RNN may be better than a single RNN layer (if n is big).",
          frozenset({"layers"}), lambda p: p["layers"] > 1, lambda p: p["layers"] == 1,
          "a stacked arm and the same arm with one layer", "big"),
    Claim("pretrain", "Pretrain the embedding layer (if n is small).",
          frozenset({"pretrained", "trainable_embedding"}), lambda p: p["pretrained"],
          lambda p: not p["pretrained"], "a pretrained arm and the same arm from scratch",
          "small"),
)  # fmt: skip


def profile(plan: ArmPlan) -> Profile:
    """What a claim's two arms must share (widths per layer, not the number of layers)."""
    s = plan.spec
    width = s.units[0] if len(set(s.units)) == 1 else s.units
    return {"cell": s.cell, "width": width, "layers": s.stacked, "bidirectional": s.bidirectional,
            "vocab": s.vocab, "embed_dim": s.embed_dim, "seq_len": s.seq_len,
            "mask_zero": s.mask_zero, "classes": s.classes, "n": plan.limit,
            "pretrained": plan.pretrained, "trainable_embedding": s.trainable_embedding}  # fmt: skip


def find_pair(claim: Claim, plans: Sequence[ArmPlan]) -> tuple[int, int] | None:
    """Indices (better, worse) of the first two arms the claim compares, or None."""
    profiles = [profile(p) for p in plans]
    for i, a in enumerate(profiles):
        for j, b in enumerate(profiles):
            if i == j or not (claim.better(a) and claim.worse(b)):
                continue
            if all(a[k] == b[k] for k in a if k not in claim.about):
                return i, j
    return None


@dataclass(frozen=True)
class Verdict:
    claim: str
    key: str
    verdict: str
    detail: str  # "LSTM: 88.10 ± 0.50 vs SimpleRNN: 81.40 ± 1.20", or why it was not measured
    better: str | None = None
    worse: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "key": self.key, "verdict": self.verdict,
                "detail": self.detail, "better": self.better, "worse": self.worse}  # fmt: skip


def judge_claims(plans: Sequence[ArmPlan], stats: Sequence[ArmStats | None]) -> list[Verdict]:
    """One verdict per lecture claim; ``stats[i]`` is None for an arm without results."""
    out = []
    for claim in CLAIMS:
        pair = find_pair(claim, plans)
        if pair is None:
            out.append(Verdict(claim.text, claim.key, NOT_MEASURED, f"needs {claim.needs}"))
            continue
        a, b = (stats[i] for i in pair)
        names = plans[pair[0]].name, plans[pair[1]].name
        if a is None or b is None:
            missing = names[0] if a is None else names[1]
            out.append(Verdict(claim.text, claim.key, NOT_MEASURED, f"{missing} has no results",
                               *names))  # fmt: skip
            continue
        verdict = judge(a, b)
        detail = f"{a.name}: {a.shown()} vs {b.name}: {b.shown()}"
        if claim.condition is not None:
            n = plans[pair[0]].limit
            detail += f"; n = {n:,} labels" if n is not None else "; all training labels"
            if verdict == NOT_SUPPORTED:
                verdict = f"{NOT_SUPPORTED} at this size"
        out.append(Verdict(claim.text, claim.key, verdict, detail, *names))
    return out
