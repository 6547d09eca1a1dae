"""Type stub of the screening's byte look-ups (triage/sources/_magicscan.c)."""

from collections.abc import Sequence

class Scanner:
    def __init__(
        self,
        positions: Sequence[int],
        flags: bytes,
        searches: Sequence[tuple[int, int, bytes]],
        checks: Sequence[Sequence[tuple[int, int, bytes] | tuple[int, int, int, bool, int, int]]]
        | None = None,
        search_rules: Sequence[int] | None = None,
    ) -> None: ...
    def scan(self, head: bytes | bytearray | memoryview, /) -> list[int]: ...
    def rules(self, head: bytes | bytearray | memoryview, /) -> tuple[int, ...]: ...

class Pairs:
    def __init__(self, exact: Sequence[bytes], nocase: Sequence[bytes]) -> None: ...
    def occurs(self, text: bytes | bytearray | memoryview, /) -> bool: ...
