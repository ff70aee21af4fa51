"""The command table: each command's name, the cli module that registers it, its hidden
aliases and the line ``lstmcli --help`` lists it with — in the order a learner meets them.

A plain table, as pip's ``commands_dict``: ``lstmcli --help`` lists the commands from it
without importing a single command module (their options and the modules those import were
a fifth of the start-up), and ``lstmcli CMD`` imports only CMD's module (cli/main.py). The
summary is the first paragraph of the command's help and is written only here: the command's
docstring holds the rest, and ``cli/app.py: command`` joins the two. A command missing from
the table, or registered by another module, fails tests/test_startup.py.
"""

from __future__ import annotations

from typing import NamedTuple


class Command(NamedTuple):
    module: str  # lstmcli.cli.<module> registers the command
    summary: str
    aliases: tuple[str, ...] = ()


COMMANDS = {
    "summary": Command("model", "Layers, shapes, weight shapes and parameter formulas, checked against Keras."),
    "shapes": Command("model", "Walk a batch through the model, layer by layer: what each tensor is and why.", ("explain-shapes",)),
    "build": Command("model", "Build the model, save it as a .keras file and print its summary."),
    "train": Command("train", "Train a model on IMDB, the sample set or your own labelled text."),
    "evaluate": Command("train", "Loss, accuracy, precision, recall, F1, ROC AUC and a confusion matrix."),
    "predict": Command("train", "Label and probability for each text."),
    "compare": Command("compare", "Train the lecture's models side by side; one table; the lecture's claims judged."),
    "report": Command("report", "One HTML page about a run: the model with its formulas, learning curves, test metrics with confusion matrix and ROC curve, and validation reviews coloured by the model's prediction as it reads. Self-contained: opens in any browser, offline."),
    "pretrain": Command("embed", "Learn word vectors from raw text (skip-gram, negative sampling) and save a .vec file."),
    "neighbors": Command("embed", "The words whose vectors are closest (cosine similarity) to WORD's.", ("neighbours",)),
    "inspect": Command("interpret", "Why the model decided: the logit split over the units the head reads, those units' gates and states at every token, and how much each word moved the logit."),
    "doctor": Command("doctor", "TensorFlow, Keras and NumPy versions, the devices TensorFlow sees, whether cuDNN and XLA will be used, threads, the cache folder and where the data was found.", ("env",)),
    "cache": Command("cache", "What lstmcli keeps in its cache folder (vectorised data, XLA programs, data sets)."),
}  # fmt: skip

# Every name a command line may start with (aliases included) -> the module to import.
MODULES = {alias: cmd.module for name, cmd in COMMANDS.items() for alias in (name, *cmd.aliases)}
