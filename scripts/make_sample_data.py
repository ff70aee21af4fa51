"""Generate ``lstmcli/data/sample/reviews.csv``: short movie reviews written from templates.

Every review is made here from the word lists and sentence templates below (no text from any
published data set). Each has a label (pos/neg) and is built from neutral filler, sentences of
its own polarity (some negated: "the plot was not dull"), "X, but Y" sentences whose final
clause carries the label, and now and then one sentence of the opposite polarity. So no single
word decides the label, yet a small LSTM learns it in a few epochs.

    python scripts/make_sample_data.py [--seed 20240611] [--count 2000] [--out lstmcli/data/sample]

The output depends only on the seed and count.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

SEED = 20240611
COUNT = 2000

NOUNS = ["film", "movie", "picture", "feature", "story"]
ASPECTS = [
    "acting", "script", "plot", "dialogue", "soundtrack", "camera work", "pacing", "ending",
    "cast", "direction", "editing", "lead performance", "humour", "set design", "score",
    "opening", "second half", "villain", "love story", "final scene",
]  # fmt: skip
ADJ = {
    "pos": [
        "brilliant", "wonderful", "moving", "gripping", "charming", "superb", "delightful",
        "clever", "beautiful", "memorable", "engaging", "heartfelt", "sharp", "stunning",
        "funny", "touching", "excellent", "inventive", "thrilling", "warm",
    ],
    "neg": [
        "dull", "boring", "clumsy", "tedious", "awful", "lifeless", "predictable", "messy",
        "bland", "forgettable", "painful", "shallow", "confusing", "flat", "weak", "silly",
        "lazy", "cheap", "pointless", "stiff",
    ],
}  # fmt: skip
VERBS = {
    "pos": ["loved", "adored", "enjoyed", "admired", "liked"],
    "neg": ["hated", "disliked", "could not stand", "regretted", "was annoyed by"],
}
PHRASES = {
    "pos": [
        "I would happily watch it again", "worth every minute", "highly recommended",
        "it stayed with me for days", "I left the cinema smiling", "a real treat",
        "it kept me hooked until the end", "I will tell all my friends about it",
    ],
    "neg": [
        "I want those two hours back", "not worth the ticket", "I nearly fell asleep",
        "I kept checking my watch", "skip this one", "a complete waste of time",
        "I walked out before the end", "I cannot recommend it to anyone",
    ],
}  # fmt: skip
DEGREES = ["really", "truly", "quite", "very", "rather", "surprisingly", "genuinely", ""]
FILLER = [
    "I saw it on a rainy Sunday afternoon.", "My sister picked it for our movie night.",
    "It runs for just under two hours.", "The story is set in a small coastal town.",
    "It is based on a novel I have not read.", "I watched it at the local cinema.",
    "The trailer came out last spring.", "It follows a family over one long summer.",
    "Most of it was shot in the mountains.", "I went in knowing very little about it.",
    "The director also wrote the script.", "It is the second film in a series.",
    "We rented it after a friend mentioned it.", "The main character is a retired teacher.",
    "It played before a small crowd on a Tuesday.", "There are three main characters.",
]  # fmt: skip
RATINGS = {"pos": ["seven", "eight", "nine", "ten"], "neg": ["one", "two", "three", "four"]}


def other(p: str) -> str:
    return "neg" if p == "pos" else "pos"


def sentence(rng: random.Random, p: str) -> str:
    """One sentence whose sentiment is ``p`` (some use the other polarity's words, negated)."""
    a, a2 = rng.sample(ASPECTS, 2)
    adj, bad, noun = rng.choice(ADJ[p]), rng.choice(ADJ[other(p)]), rng.choice(NOUNS)
    deg = rng.choice(DEGREES)
    deg = deg + " " if deg else ""
    templates = [
        f"The {a} was {deg}{adj}.",
        f"What a {adj} {noun}.",
        f"I {rng.choice(VERBS[p])} the {a}.",
        f"{rng.choice(PHRASES[p]).capitalize()}.",
        f"The {a} was not {bad} at all.",
        f"The {a} was {bad}, but the {a2} was {deg}{adj}.",
        f"Although the {a} felt {bad}, the {noun} as a whole was {adj}.",
        f"I expected it to be {bad}, but it turned out {deg}{adj}.",
        f"Some say the {a} is {adj}, and I agree.",
        f"People told me the {noun} was {bad}, but they were wrong: it is {adj}.",
    ]
    # Plain sentences are the most common; negated and "but" ones make single words ambiguous.
    return rng.choices(templates, weights=[3, 3, 3, 3, 1, 1, 1, 1, 2, 1])[0]


def conclusion(rng: random.Random, p: str) -> str:
    adj, noun = rng.choice(ADJ[p]), rng.choice(NOUNS)
    return rng.choice(
        [
            f"Overall, a {adj} {noun}.",
            f"All in all, {rng.choice(PHRASES[p])}.",
            f"I give it {rng.choice(RATINGS[p])} out of ten.",
            f"In the end it was {adj} from start to finish.",
        ]
    )


def review(rng: random.Random, p: str) -> str:
    parts = rng.sample(FILLER, rng.randint(0, 2))
    parts += [sentence(rng, p) for _ in range(rng.randint(2, 3))]
    if rng.random() < 0.25:  # one sentence pulling the other way
        parts.insert(rng.randint(0, len(parts)), sentence(rng, other(p)))
    if rng.random() < 0.7:
        parts.append(conclusion(rng, p))
    return " ".join(parts)


def generate(seed: int = SEED, count: int = COUNT) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    labels = ["pos", "neg"] * (count // 2)
    rng.shuffle(labels)
    for p in labels:
        text = review(rng, p)
        while text in seen:
            text = review(rng, p)
        seen.add(text)
        rows.append((text, p))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--count", type=int, default=COUNT, help="reviews (half of each class)")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent.parent / "lstmcli" / "data" / "sample"
    )
    args = parser.parse_args()
    rows = generate(args.seed, args.count)
    # The package's copy is what lstmcli reads; sample_data/ keeps the same file at the top of
    # the project, where a reader looks for it (tests/test_datasets.py checks they are equal).
    top = Path(__file__).parent.parent / "sample_data"
    for folder in (args.out, top):
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "reviews.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["text", "label"])
            writer.writerows(rows)


if __name__ == "__main__":
    main()
