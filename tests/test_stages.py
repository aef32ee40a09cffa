"""Stages and the pipeline: declared needs and adds, pure text clean-up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flashpoint.errors import ConfigError
from flashpoint.model import Enriched, Message
from flashpoint.stages import Pipeline
from flashpoint.stages.privacy import Pseudonymise, Pseudonymiser
from flashpoint.stages.text import ContentHash, NormaliseUnicode, clean_text


def message(text: str, author: str | None = "user1") -> Message:
    return Message.create(
        source="telegram",
        channel="tg:1",
        native_id=None,
        text=text,
        raw_sha256="0" * 64,
        sent_at=datetime(2025, 3, 14, 10, tzinfo=UTC),
        author=author,
    )


def test_a_stage_whose_needs_are_unmet_is_refused_before_any_data_flows() -> None:
    with pytest.raises(ConfigError, match="needs \\['text_clean'\\]"):
        Pipeline([ContentHash(), NormaliseUnicode()])


def test_duplicate_stages_are_refused() -> None:
    with pytest.raises(ConfigError, match="twice"):
        Pipeline([NormaliseUnicode(), NormaliseUnicode()])


def test_a_later_stage_can_plug_in_by_declaring_what_it_needs() -> None:
    class Shout:
        name: ClassVar[str] = "shout"
        version: ClassVar[int] = 1
        needs: ClassVar[frozenset[str]] = frozenset({"text_clean"})
        adds: ClassVar[frozenset[str]] = frozenset({"loud"})

        def __call__(self, record: Enriched) -> Enriched:
            return record.with_values(loud=record.values["text_clean"].upper())

    out = Pipeline([NormaliseUnicode(), Shout()]).run(Enriched(message("тише  едешь")))
    assert out.values["loud"] == "ТИШЕ ЕДЕШЬ"
    assert out.message.text == "тише  едешь", "the original text is never changed"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Ма\u200bсан\u200dчи", "Масанчи"),
        ("\ufeffбәрі\u00ad", "бәрі"),
        ("е\u0308ж", "ёж"),  # NFC composes e + combining diaeresis
        ("a\u202eb\u2066c", "abc"),  # bidi controls
        ("line1\r\n\r\n\tline2\u00a0 end", "line1 line2 end"),
        ("\x00\x07bell", "bell"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@given(st.text())
def test_clean_text_is_idempotent_and_leaves_no_invisible_characters(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
    assert "  " not in once and once == once.strip()
    assert not any(ch in once for ch in "\u200b\u200c\u200d\ufeff\u00ad\x00")


def test_content_hash_ignores_invisible_differences() -> None:
    pipeline = Pipeline([NormaliseUnicode(), ContentHash()])
    a = pipeline.run(Enriched(message("аксакала  убили")))
    b = pipeline.run(Enriched(message("аксакала\u200b убили ")))
    c = pipeline.run(Enriched(message("аксакал жив")))
    assert a.values["content_hash"] == b.values["content_hash"] != c.values["content_hash"]


def test_pseudonymise_replaces_the_author_and_rederives_a_content_id() -> None:
    stage = Pseudonymise(Pseudonymiser(b"k" * 32))
    raw = message("hello")
    out = stage(Enriched(raw)).message
    assert out.author is not None and out.author.startswith("au_") and "user1" not in out.author
    assert out.author_raw is None and out.id != raw.id
    assert stage(Enriched(message("hello"))).message.id == out.id, "ids are stable"


def test_the_pseudonym_key_must_not_be_trivially_short() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        Pseudonymiser(b"short")


def test_a_channel_named_by_a_person_is_pseudonymised_with_its_ids() -> None:
    raw = Message.create(
        source="telegram",
        channel="user:555",
        native_id="7",
        text="hi",
        raw_sha256="0" * 64,
        sent_at=datetime(2025, 3, 14, 10, tzinfo=UTC),
        author="user555",
        reply_to="telegram:user:555:6",
    )
    out = Pseudonymise(Pseudonymiser(b"k" * 32))(Enriched(raw)).message
    assert "555" not in out.channel + out.id + (out.reply_to or "")
    assert out.channel.startswith("user:au_") and out.id == f"telegram:{out.channel}:7"
    assert out.reply_to == f"telegram:{out.channel}:6"
