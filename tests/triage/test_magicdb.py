"""triage.sources.magicdb gives libmagic's own answer, for every kind of content, while running fewer rules.

The reference is plain python-magic with the default database (``plain_libmagic``). Compared on:
real files of this machine (programs, libraries, documents, images, archives, scripts), the
corpus, the files inside the forensics-samples disk images, random and repetitive data, and every
head cut short at lengths around the offsets rules look at.
"""

from __future__ import annotations

import os
import random
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CORPUS, FORENSICS_SAMPLES
from triage.sources import magicdb
from triage.sources.filetype import HEAD_SIZE, sniff_mime

SYSTEM_FOLDERS = ["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/share", "/etc"]


def _heads_of_files(folders: list[str | Path], limit: int, seed: int) -> list[bytes]:
    paths: list[str] = []
    for folder in folders:
        for root, _dirs, files in os.walk(folder):
            paths.extend(os.path.join(root, f) for f in files)
    paths.sort()
    random.Random(seed).shuffle(paths)
    heads: list[bytes] = []
    for p in paths:
        if len(heads) >= limit:
            break
        try:
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, "rb") as fh:
                head = fh.read(HEAD_SIZE)
        except OSError:
            continue
        if head:
            heads.append(head)
    return heads


def _heads_in_images() -> Iterator[bytes]:
    """The first bytes of every file inside Debian's forensics-samples disks (real evidence files)."""
    import lzma
    import tempfile

    from triage.sources.open import open_source

    for name in ("fs.ntfs.xz", "fs.vfat.xz", "fs.exfat.xz"):
        src = FORENSICS_SAMPLES / name
        if not src.exists():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            image = Path(tmp) / name.removesuffix(".xz")
            image.write_bytes(lzma.decompress(src.read_bytes()))
            with open_source(image) as source:
                for entry in source.entries(recursive=True):
                    if entry.type != "file" or not entry.size:
                        continue
                    head = b""
                    try:
                        for chunk in source.read(entry, chunk_size=HEAD_SIZE):
                            head = chunk[:HEAD_SIZE]
                            break
                    except Exception:
                        continue
                    if head:
                        yield head


def _cut(heads: list[bytes], seed: int) -> list[bytes]:
    """Heads cut at lengths where tests start or stop reading: shorter than the rule needs."""
    rng = random.Random(seed)
    lengths = (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 20, 31, 33, 64, 100, 257, 262, 300, 512, 1100, 4097)
    return [h[:n] for h in rng.sample(heads, min(len(heads), 300)) for n in lengths if n < len(h)]


@pytest.fixture(scope="module")
def active() -> None:
    if not magicdb.fast_path_active():
        pytest.skip(
            "this libmagic database is not one triage.sources.magicdb splits; everything uses plain libmagic"
        )


def test_split_on_debian_libmagic() -> None:
    """On the libmagic this project installs (Debian's file 5.4x, database format 18) the fast
    path must be on: most binary rules plain, the rest kept for libmagic."""
    path = magicdb.database_path()
    if path is None or struct.unpack_from("<I", path.read_bytes(), 4)[0] != magicdb.VERSION:
        pytest.skip(f"libmagic database {path} is not format {magicdb.VERSION}")
    s = magicdb._sniffer()
    assert s is not None
    split = s.split
    assert split.plain_rules > 10 * split.kept_rules, (split.plain_rules, split.kept_rules)
    assert len(split.database()) < len(split.data) // 4


def assert_same(heads: list[bytes]) -> None:
    different = [
        (h[:24], magicdb.sniff(h), magicdb.plain_libmagic(h))
        for h in heads
        if magicdb.sniff(h) != magicdb.plain_libmagic(h)
    ]
    assert not different, different[:10]


def test_same_answers_on_system_files(active: None) -> None:
    heads = _heads_of_files([f for f in SYSTEM_FOLDERS if os.path.isdir(f)], 6000, seed=1)
    assert len(heads) > 1000
    assert_same(heads + _cut(heads, seed=2))


def test_same_answers_on_the_corpus_and_evidence_files(active: None) -> None:
    heads = _heads_of_files([CORPUS], 2000, seed=3) if CORPUS.is_dir() else []
    heads += list(_heads_in_images())
    if not heads:
        pytest.skip("neither ../shared/corpus nor forensics-samples-* is installed")
    assert_same(heads + _cut(heads, seed=4))


def test_same_answers_on_random_and_repetitive_data(active: None) -> None:
    rng = random.Random(5)
    pool = rng.randbytes(1 << 22)
    heads = [pool[i * 4100 : i * 4100 + HEAD_SIZE] for i in range(1500)]
    heads += [(pool[i * 7 : i * 7 + rng.randint(1, 600)] * HEAD_SIZE)[:HEAD_SIZE] for i in range(800)]
    heads += [
        bytes(rng.randint(0, 3) for _ in range(64)) + pool[i * 100 : i * 100 + 4000] for i in range(300)
    ]
    assert_same(heads + _cut(heads, seed=6))


def test_engine_sniffer_uses_it(active: None) -> None:
    rng = random.Random(7)
    head = rng.randbytes(HEAD_SIZE)
    assert sniff_mime(head) == magicdb.plain_libmagic(head)
    assert sniff_mime(b"") == "inode/x-empty"


