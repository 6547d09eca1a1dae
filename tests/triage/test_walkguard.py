"""Evidence that drives libtsk into a hang or a memory blow-up costs one file system, not the command.

The two inputs are the fuzz script's findings (bench/fuzz_triage.py), rebuilt here from the corpus
with the same mutations: an ISO 9660 on which libtsk deadlocks on its own lock while looking for
orphan files (``fls -p`` hangs too), and an ext3 image with a damaged inode for which libtsk asks
for gigabytes (``fls -r`` reaches 6.6 GB on 5 MB). Every command runs as the user runs it, under
``/usr/bin/time -v``, and must end in bounded time and memory with a message naming the file
system. See triage/sources/walkguard.py and docs/examiner.md ("Damaged file systems").
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import init_case
from tests.conftest import CORPUS, need, need_tool
from triage.errors import SourceUnreadable, WalkAbandoned
from triage.sources.walkguard import Limits, run_guarded

REPO = Path(__file__).resolve().parents[2]
EXHIBIT = str(Path(sys.executable).parent / "exhibit")
STALL_S = 3  # EXHIBIT_WALK_STALL_SECONDS of the hang tests: short, so the suite stays quick
LIMIT_S = 60  # no command may take longer than this (the hang lasted for ever)


def hanging_iso(folder: Path) -> Path:
    """dfvfs iso9660.raw with the fuzz finding's five mutations, in the order they were made."""
    data = bytearray(need(CORPUS / "disk" / "dfvfs" / "iso9660.raw").read_bytes())
    data[47172] = 0  # directory record length 0x2c -> 0
    data[32926:32930] = (0x80).to_bytes(4, "little")  # root extent (overwritten by the splice)
    data[47254] ^= 0x10  # one bit near 47260
    data[32900:33412] = data[11793:12305]  # 512 bytes spliced over the primary volume descriptor
    data[47114:47118] = (0x59801).to_bytes(4, "little")  # directory size 0x800 -> 0x59801
    path = folder / "iso9660-hang.raw"
    path.write_bytes(bytes(data))
    return path


def greedy_ext3(folder: Path) -> Path:
    """dftt ext3-img-kw-1.dd with an inode whose flags are all set, truncated by a byte."""
    archive = need(CORPUS / "disk" / "dftt" / "4-kwsrch-ext3.zip")
    with zipfile.ZipFile(archive) as z:
        data = bytearray(z.read("4-kwsrch-ext3/ext3-img-kw-1.dd"))
    data[6944:6946] = b"\xff\xff"  # inode flags 0 -> 0xffff
    del data[5242879:]
    data[8064:8576] = data[1530187:1530699]
    path = folder / "ext3-greedy.dd"
    path.write_bytes(bytes(data))
    return path


