"""Logging for workflow scripts: everything, tracebacks included, goes to the rule's log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from sardip.io import exit_on_sigterm


def log_to_file(log_path: str | Path | None) -> logging.Logger:
    """Send the root logger and uncaught exceptions to ``log_path`` (and stderr when none is given).

    Also makes SIGTERM end the script through ``SystemExit`` (:func:`sardip.io.exit_on_sigterm`), so a
    cancelled job removes its temporary files.
    """
    exit_on_sigterm()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers = [logging.FileHandler(log_path, mode="w")]
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers, force=True
    )
    logger = logging.getLogger("sardip")

    def hook(kind, value, traceback) -> None:
        logger.error("uncaught exception", exc_info=(kind, value, traceback))
        sys.__excepthook__(kind, value, traceback)

    sys.excepthook = hook
    return logger
