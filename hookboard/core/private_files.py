"""Files only their owner may read: the SQLite database (signing secrets and header values
in plain text), the generated secret key, Reflex's saved tab states (session tokens)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_UMASK = 0o077  # new files 0600, new folders 0700
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def keep_new_files_private() -> None:
    """From now on this process (and what it starts) creates files for its owner only."""
    os.umask(PRIVATE_UMASK)


def tighten(path: Path, mode: int) -> None:
    """Take group and other access away from what an older version left open."""
    with contextlib.suppress(OSError):  # missing, or not ours to change
        if path.stat().st_mode & 0o077:
            path.chmod(mode)