def two_partitions(folder: Path, first: Path) -> Path:
    """An MBR disk: ``first`` as partition 1, the dftt FAT undelete image as partition 2."""
    with zipfile.ZipFile(need(CORPUS / "disk" / "dftt" / "6-undel-fat.zip")) as z:
        fat = z.read("6-undel-fat/6-fat-undel.dd")
    one = first.read_bytes()
    one += b"\0" * (-len(one) % 512)
    start1, start2 = 64, 64 + len(one) // 512 + 64
    mbr = bytearray(512)
    for slot, (kind, start, size) in enumerate(((0x83, start1, len(one)), (0x06, start2, len(fat)))):
        entry = 446 + 16 * slot
        mbr[entry + 4] = kind
        struct.pack_into("<II", mbr, entry + 8, start, -(-size // 512))
    mbr[510:512] = b"\x55\xaa"
    disk = bytearray(mbr) + b"\0" * (start1 * 512 - 512) + one
    disk += b"\0" * (start2 * 512 - len(disk)) + fat
    path = folder / "two-partitions.dd"
    path.write_bytes(bytes(disk))
    return path


class Case:
    """A case folder with one actor; ``run`` runs the installed ``exhibit`` under /usr/bin/time -v."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root.parent / "config"  # the actor's key, for every test of the module
        saved = os.environ.get("EXHIBIT_CONFIG_DIR")
        os.environ["EXHIBIT_CONFIG_DIR"] = str(self.config)
        try:
            with init_case(root, case_number="WG/1", title="walk guard") as case:
                add_actor(case, "ex", name="Ex Aminer", role="examiner")
        finally:
            if saved is None:
                del os.environ["EXHIBIT_CONFIG_DIR"]
            else:
                os.environ["EXHIBIT_CONFIG_DIR"] = saved

    def run(self, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], float, int]:
        """(result, seconds, peak RSS in KiB of the command and any child it waited for)."""
        timer = need_tool("/usr/bin/time")
        full = {**os.environ, "EXHIBIT_CONFIG_DIR": str(self.config), **env}
        started = time.monotonic()
        with subprocess.Popen(
            [timer, "-v", EXHIBIT, *args, "--case", str(self.root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full,
            start_new_session=True,  # a hang found here must not outlive the test: kill its group
        ) as proc:
            try:
                out, err = proc.communicate(timeout=LIMIT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise
        res = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        elapsed = time.monotonic() - started
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr)
        assert found, res.stderr
        return res, elapsed, int(found.group(1))

    def acquire(self, exhibit: str, image: Path) -> None:
        res, _, _ = self.run(
            "acquire",
            str(image),
            "--exhibit",
            exhibit,
            "--description",
            "damaged",
            "--kind",
            "raw",
            "--actor",
            "ex",
        )
        assert res.returncode == 0, res.stderr


def user_text(res: subprocess.CompletedProcess[str]) -> str:
    """stderr without /usr/bin/time's report (its lines start with a tab)."""
    return "\n".join(line for line in res.stderr.splitlines() if not line.startswith("\t"))


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    need(CORPUS)
    folder = tmp_path_factory.mktemp("walkguard")
    c = Case(folder / "case")
    iso = hanging_iso(folder)
    c.acquire("HANG", iso)
    c.acquire("GREEDY", greedy_ext3(folder))
    c.acquire("TWO", two_partitions(folder, iso))
    return c


# -- the libtsk defects themselves ------------------------------------------------------------------


def test_fls_hangs_on_the_mutated_iso(tmp_path: Path) -> None:
    """The reproduction is right: TSK's own fls never finishes on this image."""
    fls = need_tool("fls")
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([fls, "-p", str(hanging_iso(tmp_path))], capture_output=True, timeout=STALL_S)


# -- exhibit ls and exhibit triage on them ----------------------------------------------------------


def test_ls_of_a_hanging_file_system_ends_with_a_clear_error(case: Case) -> None:
    res, elapsed, _ = case.run("ls", "HANG", "-r", EXHIBIT_WALK_STALL_SECONDS=str(STALL_S))
    text = user_text(res)
    assert res.returncode == 2, text
    assert elapsed < STALL_S + 20
    assert "error: HANG: the iso9660 file system at byte 0 could not be walked" in text
    assert f"made no progress for {STALL_S} s" in text
    assert "hint: " in text and "EXHIBIT_WALK_STALL_SECONDS" in text
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr


def test_ls_through_the_full_cli_ends_the_same_way(case: Case) -> None:
    res, elapsed, _ = case.run(
        "ls", "HANG", "-r", "--json", EXHIBIT_WALK_STALL_SECONDS=str(STALL_S), EXHIBIT_NO_FAST_LS="1"
    )
    assert res.returncode == 2, user_text(res)
    assert elapsed < STALL_S + 20
    assert "the iso9660 file system at byte 0 could not be walked" in user_text(res)
    assert "Traceback" not in res.stderr


def test_ls_goes_on_with_the_other_partition(case: Case) -> None:
    """The hanging file system costs itself only: the FAT partition after it is listed in full."""
    res, _, _ = case.run("ls", "TWO", "-r", EXHIBIT_WALK_STALL_SECONDS=str(STALL_S))
    assert res.returncode == 2
    assert "could not be walked" in user_text(res) and "iso9660" in user_text(res)
    fls = need_tool("fls")
    listed = subprocess.run(
        [fls, "-r", "-p", "-o", str(64 + (366592 // 512) + 64), str(case.root.parent / "two-partitions.dd")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0 and listed.stdout
    assert listed.stdout in res.stdout  # every line of the FAT partition, in fls's order


def test_triage_of_a_hanging_file_system_records_it_and_completes(case: Case) -> None:
    res, elapsed, _ = case.run(
        "triage", "TWO", "--actor", "ex", "--workers", "1", EXHIBIT_WALK_STALL_SECONDS=str(STALL_S)
    )
    text = res.stdout + user_text(res)
    assert res.returncode == 0, text
    assert elapsed < STALL_S + 40
    assert "the iso9660 file system at byte 32768 could not be walked" in text
    assert "Traceback" not in text
    runs, _, _ = case.run("runs", "TWO", "--json")
    assert "could not be walked" in runs.stdout  # stored with the run, not only printed
    files = re.search(r"(\d+) files hashed", res.stdout)
    assert files and int(files.group(1)) > 0  # the FAT partition was triaged


def test_ls_of_a_greedy_inode_stays_within_its_memory(case: Case) -> None:
    res, elapsed, peak_kib = case.run("ls", "GREEDY", "-r")
    assert res.returncode == 0, user_text(res)
    assert peak_kib < 1024 * 1024, f"peak RSS {peak_kib} KiB"  # fls -r: 6.6 GB
    assert elapsed < 30
    assert "r/r 12:\tfile1" in res.stdout  # the listing fls gives, all of it
    assert res.stdout.count("\n") == 10
    assert "ran out of the memory a walk may use" in user_text(res)
    assert "Traceback" not in res.stderr


def test_ls_memory_is_configurable(case: Case) -> None:
    res, _, peak_kib = case.run("ls", "GREEDY", "-r", EXHIBIT_WALK_MEMORY_MB="200")
    assert res.returncode == 0, user_text(res)
    assert peak_kib < 400 * 1024, f"peak RSS {peak_kib} KiB"


def test_triage_of_a_greedy_inode_stays_within_its_memory(case: Case) -> None:
    res, elapsed, peak_kib = case.run("triage", "GREEDY", "--actor", "ex", "--workers", "1")
    text = res.stdout + user_text(res)
    assert res.returncode == 0, text
    assert peak_kib < 1024 * 1024, f"peak RSS {peak_kib} KiB"  # 1.5 GB before
    assert elapsed < 40
    assert "10 entries" in res.stdout
    assert "ran out of the memory a walk may use" in text


def test_bad_limit_setting_is_a_clear_error(case: Case) -> None:
    res, _, _ = case.run("ls", "GREEDY", EXHIBIT_WALK_STALL_SECONDS="soon")
    assert res.returncode == 2
    assert "EXHIBIT_WALK_STALL_SECONDS='soon' is not a positive number" in user_text(res)
    assert "Traceback" not in res.stderr


# -- the guard itself, with stand-in walks ----------------------------------------------------------


def _sleeping_walk(**how: object) -> int:
    time.sleep(60)
    return 0


def _greedy_walk(**how: object) -> int:
    hoard = [bytearray(64 << 20) for _ in range(64)]  # 4 GiB
    return len(hoard)


def _slow_reader_walk(**how: object) -> int:
    write = how["write"]
    assert callable(write)
    for _ in range(3):
        write(b"line\n")
    return 3


def _children() -> set[int]:
    """This process's child processes, zombies included (Linux: /proc/self/task/*/children)."""
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in (task / "children").read_text().split())
    return pids


def test_a_stalled_walk_is_ended_and_its_child_reaped() -> None:
    # Other tests of the same worker process may have left long-lived helpers (multiprocessing's
    # resource tracker): only the guard's own child must be gone, not every child.
    before = _children()
    started = time.monotonic()
    with pytest.raises(WalkAbandoned, match="made no progress for 1 s") as info:
        run_guarded(_sleeping_walk, {"warn": print}, offset=512, fs_type="ext4", limits=Limits(1, 256))
    assert time.monotonic() - started < 10
    assert info.value.offset == 512 and info.value.fs_type == "ext4"
    assert _children() <= before  # no child left behind, not even a zombie


def test_a_walk_over_its_memory_is_ended() -> None:
    with pytest.raises(WalkAbandoned, match="more than the 256 MB of memory"):
        run_guarded(_greedy_walk, {"warn": print}, offset=0, fs_type="ntfs", limits=Limits(30, 256))


def test_time_spent_writing_output_is_not_a_stall() -> None:
    """``exhibit ls -r | less``: the reader may hold the output for longer than the stall limit."""
    got: list[bytes] = []

    def slow_write(block: bytes) -> None:
        time.sleep(1.5)
        got.append(block)

    count = run_guarded(
        _slow_reader_walk,
        {"warn": print, "write": slow_write},
        offset=0,
        fs_type="fat16",
        limits=Limits(1, 256),
    )
    assert count == 3 and b"".join(got) == b"line\n" * 3


def test_libtsk_refusing_the_file_system_still_reaches_the_caller() -> None:
    def refuse(**how: object) -> int:
        raise OSError("libtsk finds no file system at byte 0")

    with pytest.raises(OSError, match="no file system at byte 0"):
        run_guarded(refuse, {"warn": print}, offset=0, fs_type="fat12", limits=Limits(5, 256))


def test_an_evidence_error_in_the_walk_keeps_its_type_and_hint() -> None:
    """Found in review: the child sent only the exception's name and message, so a read error of
    the evidence (a missing segment, a bad sector) reached the user as a RuntimeError, which the
    CLI shows as an internal error, with its hint lost."""

    def unreadable(**how: object) -> int:
        raise SourceUnreadable("disk.E01: segment disk.E03 is missing", hint="bring every segment")

    with pytest.raises(SourceUnreadable, match=r"segment disk\.E03 is missing") as info:
        run_guarded(unreadable, {"warn": print}, offset=0, fs_type="ntfs", limits=Limits(5, 256))
    assert info.value.hint == "bring every segment"


def test_setup_installs_time() -> None:
    assert re.search(r"^APT_PACKAGES=\(.*\btime\b", (REPO / "scripts" / "setup.sh").read_text(), re.M)
    assert shutil.which("time") or Path("/usr/bin/time").exists()


def _big_output_walk(**how: object) -> int:
    write = how["write"]
    assert callable(write)
    for _ in range(32):
        write(b"x" * 65536)  # 2 MiB: more than any pipe holds
    return 32


def test_a_child_blocked_on_a_slow_reader_of_stdout_is_not_a_stall() -> None:
    """``exhibit ls -r | less``: the child writes to stdout itself and waits for the pager."""
    import threading

    read_end, write_end = os.pipe()
    got = bytearray()

    def pager() -> None:
        time.sleep(3)  # three times the stall limit before reading anything
        while chunk := os.read(read_end, 1 << 16):
            got.extend(chunk)

    reader = threading.Thread(target=pager)
    reader.start()
    try:
        count = run_guarded(
            _big_output_walk,
            {"warn": print, "write": lambda b: None},
            offset=0,
            fs_type="ext4",
            limits=Limits(1, 256),
            out_fd=write_end,
        )
    finally:
        os.close(write_end)
        reader.join()
        os.close(read_end)
    assert count == 32 and bytes(got) == b"x" * (32 << 16)


def test_a_reader_that_has_gone_is_a_broken_pipe_as_before() -> None:
    """``exhibit ls -r | head``: the launcher treats BrokenPipeError as a normal end."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        with pytest.raises(BrokenPipeError):
            run_guarded(
                _big_output_walk,
                {"warn": print, "write": lambda b: None},
                offset=0,
                fs_type="ext4",
                limits=Limits(5, 256),
                out_fd=write_end,
            )
    finally:
        os.close(write_end)
