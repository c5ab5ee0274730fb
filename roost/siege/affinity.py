"""Where things ran: CPU pinning of generator and server, and finding the server's processes.

A flood lab on one machine measures nonsense when the generator and the server fight over the
same core, so the report always says which CPUs each side was allowed, and ``--cpu`` /
``--server-cpu`` pin them apart with ``sched_setaffinity``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def available_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def check_cpus(cpus: tuple[int, ...]) -> None:
    """Refuse CPU numbers this process may not use, before anything starts."""
    allowed = set(available_cpus())
    unknown = [cpu for cpu in cpus if cpu not in allowed]
    if unknown:
        raise ValueError(f"CPU {unknown} not available; this machine offers {sorted(allowed)}")


@contextlib.contextmanager
def pinned(cpus: tuple[int, ...]) -> Iterator[None]:
    """This process on ``cpus`` for a while (nothing if empty), then back where it was."""
    if not cpus:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(cpus))
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def pin(pid: int, cpus: tuple[int, ...]) -> None:
    """Pin a process and its threads (a server's worker threads too)."""
    tasks = Path(f"/proc/{pid}/task")
    ids = [int(t.name) for t in tasks.iterdir()] if tasks.exists() else [pid]
    for task in ids:
        try:
            os.sched_setaffinity(task, set(cpus))
        except (ProcessLookupError, PermissionError):
            continue


def cpus_of(pid: int) -> list[int] | None:
    try:
        return sorted(os.sched_getaffinity(pid))
    except (ProcessLookupError, PermissionError):
        return None


def listening_pids(port: int) -> list[int]:
    """Processes holding a listening socket on ``port`` (from /proc; empty if unknown)."""
    inodes = _listening_inodes(port)
    if not inodes:
        return []
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:
            continue
        if any(link in inodes for link in links):
            pids.append(int(proc.name))
    return sorted(pids)


def _listening_inodes(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
                found.add(f"socket:[{fields[9]}]")
    return found
