"""The photo gallery: every photo and video with metadata (``media/photo/exif``,
``media/video/quicktime``), its thumbnail, its camera, times and position, and a map.

Pictures are listed by exhibit and path, :data:`GALLERY_ROWS` a page (fewer than the other
sections' :data:`~triage.report.sections.PAGE_ROWS`: a picture is a thumbnail, its metadata and its
provenance, and a page is laid out whole by the PDF, so the page size bounds its memory). Each
page with positions has its own map (:mod:`triage.report.findings.geomap`) whose points carry the
numbers the page lists them by; the first page also has an overview map of every position of the
gallery when there is more than one page (read in a first pass that keeps only the positions:
two numbers per picture).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from triage.hashsets.known import load_known
from triage.report.context import ReportContext
from triage.report.findings.common import fields_of, provenance_of, text, time_of, wanted_exhibits
from triage.report.findings.geomap import draw, valid
from triage.report.findings.pictures import EvidenceFiles
from triage.report.findings.stream import findings_in_order
from triage.views.findings import StoredFinding

GALLERY = "gallery"
PHOTO = "media/photo/exif"
VIDEO = "media/video/quicktime"
MEDIA_TYPES = (PHOTO, VIDEO)
GALLERY_ROWS = 100
#: Fields shown first, as the camera and the position (all the others follow, raw).
_TIMES = ("taken", "creation_date", "created", "modified", "gps_time")
_SHOWN_APART = frozenset({"make", "model", "latitude", "longitude", "altitude"})


def position(data: Mapping[str, Any]) -> tuple[float, float] | None:
    """A record's position (latitude, longitude) when it has a valid one."""
    lat, lon = data.get("latitude"), data.get("longitude")
    if valid(lat, lon):
        return float(lat), float(lon)  # type: ignore[arg-type]
    return None


def _picture(f: StoredFinding, n: int, files: EvidenceFiles) -> dict[str, Any]:
    d = f.data
    where = position(d)
    times = [
        {"name": name, "time": time_of(d.get(name))} for name in _TIMES if time_of(d.get(name)) is not None
    ]
    item: dict[str, Any] = {
        "n": n,
        "anchor": f"picture-{f.id}",
        "kind": "video" if f.record_type == VIDEO else "photo",
        "name": f.path.rsplit("/", 1)[-1],
        "make": text(d.get("make")),
        "model": text(d.get("model")),
        "times": times,
        "point": where,
        "gps": None
        if where is None
        else {
            "latitude": text(d.get("latitude")),
            "longitude": text(d.get("longitude")),
            "altitude": text(d.get("altitude")),
        },
        "fields": fields_of(f.record_type, d, skip=_SHOWN_APART | set(_TIMES)),
        "prov": provenance_of(f),
        "thumb": None,
        "thumb_note": None,
        "blurred": False,
    }
    if f.record_type == PHOTO:
        item.update(files.picture(f.exhibit, f.partition, f.path, inode=f.inode).as_dict())
    else:
        action = files.redaction(f.exhibit, f.path)
        item["thumb_note"] = (
            "video withheld (redaction list)" if action == "hide" else "video: no thumbnail is drawn"
        )
    return item


def gallery_pages(ctx: ReportContext, types: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The pages of the ``gallery`` section."""
    engine, wanted = ctx.case.engine, wanted_exhibits(ctx)
    overview: list[tuple[int, float, float]] = []
    pictures = 0
    for pictures, f in enumerate(findings_in_order(engine, wanted, types), 1):
        where = position(f.data)
        if where is not None:
            overview.append((pictures, *where))
    # one page: its own map shows every position already
    wanted_overview = bool(overview) and pictures > GALLERY_ROWS
    overview_url = ctx.media.add(draw(overview, numbered=False)[0], ".svg") if wanted_overview else None
    overview_count = len(overview)
    del overview
    with EvidenceFiles(ctx, load_known(engine, wanted)) as files:
        page: list[dict[str, Any]] = []
        first = True
        for n, f in enumerate(findings_in_order(engine, wanted, types), 1):
            page.append(_picture(f, n, files))
            if len(page) >= GALLERY_ROWS:
                yield _page(ctx, page, overview_url if first else None, overview_count)
                page, first = [], False
        if page:
            yield _page(ctx, page, overview_url if first else None, overview_count)


def _page(
    ctx: ReportContext, pictures: list[dict[str, Any]], overview: str | None, count: int
) -> dict[str, Any]:
    points = [(p["n"], *p["point"]) for p in pictures if p["point"] is not None]
    page_map = ctx.media.add(draw(points)[0], ".svg") if points else None
    return {
        "pictures": pictures,
        "map": page_map,
        "map_points": len(points),
        "overview": overview,
        "overview_points": count,
    }
