"""Build the corpus a news-style set of ours is measured on: the third-party news corpus (read from
../shared/eval/news/corpus, never copied into this repository) without the passages `news_withheld.json` lists
for the set, which held the answers of its unanswerable questions (RGB's negative rejection, built the same way).

usage: python eval/news_corpus.py news_dev DEST   (then: assistant eval eval/news_dev.jsonl --corpus DEST --index …)
"""

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEWS = HERE.parent.parent / "shared" / "eval" / "news" / "corpus"


def withheld(name: str) -> set[str]:
    """The news passages a set leaves out of its corpus."""
    return set(json.loads((HERE / "news_withheld.json").read_text("utf-8"))[name])


def build(name: str, dest: Path, source: Path = NEWS) -> int:
    left_out = withheld(name)
    dest.mkdir(parents=True, exist_ok=True)
    copied = 0
    for path in sorted(source.glob("*.txt")):
        if path.name not in left_out:
            shutil.copyfile(path, dest / path.name)
            copied += 1
    return copied


if __name__ == "__main__":
    name, dest = sys.argv[1], Path(sys.argv[2])
    print(f"{build(name, dest)} passages written to {dest}")
