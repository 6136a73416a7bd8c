"""Risk phrases: categories, strong or weak, whole words, negation as NegEx reads it."""

from __future__ import annotations

import pytest

from monitor.escalations.risk import STRONG, WEAK, expand, find_risks, inflections, says_resolved


def hits(text: str) -> list[tuple[str, str, bool, bool]]:
    return [(h.category, h.phrase, h.strong, h.negated) for h in find_risks(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("I will SUE you over this", [("legal", "sue you", True, False)]),
    ("my lawyer is on it", [("legal", "lawyer", True, False)]),
    ("the charger caught fire", [("safety", "caught fire", True, False)]),
    ("someone logged into my account", [("data_breach", "someone logged into my", True, False)]),
    ("left us stranded at the gate", [("outage", "stranded", True, False)]),
    ("you charged me twice #fraud", [("money", "charged me twice", True, False), ("money", "fraud", True, False)]),
    ("I will never fly with you again", [("churn", "never fly with you again", True, False)]),
    ("your staff were openly racist", [("discrimination", "racist", True, False)]),
    ("the app is down", [("outage", "app is down", True, False)]),
    ("where is my refund", [("money", "where is my refund", True, False)]),
])
def test_each_category_has_strong_phrases(text: str, expected: list[tuple[str, str, bool, bool]]) -> None:
    assert hits(text) == expected


def test_weak_terms_are_marked_weak_and_innocent_words_are_not_risks() -> None:
    assert hits("we lost the game, court was packed") == [("outage", "lost", False, False),
                                                         ("legal", "court", False, False)]
    assert hits("this album is fire, no cap") == []
    assert hits("pursue a downgrade, issue resolved") == []  # whole words only


def test_matching_is_folded_hashtags_apostrophes_and_line_breaks() -> None:
    assert hits("#LAWSUIT incoming") == [("legal", "lawsuit", False, False)]
    assert hits("I can\u2019t log in") == [("outage", "can't log in", True, False)]
    assert hits("data\nbreach") == [("data_breach", "data breach", True, False)]


@pytest.mark.parametrize(("text", "negated"), [
    ("I would never sue you", True),
    ("no need to sue you, all good", True),
    ("we don't want to sue you", True),
    ("not cancelling my subscription", True),
    ("can't wait for the class action", False),  # a pseudo-negation negates nothing
    ("no reply in days, so I will sue you", False),  # the cue is in another clause
    ("they fixed nothing but I will sue you", False),  # "but" ends the clause
    ("never ever in my whole entire life would sue you", False),  # more than four words away
])
def test_negation_looks_four_words_back_within_the_clause(text: str, negated: bool) -> None:
    [hit] = [h for h in find_risks(text) if h.strong]
    assert hit.negated is negated


def test_longer_phrases_win_and_extras_are_added_per_category() -> None:
    assert hits("lost my luggage") == [("outage", "lost my luggage", True, False)]
    extra = find_risks("the heater melted", extra_strong={"safety": ["melted"]})
    assert [(h.category, h.phrase, h.strong) for h in extra] == [("safety", "melted", True)]
    weak = find_risks("price hike again", extra_weak={"money": ["price hike"]})
    assert [(h.category, h.strong) for h in weak] == [("money", False)]


def test_patterns_expand_to_plain_phrases_and_every_category_has_both_lists() -> None:
    assert expand("sue|suing you|u") == ["sue you", "sue u", "suing you", "suing u"]
    assert expand("never fly with|_ you again") == ["never fly with you again", "never fly you again"]
    categories = {"legal", "safety", "data_breach", "outage", "money", "churn", "discrimination"}
    assert set(STRONG) == set(WEAK) == categories


def test_a_weak_term_stands_for_its_inflections_but_not_for_other_words() -> None:
    assert inflections("lost") == {"lose", "loses", "losing", "lost"}
    assert "feed" not in inflections("fee") and "fees" in inflections("fee")  # feed is a word of its own
    assert "break" not in inflections("broken")  # "give me a break" is no outage
    assert hits("cheers for losing my suitcase") == [("outage", "losing", True, False)]  # praise: sarcasm
    assert hits("they fed the cat") == [] and hits("we will switch plans") == [("churn", "switch", False, False)]


def test_praise_from_the_model_makes_an_unnegated_weak_term_strong() -> None:
    text = "four hours delayed on the tarmac, what a day"
    assert [(h.phrase, h.strong, h.sarcastic) for h in find_risks(text)] == [("delayed", False, False)]
    assert [(h.phrase, h.strong, h.sarcastic) for h in find_risks(text, praise=True)] == [("delayed", True, True)]
    assert [h.strong for h in find_risks("no delay at all, smooth flight", praise=True)] == [False]  # negated
    assert [h.strong for h in find_risks("thanks for the quick refund", praise=True)] == [False]  # a resolution
    # a problem said to be dealt with, before or after it, is thanks: the same words unresolved are sarcasm
    assert [h.strong for h in find_risks("thank you for fixing the crashes in the app", praise=True)] == [False]
    assert [h.strong for h in find_risks("the crashes are sorted now, thanks", praise=True)] == [False]
    assert [h.strong for h in find_risks("thank you for the crashes in the app", praise=True)] == [True]


@pytest.mark.parametrize(("text", "phrase", "category"), [
    ("@acme your site emailed me someone else's invoice", "someone else's invoice", "data_breach"),
    ("@acme the engineer did not turn up, third time", "did not turn up", "outage"),
    ("@acme taking my savings somewhere else after this", "taking my savings somewhere else", "churn"),
    ("@acme my son needed stitches after your slide", "needed stitches", "safety"),
    ("@acme the waiter laughed at my accent", "laughed at my", "discrimination"),
    ("@acme my employment tribunal claim goes in Monday", "tribunal", "legal"),
])
def test_phrases_of_several_words_with_alternatives_match_as_written(text: str, phrase: str, category: str) -> None:
    assert (phrase, category, True) in [(h.phrase, h.category, h.strong) for h in find_risks(text)]


@pytest.mark.parametrize("text", [
    "@acme shut up and take my money! the new headphones look amazing",  # a meme of praise, not a robbery
    "@acme I'm leaving for Paris tomorrow, love the new lounge",
    "@acme love my fall collection from you",
    "@acme thanks for speaking at our school today",
])
def test_everyday_phrases_near_the_new_risk_words_are_not_risks(text: str) -> None:
    assert [h for h in find_risks(text, praise=True) if h.strong] == []


def test_praise_of_access_or_a_deposit_returned_is_not_sarcasm() -> None:
    for text in ("@acme love the new wheelchair ramp, thank you", "@acme thanks, deposit back in two days"):
        assert [h.phrase for h in find_risks(text, praise=True) if h.strong] == []


@pytest.mark.parametrize(("text", "resolved"), [
    ("I was worried about the outage but it was fixed before I noticed", True),  # the fix follows "but"
    ("it was fixed but now the delay is worse", False),  # the fix before "but" is about something else
    ("you sorted my bill out in five minutes", True),
    ("the bill is still not sorted", False),  # a negated fix
    ("please fix my broken heater", False),  # "fix" asks; it reports nothing
])
def test_a_risk_word_is_resolved_when_a_fix_is_reported_near_it(text: str, resolved: bool) -> None:
    [hit] = find_risks(text)
    assert hit.resolved is resolved and hit.moot is (resolved or hit.negated)


def test_a_text_says_resolved_only_for_an_unnegated_fix_it_reports() -> None:
    assert says_resolved("not cancelling after all, you guys sorted it out")
    assert not says_resolved("not cancelling yet. fix the app")
    assert not says_resolved("three weeks and it is still not fixed")
