"""Brand matching: how people write brands (tickers, products, plurals, versions, joined names,
camel-case hashtags) and only those (words not substrings, exclusions win, no ticker inside a
word), case, handles, URLs, the rules reported, and the language filter."""

from __future__ import annotations

import pytest

from monitor.config import BrandConfig
from monitor.ingest.language import DETECTED, PLATFORM, Language
from monitor.ingest.matching import Hit, Matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher([
        BrandConfig(name="Delta", keywords=["Delta", "Delta Air Lines"], handles=["@Delta"],
                    exclude=["delta variant", "river delta"]),
        BrandConfig(name="Müller", keywords=["Müller"], handles=["@mueller_de"], languages=["de", "en"]),
        BrandConfig(name="Café Nero", keywords=["Café Nero"]),
        BrandConfig(name="Apple", keywords=["Apple"], products=["iPhone", "iPad", "Mac"], tickers=["AAPL"],
                    handles=["@Apple"], exclude=["apple pie", "big apple"]),
        BrandConfig(name="Google", keywords=["Google"], products=["Android", "Google Maps"], tickers=["GOOG"]),
        BrandConfig(name="Time Warner", keywords=["Time Warner Cable"], aliases=["Time Warner"], tickers=["TWC"]),
        BrandConfig(name="AT&T", keywords=["AT&T"], tickers=["T"]),
        BrandConfig(name="BlackBerry", keywords=["BlackBerry"], tickers=["BBRY", "$ON"]),
        BrandConfig(name="McDonald's", keywords=["McDonald's"], tickers=["MCD"]),
        BrandConfig(name="Ford", keywords=["Ford Motor"], tickers=["F"]),
    ])


CASES = [
    # words, not substrings; case; handles; phrases; URLs; accents (the rules before this issue)
    ("Delta lost my bag again", {"Delta"}),
    ("deltaic sediments", set()),                                  # substring vs word
    ("flying DELTA tomorrow", {"Delta"}),                          # case
    ("never again #Delta", {"Delta"}),                             # hashtag of a keyword
    ("#DeltaAirLines what is this service", {"Delta"}),            # hashtag of a phrase
    ("#deltaic", set()),
    ("@Delta where is my refund", {"Delta"}),                      # handle
    ("@DeltaNews posted", set()),                                  # longer handle
    ("me@delta.example wrote", {"Delta"}),                         # word after @ in an email-ish token
    ("Delta   Air\nLines strike", {"Delta"}),                      # phrase across whitespace
    ("see https://www.delta-air-lines.com/refunds", {"Delta"}),     # URL containing the phrase
    ("https://www.apple.com/shop", {"Apple"}),                     # URL containing the word
    ("https://pineapple.example/shop", set()),                     # ... and not inside a longer word
    ("MÜLLER joghurt ist lecker", {"Müller"}),                     # non-ASCII case folding
    ("Mullerstrasse", set()),
    ("coffee at CAFÉ NERO", {"Café Nero"}),
    ("coffee at Cafe Nero", set()),                                # accents are part of the name
    # possessives
    ("delta's lounge is nice", {"Delta"}),
    ("my iPhone's screen", {"Apple"}),
    ("all the iPhones' cameras", {"Apple"}),
    ("Apple’s new store", {"Apple"}),                               # curly apostrophe
    # plurals
    ("Deltas everywhere", {"Delta"}),
    ("iPhones are everywhere", {"Apple"}),
    ("Androids outsell everything", {"Google"}),
    ("two BlackBerries and a pager", {"BlackBerry"}),
    ("the Macs in the lab", {"Apple"}),
    # a trailing version
    ("my iPhone4S died", {"Apple"}),
    ("in line for the iPad2", {"Apple"}),
    ("in line for the iPad 2", {"Apple"}),
    ("#iPad_2 launch", {"Apple"}),
    ("so many ipad2s here", {"Apple"}),
    ("iOS on an iphone 6+", {"Apple"}),
    # joined, hyphenated, slashed, underscored multi-word names
    ("timewarner is down again", {"Time Warner"}),
    ("time-warner cable outage", {"Time Warner"}),
    ("Time/Warner merger", {"Time Warner"}),
    ("time_warner_cable", {"Time Warner"}),
    ("#TimeWarnerCable fix it", {"Time Warner"}),
    ("googlemaps sent me the wrong way", {"Google"}),
    ("Google-Maps again", {"Google"}),
    # apostrophes optional, either kind
    ("McDonalds fries", {"McDonald's"}),
    ("mcdonald’s breakfast", {"McDonald's"}),
    # camel-case hashtags: each part a word; lowercase run-together hashtags are not split
    ("#AppleStore opening", {"Apple"}),
    ("#TeamAndroid forever", {"Google"}),
    ("#iPhoneApp of the week", {"Apple"}),
    ("#SXSWApple popup", {"Apple"}),
    ("#applesauce recipe", set()),
    ("#Pineapple season", set()),
    ("#pineapple season", set()),
    # tickers: $ and # in any case, bare in capitals, never inside a word or a longer ticker
    ("$AAPL up 3%", {"Apple"}),
    ("#aapl down", {"Apple"}),
    ("$aapl's chart", {"Apple"}),
    ("AAPL rallies after earnings", {"Apple"}),
    ("NASDAQ:AAPL closes higher", {"Apple"}),
    ("ＡＡＰＬ and ＄ＧＯＯＧ in full width", {"Apple", "Google"}),   # NFKC first
    ("aapl rallies", set()),                                       # bare only in capitals
    ("AAPLX fund", set()),                                         # a longer ticker
    ("$AAPLX fund", set()),
    ("XAAPL", set()),
    ("$GOOG and $AAPL", {"Google", "Apple"}),
    ("#TWC outage", {"Time Warner"}),
    ("AT&T customer service", {"AT&T"}),
    ("T-Mobile is cheaper", set()),                                # a one-letter ticker is never bare
    ("$T dividend", {"AT&T"}),
    ("F this traffic", set()),
    ("$F earnings", {"Ford"}),
    ("turn ON the lights", set()),                                 # $ON: cashtag only
    ("$ON semiconductor", {"BlackBerry"}),
    ("BBRY up", {"BlackBerry"}),
    ("MCD's breakfast", {"McDonald's"}),
    # exclusions win, in their plural, joined and hashtag forms too
    ("the delta variant is spreading", set()),
    ("Delta flight over the river delta", set()),                 # exclusion wins over a real mention
    ("apple pie recipe", set()),
    ("apple pies for Thanksgiving, with my iPhone", set()),
    ("#ApplePie season", set()),
    ("#BigApple lights", set()),
    # precision
    ("my Apple watch", {"Apple"}),
    ("pineapple juice", set()),
    ("Applebee's for dinner", set()),
    ("smackdown tonight", set()),                                  # "mac" inside a word
    ("machine learning", set()),
    ("macchiato please", set()),
    ("googled it", set()),
    ("iPadding the numbers", set()),
]


