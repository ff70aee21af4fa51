"""A comparison folder: every file name in it (``lstmcli compare`` writes, nothing else spells them).

runs/compare-NAME/
  compare.json          what was compared (the plan), every arm's results, the verdicts
  compare.csv           one row per arm and seed
  val_curves.png        validation accuracy per epoch, every arm overlaid
  vectors-seedS-eE-vV.vec  word vectors for the pretrained arms (per seed, width, vocabulary)
  ARM-seedS/            one ordinary run folder per arm and seed (evaluate, predict, inspect)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

COMPARE_JSON, COMPARE_CSV, CURVES_PNG = "compare.json", "compare.csv", "val_curves.png"


@dataclass(frozen=True)
class CompareFiles:
    root: Path

    @property
    def json(self) -> Path:
        return self.root / COMPARE_JSON

    @property
    def csv(self) -> Path:
        return self.root / COMPARE_CSV

    @property
    def curves(self) -> Path:
        return self.root / CURVES_PNG

    def run(self, slug: str, seed: int) -> Path:
        return self.root / f"{slug}-seed{seed}"

    def vectors(self, seed: int, dim: int, vocab: int) -> Path:
        return self.root / f"vectors-seed{seed}-e{dim}-v{vocab}.vec"


def default_compare_dir(dataset: str, root: Path = Path("runs")) -> Path:
    """``runs/compare-<dataset>``: the same command finds the same folder again (to resume)."""
    import re

    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(dataset).stem)[:40].strip("-") or "data"
    return root / f"compare-{stem}"
