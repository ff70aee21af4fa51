"""`lstmcli inspect`: golden terminal output (the first screen, --step, --mean), --json,
--png, --top-units and one-line errors."""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
from pathlib import Path

import helpers
import numpy as np
import pytest
from helpers import VOCAB
from rich.console import Console

from lstmcli.core.threads import blas_threads, one_blas_thread
from lstmcli.interpret import gates
from lstmcli.interpret import net as nets
from lstmcli.interpret.units import top_units
from lstmcli.model.spec import ModelSpec
from lstmcli.render import gates as render_inspect
from lstmcli.render import inspect_png

TEXT = "The movie was great, and FUN! Not boring... zorblax"
LSTM = ModelSpec(units=(4,), vocab=12, embed_dim=4, seq_len=100)
BIGRU = ModelSpec(cell="gru", units=(3, 2), bidirectional=True, vocab=12, embed_dim=4, seq_len=100)


def make_run(folder: Path, spec: ModelSpec, extra: dict | None = None, seed: int = 3) -> Path:
    return helpers.make_run(folder, spec, extra=extra, seed=seed, scale=0.8)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inspect_runs")
    return {"lstm": make_run(root / "lstm", LSTM), "bigru": make_run(root / "bigru", BIGRU)}


def invoke(args: list[str], **kw):
    return helpers.invoke(["inspect", *args], columns=100, **kw)


