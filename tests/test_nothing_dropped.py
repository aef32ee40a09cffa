"""Whatever the bytes, a run never crashes and never drops a record silently.

Every golden sample of every format is damaged at random (bytes flipped, cut, inserted) and
ingested; every record the reader yields must then be in the archive (by its hash) or in
quarantine (by its position), and the run must end with a status.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashpoint.config import Config
from flashpoint.errors import FlashpointError
from flashpoint.model import RawRecord
from flashpoint.runners.embedded import EmbeddedRunner
from flashpoint.sources import FORMATS, source_for
from flashpoint.sources.base import SplitError
from flashpoint.store import SqliteStore
from tests.golden import samples, source_options

SAMPLES = [(fmt, sample) for fmt in sorted(FORMATS) for sample in samples(fmt)]


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, Path, bytes]:
    fmt, sample = draw(st.sampled_from(SAMPLES))
    data = bytearray(sample.read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
        else:
            del data[at:]
    return fmt, sample, bytes(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=damaged())
def test_damaged_input_is_archived_or_quarantined_record_by_record(
    case: tuple[str, Path, bytes], tmp_path: Path
) -> None:
    fmt, sample, data = case
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    path = folder / sample.name
    path.write_bytes(data)
    config = Config.from_mapping(
        {"store": {"path": str(folder / "s.db")}, "privacy": {"pseudonym_key": "k" * 32, "archive_key": "a" * 32}}
    )
    store = SqliteStore.from_config(config)
    options = source_options(sample)
    stats = EmbeddedRunner(store, config).ingest([path], fmt=fmt, options=options)

    assert store.runs(1)[0]["status"] in {"done", "done_with_errors"}
    archived = {row[0] for row in store.conn.execute("SELECT sha256 FROM raw_archive")}
    quarantined = {(q.locator, q.sha256) for q in store.quarantine_items(limit=100_000)}
    quarantined_at = {locator for locator, _ in quarantined}
    items: list[RawRecord | SplitError] = []
    with path.open("rb") as stream:
        try:
            items.extend(source_for(fmt).records(path, stream, config.options_for(fmt, options)))
        except FlashpointError:  # the whole file is refused (say, a mapped column is gone): reported
            assert stats.errors
    for item in items:
        if isinstance(item, RawRecord):
            assert item.sha256 in archived or (item.locator, item.sha256) in quarantined, item.locator
        else:
            assert item.locator in quarantined_at, item.locator
    assert stats.records_read == len(items)
