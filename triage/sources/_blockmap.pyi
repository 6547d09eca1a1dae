"""Type stub of the block walk (triage/sources/_blockmap.c)."""

from collections.abc import Callable

def geometry(
    read_at: Callable[[int, int], bytes], size: int, offset: int, /
) -> tuple[int, int, int, str]: ...
def unallocated(
    read_at: Callable[[int, int], bytes], size: int, offset: int, first: int, last: int, /
) -> bytes: ...
