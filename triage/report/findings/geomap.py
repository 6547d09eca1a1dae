"""A small map drawn offline: GPS positions on a latitude/longitude frame, as an SVG file.

No tiles and no network: the map is the frame of the positions (with a margin), a graticule
(lines of equal latitude and longitude at a round step, labelled in degrees), a scale bar and
one numbered point per position. The projection is equirectangular, scaled for the frame's middle
latitude so that distances read the same east-west and north-south there:

    x = (longitude - west) / (east - west) * WIDTH
    y = (north - latitude) / (north - south) * height,   height = WIDTH * (north - south) / ((east - west) * cos(middle latitude))

(``height`` bounded to [:data:`MIN_HEIGHT`, :data:`MAX_HEIGHT`]; the frame is widened when it is
bounded so that the scale stays the same both ways). The root element carries the frame
(``data-west``, ``data-east``, ``data-south``, ``data-north``) and each point its number
(``data-n``), so anyone can check where a point was drawn. Nothing of the evidence but the
numbers is written into the file (the points are numbered as the page lists them), so the map
needs no redaction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 480
MIN_HEIGHT = 200
MAX_HEIGHT = 360
#: Smallest frame, in degrees (about 1 km): a single position, or positions a few metres apart.
MIN_SPAN = 0.01
MARGIN = 0.1  # of the positions' span, on each side
_STEPS = (
    0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 45.0, 90.0,
)  # fmt: skip
_KM_PER_DEGREE = 111.32  # along the equator and any meridian (WGS-84, rounded)


@dataclass(frozen=True)
class Frame:
    """The degrees a map shows and its size in pixels."""

    west: float
    east: float
    south: float
    north: float
    width: int
    height: int

    def project(self, latitude: float, longitude: float) -> tuple[float, float]:
        """Where a position is drawn (x to the right, y down, in pixels)."""
        x = (longitude - self.west) / (self.east - self.west) * self.width
        y = (self.north - latitude) / (self.north - self.south) * self.height
        return x, y


def valid(latitude: object, longitude: object) -> bool:
    """Whether two stored values are a position on Earth (numbers within range, not 0/0 exactly)."""
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        return False
    if isinstance(latitude, bool) or isinstance(longitude, bool):
        return False
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return False
    return -90 <= latitude <= 90 and -180 <= longitude <= 180


def frame_of(points: Sequence[tuple[float, float]], width: int = WIDTH) -> Frame:
    """The frame around ``points`` (latitude, longitude): their extent, a margin, the minimum span."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    south, north = min(lats), max(lats)
    west, east = min(lons), max(lons)
    lat_pad = max((north - south) * MARGIN, (MIN_SPAN - (north - south)) / 2, 0.0)
    lon_pad = max((east - west) * MARGIN, (MIN_SPAN - (east - west)) / 2, 0.0)
    south, north = max(south - lat_pad, -90.0), min(north + lat_pad, 90.0)
    west, east = max(west - lon_pad, -180.0), min(east + lon_pad, 180.0)
    middle = math.radians((south + north) / 2)
    squash = max(math.cos(middle), 0.05)  # degrees of longitude are shorter away from the equator
    height = width * (north - south) / ((east - west) * squash)
    if height > MAX_HEIGHT:  # too tall: widen the longitudes to keep the scale
        extra = ((north - south) / (MAX_HEIGHT / width) / squash - (east - west)) / 2
        west, east, height = west - extra, east + extra, MAX_HEIGHT
    elif height < MIN_HEIGHT:  # too flat: widen the latitudes
        extra = (MIN_HEIGHT / width * (east - west) * squash - (north - south)) / 2
        south, north, height = south - extra, north + extra, MIN_HEIGHT
    return Frame(west, east, south, north, width, round(height))


def _step(span: float) -> float:
    """A round graticule step giving two to six lines across ``span`` degrees."""
    for step in _STEPS:
        if span / step <= 6:
            return step
    return _STEPS[-1]


def _ticks(low: float, high: float, step: float) -> list[float]:
    first = math.ceil(low / step)
    last = math.floor(high / step)
    return [round(i * step, 6) for i in range(first, last + 1)]


def _degrees(value: float, positive: str, negative: str, step: float) -> str:
    places = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    hemisphere = positive if value >= 0 else negative
    return f"{abs(value):.{places}f}°{hemisphere}"


def _scale(frame: Frame) -> tuple[float, float]:
    """A round distance (km) for the scale bar and its length in pixels (about a quarter of the width)."""
    middle = math.radians((frame.south + frame.north) / 2)
    km_per_px = (frame.east - frame.west) * _KM_PER_DEGREE * max(math.cos(middle), 1e-9) / frame.width
    target = km_per_px * frame.width / 4
    power = 10 ** math.floor(math.log10(target))
    km = max(m * power for m in (1, 2, 5) if m * power <= target)
    return km, km / km_per_px


def _km(km: float) -> str:
    return f"{km:g} km" if km >= 1 else f"{km * 1000:g} m"


def draw(points: Sequence[tuple[int, float, float]], *, numbered: bool = True) -> tuple[bytes, Frame]:
    """The SVG of ``points`` (number, latitude, longitude), and its frame. ``numbered`` writes each
    point's number beside it (a page's map); without it the points are dots (an overview)."""
    frame = frame_of([(lat, lon) for _n, lat, lon in points])
    w, h = frame.width, frame.height
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'data-west="{frame.west:.7f}" data-east="{frame.east:.7f}" '
        f'data-south="{frame.south:.7f}" data-north="{frame.north:.7f}" '
        f'font-family="sans-serif" font-size="10">\n',
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="#f7f7f2" stroke="#555" stroke-width="1"/>\n',
    ]
    step = _step(max(frame.east - frame.west, frame.north - frame.south))
    for lon in _ticks(frame.west, frame.east, step):
        x, _ = frame.project(frame.south, lon)
        out.append(f'<line class="graticule" x1="{x:.2f}" y1="0" x2="{x:.2f}" y2="{h}" stroke="#ccc"/>\n')
        if x < w - 60:  # a label cut by the right edge would mislead
            out.append(
                f'<text x="{x + 2:.2f}" y="{h - 3}" fill="#777">{_degrees(lon, "E", "W", step)}</text>\n'
            )
    for lat in _ticks(frame.south, frame.north, step):
        _, y = frame.project(lat, frame.west)
        out.append(f'<line class="graticule" x1="0" y1="{y:.2f}" x2="{w}" y2="{y:.2f}" stroke="#ccc"/>\n')
        if y > 12:
            out.append(f'<text x="3" y="{y - 2:.2f}" fill="#777">{_degrees(lat, "N", "S", step)}</text>\n')
    km, length = _scale(frame)
    x0, y0 = w - 12 - length, 14
    out.append(
        f'<g class="scale"><line x1="{x0:.2f}" y1="{y0}" x2="{x0 + length:.2f}" y2="{y0}" '
        f'stroke="#000" stroke-width="2"/>'
        f'<text x="{x0:.2f}" y="{y0 + 12}" fill="#000">{_km(km)}</text></g>\n'
    )
    for n, lat, lon in points:
        x, y = frame.project(lat, lon)
        out.append(
            f'<circle class="point" data-n="{n}" cx="{x:.2f}" cy="{y:.2f}" r="4" '
            f'fill="#c0392b" stroke="#fff" stroke-width="1"/>\n'
        )
        if numbered:
            out.append(f'<text x="{x + 5:.2f}" y="{y - 5:.2f}" fill="#000">{n}</text>\n')
    out.append("</svg>\n")
    return "".join(out).encode("utf-8"), frame
