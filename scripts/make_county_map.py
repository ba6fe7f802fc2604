"""Generate counties/data/county-map.json, the small county map drawn on the home page.

Run once by a developer when the county boundaries change (standard library only, nothing at run time):

    python scripts/make_county_map.py /path/to/norway-counties-2024.geojson

It writes counties/data/county-map.json: {"source", "viewBox", "counties": {county number: SVG path data}}.
Both this script and its output are committed; the app reads only the output.

The boundaries are Kartverket's county map of Norway, 2024 edition: Contains data from Kartverket, CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). Any page that shows the map must carry that credit.

How the map is made:

1. Projection: spherical transverse Mercator centred on 15° E, the central meridian of UTM zone 33, which is
   the projection Norway's own national maps use (EUREF89 UTM33). It keeps the long country in its familiar
   shape without the stretching an equirectangular map shows in Finnmark. Projected once, in kilometres.
2. Simplification: Douglas-Peucker with a tolerance of TOLERANCE_KM, done so that neighbouring counties stay
   gap-free: a vertex where the set of counties sharing it changes (the ends of each shared border) is kept,
   and each stretch between kept vertices is simplified on its own, so a border shared by two counties is
   simplified identically in both.
3. Islands: polygon parts smaller than MIN_AREA_KM2 (after simplification) are dropped; a county's largest
   part is always kept.
4. Output: one SVG unit is KM_PER_UNIT kilometres, coordinates rounded to integers; y grows southwards.

The tolerance and island threshold were chosen so that the 15 counties together come to about 26 KB while
the fjord coast, Lofoten and the county borders stay recognisable.
"""

import json
import math
import sys
from collections import defaultdict
from pathlib import Path

EARTH_RADIUS_KM = 6371.0
CENTRAL_MERIDIAN = 15.0
TOLERANCE_KM = 2.0
MIN_AREA_KM2 = 60.0
KM_PER_UNIT = 2.0
MARGIN = 4
OUTPUT = Path(__file__).resolve().parent.parent / "counties" / "data" / "county-map.json"
SOURCE = "Kartverket, Norway's counties 2024 (simplified). Contains data from Kartverket, CC BY 4.0."


def project(lon, lat):
    """Spherical transverse Mercator, central meridian 15° E: (x east, y north) in kilometres."""
    lam = math.radians(lon - CENTRAL_MERIDIAN)
    phi = math.radians(lat)
    b = math.cos(phi) * math.sin(lam)
    x = EARTH_RADIUS_KM * math.atanh(b)
    y = EARTH_RADIUS_KM * math.atan2(math.tan(phi), math.cos(lam))
    return x, y


def distance_to_segment(p, a, b):
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def douglas_peucker(points, tolerance):
    """The points of an open line kept by Douglas-Peucker; the two ends are always kept."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, worst_index = 0.0, None
        for i in range(first + 1, last):
            d = distance_to_segment(points[i], points[first], points[last])
            if d > worst:
                worst, worst_index = d, i
        if worst_index is not None and worst > tolerance:
            keep[worst_index] = True
            stack.extend([(first, worst_index), (worst_index, last)])
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def polygons_of(geometry):
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return geometry["coordinates"]


def simplify_ring(ring, owners, tolerance):
    """Simplify a closed ring (first point == last point), keeping the ends of every shared border."""
    points = ring[:-1]
    n = len(points)
    fixed = [
        len(owners[points[i]]) > 2
        or owners[points[i]] != owners[points[i - 1]]
        or owners[points[i]] != owners[points[(i + 1) % n]]
        for i in range(n)
    ]
    anchors = [i for i in range(n) if fixed[i]]
    if len(anchors) < 2:
        # An island or a ring with a single shared point: anchor it at a kept point and the point farthest away.
        start = anchors[0] if anchors else 0
        far = max(range(n), key=lambda i: math.dist(points[i], points[start]))
        anchors = sorted({start, far})
    result = []
    for k, first in enumerate(anchors):
        last = anchors[(k + 1) % len(anchors)]
        stretch = [points[i % n] for i in range(first, last + (n if last <= first else 0) + 1)]
        result.extend(douglas_peucker(stretch, tolerance)[:-1])
    return result


def area(ring):
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


def main(source):
    features = json.loads(Path(source).read_text(encoding="utf-8"))["features"]
    counties = {}
    for feature in features:
        number = feature["properties"]["fylkesnummer"]
        counties[number] = [
            [[project(lon, lat) for lon, lat in ring] for ring in polygon]
            for polygon in polygons_of(feature["geometry"])
        ]

    owners = defaultdict(frozenset)
    for number, polygons in counties.items():
        for polygon in polygons:
            for ring in polygon:
                for point in ring:
                    owners[point] |= {number}

    simplified = {}
    for number, polygons in counties.items():
        parts = []
        for polygon in polygons:
            rings = [simplify_ring(ring, owners, TOLERANCE_KM) for ring in polygon]
            rings = [ring for ring in rings if len(ring) >= 3]
            if rings:
                parts.append(rings)
        parts.sort(key=lambda rings: area(rings[0]), reverse=True)
        simplified[number] = [parts[0]] + [
            [ring for ring in rings if area(ring) >= MIN_AREA_KM2]
            for rings in parts[1:]
            if area(rings[0]) >= MIN_AREA_KM2
        ]

    all_points = [p for polygons in simplified.values() for rings in polygons for ring in rings for p in ring]
    min_x = min(x for x, _ in all_points)
    max_y = max(y for _, y in all_points)

    def to_svg(point):
        x, y = point
        return round((x - min_x) / KM_PER_UNIT) + MARGIN, round((max_y - y) / KM_PER_UNIT) + MARGIN

    paths = {}
    width = height = 0
    for number in sorted(simplified):
        commands = []
        for rings in simplified[number]:
            for ring in rings:
                points = []
                for point in map(to_svg, ring):
                    if not points or point != points[-1]:
                        points.append(point)
                if len(points) > 1 and points[0] == points[-1]:
                    points.pop()
                if len(points) < 3:
                    continue
                width = max(width, *(x for x, _ in points))
                height = max(height, *(y for _, y in points))
                first, *rest = points
                commands.append(f"M{first[0]} {first[1]}L" + " ".join(f"{x} {y}" for x, y in rest) + "Z")
        paths[number] = "".join(commands)

    data = {"source": SOURCE, "viewBox": f"0 0 {width + MARGIN} {height + MARGIN}", "counties": paths}
    OUTPUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"Wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes, {len(paths)} counties, viewBox {data['viewBox']})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
