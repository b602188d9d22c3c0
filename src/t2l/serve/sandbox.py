"""No network for the calling process: a network namespace of its own, holding only a loopback
that is down, so a socket it opens reaches nobody and nobody reaches it.

Linux only. Root (CAP_SYS_ADMIN) gets the namespace directly; anyone else through a user
namespace of their own (same uid and gid inside), where the kernel allows unprivileged ones.
Where neither is permitted the process keeps the host's network and the log says so.
"""

from __future__ import annotations

import ctypes
import logging
import os

_log = logging.getLogger(__name__)
CLONE_NEWNET, CLONE_NEWUSER = 0x40000000, 0x10000000


def _unshare(flags: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(flags) == 0
    except (OSError, AttributeError):  # no libc unshare (not Linux)
        return False


def _as_self(uid: int, gid: int) -> None:
    """Inside a new user namespace: the same uid and gid as outside."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def without_network() -> bool:
    """Move this process (single-threaded: call it first) into a network namespace of its own;
    False, with a warning, where the OS permits no way to."""
    if _unshare(CLONE_NEWNET):
        return True
    uid, gid = os.getuid(), os.getgid()
    if _unshare(CLONE_NEWUSER | CLONE_NEWNET):
        try:
            _as_self(uid, gid)
        except OSError as e:
            _log.warning("decode worker %d: no network, but its uid could not be mapped (%s)", os.getpid(), e)
        return True
    _log.warning("decode worker %d keeps the host's network: this OS permits no network namespace "
                 "(neither as root nor through a user namespace)", os.getpid())
    return False
