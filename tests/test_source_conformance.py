"""One conformance suite that every source passes, over its golden samples.

For each format and each sample under tests/data/<format>/:
- the output equals the golden file (round trip of the sample);
- auto-detection picks the format;
- records stream in order with unique, increasing ordinals and a locator;
- every raw record parses again on its own (what quarantine retry relies on), to the same messages;
- every message has a stable id, an aware UTC timestamp and points at its raw record.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from flashpoint.model import Message, RawRecord
from flashpoint.sources import FORMATS, detect_format, source_for
from flashpoint.sources.base import SplitError
from tests.golden import UPDATE, dump, golden_path, options_for, read_all, relative, samples, source_options

CASES = [(fmt, sample) for fmt in sorted(FORMATS) for sample in samples(fmt)]


def test_every_format_has_golden_samples() -> None:
    missing = [fmt for fmt in FORMATS if not samples(fmt)]
    assert not missing, f"formats without golden samples under tests/data: {missing}"


@pytest.mark.parametrize(("fmt", "sample"), CASES, ids=[relative(s) for _, s in CASES])
def test_sample_matches_golden(fmt: str, sample) -> None:  # type: ignore[no-untyped-def]
    _, lines = read_all(fmt, sample)
    golden = golden_path(sample)
    if UPDATE or not golden.exists():
        golden.write_bytes(dump(lines))
        if not UPDATE:
            pytest.fail(f"wrote a new golden file {golden.name}; review it and run again")
    assert dump(lines).decode() == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize(("fmt", "sample"), CASES, ids=[relative(s) for _, s in CASES])
def test_auto_detection_picks_the_format(fmt: str, sample) -> None:  # type: ignore[no-untyped-def]
    if options_for(sample).get("_no_autodetect"):
        pytest.skip("sample is meant to be read with an explicit --format")
    assert detect_format(sample).format == fmt


@pytest.mark.parametrize(("fmt", "sample"), CASES, ids=[relative(s) for _, s in CASES])
def test_records_are_ordered_and_reparse_alone(fmt: str, sample) -> None:  # type: ignore[no-untyped-def]
    source = source_for(fmt)
    options = source_options(sample)
    items, _ = read_all(fmt, sample)
    ordinals = [item.ordinal for item in items]
    assert ordinals == sorted(set(ordinals)), "ordinals must be unique and increasing"
    assert all(item.locator for item in items if isinstance(item, RawRecord | SplitError))
    for item in items:
        if isinstance(item, SplitError):
            continue
        try:
            first = source.parse(item, options)
        except Exception:
            continue
        alone = RawRecord(item.source_file, item.ordinal, item.locator, bytes(item.data), dict(item.context))
        assert source.parse(alone, options) == first
        for out in first:
            if isinstance(out, Message):
                assert out.id.startswith(f"{out.source.value}:")
                assert out.sent_at.utcoffset() == timedelta(0)
                assert out.raw_sha256 == item.sha256
                assert out.author is None, "sources leave pseudonymisation to the pseudonymise stage"
