"""Type stub of the screening's byte look-ups (triage/sources/_magicscan.c)."""

from collections.abc import Sequence

class Scanner:
    def __init__(
        self, positions: Sequence[int], flags: bytes, searches: Sequence[tuple[int, int, bytes]]
    ) -> None: ...
    def scan(self, head: bytes | bytearray | memoryview, /) -> list[int]: ...
