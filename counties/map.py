"""The county map on the home page, drawn from counties/data/county-map.json (made by scripts/make_county_map.py)."""

import functools
import json
from pathlib import Path

MAP_FILE = Path(__file__).resolve().parent / "data" / "county-map.json"

# Shading by number of listed supporters: (at least this many, CSS modifier). Counties hold about six on average.
SHADES = [(7, "many"), (3, "some"), (1, "few"), (0, "none")]


@functools.cache
def map_data():
    """The map file, read once per process: {"viewBox": ..., "counties": {county number: SVG path data}}."""
    return json.loads(MAP_FILE.read_text(encoding="utf-8"))


def shade(count):
    return next(name for least, name in SHADES if count >= least)


def county_map(counties):
    """The map for the given active counties (each with supporter_count), in the order given.

    Active counties are linked areas; a shape whose county is not active (or not in the database) is drawn
    unlabelled and unlinked, so the country stays whole without naming a county hidden from the public pages.
    A county missing from the map file (a later reform) is simply not drawn; the list beside the map has it.
    """
    data = map_data()
    paths = data["counties"]
    linked = [
        {"county": county, "path": paths[county.number], "shade": shade(county.supporter_count)}
        for county in counties
        if county.number in paths
    ]
    numbers = {area["county"].number for area in linked}
    unlinked = [path for number, path in sorted(paths.items()) if number not in numbers]
    return {"view_box": data["viewBox"], "areas": linked, "unlinked": unlinked}
