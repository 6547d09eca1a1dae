"""Type stub of the C walk (triage/sources/_fastwalk.c)."""

from collections.abc import Callable
from typing import Any

TSK_VERSION: str

def walk(
    read_at: Callable[[int, int], bytes],
    size: int,
    offset: int,
    fs_type: str,
    start_inum: int,
    prefix: str,
    dir_len: int,
    *,
    recursive: bool = ...,
    deleted_only: bool = ...,
    as_json: bool = ...,
    is_ntfs: bool = ...,
    times_local: bool = ...,
    owners: bool = ...,
    display_name: Callable[[bytes], str],
    write: Callable[[bytes], Any] | None = ...,
    warn: Callable[[str, str], None],
    known: dict[tuple[Any, ...], str] | None = ...,
    null_suffix: str = ...,
    collect: list[tuple[Any, ...]] | None = ...,
    flush_rows: Callable[[], Any] | None = ...,
    progress: Any = ...,
) -> int: ...
def die_with_parent(parent_pid: int, /) -> None: ...
