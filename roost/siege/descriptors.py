"""Open-file limits: every held connection is a descriptor, and the usual soft limit is 1,024.

The soft limit is raised to the hard one at the CLI's start and in every generator process (an
unprivileged process may do so), and scenarios are checked against the hard limit, the most a
generator can have; twitter-2009.toml holds about 3,800 connections in one generator.
"""

from __future__ import annotations

import resource

# Descriptors a generator needs besides its connections: pipes, the event loop, imports, logs.
RESERVED = 256


def ceiling() -> int:
    """The most open files this process can have once its soft limit is raised."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(soft, hard) if hard != resource.RLIM_INFINITY else 1 << 20


def raise_soft_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = ceiling()
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):  # e.g. above the kernel's nr_open: keep what we have
            return soft
        return wanted
    return soft
