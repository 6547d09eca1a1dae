"""The PDF report's layout processes (triage/report/pdf.py ``_Processes``): chunks are laid out in
a child process that is replaced after ``CHUNKS_PER_PROCESS`` chunks, so WeasyPrint's caches cannot
grow with the case; a replaced process gives the same bytes, pages, anchors and link targets as
one process laying out every chunk, and so do several processes laying out chunks side by side."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.report import pdf
from triage.report.media import BASE

HEAD = "<html><head><title>t</title></head><body>"
TAIL = "</body></html>"


def _chunk(n: int) -> str:
    return (
        f'<section id="s{n}"><h1>Section {n}</h1><p>' + "word " * (40 * n + 10) + "</p>"
        f'<p><a href="{BASE}other.html#s{n + 1}">next</a></p></section>'
    )


def _lay_out_all(
    folder: Path, processes: int = 1
) -> tuple[list[tuple[int, dict[str, int]]], set[str], set[int], list[bytes]]:
    spec = pdf._Spec(HEAD, TAIL, "@page { size: A6 }", folder, bytes(range(16)))
    layout = pdf._Processes(spec, processes)
    try:
        if processes == 1:
            answers = [layout.lay_out(_chunk(n), folder / f"chunk-{n}.pdf", [f"s{n}"]) for n in range(5)]
        else:  # every chunk given out first, the answers taken in order
            futures = [layout.submit(_chunk(n), folder / f"chunk-{n}.pdf", [f"s{n}"]) for n in range(5)]
            answers = [layout.answer(future) for future in futures]
    finally:
        layout.close()
    return (
        answers,
        layout.targets,
        layout.processes,
        [(folder / f"chunk-{n}.pdf").read_bytes() for n in range(5)],
    )


def test_processes_are_replaced_and_give_the_same_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    one = _lay_out_all(tmp_path / "one")
    monkeypatch.setattr(pdf, "CHUNKS_PER_PROCESS", 2)
    many = _lay_out_all(tmp_path / "many")
    assert len(one[2]) == 1  # five chunks, one process
    assert len(many[2]) == 3  # two chunks a process: 2 + 2 + 1
    assert many[0] == one[0] and many[1] == one[1] and many[3] == one[3]
    assert [count for count, _ in one[0]] == sorted(count for count, _ in one[0])  # longer chunks, more pages
    assert all(found == {f"s{n}": 0} for n, (_, found) in enumerate(one[0]))
    assert one[1] == {f"s{n}" for n in range(1, 6)}
    assert all(b.startswith(b"%PDF-") for b in one[3])


def test_processes_side_by_side_give_the_same_chunks_in_order(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = _lay_out_all(tmp_path / "one")
    two = _lay_out_all(tmp_path / "two", processes=2)
    assert len(two[2]) == 2  # both processes laid out chunks (given to the less busy)
    assert two[0] == one[0] and two[1] == one[1] and two[3] == one[3]


def test_one_layout_process_a_core_at_most_four(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf.os, "sched_getaffinity", lambda pid: set(range(16)))
    assert pdf.layout_processes() == pdf.MAX_PROCESSES == 4
    monkeypatch.setattr(pdf.os, "sched_getaffinity", lambda pid: {0})
    assert pdf.layout_processes() == 1


@pytest.mark.parametrize("width", [1, 2])
def test_chunks_queued_beyond_a_process_share_are_all_laid_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """Every chunk given out at once, several shares ahead: each process lays out its share, ends,
    and a fresh one takes the rest (a pool's own ``max_tasks_per_child`` left a queued chunk with
    no process on CPython 3.11, python/cpython#115634: the report waited forever). Run in a thread
    so that a hang fails the test instead of stopping the suite."""
    import threading

    monkeypatch.setattr(pdf, "CHUNKS_PER_PROCESS", 2)
    spec = pdf._Spec(HEAD, TAIL, "@page { size: A6 }", tmp_path, bytes(range(16)))
    layout = pdf._Processes(spec, width)
    answers: list[tuple[int, dict[str, int]]] = []

    def everything() -> None:
        futures = [layout.submit(_chunk(n % 3), tmp_path / f"c{n}.pdf", [f"s{n % 3}"]) for n in range(9)]
        answers.extend(layout.answer(f) for f in futures)

    worker = threading.Thread(target=everything, daemon=True)
    try:
        worker.start()
        worker.join(180)
        assert not worker.is_alive(), f"laid out {len(answers)} of 9 chunks, then waited for ever"
    finally:
        if not worker.is_alive():
            layout.close()
    assert [found for _, found in answers] == [{f"s{n % 3}": 0} for n in range(9)]
    assert len(layout.processes) == 5  # nine chunks, two a process
    live = [s for s in layout.slots if s is not None]
    assert len(live) == width  # never more processes than asked for
