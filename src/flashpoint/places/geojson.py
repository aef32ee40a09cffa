"""Messages as GeoJSON (RFC 7946): one point feature per message and settlement it names.

Example:
    >>> row = {"id": "m1", "sent_at": "2020-02-07T20:00:00+00:00", "source": "telegram", "channel": "c",
    ...        "text": "в Масанчи", "places": [{"id": "kz-masanchi", "name": "Masanchi", "lat": 42.93,
    ...        "lon": 75.09, "confidence": 0.9, "role": "scene", "district": "Korday", "region": "Zhambyl",
    ...        "country": "KZ"}]}
    >>> import json
    >>> json.loads(messages_geojson([row]))["features"][0]["geometry"]
    {'type': 'Point', 'coordinates': [75.09, 42.93]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

_MESSAGE_FIELDS = ("id", "sent_at", "source", "channel", "author", "text")
_PLACE_FIELDS = ("name", "district", "region", "country", "role", "confidence")


def messages_geojson(rows: Iterable[Mapping[str, Any]]) -> str:
    """A FeatureCollection (longitude first, as GeoJSON wants) of the messages' places."""
    features = []
    for row in rows:
        for place in row.get("places") or ():
            properties = {f: row.get(f) for f in _MESSAGE_FIELDS}
            properties.update({f"place_{f}": place.get(f) for f in _PLACE_FIELDS})
            properties["place_id"] = place["id"]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [place["lon"], place["lat"]]},
                    "properties": properties,
                }
            )
    return orjson.dumps({"type": "FeatureCollection", "features": features}).decode() + "\n"
