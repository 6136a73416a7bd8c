"""Labelled data: reading TweetEval folders, CSV and JSONL files, and tweet preprocessing.

Labels are class ids 0 negative, 1 neutral, 2 positive throughout the package.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re
import unicodedata
from pathlib import Path

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
LABEL_IDS: dict[str, int] = {name: i for i, name in enumerate(LABELS)}
EMOTIONS: tuple[str, str, str, str] = ("anger", "joy", "optimism", "sadness")
"""TweetEval emotion's classes, in its label-id order (``mapping.txt``)."""

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


# ---------------------------------------------------------------- brand-directed and emotion data

SXSW = "sxsw_brands_and_product_emotions.csv"
APPLE = "apple_twitter_sentiment.csv"
_SXSW_LABELS = {"Negative emotion": 0, "No emotion toward brand or product": 1, "Positive emotion": 2}
_APPLE_LABELS = {"1": 0, "3": 1, "5": 2}
SPLIT_SHARES = {"train": 70, "dev": 10, "test": 20}
"""Brand-directed rows go to a split by a hash of their text: 70% train, 10% dev (selection), 20% test
(held out: reported, never used to choose anything)."""


def clean_brand_text(text: str) -> str:
    """A CrowdFlower tweet as the monitor would store it: entities decoded, NFKC, ``{link}`` as a link."""
    text = unicodedata.normalize("NFKC", html.unescape(text)).replace("\x00", "")
    return text.replace("{link}", "http://link").strip()


def _split_of(text: str) -> str:
    key = " ".join(preprocess(text, emoji_to_text=False, slang=False).lower().split())
    bucket = int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "train" if bucket < SPLIT_SHARES["train"] else "dev" if bucket < 80 else "test"


def read_brand_sentiment(folder: Path | None = None) -> list[tuple[str, int, str, str]]:
    """Every labelled row of the two brand-directed sets: ``(text, label id, set name, split)``.

    SXSW's "I can't tell" and Apple's ``not_relevant`` rows are left out; a text that occurs
    twice (retweets) keeps its first label and one split, so no text is in two splits.
    Raises FileNotFoundError when the folder or a file is missing.
    """
    root = folder or shared_data_dir() / "brand_sentiment"
    for name in (SXSW, APPLE):
        if not (root / name).exists():
            raise FileNotFoundError(f"{root / name}: brand-directed data not found (expected ../shared/data)")
    rows: list[tuple[str, int, str, str]] = []
    seen: set[str] = set()

    def add(text: str, label: int | None, source: str) -> None:
        text = clean_brand_text(text)
        key = " ".join(preprocess(text, emoji_to_text=False, slang=False).lower().split())
        if label is None or not text or key in seen:
            return
        seen.add(key)
        rows.append((text, label, source, _split_of(text)))

    with (root / SXSW).open(encoding="latin-1", newline="") as fh:
        for r in csv.DictReader(fh):
            add(r["tweet_text"] or "", _SXSW_LABELS.get(r["is_there_an_emotion_directed_at_a_brand_or_product"]),
                "sxsw")
    with (root / APPLE).open(encoding="cp1252", newline="") as fh:
        for r in csv.DictReader(fh):
            add(r["text"] or "", _APPLE_LABELS.get(r["sentiment"]), "apple")
    return rows


def brand_split(split: str, folder: Path | None = None) -> tuple[list[str], list[int]]:
    """``(texts, labels)`` of one split (train, dev or test) of the brand-directed sets."""
    if split not in SPLIT_SHARES:
        raise ValueError(f"split {split!r}: use train, dev or test")
    rows = [r for r in read_brand_sentiment(folder) if r[3] == split]
    return [r[0] for r in rows], [r[1] for r in rows]


def read_task(folder: Path, split: str, n_classes: int) -> tuple[list[str], list[int]]:
    """``(texts, label ids)`` of a TweetEval-layout task folder with ``n_classes`` classes.

    Raises FileNotFoundError for missing files, ValueError for a bad label or a length mismatch.
    """
    text_file, label_file = folder / f"{split}_text.txt", folder / f"{split}_labels.txt"
    if not text_file.exists() or not label_file.exists():
        raise FileNotFoundError(f"{folder}: no {split}_text.txt / {split}_labels.txt (TweetEval layout)")
    texts, raw = _read_lines(text_file), _read_lines(label_file)
    if len(texts) != len(raw):
        raise ValueError(f"{text_file}: {len(texts)} texts but {len(raw)} labels")
    labels = []
    for i, v in enumerate(raw):
        if not v.strip().isdigit() or int(v) >= n_classes:
            raise ValueError(f"{label_file}:{i + 1}: label {v!r} is not a class id below {n_classes}")
        labels.append(int(v))
    return texts, labels


def emotion_split(split: str) -> tuple[list[str], list[int]]:
    """TweetEval emotion (anger, joy, optimism, sadness) ``train`` or ``val`` from the shared data."""
    return read_task(shared_data_dir() / "tweeteval_other" / "emotion", split, len(EMOTIONS))
