"""The hand-written fast split of content lines agrees with icalendar's own parser."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from icalendar.parser import Contentline

from carecal.ical.lenient import _logical_lines, decode, make_line


def _reference(text: str) -> tuple[str, dict[str, str], str] | None:
    try:
        name, params, value = Contentline(text).raw_parts()
    except (ValueError, AssertionError):
        return None
    flat = {
        str(k).upper(): ",".join(v) if isinstance(v, list) else str(v) for k, v in params.items()
    }
    return name.upper(), flat, value


def _ours(text: str) -> tuple[str, dict[str, str], str] | None:
    try:
        line = make_line(text)
    except (ValueError, AssertionError):
        return None
    assert line.text == text
    return line.name, line.params, line.value


_token = st.text(alphabet="abcXYZ019-_.", min_size=0, max_size=6)
_param_value = st.text(alphabet='aZ/09-_ ."\\^,:;=\x01é', min_size=0, max_size=8)
_value = st.text(alphabet='aZ09 :;,\\"é=-', max_size=12)


@given(
    name=_token,
    params=st.lists(st.tuples(_token, _param_value), max_size=3),
    value=_value,
)
def test_generated_lines_split_as_icalendar_splits_them(
    name: str, params: list[tuple[str, str]], value: str
) -> None:
    text = name + "".join(f";{k}={v}" for k, v in params) + ":" + value
    assert _ours(text) == _reference(text)


def test_every_line_of_the_corpus_splits_as_icalendar_splits_it(ics_corpus: Path) -> None:
    checked = 0
    for path in sorted(ics_corpus.rglob("*.ics")):
        text, _note = decode(path.read_bytes())
        for _lineno, logical, _physical in _logical_lines(text):
            logical = logical.replace("\x00", "")
            assert _ours(logical) == _reference(logical), (path.name, logical[:80])
            checked += 1
    assert checked > 1000
