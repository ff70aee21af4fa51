"""TensorFlow's start in a fresh process: Keras's optional scikit-learn and pyplot imports are
left out while it loads (backend/tf.py), and nothing else is lost."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
{before}
from lstmcli.backend.tf import keras
k = keras()
during = {{n: n in sys.modules for n in ("sklearn", "matplotlib.pyplot")}}
marks_left = [n for n in ("sklearn", "matplotlib.pyplot") if n in sys.modules and sys.modules[n] is None]
import numpy as np
model = k.Sequential([k.Input((3,)), k.layers.Dense(2)])
out = np.asarray(model(np.ones((1, 3), "float32"))).shape
import matplotlib.pyplot
after = {{"pyplot": hasattr(matplotlib.pyplot, "figure")}}
try:
    import sklearn.metrics
    after["sklearn"] = hasattr(sklearn.metrics, "roc_auc_score")
except ImportError:
    after["sklearn"] = None
from keras.src.wrappers import sklearn_wrapper
print(json.dumps({{"during": during, "marks_left": marks_left, "shape": list(out), "after": after,
                  "wrapper_has_sklearn": sklearn_wrapper.sklearn is not None}}))
"""


def _probe(before: str = "") -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(before=before)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_keras_loads_without_sklearn_and_pyplot_and_both_import_afterwards() -> None:
    got = _probe()
    assert got["during"] == {"sklearn": False, "matplotlib.pyplot": False}
    assert got["marks_left"] == []
    assert got["shape"] == [1, 2]
    assert got["after"]["pyplot"] is True
    has_sklearn = importlib.util.find_spec("sklearn") is not None
    assert got["after"]["sklearn"] is (True if has_sklearn else None)
    assert got["wrapper_has_sklearn"] is False


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="needs scikit-learn")
def test_sklearn_imported_before_keras_is_left_as_it_is() -> None:
    got = _probe(before="import sklearn")
    assert got["during"]["sklearn"] is True
    assert got["wrapper_has_sklearn"] is True
