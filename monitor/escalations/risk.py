"""Risk phrases: what a customer writes when a complaint could cost the brand more than a reply.

Seven categories (legal, safety, data breach, outage or service failure, money, churn,
discrimination), each with two lists:

- **strong phrases** are specific enough to stand on their own ("sue you", "food poisoning",
  "stranded", "charged me twice", "never fly with you again"). Addressed to the brand, one
  escalates the mention whatever the model reads in its tone, because sarcasm ("thank you
  for leaving my grandma stranded") reads as praise to a sentiment model. The one excuse: the
  phrase is negated ("no need to sue, you fixed it") *and* the model is confidently positive or
  the words are kind: a fix reported anywhere (:data:`DONE_CUES`: "not cancelling after all, you
  sorted it out") or praise ("I would never sue you, thanks for the help").
- **weak terms** are risky words with innocent uses ("down", "lost", "court", "refund"); they
  raise the priority of a mention in proportion to its negativity, and never escalate alone.
  Negated or reported fixed near it ("never had a single delay", "you sorted my bill out"), a term
  is *moot* and raises nothing: the customer names the risk to say there is none.

**Sarcasm** frames a problem in praise ("thanks for the 6 hour delay", "love how your servers go
down"): in a text with such praise, a weak term that is not negated counts as strong, except
the words a grateful customer uses too (:data:`RESOLUTIONS`: "thanks for the refund") and a
problem said to be dealt with (:data:`RESOLVED_CUES`: "thanks for fixing the crashes"). Praise
is either a stock frame (:data:`SARCASM_CUES`) or the model itself reading the text as positive
(``praise=True``, which the rules pass when ``p_positive`` reaches
``escalation.sarcasm_tone``): a positive tone around an unnegated problem word is what sarcasm
is, whatever words frame it, so the model's reading generalises where a list of frames cannot.

**Inflections**: a one-word weak term stands for its inflections too ("lose" for lost, losing,
loses; "switching" for switch, switched), from the lemminflect lexicon, keeping only forms
whose own lemma is the term's (so "fee" never becomes "feed").

A phrase is written in plain words; ``a|b`` offers alternatives for one word and ``_`` an
optional word (``sue|suing you|u`` is four phrases). Matching is :func:`monitor.text.term_regex`
(whole words, NFKC-folded, any case, hashtags too), the rule brand matching uses.

Negation follows NegEx (Chapman et al., 2001) in miniature: a negation cue among the four
words before the phrase, in the same clause (a ``,;.!?:`` or "but" ends a clause), pseudo-
negations such as "can't wait" and "not only" aside. It is
hand-written because the libraries that do this (negspacy) need a spaCy pipeline, too heavy
for one rule run every minute.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from monitor.text import fold, term_regex

CATEGORY_WORDS = {
    "legal": "legal", "safety": "safety", "data_breach": "data breach", "outage": "outage",
    "money": "money", "churn": "churn", "discrimination": "discrimination",
}
"""How each category is named to a person."""

STRONG: dict[str, tuple[str, ...]] = {
    "legal": (
        "sue|suing you|u|y'all|ya|your|them", "lawsuit against you|your", "class action",
        "legal action", "lawyer|lawyers|attorney|attorneys|solicitor|solicitors", "see you in court",
        "take|taking you|u|this to court", "small claims", "file|filing|filed a complaint",
        "report|reporting you|u to", "consumer protection", "attorney general",
        "better business bureau", "ombudsman", "trading standards",
        "tribunal", "to|tell the regulator|regulators", "barrister|barristers", "breach of contract", "legal advice",
        "issued|issuing a claim", "claim against you|u", "consumer rights", "data protection authority",
        "to a judge", "my|our union rep",
    ),
    "safety": (
        "food poisoning", "caught|catches|catching fire", "burst into flames",
        "ended up in the|a|_ hospital|er", "allergic reaction", "choking hazard",
        "battery|phone|charger|device|laptop|it exploded", "emergency landing", "almost|nearly died",
        "could|would have killed", "could've killed", "electric shock",
        "carbon monoxide", "smoke coming out", "burned|burnt my|me", "glass in my",
        "bugs|cockroach|cockroaches|maggots|mold|mould in my", "injured my|me|us",
        "unsafe for", "safety hazard", "fire hazard", "exposed wires", "not safe for", "sparks when",
        "needed stitches", "chipped|broke|broken my|a tooth|wrist|arm|leg|ankle|hip|nose",
        "my|her|his wrist|arm|leg|ankle|hip is broken", "cut my|her|his hand|finger|foot|lip",
        "scalded|scalding", "salmonella", "e coli", "listeria", "contaminated", "undercooked", "raw chicken|meat",
        "metal|plastic|shard|hair|bone|needle|screw in my", "got sick|ill after eating", "sick after eating",
        "ran a red light", "on his|her phone while driving", "started smoking|sparking", "gas leak",
        "tripped over", "after my|her|his fall", "threw|thrown down", "snapped in half", "collapsed under",
    ),
    "data_breach": (
        "data breach", "data leak", "leaked my|our", "got|was|been|were hacked", "account hacked",
        "hacked my|our", "identity theft", "stole|stolen my identity|data|details|information|info",
        "someone logged into my", "someone accessed my", "unauthorized|unauthorised login|logins|access|activity",
        "exposed my|our", "sold|selling|sell my data|details|information|info|number", "privacy breach",
        "strangers can log|logging into my", "someone else can log|logging into my", "used my card",
        "card being|was used",
        "another customer's|customers address|details|data|information",
        "someone|somebody else's invoice|details|address|data|information|order|account|statements|card|payslips",
        "another person's|customer's invoice|statements|card|payslips|order",
        "a stranger's invoice|details|address|data|information|order|account|statements|card|payslips",
        "who did you give|sell|share my", "someone reset|changed the|my", "can log in as me",
        "my private|personal messages|details|data ended up", "strangers are|were receiving", "gave them access",
        "password|passwords|details on a list",
    ),
    "outage": (
        "outage", "is|are|still|it's|its|app|site|wifi not working", "isn't|aren't working",
        "doesn't|won't work", "does not work", "app|site|website|server|servers|service|system|network|internet|wifi "
        "is|are|was|keeps|been|went down", "stopped working", "won't|can't|cannot load",
        "can't|cannot log|sign in|into", "no service|signal|internet|power", "stranded",
        "lost my|our|the luggage|bag|bags|baggage|suitcase|package|parcel|order", "lost luggage|bag|bags|baggage",
        "power cut|outage", "no power",
        "never arrived|came", "never showed up", "still hasn't|hasnt arrived", "still has not arrived",
        "never delivered",
        "arrived broken|damaged|smashed", "cancelled|canceled my flight", "flight cancelled|canceled",
        "missed my connection|flight", "on hold for", "been on hold",
        "no show|shows", "no-show|no-shows", "didn't|never turn|turned|show|showed up", "did not turn|show up",
        "left without us|me", "left me|us behind", "marked it|as delivered", "hour|hours wait",
        "hours on a|the runway|tarmac", "sat on a|the runway|tarmac", "been out of order|action", "logs|logged me out",
        "keeps crashing|freezing|buffering", "buffers every", "declined everywhere",
    ),
    "money": (
        "chargeback", "charged me twice", "charged twice", "double charged|billed|charge|charges|charging",
        "overcharged",
        "want|need|demand a|my refund", "want|need my money back", "give me my money back",
        "still no refund", "waiting for|on my|a|_ refund",
        "where is my refund|money", "where's my refund|money", "refund me",
        "stole|stealing|took my money", "scam|scammed|scammers|ripoff", "rip off", "ripped me off",
        "fraud|fraudulent", "still charging|billing me", "still being charged|billed",
        "charged|billed me after|since i cancelled|canceled",
        "unauthorized|unauthorised charge|charges|transaction", "hidden fees", "never signed up for",
        "booking|order|purchase|payment|charge i never made", "dispute your|the charge|charges",
        "taking my money", "keeping|kept my deposit", "price hike|hikes for", "want|need the difference back",
        "billed|cashed twice", "gave me nothing", "nothing in return", "admin fee", "surprise charge",
        "charge|charges for a delivery|order|service that|i", "never asked for", "insurance i never",
    ),
    "churn": (
        "cancel|cancelling|canceling my subscription|account|membership|contract|plan|service",
        "close|closing my account", "switching|switched|switch to another",
        "switching|switched|switch to a different", "switching|switched|switch to your competitor|competitors",
        "never fly|flying with|_ you|u again",
        "never buying|ordering|shopping|using from|with|_ you|u again",
        "never again", "lost a customer", "lost my business", "take|taking my business elsewhere",
        "done with you|your", "i'm|im done with", "won't be back|renewing|returning",
        "will not be back|renewing|returning", "last time i fly|order|buy|shop|use",
        "unsubscribe me", "unsubscribing from", "leaving you for", "moving my|our mortgage|account|business to",
        "try|trying the competition", "delete|deleting my account", "deleting the app",
        "i'm|im|we're leaving you|your", "ported|porting my number", "pac code", "sent|given|giving my notice",
        "moving my|our accounts|account", "never come|coming back", "won't be coming back", "ending the|our contract",
        "taking my|our pension|savings|mortgage|accounts|account|custom elsewhere",
        "taking my|our pension|savings|mortgage|accounts|account|custom somewhere else",
        "to someone who answers", "the new provider", "a customer of your rival|competitor", "how to leave",
        "so easy to leave", "i left you",
    ),
    "discrimination": (
        "racist|racism", "racial profiling", "profiled me|us", "sexist|sexism",
        "misogynist|misogynistic", "homophobic|homophobia", "transphobic", "ableist",
        "discriminated|discriminating against", "discriminatory", "harassed|harassment", "bigot|bigoted",
        "because i'm|im black|trans|gay|disabled|muslim|jewish|deaf|blind|old",
        "because i am black|trans|gay|disabled|muslim|jewish|deaf|blind|old", "because i'm|im a woman",
        "refused to serve me|us",
        "age|racial|disability|sex|religious|pregnancy discrimination",
        "only the white|black|brown|asian customers|kids|people", "only greet the", "only black|white|asian customer",
        "because of my guide dog|wheelchair|accent|name|religion|race|disability|hijab|turban",
        "because he|she has autism", "because he|she has down syndrome", "because my son|daughter has", "laughed at my",
        "told her|him|us to wait outside", "mocking disabled", "calling security on",
    ),
}
"""Strong phrases per category: each escalates a mention addressed to the brand on its own."""

WEAK: dict[str, tuple[str, ...]] = {
    "legal": ("sue", "suing", "lawsuit", "legal", "court", "illegal", "liable"),
    "safety": ("dangerous", "danger", "exploded", "hospital", "injury|injured", "burned", "recall", "poisoning",
               "unsafe", "sparks|sparking", "overheating|overheats", "collapsed", "smoke alarm", "wet floor", "shard"),
    "data_breach": ("breach", "leak|leaked", "hack|hacked", "privacy", "password", "phishing", "spam|spammers",
                    "scam texts|calls"),
    "outage": ("down", "broken", "crash|crashed|crashing", "glitch", "bug", "error", "delayed|delay", "lost",
               "cancelled|canceled", "offline", "power cut", "blackout", "on hold", "buffering|buffers",
               "out of order", "no show", "overbooked", "declined", "technical issue", "dial up"),
    "money": ("refund|refunds|refunded", "money back", "charged", "fee|fees", "billing|bill|billed", "overcharge",
              "expensive", "dispute", "deposit", "price hike", "debited"),
    "churn": ("cancel|cancelling|canceling", "unsubscribe", "switching", "competitor|competitors|competition",
              "goodbye", "rival", "new provider", "elsewhere"),
    "discrimination": ("discrimination", "discriminate", "profiling", "wheelchair", "disabled", "deaf",
                       "autism|autistic"),
}
"""Weak terms per category: raise the priority of a negative mention, never escalate alone (but see sarcasm)."""

SARCASM_CUES = (
    "thanks|thx for", "thank you for", "thanks so much for", "thank you so much for",
    "love|loving how|that|being", "love|loving the way", "so glad", "great job|news|value|service|deal",
    "nice touch", "nice of you",
    "cheers for", "congrats|congratulations", "what a great|deal|treat|journey", "really appreciate",
    "amazing how", "lovely to see", "brilliant", "genius", "bravo", "well done", "impressive", "stellar",
    "oh great", "just what i needed", "best customer service", "10/10", "5 stars", "truly a pleasure",
    "such value|loyalty", "world class", "very reassuring|helpful|thoughtful|efficient|inclusive|welcoming|kind",
    "really helpful", "so happy to", "so convenient", "so kind|nice of", "nice to see", "great to see|know",
    "great that", "love the surprise", "unforgettable", "highlight of my", "you're on a roll", "so reassuring",
    "lovely to", "fantastic how", "amazing how fast", "great value", "great customer", "nothing like a",
)
"""Praise that, around a problem, is the usual frame of sarcasm ("thanks for the 6 hour delay")."""
RESOLUTIONS = frozenset({"refund", "refunds", "refunded", "money back", "deposit", "wheelchair", "disabled", "deaf",
                         "autism", "autistic"})
"""Weak terms a grateful customer names too ("thanks for the refund", "love the wheelchair ramp"): sarcasm never
makes them strong."""
DONE_CUES = frozenset({"fixed", "sorted", "resolved", "solved", "repaired", "replaced", "restored", "recovered",
                       "handled"})
"""Words that can only report a fix, not ask for one ("fix the app" asks)."""
RESOLVED_CUES = DONE_CUES | {"fix", "fixes", "fixing", "sorting", "resolving", "solving"}
"""Words that say a problem was dealt with: praise around "fixed the crashes" is thanks, not sarcasm."""

NEGATION_CUES = frozenset({
    "no", "not", "never", "none", "nothing", "nobody", "neither", "nor", "without", "cannot", "cant",
    "dont", "doesnt", "didnt", "wont", "wouldnt", "isnt", "arent", "wasnt", "werent", "havent", "hasnt",
    "hadnt", "shouldnt", "couldnt", "aint", "mustnt", "neednt", "zero",
})
NEGATION_WINDOW = 4
PSEUDO_NEGATIONS = re.compile(r"\b(?:can'?t|cannot) wait\b|\bnot (?:only|just)\b|\bno (?:doubt|wonder)\b")
"""Phrases that hold a cue but negate nothing ("can't wait for the class action"), as NegEx lists them."""
_CLAUSE_END = re.compile(r"[,;.!?:]|\bbut\b")
_PUNCTUATION = re.compile(r"[,;.!?:]")
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class RiskHit:
    """One risk found in a text: its category, the words matched, strong or weak, negated or not.

    ``sarcastic``: a weak term made strong because praise frames it ("love how your servers go down").
    ``resolved``: a word near it reports the problem dealt with (:data:`DONE_CUES`: "you sorted my bill out").
    """

    category: str
    phrase: str
    strong: bool
    negated: bool
    sarcastic: bool = False
    resolved: bool = False

    @property
    def moot(self) -> bool:
        """Negated or dealt with: the customer names the risk to say it is not one ("never had a single outage")."""
        return self.negated or self.resolved


def expand(pattern: str) -> list[str]:
    """The plain phrases a pattern stands for: ``sue|suing you|u`` -> sue you, sue u, suing you, suing u."""
    choices = [[w for w in word.split("|")] for word in pattern.split()]
    phrases = (" ".join(w for w in combo if w != "_") for combo in itertools.product(*choices))
    return [p for p in phrases if p]


def negated(folded: str, start: int) -> bool:
    """Whether a negation cue sits among the :data:`NEGATION_WINDOW` words before ``start`` in its clause."""
    before = PSEUDO_NEGATIONS.sub(" ", _CLAUSE_END.split(folded[:start])[-1])
    words = [w.replace("'", "") for w in _WORD.findall(before)][-NEGATION_WINDOW:]
    return any(w in NEGATION_CUES for w in words)


def resolved(folded: str, start: int, end: int, cues: frozenset[str] = RESOLVED_CUES) -> bool:
    """Whether an unnegated ``cues`` word sits within :data:`NEGATION_WINDOW` words of the term, in its
    clause; after the term the clause runs on past "but" ("worried about the outage but it was fixed"),
    before it does not ("it was fixed but now the app is down")."""
    before = _CLAUSE_END.split(folded[:start])[-1]
    offset = start - len(before)
    for m in reversed(list(_WORD.finditer(before))[-NEGATION_WINDOW:]):
        if m.group(0) in cues:
            return not negated(folded, offset + m.start())
    after = _PUNCTUATION.split(folded[end:])[0]
    for m in list(_WORD.finditer(after))[:NEGATION_WINDOW]:
        if m.group(0) in cues:
            return not negated(folded, end + m.start())
    return False


def says_resolved(text: str) -> bool:
    """Whether ``text`` anywhere says a problem was dealt with: an unnegated :data:`DONE_CUES` word
    ("you guys sorted it out"; "still not fixed" and "fix the app" do not)."""
    folded = _fold(text)
    return any(not negated(folded, m.start()) for m in _WORD.finditer(folded) if m.group(0) in DONE_CUES)


def _fold(text: str) -> str:
    """:func:`monitor.text.fold`, with typographic apostrophes made plain (``can’t`` is ``can't``)."""
    return fold(text.replace("’", "'"))


Extras = tuple[tuple[str, tuple[str, ...]], ...]


def inflections(word: str) -> set[str]:
    """``word`` and its inflections ("lose" -> lose, loses, losing, lost; "switching" -> switch, switched).

    A form is kept when it leads back to one of the word's lemmas, is not a word of its own
    ("feed" is not a form of "fee"), and starts as the word does (so "broken" never becomes
    "break", which has innocent uses of its own).
    """
    from lemminflect import getAllInflections, getAllLemmas

    forms = {word}
    if not word.isalpha():
        return forms
    for lemmas in getAllLemmas(word).values():
        for lemma in lemmas:
            for group in getAllInflections(lemma).values():
                for form in group:
                    own = {x for ls in getAllLemmas(form).values() for x in ls}
                    if (form.isalpha() and form[:3] == word[:3] and lemma in own
                            and (form == lemma or form not in own)):
                        forms.add(form.lower())
    return forms


@lru_cache(maxsize=64)
def _lexicon(extra_strong: Extras, extra_weak: Extras) -> tuple[dict[str, tuple[str, bool]], re.Pattern[str]]:
    """Every phrase -> (category, strong), and one regex for all of them (strong first on ties)."""
    owner: dict[str, tuple[str, bool]] = {}
    for strong, table in ((True, STRONG), (True, dict(extra_strong)), (False, WEAK), (False, dict(extra_weak))):
        for category, patterns in table.items():
            for pattern in patterns:
                for phrase in expand(fold(pattern)):
                    key = " ".join(phrase.split())
                    owner.setdefault(key, (category, strong))
    for table in (WEAK, dict(extra_weak)):  # after every written phrase, so a written one keeps its owner
        for category, patterns in table.items():
            for pattern in patterns:
                for phrase in expand(fold(pattern)):
                    if " " not in phrase:
                        for form in sorted(inflections(phrase)):
                            owner.setdefault(form, (category, False))
    pattern = term_regex(tuple(owner))
    assert pattern is not None
    return owner, pattern


def _frozen(extra: Mapping[str, Iterable[str]] | None) -> Extras:
    return tuple(sorted((c, tuple(p)) for c, p in (extra or {}).items()))


def find_risks(text: str, extra_strong: Mapping[str, Iterable[str]] | None = None,
               extra_weak: Mapping[str, Iterable[str]] | None = None, *, praise: bool = False) -> list[RiskHit]:
    """The risks in ``text``, in order of appearance, one per phrase (the built-in lists plus the extras).

    Longer phrases win where phrases overlap ("charged me twice" over "charged"). ``praise``:
    the model reads the text as positive (a stock praise frame counts anyway), so an unnegated
    weak term in it is sarcasm. Returns an empty list for text with none.
    """
    owner, pattern = _lexicon(_frozen(extra_strong), _frozen(extra_weak))
    folded = _fold(text)
    praise = _praised(folded, praise)
    hits: list[RiskHit] = []
    seen: set[str] = set()
    for m in pattern.finditer(folded):
        phrase = " ".join(m.group(0).lstrip("#").split())
        if phrase in seen or phrase not in owner:
            continue
        seen.add(phrase)
        category, strong = owner[phrase]
        is_negated = negated(folded, m.start())
        sarcastic = (praise and not strong and not is_negated and phrase not in RESOLUTIONS
                     and not resolved(folded, m.start(), m.end()))
        done = resolved(folded, m.start(), m.end(), DONE_CUES)
        hits.append(RiskHit(category, phrase, strong or sarcastic, is_negated, sarcastic, done))
    return hits


def praise_frame(text: str, praise: bool = False) -> bool:
    """Whether ``text`` frames what it says in praise without saying a problem was dealt with: the
    model reads it as positive (``praise``) or a stock frame is there, and neither a
    :data:`RESOLVED_CUES` word ("thanks for fixing the crashes") nor a :data:`RESOLUTIONS` one ("thank
    you for helping me get my money back") is, as for weak terms. What makes a resemblance sarcasm."""
    folded = _fold(text)
    if not _praised(folded, praise):
        return False
    if any(w in RESOLVED_CUES for w in _WORD.findall(folded)):
        return False
    return _resolutions().search(folded) is None


def _praised(folded: str, praise: bool) -> bool:
    """The model reads the text as positive (``praise``) or a stock praise frame is in it."""
    return praise or _sarcasm_cues().search(folded) is not None


def praised(text: str, praise: bool = False) -> bool:
    """Whether ``text`` praises: the model reads it as positive (``praise``) or a stock praise frame is in it."""
    return _praised(_fold(text), praise)


@lru_cache(maxsize=1)
def _resolutions() -> re.Pattern[str]:
    pattern = term_regex(tuple(RESOLUTIONS))
    assert pattern is not None
    return pattern


@lru_cache(maxsize=1)
def _sarcasm_cues() -> re.Pattern[str]:
    pattern = term_regex(tuple(p for cue in SARCASM_CUES for p in expand(cue)))
    assert pattern is not None
    return pattern
