"""A storm's drivers read as what people say: phrases, no filler words."""

from __future__ import annotations

from monitor.spikes.phrases import doc_terms, prefer_phrases, tokens


def test_filler_words_are_never_terms() -> None:
    words = [w for w in tokens("Nothing ever works, I owe you nothing and it's every day the same") if w]
    assert words == ["works"]


def test_neighbouring_content_words_make_phrases_but_not_across_filler() -> None:
    counts = doc_terms(["Refund delayed again, refund delayed for weeks", "my refund delayed", "Acme app crashes"],
                       ignore={"acme"})
    assert counts["refund delayed"] == 2 and counts["refund"] == 2 and counts["app crashes"] == 1
    assert "acme app" not in counts  # the brand's own words are no driver
    assert "delayed weeks" not in counts  # "for" stood between them


def test_a_word_a_phrase_explains_gives_way_to_the_phrase() -> None:
    rising = [("refund delayed", 9), ("refund", 10), ("delayed", 30), ("crashes", 4)]
    assert prefer_phrases(rising) == {"refund"}
