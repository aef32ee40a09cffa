"""A cluster's story: first messages, growth curve, languages, severity, virality reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flashpoint.rumours.story import HourPoint, Member, tell, virality

START = datetime(2025, 3, 15, 18, tzinfo=UTC)


def member(i: int, hours: float, channel: str, language: str = "kk", severity: str = "high") -> Member:
    speech = {"severity": severity, "signals": [{"name": "attack_on_vulnerable"}, {"name": "target"}]}
    places = [{"name": "Masanchi"}] if i % 2 == 0 else []
    return Member(
        f"m{i}", START + timedelta(hours=hours), channel, f"au_{i % 3}", language, "ақсақалды өлтірді", speech, places
    )


def test_the_story_of_a_growing_cluster() -> None:
    members = [member(0, 0, "c1"), member(1, 0.5, "c1", "ru", "medium")]
    members += [member(i, 2.2, f"c{i}") for i in range(2, 12)]
    story = tell("r1", list(reversed(members)))
    assert story.first[0].message_id == "m0" and story.size == 12 and story.channels == 11
    assert [p.messages for p in story.curve] == [2, 10] and story.curve[1].new_channels == 10
    assert story.languages == {"kk": 11, "ru": 1} and story.severity == "high"
    assert story.signals == {"attack_on_vulnerable": 12}
    assert any(r.startswith("growth x5.0") for r in story.viral) and any("new channels" in r for r in story.viral)
    value = story.as_value()
    assert value["first"][0]["id"] == "m0" and value["curve"][0]["hour"] == "2025-03-15T18"


def test_a_steady_small_cluster_is_not_viral() -> None:
    curve = [HourPoint(f"2025-03-15T{h:02d}", 1, 1, 1, 0, ()) for h in range(10, 16)]
    assert virality(curve) == ()
    assert virality([]) == ()


def test_only_clusters_active_in_the_last_hours_are_viral_now() -> None:
    from flashpoint.runners.rumours import by_growth

    old = tell("old", [member(0, 0, "c1"), *[member(i, 1.2, f"c{i}") for i in range(1, 12)]])
    fresh = tell("fresh", [member(0, 20, "c1"), *[member(i, 21.2, f"c{i}") for i in range(1, 12)]])
    assert old.viral and fresh.viral
    ranked = by_growth([old, fresh])
    assert [s.cluster_id for s in ranked] == ["fresh", "old"]
    assert ranked[0].viral and ranked[1].viral == ()
