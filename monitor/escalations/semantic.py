"""Risk by resemblance: a complaint that reads like a known kind of risk, whatever its words.

The phrase lists in :mod:`monitor.escalations.risk` catch what a customer writes in the words
someone listed; customers keep finding others ("the car seat you sold us snapped on the first
bump", "my email and password from your site are on a list online"). Here each category has
35 to 37 plain example complaints by two authors (:mod:`monitor.escalations.examples`); a
mention addressed to the brand whose sentence embedding (:mod:`models.embedder`,
all-MiniLM-L6-v2, trained for semantic similarity) reaches ``escalation.semantic.threshold``
cosine similarity with one of them counts as a risk of that category, with the example as its
reason ("safety: like 'your product injured me'").

A resemblance is a **weak** risk (it raises the priority of a negative mention, as a listed weak
term does), because resemblance is about the topic, not how bad it is: "is the app down?"
resembles "your service is down and I can't use it" as much as a furious complaint does. It is
**strong** (escalates when addressed to the brand) when praise frames it, which is sarcasm
(:func:`monitor.escalations.risk.praise_frame`): the model reads the tone as positive or a stock
frame ("thanks for", "love how") is there, and nothing says the problem was fixed.

How the threshold was chosen (0.52): real tweets that are not negative must not resemble a
risk, since resemblance in praise is strong. Among the escalation lab's tune half of TweetEval
validation and the Apple set (2,728 real tweets), 0.30% of those labelled neutral or positive
reach 0.52 with the 252 examples, as many as reached 0.45 with the first author's 42 (the
threshold before); at those matched rates resemblance reaches 55% of the tune half's planted
risk complaints instead of 46%, and 23% of its traps instead of 37%. Negative real tweets are not
counted as false matches: the closest ones are risks ("I wrapped my charger and it began
smoking", 0.67 from "My phone charger overheated and started a fire"). Fixed on the tune half,
before the planted report sets were measured with it.

In praise, the bar is ``escalation.semantic.sarcasm_threshold`` (0.44): sarcasm wraps the
complaint in praise, which pulls its embedding away from the plain example. Only praise-framed
resemblance is strong, so only those matches can escalate a mention alone; 0.44 is where the
praise-framed tune-half real tweets labelled neutral or positive that reach it are again 0.30%
of all the neutral or positive ones (6 of 1,999): the same budget of false matches.

A **close** resemblance, ``escalation.semantic.strong_threshold`` (0.56) or more, is strong in a plainly
worded mention (no praise, nothing said to be fixed, no listed risk word negated): "you'll be hearing from
the county court, I've issued the claim online" is a legal threat however neutral its tone reads to the
sentiment model (p_negative 0.03). On the lab's tune half no real tweet labelled neutral or positive
reaches 0.54 (4 of 1,999 reach 0.52); 0.56 keeps a step of margin. Because a grateful customer's words can
sit as close to a complaint ("the refund was in my account the next morning" is 0.61 from "Still waiting on
my refund after six weeks."), it must also be closer to its example than to every **look-alike**
(:mod:`monitor.escalations.lookalikes`: risk words without a complaint, by another author; users add theirs
in ``escalation.semantic.lookalikes``): one nearest neighbour over complaints and look-alikes.

This is nearest-example matching (a k-NN with k = 1 over hand-written prototypes), not a
trained classifier: there is no labelled set of risk complaints to train one on, and a
classifier trained on the lab's planted sets would learn their authors' style. Users add
examples per category in ``escalation.semantic.examples`` without retraining anything.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from monitor.escalations.examples import EXAMPLES
from monitor.escalations.lookalikes import LOOKALIKES

log = logging.getLogger(__name__)

CACHE_SIZE = 50_000
"""Texts whose nearest example is remembered (the rules job sees a mention again on rescoring)."""


@dataclass(frozen=True)
class Resemblance:
    """The example a text resembles most: its category, its words and the cosine similarity."""

    category: str
    example: str
    similarity: float
    lookalike: float = 0.0
    """The cosine similarity to the closest look-alike: a post with risk words that is no complaint."""


class RiskExamples:
    """The examples, embedded once; :meth:`nearest` finds the closest one to each text.

    ``embedder`` is anything with ``embed(texts) -> (n, dim)`` unit vectors (:class:`models.embedder.Embedder`).
    """

    def __init__(self, examples: Mapping[str, Sequence[str]], threshold: float, embedder: Any,
                 sarcasm_threshold: float | None = None, strong_threshold: float = 1.0,
                 lookalikes: Sequence[str] = ()) -> None:
        self.threshold = threshold
        self.sarcasm_threshold = threshold if sarcasm_threshold is None else sarcasm_threshold
        self.strong_threshold = strong_threshold
        self._lookalikes = list(lookalikes)
        self._embedder = embedder
        self._pairs = [(category, text) for category, texts in examples.items() for text in texts]
        self._matrix: np.ndarray | None = None
        self._cache: OrderedDict[str, Resemblance] = OrderedDict()
        self._lock = threading.Lock()

    def _examples(self) -> np.ndarray:
        """The examples' embeddings, then the look-alikes' (one matrix, one product per batch)."""
        if self._matrix is None:
            self._matrix = self._embedder.embed([text for _, text in self._pairs] + self._lookalikes)
        return self._matrix

    def nearest(self, texts: Iterable[str]) -> list[Resemblance]:
        """The closest example to each text (computed in one batch for the texts not seen lately)."""
        texts = list(texts)
        with self._lock:
            matrix = self._examples()
            todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if todo:
                sims = self._embedder.embed(todo) @ matrix.T
                n = len(self._pairs)
                for text, row in zip(todo, sims, strict=True):
                    best = int(row[:n].argmax())
                    category, example = self._pairs[best]
                    lookalike = float(row[n:].max()) if len(row) > n else 0.0
                    self._cache[text] = Resemblance(category, example, float(row[best]), lookalike)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            return [self._cache[t] for t in texts]

    def match(self, text: str, *, framed: bool = False) -> Resemblance | None:
        """The closest example when it is within the threshold (``sarcasm_threshold`` for a text that
        praise frames, ``framed``), else None."""
        hit = self.nearest([text])[0]
        return hit if hit.similarity >= (self.sarcasm_threshold if framed else self.threshold) else None

    def close(self, hit: Resemblance) -> bool:
        """Whether ``hit`` is close enough to its example to be a complaint of that kind whatever the tone:
        at ``strong_threshold`` or above, and closer to the example than to any look-alike (the nearest
        neighbour over complaints and look-alikes is a complaint)."""
        return hit.similarity >= self.strong_threshold and hit.similarity > hit.lookalike


_shared: dict[tuple[Any, ...], RiskExamples | None] = {}
_shared_lock = threading.Lock()


def risk_examples(semantic: Any) -> RiskExamples | None:
    """The :class:`RiskExamples` for an ``escalation.semantic`` config section (one per distinct
    setting in this process, so the embedder loads once), or None when it is turned off.

    A model that cannot be loaded is logged once as an error and the rules go on with the phrase
    lists alone (None), so a bad ``escalation.semantic.model`` never stops escalations.
    """
    if not semantic.enabled:
        return None
    categories = dict.fromkeys([*EXAMPLES, *semantic.examples])  # built-in order first, as written
    examples = {c: (*EXAMPLES.get(c, ()), *semantic.examples.get(c, ())) for c in categories}
    lookalikes = (*(t for texts in LOOKALIKES.values() for t in texts), *semantic.lookalikes)
    key = (semantic.model, semantic.threshold, semantic.sarcasm_threshold, semantic.strong_threshold,
           tuple(sorted((c, tuple(t)) for c, t in examples.items())), lookalikes)
    with _shared_lock:
        if key not in _shared:
            from models.embedder import Embedder

            found: RiskExamples | None = None
            try:
                found = RiskExamples(examples, semantic.threshold, Embedder(semantic.model),
                                     semantic.sarcasm_threshold, semantic.strong_threshold, lookalikes)
                found.nearest([])  # loads the model and embeds the examples now
            except Exception as err:  # any load failure: the phrase lists still work
                log.error("escalation.semantic.model %r cannot be used (%s); escalations use the phrase lists "
                          "only: fix escalation.semantic.model or set escalation.semantic.enabled: false",
                          semantic.model, " ".join(str(err).split())[:200] or type(err).__name__)
                found = None
            _shared[key] = found
        return _shared[key]
