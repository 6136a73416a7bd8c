"""Labelled data: reading TweetEval folders, CSV and JSONL files, and tweet preprocessing.

Labels are class ids 0 negative, 1 neutral, 2 positive throughout the package.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
LABEL_IDS: dict[str, int] = {name: i for i, name in enumerate(LABELS)}

_MENTION = re.compile(r"(?<![\w@])@\w+")
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACES = re.compile(r"[ \t]+")
_SLANG = [  # praise/put-down slang an older tweet corpus never taught the model, in plain words
    (re.compile(r"\b(this|that|it|which|song|track|album|beat)\s+(?:slaps|bangs|goes hard|hits different)\b",
                re.IGNORECASE), r"\1 is great"),
    (re.compile(r"\b(is|was|'s|looks|sounds|tastes)\s+(?:fire|lit|dope|bussin|goated)\b", re.IGNORECASE),
     r"\1 great"),
    (re.compile(r"\b(is|was|'s)\s+mid\b(?!-)", re.IGNORECASE), r"\1 mediocre"),
]
_MAYBE_EMOJI = re.compile("[\u00a9\u00ae\u203c-\u3299\ufe0f\U0001f000-\U0001faff]")


def repo_root() -> Path:
    """The repository root: the parent of the ``models`` package folder."""
    return Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """``../shared/data`` relative to the repository root (may not exist)."""
    return repo_root().parent / "shared" / "data"


def _demojize(text: str) -> str:
    if not _MAYBE_EMOJI.search(text):  # cheap test first: most texts have no emoji
        return text
    try:
        import emoji
    except ImportError:  # the model still runs; emoji become [UNK] for uncased vocabularies
        return text
    out = emoji.demojize(text, delimiters=("\x02", "\x03"))
    # ":red_heart:" style names → plain words an uncased word-piece vocabulary can read
    return re.sub("\x02([^\x03]*)\x03", lambda m: " " + m.group(1).replace("_", " ") + " ", out)


def preprocess(text: str, *, emoji_to_text: bool = True, slang: bool = True) -> str:
    """Return ``text`` normalised the way TweetEval's baselines do it, plus two readability steps.

    User mentions become ``@user`` and links become ``http``. With ``emoji_to_text`` each
    emoji is kept as its name in words (``😍`` → ``smiling face with heart-eyes``) because
    uncased word-piece vocabularies map raw emoji to ``[UNK]``; with ``slang`` a few praise
    and put-down phrases become plain words (``this slaps`` → ``this is great``).
    """
    text = _MENTION.sub("@user", text)
    text = _LINK.sub("http", text)
    if emoji_to_text:
        text = _demojize(text)
    if slang:
        for pattern, plain in _SLANG:
            text = pattern.sub(plain, text)
    return _SPACES.sub(" ", text).strip()


def parse_label(value: object, where: str) -> int:
    """Return the class id for ``value`` (0/1/2 or negative/neutral/positive).

    Raises ValueError naming ``where`` when the value is neither.
    """
    s = str(value).strip().lower()
    if s in LABEL_IDS:
        return LABEL_IDS[s]
    if s in {"0", "1", "2"}:
        return int(s)
    raise ValueError(f"{where}: label {value!r} is not 0/1/2 or negative/neutral/positive")


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


def _read_tweeteval(text_file: Path) -> tuple[list[str], list[int]]:
    label_file = text_file.with_name(text_file.name.replace("_text.txt", "_labels.txt"))
    if not label_file.exists():
        raise FileNotFoundError(f"{label_file}: labels file next to {text_file.name} not found")
    texts = _read_lines(text_file)
    raw = _read_lines(label_file)
    if len(texts) != len(raw):
        raise ValueError(f"{text_file}: {len(texts)} texts but {len(raw)} labels in {label_file.name}")
    return texts, [parse_label(v, f"{label_file}:{i + 1}") for i, v in enumerate(raw)]


def _read_table(path: Path) -> tuple[list[str], list[int]]:
    rows: list[dict[str, object]]
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        rows = [json.loads(line) for line in _read_lines(path) if line.strip()]
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    texts: list[str] = []
    labels: list[int] = []
    for i, row in enumerate(rows):
        if "text" not in row or "label" not in row:
            raise ValueError(f"{path}: row {i + 1} lacks a 'text' or 'label' column")
        texts.append(str(row["text"]))
        labels.append(parse_label(row["label"], f"{path}: row {i + 1}"))
    return texts, labels


def read_labelled(path: str | Path, split: str = "train") -> tuple[list[str], list[int]]:
    """Return ``(texts, labels)`` from a labelled file.

    ``path`` is a TweetEval-layout folder (``<split>_text.txt`` + ``<split>_labels.txt``),
    one such ``*_text.txt`` file, or a CSV/JSONL file with ``text`` and ``label`` columns.
    Raises FileNotFoundError for a missing path and ValueError for malformed content.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        text_file = p / f"{split}_text.txt"
        if not text_file.exists():
            raise FileNotFoundError(f"{p}: no {split}_text.txt in this folder (TweetEval layout)")
        return _read_tweeteval(text_file)
    if not p.exists():
        raise FileNotFoundError(f"{p}: file not found")
    if p.name.endswith("_text.txt"):
        return _read_tweeteval(p)
    return _read_table(p)


def default_split(split: str) -> Path:
    """The TweetEval sentiment folder in the shared data (raises FileNotFoundError if absent)."""
    folder = shared_data_dir() / "tweeteval_sentiment"
    if not (folder / f"{split}_text.txt").exists():
        raise FileNotFoundError(f"{folder}: TweetEval sentiment data not found (expected ../shared/data)")
    return folder
