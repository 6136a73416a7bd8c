"""The words and two-word phrases of a text, without filler: what "rising terms" are counted on.

Pure functions. A phrase is two neighbouring content words ("refund delay", "app crashes"),
so the drivers of a storm read as what people are saying rather than single words; a word
whose rise a phrase explains is left out in favour of the phrase.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise

_WORD = re.compile(r"[#@]?[^\W\d_][\w'’-]*|[.,!?;:()\[\]\"“”…/|]", re.UNICODE)
"""A word, or punctuation that ends a phrase."""
_FILLER = """
a about above across after afterwards again against all almost alone along already also although always am among
amongst an and another any anyhow anyone anything anyway anywhere are around as at back be became because become
becomes been before beforehand behind being below beside besides between beyond both but by can cannot could did
do does doing done during each either else elsewhere enough etc even ever every everyone everything everywhere
few for former formerly from further get gets getting go goes going gone got gotta had has have having he hence
her here hereby herein hers herself him himself his how however i ie if in indeed into is it its itself just
keep last latter least less let lets like made make makes many may me meanwhile might mine more moreover most
mostly much must my myself namely neither nevertheless next no nobody none noone nor not nothing now nowhere of
off often on once one only onto or other others otherwise our ours ourselves out over own per perhaps please put
quite rather really same say says see seem seemed seems several she should since so some somehow someone
something sometime sometimes somewhere still such than that the their theirs them themselves then thence there
thereafter thereby therefore therein these they thing things this those though through throughout thru thus to
today together too toward towards under until up upon us very via want wants was way we well were what whatever
when whence whenever where whereas whether which while who whoever whole whom whose why will with within without
would yet you your yours yourself yourselves yeah yes ok okay lol omg pls plz u ur im ive id ill youre youve
isnt arent wasnt werent dont doesnt didnt cant couldnt wouldnt shouldnt wont hasnt havent hadnt thats theres
whats hes shes weve theyre theyve https http www com amp rt owe day days time week
"""
STOPWORDS = frozenset(_FILLER.split())
"""English filler (function words, chat fillers, and words every complaint uses), plus URL parts. Not "down",
"never" or "broken": in a complaint they carry the meaning."""
PHRASE_COVERS = 0.6
"""A word is left out when a rising phrase holding it appears in at least this share of its mentions."""


def tokens(text: str) -> list[str | None]:
    """The words of ``text``, lower-cased; None where a filler word or punctuation stood (phrases never
    span it)."""
    out: list[str | None] = []
    for raw in _WORD.findall(text):
        if not raw[-1].isalnum() and raw[-1] not in "'’-_":
            out.append(None)
            continue
        w = raw.lower().strip("'’-").replace("’", "'")
        bare = w.replace("'", "")
        out.append(None if len(bare) < 3 or bare in STOPWORDS or w in STOPWORDS else w)
    return out


def doc_terms(texts: Iterable[str], ignore: set[str]) -> Counter[str]:
    """In how many of ``texts`` each content word and two-word phrase occurs (``ignore``: the brand's own words)."""
    counts: Counter[str] = Counter()
    for text in texts:
        words = [None if w is not None and w in ignore else w for w in tokens(text)]
        terms = {w for w in words if w}
        terms |= {f"{a} {b}" for a, b in pairwise(words) if a and b and a != b}
        counts.update(terms)
    return counts


def prefer_phrases(rising: list[tuple[str, int]]) -> set[str]:
    """The words to leave out of ``rising`` (term, count) because a rising phrase explains them."""
    phrases = [(t, c) for t, c in rising if " " in t]
    drop = set()
    for term, c in rising:
        if " " not in term and any(term in p.split() and pc >= PHRASE_COVERS * c for p, pc in phrases):
            drop.add(term)
    return drop