@pytest.mark.parametrize(("text", "brands"), CASES, ids=[c[0] for c in CASES])
def test_brand_matching(matcher: Matcher, text: str, brands: set[str]) -> None:
    assert set(matcher.match(text, language="en")) == brands


def test_matched_forms_are_what_the_text_says(matcher: Matcher) -> None:
    terms = matcher.match("Delta Air Lines and @delta")["Delta"]
    assert "delta air lines" in terms and "@delta" in terms
    assert matcher.match("$AAPL and iPhones and an iPad2", "en")["Apple"] == ["$aapl", "iphones", "ipad2"]
    assert matcher.match("timewarner", "en")["Time Warner"] == ["timewarner"]


def test_hits_name_the_rule_and_the_configured_term(matcher: Matcher) -> None:
    hits = matcher.hits("Apple's iPhones, $AAPL and AAPL, thanks @apple #AppleStore")["Apple"]
    assert Hit("keyword", "Apple", "apple") in hits
    assert Hit("product", "iPhone", "iphones") in hits
    assert Hit("ticker", "AAPL", "$aapl") in hits and Hit("ticker", "AAPL", "aapl") in hits
    assert Hit("handle", "@Apple", "@apple") in hits
    assert len(hits) == len(set(hits))  # each rule and form once


def test_language_filter_uses_the_platform_language(matcher: Matcher) -> None:
    assert matcher.match("Müller is great", language="fr") == {}
    assert "Müller" in matcher.match("Müller is great", language="de-AT")
    judged = matcher.judge("Müller is great", language="fr")
    assert judged.dropped == ["Müller"] and judged.language == Language("fr", PLATFORM)


def test_language_filter_uses_the_detected_language_when_the_platform_gives_none(matcher: Matcher) -> None:
    french = matcher.judge("Je déteste le nouveau yaourt Müller, il est vraiment trop sucré pour moi")
    assert french.language == Language("fr", DETECTED)
    assert french.brands == {} and french.dropped == ["Müller"]
    german = matcher.judge("Der neue Joghurt von Müller schmeckt mir überhaupt nicht, viel zu süß")
    assert german.language == Language("de", DETECTED) and "Müller" in german.brands


def test_unknown_language_is_kept(matcher: Matcher) -> None:
    judged = matcher.judge("@mueller_de 👍")
    assert judged.language == Language(None, DETECTED)
    assert "Müller" in judged.brands


def test_brands_without_languages_keep_every_language(matcher: Matcher) -> None:
    judged = matcher.judge("Mi iPhone se apaga solo cuando la batería está al treinta por ciento")
    assert judged.language.code == "es" and "Apple" in judged.brands


def test_detection_runs_only_when_a_brand_matched(matcher: Matcher) -> None:
    calls: list[str] = []

    def detect(given: str | None, text: str) -> Language:
        calls.append(text)
        return Language("en", DETECTED)

    assert matcher.judge("nothing to see here", detect=detect).brands == {}
    assert calls == []
    assert "Apple" in matcher.judge("iPhone", detect=detect).brands
    assert calls == ["iPhone"]


@pytest.mark.parametrize("ticker", ["AAPL", "$cat", "#CAT", "brk.b", "BF-B"])
def test_tickers_are_normalised(ticker: str) -> None:
    got = BrandConfig(name="X", tickers=[ticker]).tickers[0]
    assert got == got.upper() and not got.startswith("#")


@pytest.mark.parametrize("ticker", ["", "AAPL US", "$", "12AB", "TOOLONGTICKER"])
def test_bad_tickers_are_refused_with_the_fix(ticker: str) -> None:
    with pytest.raises(ValueError, match="not a stock ticker; write it like AAPL"):
        BrandConfig(name="X", tickers=[ticker])


def test_a_brand_may_be_only_products_or_tickers() -> None:
    assert Matcher([BrandConfig(name="P", products=["Widget"])]).match("new Widgets", "en") == {"P": ["widgets"]}
    assert Matcher([BrandConfig(name="T", tickers=["WDGT"])]).match("$wdgt", "en") == {"T": ["$wdgt"]}
