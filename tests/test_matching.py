"""Brand matching edge cases: words not substrings, exclusions win, case, hashtags, handles, URLs."""

from __future__ import annotations

import pytest

from monitor.config import BrandConfig
from monitor.ingest.matching import Matcher


@pytest.fixture
def matcher() -> Matcher:
    return Matcher([
        BrandConfig(name="Delta", keywords=["Delta", "Delta Air Lines"], handles=["@Delta"],
                    exclude=["delta variant", "river delta"]),
        BrandConfig(name="Müller", keywords=["Müller"], handles=["@mueller_de"], languages=["de", "en"]),
        BrandConfig(name="Café Nero", keywords=["Café Nero"]),
        BrandConfig(name="Apple", keywords=["Apple"], exclude=["apple pie"]),
    ])


@pytest.mark.parametrize(
    ("text", "brands"),
    [
        ("Delta lost my bag again", {"Delta"}),
        ("deltaic sediments and Deltas", set()),                      # substring vs word
        ("flying DELTA tomorrow", {"Delta"}),                          # case
        ("delta's lounge is nice", {"Delta"}),                         # possessive
        ("never again #Delta", {"Delta"}),                             # hashtag of a keyword
        ("#DeltaAirLines what is this service", {"Delta"}),            # hashtag of a phrase
        ("#deltaic", set()),
        ("@Delta where is my refund", {"Delta"}),                      # handle
        ("@DeltaNews posted", set()),                                  # longer handle
        ("me@delta.example wrote", {"Delta"}),                         # word after @ in an email-ish token
        ("Delta   Air\nLines strike", {"Delta"}),                      # phrase across whitespace
        ("the delta variant is spreading", set()),                    # exclusion wins
        ("Delta flight over the river delta", set()),                 # exclusion wins over a real mention
        ("see https://www.delta-air-lines.com/refunds", {"Delta"}),     # URL containing the phrase
        ("MÜLLER joghurt ist lecker", {"Müller"}),                     # non-ASCII case folding
        ("Mullerstrasse", set()),
        ("coffee at CAFÉ NERO", {"Café Nero"}),
        ("coffee at Cafe Nero", set()),                                # accents are part of the name
        ("apple pie recipe", set()),
        ("my Apple watch", {"Apple"}),
        ("pineapple juice", set()),
    ],
)
def test_brand_matching(matcher: Matcher, text: str, brands: set[str]) -> None:
    assert set(matcher.match(text)) == brands


def test_language_filter_and_reported_terms(matcher: Matcher) -> None:
    assert matcher.match("Müller is great", language="fr") == {}
    assert "Müller" in matcher.match("Müller is great", language="de-AT")
    assert "Müller" in matcher.match("Müller is great", language=None)
    terms = matcher.match("Delta Air Lines and @delta")["Delta"]
    assert "delta air lines" in terms and "@delta" in terms