def one_line_error(result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lstmcli: ") and text in lines[0], lines


# ----------------------------------------------------------------------------- terminal


def test_golden_lstm_first_screen(runs, golden) -> None:
    from lstmcli.rundir.folder import open_run

    insp = gates.inspect_text(open_run(runs["lstm"]), TEXT, layer=None)
    console = Console(file=io.StringIO(), width=100, color_system=None)
    render_inspect.render_inspection(console, insp)
    golden("inspect_lstm.out", console.file.getvalue())
    # the command prints the same thing
    result = invoke([runs["lstm"], TEXT])
    assert result.exit_code == 0, result.output
    assert result.output == console.file.getvalue()
    # the units it follows are the top |w_j·h_T[j]| ones, in that order
    e = insp.explained
    top = [e.features[j].unit for j in np.argsort(-np.abs(e.contributions))[:3]]
    listed = [int(u) for u in re.findall(r"^\d+\s+unit (\d+)", result.output, re.M)]
    assert listed == top
    assert re.search(rf"^# .*f{top[0]} +i{top[0]} +c{top[0]} +h{top[0]}", result.output, re.M)


def test_golden_lstm_mean(runs, golden) -> None:
    result = invoke([runs["lstm"], TEXT, "--mean"])
    assert result.exit_code == 0, result.output
    assert "mean over 4 units" in result.output
    golden("inspect_lstm_mean.out", result.output)


def test_golden_bidirectional_gru_layer2_one_unit(runs, golden) -> None:
    result = invoke([runs["bigru"], TEXT, "--layer", "2", "--show", "update", "--unit", "1"])
    assert result.exit_code == 0, result.output
    assert "u1→ [0 → 1]" in result.output and "u1← [0 → 1]" in result.output
    golden("inspect_bigru_layer2.out", result.output)


def test_golden_step(runs, golden) -> None:
    result = invoke([runs["lstm"], TEXT, "--step", "great"])
    assert result.exit_code == 0, result.output
    assert 'token 4: "great" (after "was")' in result.output
    golden("inspect_lstm_step.out", result.output)
    result = invoke([runs["bigru"], TEXT, "--step", "4", "--unit", "1"])
    assert result.exit_code == 0, result.output
    assert "unit 1 →" in result.output and "unit 1 ←" in result.output
    golden("inspect_bigru_step.out", result.output)


def test_layer_below_the_head_shows_means(runs) -> None:
    result = invoke([runs["bigru"], TEXT, "--layer", "1"])
    assert result.exit_code == 0, result.output
    assert "mean over 3 units" in result.output
    assert "layer 1 is not the layer the head reads" in " ".join(result.output.split())


def test_rows_limit_keeps_the_tokens_that_move_the_logit_most(runs) -> None:
    from lstmcli.rundir.folder import open_run

    insp = gates.inspect_text(open_run(runs["lstm"]), TEXT)
    change = insp.explained.deltas
    keep = render_inspect.chosen_rows(insp, 3, change)
    assert keep == sorted(keep) and len(keep) == 3
    assert min(abs(change[keep])) >= max(abs(np.delete(change, keep)))
    result = invoke([runs["lstm"], TEXT, "--rows", "3"])
    assert "showing the 3 of 9 tokens that move the logit most" in result.output
    # --mean keeps today's choice: the tokens that move P most
    p, _ = render_inspect.curve(insp)
    moved = np.abs(np.diff(np.concatenate([[0.5], p])))
    keep = render_inspect.chosen_rows(insp, 3)
    assert min(moved[keep]) >= max(np.delete(moved, keep))
    result = invoke([runs["lstm"], TEXT, "--rows", "3", "--mean"])
    assert "showing the 3 of 9 tokens that move P(pos) most" in result.output


def test_file_option_reads_the_whole_file(runs, tmp_path: Path) -> None:
    f = tmp_path / "review.txt"
    f.write_text("the movie\nwas great\n", encoding="utf-8")
    result = invoke([runs["lstm"], "--file", f, "--json"])
    assert result.exit_code == 0, result.output
    assert [s["word"] for s in json.loads(result.output)["steps"]] == [
        "the", "movie", "was", "great"
    ]  # fmt: skip


# ----------------------------------------------------------------------------- json / png


def test_json_has_every_number(runs) -> None:
    result = invoke([runs["bigru"], TEXT, "--json", "--layer", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["cell"] == "gru" and data["directions"] == ["forward", "backward"]
    assert data["quantities"] == ["update", "reset", "candidate", "hidden"]
    assert len(data["steps"]) == 9
    step = data["steps"][8]
    assert step["word"] == "zorblax" and step["token"] == "[UNK]" and step["id"] == 1
    assert len(step["forward"]["update"]) == 3 and len(step["backward"]["hidden"]) == 3
    assert sum(step["probabilities"].values()) == pytest.approx(1.0)
    assert data["steps"][-1]["probabilities"] == data["prediction"]["probabilities"]
    # the backward state after the whole text is its value at the first token
    assert data["final_state"]["backward"] == data["steps"][0]["backward"]["hidden"]
    assert data["final_state"]["forward"] == data["steps"][-1]["forward"]["hidden"]


def test_json_splits_the_logit(runs) -> None:
    result = invoke([runs["bigru"], TEXT, "--json", "--deciders", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["layer"] == 2 and data["explained_label"] == "pos"
    contributions = data["unit_contributions"]
    assert len(contributions) == len(data["head_input"]) == 4  # 2 units × 2 directions
    assert sum(contributions) + data["head_bias"] == pytest.approx(data["logit"], abs=1e-9)
    for c, x in zip(contributions, data["head_input"], strict=True):
        assert c == pytest.approx(x["weight"] * x["value"], abs=1e-12)
    assert [x["direction"] for x in data["head_input"]] == ["forward"] * 2 + ["backward"] * 2
    deltas = [s["logit_delta"] for s in data["steps"]]
    assert data["logit_start"] + sum(deltas) == pytest.approx(data["logit"], abs=1e-9)
    assert data["steps"][-1]["logit"] == pytest.approx(data["logit"], abs=1e-12)
    p = data["prediction"]["probabilities"]["pos"]
    assert data["logit"] == pytest.approx(np.log(p / (1 - p)), abs=1e-4)
    followed = data["followed_units"]
    assert len(followed) == 2
    size = {(x["direction"], x["unit"]): abs(c)
            for x, c in zip(data["head_input"], contributions, strict=True)}  # fmt: skip
    ranked = sorted(size, key=size.get, reverse=True)
    assert [(f["direction"], f["unit"]) for f in followed] == ranked[:2]


def test_json_step_carries_the_equations(runs) -> None:
    result = invoke([runs["lstm"], TEXT, "--json", "--step", "boring", "--unit", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (s,) = data["steps"]
    assert (s["word"], s["position"], s["previous"], s["unit"]) == ("boring", 8, "not", 2)
    names = [eq["name"] for eq in s["equations"]]
    assert names == ["z_i", "z_f", "z_c̃", "z_o", "i", "f", "c̃", "o", "c_t", "h_t", "w·h_t"]
    c_t = s["equations"][8]
    assert c_t["formula"] == "f·c_{t−1} + i·c̃"
    assert set(c_t["inputs"]) == {"f", "c_{t−1}", "i", "c̃"}
    f, c, i, cand = (c_t["inputs"][k] for k in ("f", "c_{t−1}", "i", "c̃"))
    assert c_t["result"] == round(f * c + i * cand, 2)
    steps = json.loads(invoke([runs["lstm"], TEXT, "--json"]).output)["steps"]
    assert c_t["exact"] == pytest.approx(steps[7]["forward"]["cell"][2], abs=1e-6)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize(("name", "dirs"), [("lstm", 1), ("bigru", 2)])
def test_mean_png_has_the_expected_size(runs, tmp_path: Path, name: str, dirs: int) -> None:
    target = tmp_path / "heat.png"
    result = invoke([runs[name], TEXT, "--png", target, "--show", "hidden", "--mean"])
    assert result.exit_code == 0, result.output
    assert f"Wrote {target}" in result.output.replace("\n", "")
    assert png_size(target) == render_inspect.figure_size(9, dirs) == (800, 300 + 250 * dirs)
    long_text = " ".join(["great movie"] * 40)
    result = invoke([runs[name], long_text, "--png", target, "--json", "--mean"])
    assert result.exit_code == 0 and json.loads(result.output)
    assert png_size(target) == render_inspect.figure_size(80, dirs) == (1900, 300 + 250 * dirs)


@pytest.mark.parametrize(("name", "args", "n_gates", "n_states"),
                         [("lstm", [], 9, 6), ("bigru", ["--unit", "1"], 4, 2)])  # fmt: skip
def test_units_png_shows_the_followed_units(runs, tmp_path, name, args, n_gates, n_states) -> None:
    from lstmcli.rundir.folder import open_run

    target = tmp_path / "units.png"
    result = invoke([runs[name], TEXT, "--png", target, *args])
    assert result.exit_code == 0, result.output
    assert png_size(target) == inspect_png.units_figure_size(9, n_gates, n_states)
    # LSTM: f, i, o and c, h of each of the 3 units; GRU: u, r and h of unit 1 both ways
    insp = gates_of(open_run(runs[name]))
    chosen = insp.deciders(3, 1 if args else None)
    rows = inspect_png.unit_rows(insp, chosen)
    assert (len(rows[0]), len(rows[1])) == (n_gates, n_states)


def gates_of(run):
    return gates.inspect_text(run, TEXT, layer=None)


# ----------------------------------------------------------------------------- errors


def test_missing_run(tmp_path: Path) -> None:
    one_line_error(invoke([tmp_path / "nope", "great"]), 1, "does not exist")


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["great", "--layer", "5"], "--layer 5: the model has 1 recurrent layer; use 1..1"),
        (["great", "--layer", "0"], "--layer 0"),
        ([""], "the text is empty"),
        (["   "], "the text is empty"),
        (["!!! ..."], "no words to read"),
        ([], "give TEXT, --file F or --top-units K"),
        (["great", "--show", "update"], "--show update: a lstm layer shows prediction | input"),
        (["great", "--unit", "4"], "--unit 4: layer 1 has 4 units; use 0..3"),
        (["great", "--png", "x.jpg"], "must end in .png"),
        (["great", "--top-units", "3"], "--top-units reads the validation split"),
        (["great", "--mean", "--unit", "1"], "--mean shows the means over units"),
        (["great", "--mean", "--step", "great"], "--mean shows the means over units"),
        (["the movie", "--step", "3"], "--step 3: the text has 2 tokens; use 1..2"),
        (["the movie", "--step", "boring"], "--step boring: not a word of the text as read"),
        (["great", "--step", "great", "--unit", "9"], "--unit 9: layer 1 has 4 units"),
    ],
)
def test_usage_errors_are_one_line(runs, args: list[str], text: str) -> None:
    one_line_error(invoke([runs["lstm"], *args]), 2, text)


def test_deciders_must_be_positive(runs) -> None:
    result = invoke([runs["lstm"], "great", "--deciders", "0"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--deciders" in result.output and len(result.output.strip().splitlines()) == 1


def test_text_and_file_together(runs, tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    f.write_text("great", encoding="utf-8")
    one_line_error(invoke([runs["lstm"], "great", "--file", f]), 2, "not both")


def test_top_units_without_recorded_data(runs) -> None:
    one_line_error(invoke([runs["lstm"], "--top-units", "2"]), 1, "does not record its dataset")


def test_inspect_help_does_not_load_tensorflow() -> None:
    probe = (
        "import sys\nfrom typer.testing import CliRunner\nfrom lstmcli.cli.main import app\n"
        "r = CliRunner().invoke(app, ['inspect', '--help'])\nassert r.exit_code == 0\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- top units

POS = ["the movie was great", "great fun", "a great movie and fun", "fun fun and great"]
NEG = ["the movie was bad", "bad and boring", "a boring bad movie", "not fun, bad"]


def labelled(n: int = 40) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for i in range(n):
        pool = POS if i % 2 else NEG
        texts.append(f"{pool[rng.integers(len(pool))]} {' '.join(rng.choice(VOCAB[2:5], 3))}")
        labels.append(i % 2)
    return texts, np.array(labels)


def test_top_units_core(runs) -> None:
    from lstmcli.rundir.folder import open_run

    run = open_run(runs["bigru"])
    texts, labels = labelled()
    result = top_units(run, texts, labels, layer=1, k=4, n_tokens=3, min_count=1)
    assert result.n_texts == 40 and result.class_counts == [20, 20]
    assert len(result.units) == 4
    seps = [abs(u.separation) for u in result.units]
    assert seps == sorted(seps, reverse=True)
    # brute force: the final value, its class means and the mean change per token
    model = run.load_model()
    net = nets.net_from_model(model)
    best = result.units[0]
    d = 0 if best.direction == "forward" else 1
    finals, changes = [], {}
    for text in texts:
        ids = np.asarray(run.encode([text]).row(0))
        p = nets.run_net(net, ids[None], np.ones((1, len(ids)), bool), keep=0)
        h = p.traces[d]["hidden"][0, :, best.unit]
        finals.append(p.states[0][d][0, best.unit])
        steps = range(len(ids)) if d == 0 else range(len(ids) - 1, -1, -1)
        prev = 0.0
        for t in steps:
            changes.setdefault(run.vocabulary[ids[t]], []).append(h[t] - prev)
            prev = h[t]
    finals = np.array(finals)
    pos, neg = finals[labels == 1], finals[labels == 0]
    pooled = np.sqrt((pos.var(ddof=1) * 19 + neg.var(ddof=1) * 19) / 38)
    cohen = (pos.mean() - neg.mean()) / pooled
    assert best.separation == pytest.approx(abs(cohen), rel=1e-4)
    assert best.label == ("pos" if cohen > 0 else "neg") and best.auc > 0.5
    for token, change, count in best.up + best.down:
        assert count == len(changes[token])
        assert change == pytest.approx(np.mean(changes[token]), abs=1e-5)
    assert all(c > 0 for _, c, _ in best.up) and all(c < 0 for _, c, _ in best.down)
    assert "[UNK]" not in [t for t, _, _ in best.up + best.down]


def test_top_units_cli_reads_the_runs_validation_split(tmp_path: Path) -> None:
    texts, labels = labelled(60)
    csv = tmp_path / "reviews.csv"
    rows = [f'"{t}",{"pos" if y else "neg"}' for t, y in zip(texts, labels, strict=True)]
    csv.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    run = make_run(tmp_path / "run", LSTM, {"data": {"name_or_path": str(csv), "seed": 0}})
    result = invoke([run, "--top-units", "3", "--limit", "10", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["texts"] == 10 and data["class_counts"] == {"neg": 5, "pos": 5}
    assert len(data["units"]) == 3 and {"raised_by", "lowered_by", "auc"} <= set(data["units"][0])
    result = invoke([run, "--top-units", "2"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "(12 validation texts: 6 neg, 6 pos)" in out and "raised by" in out


def test_one_blas_thread_restores_the_setting() -> None:
    np.ones((4, 4)) @ np.ones((4, 4))  # make sure NumPy's BLAS is loaded
    before = blas_threads()
    if not before:
        pytest.skip("no BLAS library found in this process")
    with one_blas_thread():
        assert all(n == 1 for _, _, n in blas_threads())
    assert blas_threads() == before


def test_narrow_terminal_splits_the_table_instead_of_cutting_numbers(runs) -> None:
    result = helpers.invoke(["inspect", runs["lstm"], TEXT, "--deciders", "4"], columns=70)
    assert result.exit_code == 0, result.output
    heads = re.findall(r"^# token .*$", result.output, re.M)
    assert len(heads) >= 2  # the units do not fit side by side in 70 columns
    assert sorted(re.findall(r"\bh(\d)\b", " ".join(heads))) == ["0", "1", "2", "3"]
    table_rows = [ln for ln in result.output.splitlines() if re.match(r"^\d ", ln)]
    assert table_rows and not any("…" in ln for ln in table_rows)
