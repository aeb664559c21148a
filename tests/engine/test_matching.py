import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.matching import capture, normalize, parse_date, parse_number, parse_time

TODAY = date(2026, 11, 26)  # a Thursday


@pytest.mark.parametrize("raw,expected", [("Ménu!", "menu"), ("/Help", "help"), ("  MAIN   menu ", "main menu"),
                                          ("¿Ayuda?", "ayuda"), ("", "")])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@given(st.text(max_size=40) | st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_normalize_skips_decomposition_only_where_it_changes_nothing(text):
    """ASCII texts skip NFKD and the combining-mark filter; every text still gets what the full road gives."""
    decomposed = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    # a lone combining mark sends the text down the full road, where it is then dropped
    assert normalize(text) == normalize("\u0301" + decomposed)


@pytest.mark.parametrize("raw,expected", [
    ("/link Ada@Example.com", "ada@example.com"), ("no email here", None), ("a@b", None)])
def test_email(raw, expected):
    assert capture("email", raw) == expected


@pytest.mark.parametrize("raw,digits,expected", [
    ("123456", 6, "123456"), ("123 456", 6, "123456"), ("code: 123456.", 6, "123456"), ("12345", 6, None),
    ("1234567", 6, None), ("١٢٣٤٥٦", 6, None), ("1234", 4, "1234")])
def test_code(raw, digits, expected):
    assert capture("code", raw, digits=digits) == expected


@pytest.mark.parametrize("raw,expected", [
    ("5m", 5_000_000), ("₦45,000,000", 45_000_000), ("2.5 million", 2_500_000), ("450k", 450_000),
    ("12", 12), ("abc", None), ("5 bedrooms", None),
    # Beyond a quadrillion, or infinite: not a number anyone means, and 2e19 broke the stored conversation.
    ("1000000000000000", 10**15), ("20000000000000000000", None), ("2000000b", None), ("9" * 400, None)])
def test_number(raw, expected):
    assert parse_number(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("today", "2026-11-26"), ("tomorrow", "2026-11-27"), ("friday", "2026-11-27"), ("thursday", "2026-12-03"),
    ("25/12", "2026-12-25"), ("1/1", "2027-01-01"), ("2026-12-01", "2026-12-01"), ("1 dec", "2026-12-01"),
    ("Dec 3rd", "2026-12-03"), ("31/02", None), ("someday", None)])
def test_date(raw, expected):
    assert parse_date(raw, TODAY) == expected


@pytest.mark.parametrize("raw,expected", [
    ("10:30", "10:30"), ("10am", "10:00"), ("2:30 pm", "14:30"), ("14h", "14:00"), ("25:00", None),
    ("13pm", None), ("10", None)])
def test_time(raw, expected):
    assert parse_time(raw) == expected


@given(st.text(max_size=300), st.sampled_from(["email", "code", "number", "date", "time", "text"]))
def test_captures_never_raise(text, kind):
    capture(kind, text, today=TODAY)