def test_plain_libmagic_on_request() -> None:
    code = "from triage.sources import magicdb; print(magicdb.fast_path_active())"
    env = {**os.environ, "EXHIBIT_PLAIN_LIBMAGIC": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_databases_it_does_not_know_are_left_alone() -> None:
    path = magicdb.database_path()
    if path is None:
        pytest.skip("libmagic loads no single compiled database here")
    data = bytearray(path.read_bytes())
    assert magicdb.split_database(bytes(data[:-1])) is None  # not whole entries
    other = bytearray(data)
    struct.pack_into("<I", other, 4, magicdb.VERSION + 1)  # another format version
    assert magicdb.split_database(bytes(other)) is None
    assert magicdb.split_database(b"\0" * magicdb.ENTRY_SIZE * 3) is None


def test_local_rules_turn_it_off(tmp_path: Path) -> None:
    local = tmp_path / "magic"
    local.write_text("0 string EXHIBIT-TEST Exhibit test file\n!:mime application/x-exhibit-test\n")
    path = magicdb.database_path()
    if path is None:
        pytest.skip("libmagic loads no single compiled database here")
    code = "from triage.sources import magicdb; print(magicdb.fast_path_active())"
    env = {**os.environ, "MAGIC": f"{local}:{path}"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_reduced_databases_are_the_kept_and_matched_rules_in_order(active: None) -> None:
    """``Split.database`` builds from blocks; it must equal the entry-by-entry construction."""
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    size = magicdb.ENTRY_SIZE

    def one_by_one(rules: tuple[int, ...]) -> bytes:
        entries = sorted([*split.kept, *(k for r in rules for k in range(r, split.spans[r]))])
        needed = split.uses[-1].union(*(split.uses[r] for r in rules))
        named = sorted(k for name in needed for k in range(*split.names[name]))
        header = bytearray(split.data[:size])
        struct.pack_into("<II", header, 8, len(entries), len(named))
        return bytes(header) + b"".join(
            split.data[size * (1 + k) : size * (2 + k)] for k in (*entries, *named)
        )

    rng = random.Random(8)
    plain = sorted(split.spans)
    for n in (0, 1, 1, 2, 3, 6):
        for _ in range(10):
            rules = tuple(sorted(rng.sample(plain, n)))
            assert split.database(rules) == one_by_one(rules), rules


# -- text heads ------------------------------------------------------------------------------------

TEXT_FOLDERS = [
    "/usr/share/doc",
    "/usr/lib/python3",
    "/usr/share/perl",
    "/usr/share/perl5",
    "/etc",
    "/usr/bin",
    "/usr/share/mime",
    "/usr/share/X11",
    "/usr/include",
    "/usr/share/javascript",
]


def _text_heads(limit: int, seed: int) -> list[bytes]:
    folders: list[str | Path] = [f for f in TEXT_FOLDERS if os.path.isdir(f)]
    if CORPUS.is_dir():
        folders.append(CORPUS)
    heads = _heads_of_files(folders, limit * 3, seed)
    return [h for h in heads if b"\0" not in h][:limit]


def test_text_heads_get_libmagics_answer_from_the_text_tier(active: None) -> None:
    """Real text of many kinds (documentation, Python, Perl, shell, C headers, JavaScript, XML,
    configuration, the corpus) and text made to be awkward (non-ASCII, a byte-order mark, a
    UTF-8 sequence cut at the end, Latin-1, UTF-16, trailing NUL bytes, every text head cut
    short): the same MIME type as the full libmagic, and most answered from the tier."""
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    assert split.text_ok and len(split.text_screens) > 10 * len(split.text_kept)
    heads = _text_heads(3000, seed=9)
    assert len(heads) > 1500
    rng = random.Random(10)
    made = []
    for h in rng.sample(heads, 200):
        made += [
            "Grüße, naïve café — ".encode() + h,
            b"\xef\xbb\xbf" + h,
            (h + "é".encode())[: len(h) + 1],
            h + b"\0\0\0",
            h.decode("latin-1").encode("utf-16"),
            h + b"\xe9t\xe9",
        ]
    tier = magicdb._sniffer().text  # type: ignore[union-attr]
    used = 0
    original = tier._call

    def counting(head: bytes, binary: set[int]) -> object:
        nonlocal used
        out = original(head, binary)
        used += out is not None
        return out

    tier._call = counting  # type: ignore[method-assign]
    try:
        assert_same(heads + made + _cut(heads, seed=11))
    finally:
        del tier._call
    assert used > len(heads) // 3, used


#: text made to match the rules screened by alternatives, a repeated group or a run between blanks
_MADE_TEXT = [
    b"class Parser < Base\n  def run\n    1\n  end\nend\n",
    b"  module Tools\n    VERSION = '1'\n  end\n",
    b"# settings\nmodule Main where\nimport Data.List\n",
    b"CFLAGS = -O2 -Wall\nall: prog\n\nprog: main.o\n\tcc -o prog main.o\n",
    b"VPATH = src\n\nprog: main.o\n",
    b".PRECIOUS: %.o\nall:\n\techo done\n",
    b"LDFLAGS=-lm\n",
    b"".join(b"row%d" % i + b"".join(b"\tfield%d" % k for k in range(12)) + b"\n" for i in range(20)),
    b"id\tname\n1\tx\n",
    b"#!/usr/bin/perl\nuse strict;\n\n=pod\n\nText.\n\n=cut\n\nprint 1;\n",
    b"package Foo;\n1;\n__END__\n\n=head1 NAME\n\nFoo - bar\n\n=head2 Methods\n",
    b"\n=encoding utf8\n\n=head1 NAME\n",
    b"plain words, nothing special\n" * 30,
]


def test_the_text_tier_learns_from_the_heads_it_refuses(
    active: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tier learnt from prose refuses Makefiles (a literal of the make rule is there); each
    refused head is counted, so within a review or two the tier holds the make rule and
    answers Makefiles itself, with libmagic's answer."""
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    fresh = magicdb._Sniffer(split)
    monkeypatch.setattr(magicdb, "_sniffer", lambda: fresh)
    rng = random.Random(15)
    words = [b"the", b"of", b"and", b"to", b"value", b"true", b"path", b"user", b"host"]
    for _ in range(2 * magicdb.TEXT_REVIEW):
        magicdb.sniff(b" ".join(rng.choice(words) for _ in range(rng.randint(5, 400))) + b"\n")
    makefiles = [
        b"CFLAGS = -O%d\nall: prog%d\n\nprog%d: main.o\n\tcc -o $@ $^\n" % (i % 3, i, i) for i in range(300)
    ]
    answered = []
    original = fresh.text._call

    def counting(head: bytes, binary: set[int]) -> object:
        out = original(head, binary)
        answered.append(out is not None)
        return out

    monkeypatch.setattr(fresh.text, "_call", counting)
    assert_same(makefiles[:1])
    assert answered == [False], "the prose tier should refuse a Makefile"
    for m in makefiles[1 : 3 * magicdb.TEXT_REVIEW]:
        magicdb.sniff(m)
    answered.clear()
    assert_same(makefiles[3 * magicdb.TEXT_REVIEW :])
    assert all(answered), answered.count(False)


def test_heads_the_tier_refuses_are_answered_by_every_text_rule_not_the_full_database(
    active: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tier learnt from prose refuses most real text (a literal of a rule outside it is
    there): such a head gets libmagic's answer from the binary rules it may match plus every
    text rule, not from the full database (about twice as slow). Real text of many kinds, the
    made text above and Makefiles; the full libmagic is the oracle."""
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    fresh = magicdb._Sniffer(split)
    monkeypatch.setattr(magicdb, "_sniffer", lambda: fresh)
    monkeypatch.setattr(magicdb, "TEXT_REVIEW", 10**9)  # the prose tier stays as it is
    rng = random.Random(16)
    words = [b"the", b"of", b"and", b"to", b"value", b"true", b"path", b"user", b"host"]
    fresh.text.counted = 64
    for _ in range(64):
        fresh.text._call(b" ".join(rng.choice(words) for _ in range(50)) + b"\n", set())
    fresh.text._review()  # the tier: the rules plain prose wants
    assert fresh.text.handle is not None
    heads = _text_heads(600, seed=17) + _MADE_TEXT + [b"CFLAGS = -O2\nall: prog\n\tcc -o $@ $^\n"]
    # Fortran is typed by a text rule no literal screens (always given to libmagic); with a
    # literal of another rule in it, the prose tier refuses it
    heads += [
        b"C     see #include <stdio.h>\n      PROGRAM HELLO\n      PRINT *, 'Hi'\n      END\n",
        b"c     uses #define FOO and require\n      SUBROUTINE S(X)\n      X = 1\n      END\n",
    ]
    refused: list[bytes] = []
    original = fresh.text._call

    def call(head: bytes, binary: set[int]) -> object:
        out = original(head, binary)
        if out is None:
            refused.append(head)
        return out

    monkeypatch.setattr(fresh.text, "_call", call)
    full = magicdb.plain_libmagic
    went_full: list[bytes] = []

    def counted_full(head: bytes) -> str:
        went_full.append(head)
        return full(head)

    monkeypatch.setattr(magicdb, "plain_libmagic", counted_full)
    different = [(h[:24], magicdb.sniff(h), full(h)) for h in heads if magicdb.sniff(h) != full(h)]
    assert not different, different[:10]
    assert len(refused) > len(heads) // 4, len(refused)
    assert set(heads[-2:]) <= set(refused)
    assert [full(h) for h in heads[-2:]] == ["text/x-fortran"] * 2
    assert not set(refused) & set(went_full), len(set(refused) & set(went_full))
    assert fresh.every_text.cache_info().currsize >= 1


def test_search_rules_found_by_pattern_or_find_alike(active: None) -> None:
    """The binary search rules' literals are looked for by a compiled pattern when short: it
    finds them exactly where ``bytes.find`` does, at the edges of the range too."""
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    plan = split._search_plan
    assert any(search for *_, search in plan) and any(search is None for *_, search in plan)
    rng = random.Random(16)
    for _rule, offset, span, prefix, search in plan:
        if search is None:
            continue
        end_start = offset + span - 1 if span else 5000  # the last start libmagic tries
        for at in {0, max(0, offset - 1), offset, end_start - 1, end_start, end_start + 1}:
            head = bytearray(rng.randbytes(max(at + len(prefix) + 3, 64)))
            head[at : at + len(prefix)] = prefix
            for h in (bytes(head), bytes(head[: at + len(prefix)]), bytes(head[: at + len(prefix) - 1])):
                n = len(h)
                end = offset + span - 1 + len(prefix) if span else n
                assert bool(search(h, offset, end)) == (h.find(prefix, offset, end) != -1), (prefix, at, n)


LEAK_PROBE = """
import gc, sys
from triage.sources import magicdb
split = magicdb._sniffer().split
database = split.database(())
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
magicdb._Handle(database, magicdb.MAGIC_MIME_TYPE)(b"warm")
gc.collect()
before = rss()
for _ in range(150):
    magicdb._Handle(database, magicdb.MAGIC_MIME_TYPE)(b"hello")
gc.collect()
print(len(database), rss() - before)
"""


def test_a_handle_that_goes_frees_libmagics_memory() -> None:
    """Each handle's libmagic memory (about the size of its database) is freed with it: handles
    come and go in a long run (sets evicted from the cache, each new text tier). 150 handles
    made and dropped in a fresh process grow it by far less than 150 databases' worth (without
    magic_close: ~60 MB)."""
    if not magicdb.fast_path_active():
        pytest.skip("this libmagic database is not one triage.sources.magicdb splits")
    done = subprocess.run([sys.executable, "-c", LEAK_PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    size, grown = map(int, done.stdout.split())
    assert size > 100_000, size  # the databases are big enough for a leak to show
    assert grown < 15 * size, (grown, size)


def test_regex_literals() -> None:
    """Literals one of which every match of a POSIX extended regex holds (none when unsure)."""
    lit = magicdb._regex_literals
    assert lit(rb"^export (function|class) ") == (b"export ",)
    assert lit(rb"^(import|export).* from ") == (b" from ",)  # the fewest alternatives, when as long
    assert lit(rb"a|bcd") == (b"a", b"bcd")  # alternatives: one of their literals
    assert lit(rb"^[[:space:]]*(class|module)[[:space:]][A-Z]") == (b"class", b"module")
    assert lit(rb"^(CFLAGS|VPATH|all:|\.PRECIOUS)") == (b"CFLAGS", b"VPATH", b"all:", b".PRECIOUS")
    assert lit(b"^[!-?A-~]{1,255}(\t[^\t]+){11}") == (b"\t",)  # a group repeated 11 times; a tab is itself
    assert lit(rb"(abc){2,}") == (b"abc",)
    assert lit(rb"(abc){0,3}d") == (b"d",)  # a group that may be absent needs nothing
    assert lit(rb"(abc)?") == ()
    assert lit(rb"(ab|)c") == (b"c",)  # an empty branch: the group needs nothing
    assert lit(rb"(ab|c)*") == ()
    assert lit(rb"x(a(bc|de)|fgh)y") == (b"bc", b"de", b"fgh")  # longer than x or y
    assert lit(rb"(a(bcd|efg)|hijk)") == (b"bcd", b"efg", b"hijk")  # nested alternatives
    assert lit(rb"abcd?e") == (b"abc",)  # d is optional
    assert lit(rb"abcd*ef") == (b"abc",)
    assert lit(rb"xy{2}zzz") == (b"zzz",)
    assert lit(rb"ab+cd") == (b"ab",)  # b repeats: the run stops after it
    assert lit(rb"\.asciiz") == (b".asciiz",)
    assert lit(rb"ab.cde") == (b"cde",)  # any byte: the run ends
    assert lit(rb"[]a-z]+literal") == (b"literal",)
    assert lit(rb"[^]x]longer[[:alpha:]]") == (b"longer",)
    assert lit(rb"q\(ns\)") == (b"q(ns)",)
    assert lit(rb"\bword\w") == (b"word",)
    assert lit(rb"unclosed(group") == ()
    assert lit(rb"unclosed[bracket") == ()
    assert lit(rb"x{y}abc") == ()  # a bound this parser does not read: nothing is certain
    assert lit(rb"(a|b)") == (b"a", b"b")
    assert lit(b"\x08REF[\t ]") == (b"REF",)
    # GNU's anchors are not characters: \<abc matches " abc"
    assert lit(rb"\<abc") == (b"abc",) and lit(rb"abc\'") == (b"abc",) and lit(rb"\`x\>") == (b"x",)
    # glibc applies stacked quantifiers in turn: b+? is (b+)?, so "ac" matches ab+?c
    assert b"ab" not in lit(rb"ab+?c") and b"ab" not in lit(rb"ab+*c")
    assert lit(rb"(abc)+?d") == (b"d",) and lit(rb"(ab){2}{3}") == (b"ab",)


def test_string_rules_with_blanks_are_screened_by_what_lies_between() -> None:
    """A search with W (blanks compacted) or w (blanks optional) whose pattern starts with a
    blank is screened by its longest run between blanks, anywhere after its offset."""
    assert magicdb._unblank_runs(b"\n=head1 ") == [b"=head1"]
    assert magicdb._unblank_runs(b" a  bc\td ") == [b"a", b"bc", b"d"]
    assert magicdb._literal_prefix(b"\n=pod\n", magicdb._W) == b""
    assert magicdb._literal_prefix(b"=pod\n", magicdb._W) == b"=pod"


def test_every_text_rule_that_matches_a_head_passes_its_screen(active: None) -> None:
    """libmagic itself says which text rule matches: a database of that rule alone describes a
    head differently from a database without it. Every screened rule that matches a head (real
    text of this machine, and text made for the new kinds of screen) must be among those
    ``text_matching`` lets through: a screen never drops a rule that can match."""
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    heads = [h for h in _text_heads(300, seed=14) + _MADE_TEXT if h.isascii() and b"\0" not in h]
    assert len(heads) > 200
    screened = sorted({rule for rule, *_ in split.text_screens})
    without = magicdb._Handle(split.database(()), 0)
    plain = [without(h) for h in heads]
    allowed = [set(split.text_matching(h)) for h in heads]
    matched = 0
    for rule in screened:
        alone = magicdb._Handle(split.database((rule,)), 0)
        for head, before, may in zip(heads, plain, allowed, strict=True):
            if alone(head) != before:
                matched += 1
                assert rule in may, (rule, head[:80])
    assert matched > 100, matched  # the check had rules that matched to look at


def _searches(split: magicdb.Split, text: bool) -> list[tuple[int, int, int, bytes]]:
    """(rule, offset, range as written, pattern) of the top-level ``search`` rules without
    flags, text or binary ones, read from the database itself (not from the screens)."""
    found = []
    for rule in split.spans:
        at = magicdb.ENTRY_SIZE * (1 + rule)
        cont, flag, _f, _r, vallen, typ, *_rest, offset, _in, _line = magicdb._HEAD.unpack_from(
            split.data, at
        )
        span, str_flags = struct.unpack_from("<II", split.data, at + 24)
        if cont or typ != magicdb._FILE_SEARCH or str_flags or not span or offset < 0:
            continue
        if bool(flag & magicdb._BINTEST) == text:
            continue
        found.append(
            (rule, offset, span, split.data[at + magicdb._VALUE_AT : at + magicdb._VALUE_AT + vallen])
        )
    return found


def test_case_free_regexes_screen_no_letter_that_folds_from_beyond_ascii(active: None) -> None:
    """Under REG_ICASE in a UTF-8 locale glibc matches i with the dotless i, s with the long s
    and k with the Kelvin sign: a case-free regex is not screened by a literal holding one of
    them (ASCII lower-casing could not find the others), and is by one that does not. Checked
    on a copy of the database's case-free regex rule with its pattern replaced, and on every
    screen of the database."""
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    icase_regexes = [
        rule
        for rule, *_rest, icase in split.text_screens
        if icase and split.data[magicdb.ENTRY_SIZE * (1 + rule) + 6] == magicdb._FILE_REGEX
    ]
    assert icase_regexes, "no case-free regex rule in this database to copy"
    at = magicdb.ENTRY_SIZE * (1 + icase_regexes[0])
    for pattern, screened in (
        (rb"\(;.*GM\[", True),
        (rb"^this [0-9]+", False),
        (rb"KO", False),
        (rb"ab(cd|ef)", True),
    ):
        entry = bytearray(split.data[at : at + magicdb.ENTRY_SIZE])
        entry[5] = len(pattern)  # struct magic's vallen
        entry[magicdb._VALUE_AT : magicdb._VALUE_AT + 128] = pattern.ljust(128, b"\0")
        screens = magicdb._text_screens(bytes(entry), 0)
        assert bool(screens) == screened, (pattern, screens)
        assert all(icase and literal == literal.lower() for _o, _p, literal, icase in screens)
    for rule in icase_regexes:
        assert not any(set(lit) & set(b"isk") for r, _o, _p, lit, _i in split.text_screens if r == rule)


def test_search_rules_match_up_to_the_end_of_their_range(active: None) -> None:
    """A search without flags may match at its offset plus its whole range (libmagic looks with
    memmem over the range plus the pattern's length): a text or binary search rule whose
    pattern starts at the range's last place, as libmagic alone with that rule finds it, must
    be let through by the screen (it was not: a Ruby script after one byte, ``>#!/usr/bin/env
    ruby``, was text/plain from the tier)."""
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    without = magicdb._Handle(split.database(()), 0)
    checked = 0
    for text in (True, False):
        rules = _searches(split, text)
        assert rules, f"no {'text' if text else 'binary'} search rule without flags in this database"
        for rule, offset, span, pattern in rules:
            if text and not pattern.isascii():
                continue
            alone = magicdb._Handle(split.database((rule,)), 0)
            for at in (offset + span - 1, offset + span, offset + span + 1):
                pad = b"x" if text else b"\x01"
                head = pad * at + pattern + (b"\n" if text else b"\x01" * 16)
                if len(head) > HEAD_SIZE or alone(head) == without(head):
                    continue  # too far out for a head, or the rule alone does not match it
                checked += 1
                if text:
                    assert rule in split.text_matching(head), (rule, offset, span, pattern, at)
                else:
                    found = split.matching(head)
                    assert found is None or rule in found, (rule, offset, span, pattern, at)
    assert checked > 50, checked


def test_rules_screened_by_alternatives_and_runs_give_libmagics_answer(
    active: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text made to match the rules that only alternatives (class|module, CFLAGS|VPATH|...),
    a repeated group (eleven tab-separated fields) or a run between blanks (Perl's POD) let
    this module screen: libmagic's answer, and from the tier, not the full database."""
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    screened = {literal for _rule, _offset, _span, literal, _icase in split.text_screens}
    assert {b"class", b"module", b"VPATH", b"\t", b"=pod", b"=head1"} <= screened
    made = list(_MADE_TEXT)
    made += [m.replace(b"\n", b"\r\n") for m in made] + [m[:n] for m in made for n in (5, 17, 40)]
    # a tier of its own, learnt from plain prose: the rules these heads want stay outside it, so
    # a head is answered from the tier only if no literal of theirs is in it
    fresh = magicdb._Sniffer(split)
    monkeypatch.setattr(magicdb, "_sniffer", lambda: fresh)
    rng = random.Random(13)
    words = [b"the", b"of", b"and", b"to", b"value", b"true", b"=", b"path", b"user", b"host"]
    for _ in range(2 * magicdb.TEXT_REVIEW):
        magicdb.sniff(b" ".join(rng.choice(words) for _ in range(rng.randint(5, 400))) + b"\n")
    assert fresh.text.handle is not None
    used = 0
    original = fresh.text._call

    def counting(head: bytes, binary: set[int]) -> object:
        nonlocal used
        out = original(head, binary)
        used += out is not None
        return out

    monkeypatch.setattr(fresh.text, "_call", counting)
    assert_same(made)
    assert used, "no head was answered from the tier"


@pytest.mark.parametrize("c", [False, True], ids=["python", "c"])
def test_pairs_find_exactly_the_literals_that_occur(c: bool) -> None:
    """The text tier's outsider check, in Python (numpy) and in C (triage.sources._magicscan),
    against a plain search for every literal: exact and case-free ones, one byte long or more,
    texts of 1 to 9,000 bytes (past the C version's 8 KB stack buffer), bytes past ASCII."""
    if c:
        pytest.importorskip("triage.sources._magicscan")
        from triage.sources._magicscan import Pairs
    rng = random.Random(12)
    alphabet = b"abcABC <>/=.-_\n\xc4\xe4\x00"
    for _ in range(300):
        exact, nocase = (
            {bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(rng.randint(0, 12))}
            for _ in range(2)
        )
        nocase = {x.lower() for x in nocase}  # as the tier gives them
        pairs = Pairs(sorted(exact), sorted(nocase)) if c else magicdb._Pairs(exact, nocase)
        for _ in range(5):
            text = bytes(rng.choice(alphabet) for _ in range(rng.choice((1, 2, 7, 300, 9000))))
            want = any(x in text for x in exact) or any(x in text.lower() for x in nocase)
            assert bool(pairs.occurs(text)) == want, (exact, nocase, text[:80])
    if c:
        with pytest.raises(ValueError):
            Pairs([b""], [])
        with pytest.raises(TypeError):
            Pairs(["text"], [])


# -- the C look-ups (triage.sources._magicscan) ---------------------------------------------------


def _python_split(split: magicdb.Split) -> magicdb.Split:
    """``split`` screening in Python (the loop the C look-ups replace)."""
    import copy

    py = copy.copy(split)
    py._scanner = py._rules = None
    return py


def test_the_c_lookups_are_built() -> None:
    """setup.sh builds the extension (a C compiler is all it needs); without it the screening
    runs in Python, slower, with the same rules."""
    import shutil

    if shutil.which("gcc") is None:
        pytest.skip("no C compiler here, so triage.sources._magicscan is not built")
    from triage.sources import _magicscan  # noqa: F401  (ImportError: pip install -e . / ./scripts/setup.sh)


def test_the_c_lookups_find_the_rules_the_python_loop_finds(active: None) -> None:
    """Split.matching with the C look-ups gives the same rules, in the same order, as the Python
    loop: on real files, random and repetitive data, heads cut at every indexed position, and
    every search's literal planted at the edges of its range, after many false starts (its first
    byte repeated: the look-up then hands over to memmem) and at the end of a cut head."""
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    if split._scanner is None:
        pytest.skip("triage.sources._magicscan is not built")
    py = _python_split(split)
    rng = random.Random(21)
    heads = _heads_of_files([f for f in SYSTEM_FOLDERS if os.path.isdir(f)], 1500, seed=22)
    heads += _cut(heads, seed=23)
    heads += [rng.randbytes(rng.choice((1, 7, 100, 4096, HEAD_SIZE))) for _ in range(2000)]
    for position, table in split.index:  # each indexed byte, with the head ending before, at and after it
        for byte in list(table)[:3]:
            head = bytearray(rng.randbytes(position + 2))
            head[position] = byte
            heads += [bytes(head[:position]), bytes(head[: position + 1]), bytes(head)]
    for _rule, offset, span, prefix in split.searches:
        last = offset + span - 1 if span else 3000  # the last start libmagic tries
        for at in {0, max(0, offset - 1), offset, offset + 1, max(0, last - 1), last, last + 1}:
            for filler in (None, prefix[:1]):
                pad = rng.randbytes(at) if filler is None else filler * at  # false starts when filler
                head = pad + prefix + rng.randbytes(8)
                heads += [head, head[: at + len(prefix)], head[: at + len(prefix) - 1]]
        for k in (62, 63, 64, 65):  # the literal as the k-th place its first byte is found
            heads.append(b"\x01" * offset + (prefix[:1] + b"\x01") * (k - 1) + prefix + b"\x01")
    heads += [b"<" * HEAD_SIZE, b"<" * 4000 + b"<!", b"\x00" * HEAD_SIZE, b"(" * 3000 + b"(This file "]
    for _, table in split.index:  # each check made to hold, and cut short of it
        for checks in table.values():
            for check in checks:
                if len(check) == 3:
                    _, offset, value = check
                else:
                    _, offset, width, order, _mask, want = check
                    value = want.to_bytes(width, order)
                head = rng.randbytes(offset) + value + rng.randbytes(4)
                heads += [head, head[: offset + len(value)], head[: offset + len(value) - 1]]
    found = 0
    assert split._rules is not None and py._rules is None
    for head in heads:
        got, want = split.matching(head), py.matching(head)
        assert got == want, (head[:32], len(head), got, want)
        found += bool(want)
        # the C version of matched() (look-ups and checks in one call) against the Python loop's
        expected = None if want is None else tuple(sorted(set(want)))
        assert split.matched(head) == py.matched(head) == expected, head[:32]
    assert found > 3000, found  # the heads do reach rules


def test_the_c_lookups_refuse_what_they_cannot_use() -> None:
    pytest.importorskip("triage.sources._magicscan")
    from triage.sources._magicscan import Scanner

    with pytest.raises(ValueError):
        Scanner([0, 1], b"\x00" * 256, [])  # 256 flags per position
    with pytest.raises(ValueError):
        Scanner([3, 3], b"\x00" * 512, [])  # increasing positions
    with pytest.raises(ValueError):
        Scanner([], b"", [(0, 4, b"")])  # an empty literal
    with pytest.raises(TypeError):
        Scanner([], b"", [(0, 4, "text")])
    s = Scanner(
        [2, 5], b"\x00" * 256 + b"\x00" * 97 + b"\x01" + b"\x00" * 158, [(1, 3, b"ab"), (0, 0, b"zz")]
    )
    assert s.scan(b"") == []
    assert s.scan(b"\x00\x00\x00\x00\x00a") == [256 + ord("a")]
    assert s.scan(b"xxxab") == [~0]  # starts at 1..3: "ab" at 3 is in range
    assert s.scan(b"xxxxab") == []  # at 4: out of range
    assert s.scan(bytearray(b"....zz")) == [~1]  # any buffer; span 0: to the end
    with pytest.raises(TypeError):
        s.rules(b"")  # made without its checks
    flags = b"\x00" * 256 + b"\x00" * 97 + b"\x01" + b"\x00" * 158  # byte "a" at position 5
    # the slot of byte "a" at 5: "ab" at 5 (rule 7); "bc" at 6, big-endian (8); "a" as the
    # second byte of a little-endian 4-byte integer at 3 (9). Searches: "ab" starting at 1 to 3
    # (rule 3), "zz" anywhere (7)
    checks = [[(7, 5, b"ab"), (8, 6, 2, True, 0xFFFF, 0x6263), (9, 3, 4, False, 0xFF00, 0x6100)]]
    with pytest.raises(TypeError):
        Scanner([2, 5], flags, [], checks)  # checks without the searches' rules
    with pytest.raises(ValueError):
        Scanner([2, 5], flags, [], [], [])  # one list of checks per flagged slot
    with pytest.raises(ValueError):
        Scanner([2, 5], flags, [(0, 0, b"zz")], checks, [])  # one rule per search
    with pytest.raises(ValueError):
        Scanner([2, 5], flags, [], [[(7, 5, b"")]], [])  # an empty literal
    with pytest.raises(ValueError):
        Scanner([2, 5], flags, [], [[(7, 5, 9, True, 1, 1)]], [])  # 1 to 8 bytes
    s = Scanner([2, 5], flags, [(1, 3, b"ab"), (0, 0, b"zz")], checks, [3, 7])
    assert s.rules(b"") == ()
    assert s.rules(b"....\x00ab") == (7,)
    assert s.rules(b"....aab") == (7, 9)  # 0x6261612e & 0xff00 == 0x6100
    assert s.rules(b".ab.\x00abzz") == (3, 7)  # rule 7 twice, once in the answer
    assert s.rules(b"....\x00abc") == (7, 8)
    assert s.rules(bytearray(b".....a")) == ()  # every check cut short
    assert s.rules(b"....a") == ()  # the indexed position is not in the head
    with pytest.raises(OverflowError):
        Scanner([5], flags[256:], [], [[(7, 0, 1, True, -1, 0)]], [])  # masks and values fit 64 bits
    with pytest.raises(OverflowError):
        Scanner([5], flags[256:], [], [[(7, 0, 1, True, 0xFF, 1 << 64)]], [])
    with pytest.raises(TypeError):
        Scanner([5], flags[256:], [], [[[7, 5, b"ab"]]], [])  # a check is a tuple
    with pytest.raises(TypeError):
        Scanner([5], flags[256:], [[0, 0, b"ab"]])  # so is a search
    # more hits than the stack buffer holds (64): the answer grows on the heap
    many = Scanner(
        [0], b"\x00" * 97 + b"\x01" + b"\x00" * 158, [], [[(r, 0, b"a") for r in range(200, 0, -1)]], []
    )
    assert many.rules(b"a") == tuple(range(1, 201))


def test_heads_libmagic_can_only_call_binary_skip_its_encoding_test(active: None) -> None:
    """A head with a NUL byte before its trailing ones and no byte-order mark is binary to
    libmagic's encoding test, so its handle skips that test and the text step: the answers stay
    libmagic's, also for the heads where a NUL does not make binary (UTF-16 and UTF-32 text after
    their marks, text padded with NULs, one NUL only at the end)."""
    rng = random.Random(31)
    text = b"Dear Sir,\nthe shipment leaves on Friday.\n" * 20
    utf16 = "Dear Sir, the shipment leaves on Friday.\n".encode("utf-16")  # with its mark
    heads = {
        "random": rng.randbytes(HEAD_SIZE),
        "short random": b"\x00" + rng.randbytes(40),
        "text, NUL inside": text[:300] + b"\x00" + text[300:],
        "text padded with NULs": text + b"\x00" * 200,
        "text, one NUL at the end": text + b"\x00",
        "NULs only": b"\x00" * 64,
        "two bytes": b"a\x00",
        "UTF-16 LE with its mark": utf16,
        "UTF-16 BE with its mark": "Dear Sir, the shipment.\n".encode("utf-16-be").join([b"\xfe\xff", b""]),
        "UTF-32 LE with its mark": "Dear Sir, the shipment.\n".encode("utf-32"),
        "UTF-32 BE with its mark": b"\x00\x00\xfe\xff" + "Dear Sir.\n".encode("utf-32-be"),
        "UTF-8 mark, NUL inside": b"\xef\xbb\xbf" + text[:100] + b"\x00" + text[:100],
        "UTF-7 start, NUL inside": b"+/v8" + text[:100] + b"\x00" + text[:100],
        "EBCDIC text, NUL inside": text[:200].decode().encode("cp500")
        + b"\x00"
        + text[:200].decode().encode("cp500"),
        "latin-1 text, NUL inside": "Größe: über".encode("latin-1") * 20 + b"\x00" + b"x" * 30,
        "PNG": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(200),
        # typed by the text step after their mark (without it: application/octet-stream)
        "UTF-16 BE shell script": b"\xfe\xff" + "#!/bin/sh\necho hello\nexit 0\n".encode("utf-16-be"),
        "UTF-16 BE XML": b"\xfe\xff" + '<?xml version="1.0"?>\n<a>b</a>\n'.encode("utf-16-be"),
        "UTF-32 BE XML": b"\x00\x00\xfe\xff" + '<?xml version="1.0"?>\n<a>b</a>\n'.encode("utf-32-be"),
    }
    surely = {name: magicdb._surely_binary(h) for name, h in heads.items()}
    assert surely["random"] and surely["text, NUL inside"] and surely["PNG"], surely
    assert not surely["UTF-16 LE with its mark"] and not surely["text padded with NULs"], surely
    assert not surely["NULs only"] and not surely["text, one NUL at the end"], surely
    different = {name: (magicdb.sniff(h), magicdb.plain_libmagic(h)) for name, h in heads.items()}
    different = {name: pair for name, pair in different.items() if pair[0] != pair[1]}
    assert not different, different
    # where the encoding test is skipped, the answer is the one with it
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    skipped, full = magicdb._Sniffer(split)._handle((), True), magicdb._Sniffer(split)._handle(())
    for name, h in heads.items():
        if surely[name]:
            assert skipped(h) == full(h), name


def _loosely_screened(split: magicdb.Split) -> list[tuple[int, int, str, int, bytes, int, int]]:
    """The plain rules screened by a necessary condition rather than their whole first test:
    strings with the W, w, c or C flags; integers whose mask covers no whole byte.
    (rule, offset, kind, string flags or width, pattern or mask bytes, value, type)."""
    out = []
    data = split.data
    for rule in split.spans:
        at = magicdb.ENTRY_SIZE * (1 + rule)
        head = magicdb._HEAD.unpack_from(data, at)
        _cont, flag, _f, reln, vallen, typ, *_rest = head
        offset = head[11]
        if rule in split.reentrant or not flag & magicdb._BINTEST or reln != ord("="):
            continue
        if typ == magicdb._FILE_STRING:
            str_flags = magicdb._STR_FLAGS.unpack_from(data, at + 28)[0]
            if str_flags & (magicdb._W | magicdb._w | magicdb._c | magicdb._C):
                pattern = data[at + magicdb._VALUE_AT : at + magicdb._VALUE_AT + vallen]
                out.append((rule, offset, "string", str_flags, pattern, 0, typ))
        elif typ in magicdb._INTEGERS:
            width, order = magicdb._INTEGERS[typ]
            full = (1 << (8 * width)) - 1
            mask = magicdb._MASK.unpack_from(data, at + 24)[0] & full
            mask_bytes = mask.to_bytes(width, order or sys.byteorder)
            if mask and 0xFF not in mask_bytes:
                number = (
                    int.from_bytes(data[at + magicdb._VALUE_AT : at + magicdb._VALUE_AT + 8], "little") & full
                )
                out.append((rule, offset, "integer", width, mask_bytes, number & mask, typ))
    return out


def test_rules_screened_by_a_part_of_their_test_are_let_through_when_they_match(active: None) -> None:
    """String tests with loose flags (W and w blanks, c and C case) are screened by the part of
    the pattern compared exactly, or by both cases of a first letter; integer tests whose mask
    covers no whole byte, by the byte it covers most. Heads that libmagic, with that one rule
    loaded, finds the rule matching (the pattern with its letters' case changed, its blanks
    doubled or dropped; the integer with random bits outside the mask) must be let through."""
    split = magicdb._sniffer().split  # type: ignore[union-attr]
    rules = _loosely_screened(split)
    assert sum(kind == "string" for _, _, kind, *_ in rules) >= 10, rules
    assert sum(kind == "integer" for _, _, kind, *_ in rules) >= 5, rules
    without = magicdb._Handle(split.database(()), 0)
    rng = random.Random(41)
    checked = 0
    for rule, offset, kind, detail, pattern, value, typ in rules:
        alone = magicdb._Handle(split.database((rule,)), 0)
        variants: list[bytes] = []
        if kind == "string":
            variants = [
                pattern,
                pattern.upper(),
                pattern.lower(),
                pattern.swapcase(),
                pattern.replace(b" ", b"  "),
                pattern.replace(b" ", b""),
                pattern.replace(b" ", b"\t"),
            ]
        else:
            order = magicdb._INTEGERS[typ][1] or sys.byteorder
            for _ in range(6):
                noise = int.from_bytes(rng.randbytes(detail), "little") & ~int.from_bytes(pattern, order)
                variants.append((value | noise).to_bytes(detail, order))
        for variant in variants:
            head = b"\x01" * offset + variant + bytes(rng.randrange(1, 256) for _ in range(64))
            if alone(head) == without(head):
                continue  # libmagic does not find this rule matching the variant
            checked += 1
            found = split.matching(head)
            assert found is None or rule in found, (rule, kind, pattern, variant)
            assert found is None or rule in _python_split(split).matching(head), (rule, kind, variant)
    assert checked >= 30, checked


def _plant(head: bytes, check: magicdb.Check) -> bytes:
    """``head`` made to pass ``check`` (a string written at its offset; an integer's masked bits set)."""
    out = bytearray(head)
    if len(check) == 3:
        _rule, offset, pattern = check
        out[offset : offset + len(pattern)] = pattern
    else:
        _rule, offset, width, order, mask, want = check
        now = int.from_bytes(out[offset : offset + width], order)
        out[offset : offset + width] = ((now & ~mask) | want).to_bytes(width, order)
    return bytes(out)


def _miss(head: bytes, check: magicdb.Check) -> bytes:
    """``head`` made to fail ``check`` (its first byte, or its lowest masked bit, changed)."""
    out = bytearray(head)
    if len(check) == 3:
        _rule, offset, pattern = check
        out[offset] = pattern[0] ^ 0x01
    else:
        _rule, offset, width, order, mask, want = check
        now = (int.from_bytes(out[offset : offset + width], order) & ~mask) | want
        out[offset : offset + width] = (now ^ (mask & -mask)).to_bytes(width, order)
    return bytes(out)


def _first_test(split: magicdb.Split, rule: int) -> magicdb.Check:
    at = magicdb.ENTRY_SIZE * (1 + rule)
    placed = magicdb._plain_check(split.data, at)
    if placed is not None:
        return (rule, *placed[2])  # type: ignore[return-value]
    search = magicdb._search_check(split.data, at)
    assert search is not None
    return (rule, search[0], search[2])


def test_rules_that_run_indirect_need_the_full_database_only_on_their_way_to_it(active: None) -> None:
    """A rule whose continuation runs ``indirect`` (every rule again, at another offset) needs the
    full database, but only when libmagic can get there: every ancestor test of the entry that
    runs it must match (Split.reach, Split.may_reenter). Each such rule's first test planted in
    random data, then every test of one way planted too (the full database is used; for some
    rules, SQLite's among them, the reduced one would answer otherwise), or all but one of them
    (the reduced database answers): libmagic's own answer every time."""
    split = magicdb._sniffer().split
    assert split.reach, "Debian's database has such rules with plain tests on their way to indirect"
    rng = random.Random(12)
    taken: list[bytes] = []
    missed: list[bytes] = []
    for rule, ways in split.reach.items():
        first = _first_test(split, rule)
        for way in ways:
            for _ in range(4):
                head = _plant(rng.randbytes(HEAD_SIZE), first)
                for check in way:
                    head = _plant(head, check)
                taken.append(head)
                missed.append(_miss(head, way[rng.randrange(len(way))]))
    assert all(split.may_reenter(split.reentrant.intersection(split.matching(h) or ()), h) for h in taken)
    screened = [
        h for h in missed if not split.may_reenter(split.reentrant.intersection(split.matching(h) or ()), h)
    ]
    assert len(screened) > len(missed) // 2  # most go to the reduced database
    assert_same(taken + missed)
    # the way matters: with it planted, a reduced database alone would answer otherwise
    sniffer = magicdb._sniffer()
    differs = [
        h
        for h in taken
        if sniffer.handle(tuple(sorted(set(split.matching(h) or ()))), False)(h).partition(";")[0]
        != magicdb.plain_libmagic(h)
    ]
    assert differs
