"""`flashpoint analyze`: the text stages (language, normaliser, speech, places) on text given
directly, and the registered claims each text matches (when a store with claims is at hand).

Why: analysts and scripts want to ask "what does Flashpoint see in this?" of one message or of a
million lines, and get the same answer ingest would store. The same stages run (Unicode clean-up,
language, evasion normaliser, speech signals); the output is one JSON object per message, written
as each line is read, so memory stays flat however long the input.

Example:
    >>> from flashpoint.config import Config
    >>> analyzer = Analyzer(Config())
    >>> out = analyzer.analyze_text("Все едем в Масанчи, они убили нашего аксакала!")
    >>> out["language"]["language"], out["speech"]["severity"]
    ('ru', 'critical')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from flashpoint.config import Config
from flashpoint.model import Enriched, Message
from flashpoint.places.stage import ResolvePlaces
from flashpoint.rumours.claims import Claim, ClaimMatcher
from flashpoint.stages import Pipeline
from flashpoint.stages.text import NormaliseUnicode
from flashpoint.text.language import IdentifyLanguage
from flashpoint.text.normalise import NormaliseEvasion

from .embedded import speech_stage

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Longer texts are analysed on their first megabyte (a line of JSONL bigger than that is a dump, not a message).
MAX_TEXT_CHARS = 1 << 20


class Analyzer:
    """The text stages of the ingest pipeline, applied to bare texts."""

    def __init__(self, config: Config, claims: Sequence[Claim] = ()) -> None:
        places = ResolvePlaces(home_areas=config.places.home_areas, home_area=config.places.home_area)
        # Lexical candidates first, embeddings only for them: affordable per message.
        self.matcher = ClaimMatcher(claims, cross_language=False) if claims else None
        self.pipeline = Pipeline(
            [NormaliseUnicode(), IdentifyLanguage(), NormaliseEvasion(), speech_stage(config), places]
        )

    def analyze_text(self, text: str, message_id: str | None = None) -> dict[str, Any]:
        """One message's language, normalised text and speech signals, as a JSON-able dict."""
        message = Message.create(
            source="jsonl", channel="analyze", native_id=message_id or "-", sent_at=_EPOCH,
            text=text[:MAX_TEXT_CHARS], raw_sha256="",
        )  # fmt: skip
        values = self.pipeline.run(Enriched(message)).values
        language = str(values["language"].get("language") or "other")
        matches = self.matcher.match(values["text_norm"], language) if self.matcher else []
        return {
            "id": message_id,
            "language": values["language"],
            "text_norm": values["text_norm"],
            "speech": values["speech"],
            "places": values["places"],
            "claims": [m.as_value() for m in matches],
        }

    def analyze_lines(self, lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
        """One result per JSONL line ({"id": ..., "text": ...}); a bad line gives an ``error`` object
        naming the line and the reason, and the stream goes on."""
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield {"line": number, "error": f"line {number}: not JSON ({exc.msg})"}
                continue
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                yield {"line": number, "id": _id_of(item), "error": f"line {number}: no string field 'text'"}
                continue
            yield self.analyze_text(item["text"], _id_of(item))


def _id_of(item: object) -> str | None:
    if isinstance(item, dict) and item.get("id") is not None:
        return str(item["id"])
    return None
