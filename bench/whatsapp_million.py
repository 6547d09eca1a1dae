#!/usr/bin/env python3
"""Triage of a phone extraction whose WhatsApp ``msgstore.db`` holds a million messages, against
the ``sqlite3`` command-line shell dumping the same rows to /dev/null.

The target (issue 8, section 8): parse + store + ledger within **3x** of the dump, peak memory
under **500 MB**.

    .venv/bin/python bench/whatsapp_million.py [--messages 1000000] [--rounds 3] [--workdir bench/work]

What it does:

1. Builds ``<workdir>/wa-<messages>/extraction/data/data/com.whatsapp/databases/msgstore.db``
   (reused when present) with the app's schema as the WhatsApp tests declare it
   (tests/plugins/app_schemas.py: ``jid``, ``chat``, ``message``, ``message_media``,
   ``message_location``, ``call_log``...), 300 chats, ``--messages`` messages with text of 20 to
   200 characters, one in 50 with a media row; plus ``wa.db`` with a contact per chat.
2. Makes a case template (``exhibit init``, ``actor add``, ``acquire`` of the folder; not timed).
3. For ``--rounds`` rounds alternates (a) ``sqlite3 msgstore.db "<the plugin's own SELECT>"`` to
   /dev/null, the query the table base builds for ``message`` on this schema (so the dump reads
   the same rows and joins), and (b) ``exhibit triage EX-001 --json`` on a fresh copy of the
   template, both as whole processes under ``/usr/bin/time -v`` (start-up included), and prints
   each pair (wall and CPU seconds), best and median ratio, and the peak resident set of the triage (the largest of the
   command and its worker processes). The run's findings are counted (one per message).
4. Each round also triages a third copy with the analyzers left out (the same ``exhibit`` command
   line run by ``python -c`` after emptying ``plugins.BUILTIN_ANALYZERS``): the file plugins' parse
   + store + ledger alone, which is what the 3x target is about. The ``identifiers`` analyzer reads
   every stored message back after the plugins; its cost is the difference of the two triages.

Not part of the test suite: the database is ~250 MB and a round takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from plugins.chat.whatsapp_android import MESSAGE  # noqa: E402
from tests.plugins.app_schemas import WHATSAPP_MEDIA, WHATSAPP_MSGSTORE, WHATSAPP_WA_CONTACTS  # noqa: E402
from triage.plugin.sqlite_table import _plan  # noqa: E402  (the SELECT the plugin runs)

EXHIBIT = str(Path(sys.executable).parent / "exhibit")
#: ``exhibit`` without the analyzers (the built-in tuple emptied before the CLI loads it).
EXHIBIT_NO_ANALYZERS = [
    sys.executable,
    "-c",
    "import sys, plugins; plugins.BUILTIN_ANALYZERS = (); from triage.launch import main; "
    "sys.argv[0] = 'exhibit'; sys.exit(main())",
]
DB_DIR = "data/data/com.whatsapp/databases"
CHATS = 300
WORDS = [
    "the",
    "price",
    "is",
    "meet",
    "at",
    "pier",
    "tonight",
    "bring",
    "cash",
    "passport",
    "car",
    "driver",
    "hotel",
    "room",
    "new",
    "girls",
    "tomorrow",
    "morning",
    "border",
    "papers",
    "send",
    "photo",
    "address",
    "money",
    "transfer",
    "wallet",
    "ok",
    "yes",
    "no",
    "call",
    "me",
]


def build(folder: Path, messages: int, seed: int = 8) -> Path:
    """The extraction folder (built once per message count)."""
    db = folder / "extraction" / DB_DIR / "msgstore.db"
    if db.exists():
        return folder / "extraction"
    rng = random.Random(seed)
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + WHATSAPP_MSGSTORE + WHATSAPP_MEDIA)
    jids = [
        (i, f"4477009{i:05d}", "s.whatsapp.net", f"4477009{i:05d}@s.whatsapp.net")
        for i in range(1, CHATS + 1)
    ]
    con.executemany("INSERT INTO jid (_id, user, server, raw_string) VALUES (?, ?, ?, ?)", jids)
    con.executemany(
        "INSERT INTO chat (_id, jid_row_id, subject, created_timestamp) VALUES (?, ?, NULL, ?)",
        [(i, i, 1_600_000_000_000) for i in range(1, CHATS + 1)],
    )
    t = 1_600_000_000_000
    batch, media = [], []
    for n in range(1, messages + 1):
        t += rng.randint(1, 120_000)
        chat = rng.randint(1, CHATS)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 40)))
        batch.append((n, chat, n % 2, f"{n:016X}", chat, 13, t, t + 800, 0, text, n))
        if n % 50 == 0:
            media.append((n, chat, f"Media/WhatsApp Images/IMG-{n}.jpg", 120_000, "image/jpeg"))
        if len(batch) == 50_000:
            con.executemany(
                "INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status, timestamp,"
                " received_timestamp, message_type, text_data, sort_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                batch,
            )
            batch = []
    if batch:
        con.executemany(
            "INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status, timestamp,"
            " received_timestamp, message_type, text_data, sort_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            batch,
        )
    con.executemany(
        "INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size, mime_type)"
        " VALUES (?,?,?,?,?)",
        media,
    )
    con.commit()
    con.close()
    tmp.rename(db)
    wa = sqlite3.connect(db.parent / "wa.db")
    wa.executescript(WHATSAPP_WA_CONTACTS)
    wa.executemany(
        "INSERT INTO wa_contacts (jid, is_whatsapp_user, display_name) VALUES (?, 1, ?)",
        [(raw, f"Contact {i}") for i, _, _, raw in jids],
    )
    wa.commit()
    wa.close()
    return folder / "extraction"


def timed(
    cmd: list[str], stdout: object = subprocess.PIPE, env: dict[str, str] | None = None
) -> tuple[float, float, int, subprocess.CompletedProcess[str]]:
    """(wall seconds, CPU seconds (user + system, children included), peak RSS KiB of the
    command or any child it waited for, result)."""
    started = time.perf_counter()
    res = subprocess.run(  # type: ignore[call-overload]
        ["/usr/bin/time", "-v", *cmd], stdout=stdout, stderr=subprocess.PIPE, text=True, env=env
    )
    elapsed = time.perf_counter() - started
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", res.stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", res.stderr)
    if res.returncode != 0 or peak is None or user is None or system is None:
        raise SystemExit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr[-3000:]}")
    return elapsed, float(user.group(1)) + float(system.group(1)), int(peak.group(1)), res


def _triage(
    exhibit: list[str], case: Path, template: Path, env: dict[str, str], args: argparse.Namespace
) -> tuple[float, float, int, object]:
    """One timed ``exhibit triage`` on a fresh copy of ``template``: (wall s, cpu s, peak RSS KiB,
    findings stored), after checking that every message was stored."""
    shutil.copytree(template, case)
    try:
        wall, cpu, peak, res = timed(
            [*exhibit, "triage", "EX-001", "--actor", "ex", "--json", "--case", str(case)], env=env
        )
        counts = json.loads(res.stdout)["counts"]
        con = sqlite3.connect(f"file:{case / 'case.sqlite'}?mode=ro", uri=True)
        messages = con.execute(
            "SELECT count(*) FROM triage_findings WHERE record_type = 'chat/android/whatsapp/message'"
        ).fetchone()[0]
        con.close()
        if messages != args.messages:
            raise SystemExit(f"{case.name}: {messages} messages stored, expected {args.messages}")
    finally:
        shutil.rmtree(case)
    return wall, cpu, peak, counts.get("findings")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=REPO / "bench" / "work")
    args = ap.parse_args()
    sqlite3_cli = shutil.which("sqlite3")
    if sqlite3_cli is None:
        raise SystemExit("needs the sqlite3 shell (apt-get install sqlite3)")
    folder = args.workdir / f"wa-{args.messages}"
    started = time.perf_counter()
    extraction = build(folder, args.messages)
    db = extraction / DB_DIR / "msgstore.db"
    print(
        f"extraction: {extraction} ({db.stat().st_size / 1e6:.0f} MB msgstore.db; built/reused in "
        f"{time.perf_counter() - started:.1f} s)"
    )
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    sql = _plan(con, MESSAGE).sql
    con.close()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        env = {**os.environ, "EXHIBIT_CONFIG_DIR": str(Path(tmp) / "config")}
        template = Path(tmp) / "template"
        for cmd in (
            ["init", str(template), "--case-number", "BENCH/8", "--title", "whatsapp million"],
            ["actor", "add", "ex", "--name", "Ex Aminer", "--role", "examiner", "--case", str(template)],
            [
                "acquire",
                str(extraction),
                "--exhibit",
                "EX-001",
                "--description",
                "phone",
                "--actor",
                "ex",
                "--case",
                str(template),
            ],
        ):
            subprocess.run([EXHIBIT, *cmd], check=True, env=env, capture_output=True)
        ratios, cpu_ratios, peaks = [], [], []
        plain_ratios, plain_cpu_ratios = [], []
        for r in range(1, args.rounds + 1):
            with open("/dev/null", "w") as null:
                dump_s, dump_cpu, _, _ = timed([sqlite3_cli, "-readonly", str(db), sql + ";"], stdout=null)
            dump_cpu = max(dump_cpu, 0.01)  # time -v counts in 10 ms steps
            triage_s, triage_cpu, peak, findings = _triage(
                [EXHIBIT], Path(tmp) / f"round{r}", template, env, args
            )
            plain_s, plain_cpu, plain_peak, _ = _triage(
                EXHIBIT_NO_ANALYZERS, Path(tmp) / f"round{r}-plain", template, env, args
            )
            ratios.append(triage_s / dump_s)
            cpu_ratios.append(triage_cpu / dump_cpu)
            plain_ratios.append(plain_s / dump_s)
            plain_cpu_ratios.append(plain_cpu / dump_cpu)
            peaks += [peak, plain_peak]
            print(
                f"round {r}: sqlite3 dump {dump_s:.2f} s (cpu {dump_cpu:.2f}); exhibit triage "
                f"{triage_s:.2f} s (cpu {triage_cpu:.2f}): ratio {triage_s / dump_s:.2f}x "
                f"(cpu {triage_cpu / dump_cpu:.2f}x), peak RSS {peak / 1024:.0f} MB, {findings} findings; "
                f"without analyzers {plain_s:.2f} s (cpu {plain_cpu:.2f}): ratio {plain_s / dump_s:.2f}x "
                f"(cpu {plain_cpu / dump_cpu:.2f}x), peak RSS {plain_peak / 1024:.0f} MB; the analyzers "
                f"took about {triage_cpu - plain_cpu:.2f} s of cpu"
            )
        print(
            f"with analyzers: best ratio {min(ratios):.2f}x, median {statistics.median(ratios):.2f}x "
            f"(cpu best {min(cpu_ratios):.2f}x); parse + store + ledger (no analyzers): best ratio "
            f"{min(plain_ratios):.2f}x, median {statistics.median(plain_ratios):.2f}x (cpu best "
            f"{min(plain_cpu_ratios):.2f}x; target <= 3x); peak RSS max {max(peaks) / 1024:.0f} MB "
            f"(target < 500 MB)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
