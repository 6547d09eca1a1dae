"""The report's own sections (everything but the findings) and what their templates are given.

Front matter: the cover and the contents. Body: exhibits, chain of custody, methodology, then the
findings (``triage.report.findings``, when installed; a placeholder otherwise). Appendices: every
derived file, and the verification appendix. Each is a :class:`Section` whose pages are made
lazily; the custody table and the derived files are paginated by :data:`PAGE_ROWS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from custody.case import Case
from triage.report.context import ReportContext
from triage.report.model import PLAIN_WORDS, CaseModel, When, _who, derived_pages
from triage.report.sections import PAGE_ROWS, Section

FINDINGS_PACKAGE = "triage.report.findings"

HASHED_OVER = {
    "raw": "the bytes of the image file",
    "split-raw": "the segments concatenated in order (the media)",
    "e01": "the media data decoded from the E01 set (what ewfverify hashes), not the container files",
    "file": "the bytes of the file",
    "zip": "the bytes of the archive file (each member's hashes are in the ledger)",
    "tar": "the bytes of the archive file (each member's hashes are in the ledger)",
    "folder": "the manifest of the folder: one line per file with its SHA-256, size and path",
}


@dataclass(frozen=True)
class ReportView:
    """What the cover, the frame and every template know about the report (``report`` in them)."""

    model: CaseModel
    format: str
    file_name: str
    author: str
    exhibit_list: str
    kind_list: str
    redacted: bool

    def __getattr__(self, name: str) -> Any:  # the model's fields: report.case_number, ...
        return getattr(self.model, name)


def view_of(
    model: CaseModel, fmt: str, file_name: str, actor: str, kinds: Sequence[str] | None, redacted: bool
) -> ReportView:
    author = _who(model.actors, actor)
    return ReportView(
        model=model,
        format=fmt,
        file_name=file_name,
        author=author,
        exhibit_list=", ".join(e.exhibit for e in model.exhibits),
        kind_list="all record types" if not kinds else ", ".join(sorted(kinds)),
        redacted=redacted,
    )


def _helpers(model: CaseModel) -> dict[str, Any]:
    def who(actor_id: Any) -> str:
        return _who(model.actors, str(actor_id))

    def when(stamp: Any) -> str:
        w = When.of(stamp)
        return w.text if w else ""

    return {"who": who, "when": when, "plain": PLAIN_WORDS, "hashed_over": HASHED_OVER}


def _one(mapping: Mapping[str, Any]) -> Callable[[], Iterator[Mapping[str, Any]]]:
    def pages() -> Iterator[Mapping[str, Any]]:
        yield mapping

    return pages


def _pages_of(n: int) -> int:
    return max(1, -(-n // PAGE_ROWS))


def front_sections() -> list[Section]:
    return [
        Section("cover", "Cover", "cover.html.j2", _one({}), group="front"),
        Section("contents", "Contents", "contents.html.j2", _one({}), group="front"),
    ]


def body_sections(model: CaseModel) -> list[Section]:
    helpers = _helpers(model)
    rows = model.custody

    def custody_pages() -> Iterator[Mapping[str, Any]]:
        for start in range(0, max(len(rows), 1), PAGE_ROWS):
            yield {
                **helpers,
                "rows": rows[start : start + PAGE_ROWS],
                "problems": model.problems,
                "open_checkouts": model.open_checkouts,
            }

    problems = len(model.problems)
    return [
        Section(
            "exhibits",
            "Exhibits",
            "exhibits.html.j2",
            _one({**helpers, "exhibits": model.exhibits}),
            {"text": "source, image, partitions and derived files; hashes, acquisition and verification"},
            group="case",
        ),
        Section(
            "custody",
            "Chain of custody",
            "custody.html.j2",
            custody_pages,
            {
                "text": f"{len(rows)} rows; "
                + (f"{problems} problem(s) flagged" if problems else "no problem found"),
                "pages": _pages_of(len(rows)),
            },
            group="case",
        ),
        Section(
            "methodology",
            "Methodology",
            "methodology.html.j2",
            _one({**helpers, "runs": model.runs}),
            {"text": f"{len(model.runs)} triage run(s): plugins, versions, options, counts, warnings"},
            group="case",
        ),
    ]


def findings_sections(ctx: ReportContext) -> list[Section]:
    """The findings sections of ``triage.report.findings``, or one placeholder when it is absent."""
    try:
        module = importlib.import_module(FINDINGS_PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name != FINDINGS_PACKAGE:
            raise
        message = (
            "This version of Exhibit does not render findings in reports yet: list them with "
            "'exhibit findings EX --json', each with its provenance (exhibit, path, inode, SHA-256, "
            "table and row or offset, plugin and version)."
        )
        return [
            Section(
                "findings",
                "Findings",
                "placeholder.html.j2",
                _one({"message": message}),
                {"text": "not rendered by this version"},
            )
        ]
    sections: list[Section] = module.finding_sections(ctx)
    return sections


def appendix_sections(case: Case, model: CaseModel, exhibits: Sequence[str]) -> list[Section]:
    helpers = _helpers(model)
    total = model.derived_total

    def derived() -> Iterator[Mapping[str, Any]]:
        produced = False
        for rows in derived_pages(case, exhibits, model.size, PAGE_ROWS):
            produced = True
            yield {"rows": rows, "total": total}
        if not produced:
            yield {"rows": [], "total": 0}

    return [
        Section(
            "derived",
            "Appendix A: derived files",
            "derived.html.j2",
            derived,
            {
                "text": f"{total} file(s) read by triage plugins, each with its ledger entry",
                "pages": _pages_of(total),
            },
            group="appendix",
        ),
        Section(
            "verification",
            "Appendix B: verification",
            "verification.html.j2",
            _one(helpers),
            {"text": "checkpoint, inclusion proofs, digests, and how to check everything by hand"},
            group="appendix",
        ),
    ]
