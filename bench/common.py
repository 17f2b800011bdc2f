"""What every benchmark shares: where results go, and the stamp that says what code produced them.

A figure in ``bench/results`` is only worth citing if it says what it measured: each results file
carries a stamp with the commit of the checkout (``+dirty`` when tracked files had uncommitted
changes), the sardip version, the date, the command line and the config hash of every DIP preset
the run used. :func:`write_results` writes ``<stem>.md`` (the stamp as one line under the title) and
``<stem>.json`` (the stamp as its ``"stamp"`` object) together, so the two cannot disagree.

The scripts run as ``python bench/<script>.py`` from the repository root, which puts ``bench/`` on
the import path: ``from common import write_results``.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import sardip

ROOT = Path(__file__).resolve().parents[1]
#: The committed results: one ``<stem>.md`` and ``<stem>.json`` per benchmark.
RESULTS = ROOT / "bench" / "results"
#: Git-ignored room for what a benchmark keeps between runs (fits, generated scenes): ``SCRATCH / "bench_<name>"``.
SCRATCH = ROOT / "results"


def preset_hashes(names: Iterable[str]) -> dict[str, str]:
    """Config hash per preset: ``name`` or ``name/Class``. A bare name whose preset needs a land-cover
    class (``paper``) stands for every class, one hash each, since a run over classes used them all."""
    # Imported here: sardip.dip loads torch, which in bench_scene's parent would raise its children's peak memory.
    from sardip.classes import PAPER_CLASSES
    from sardip.dip.presets import PresetError, get_preset

    hashes = {}
    for name in names:
        preset, _, land_cover = name.partition("/")
        if land_cover:
            hashes[name] = get_preset(preset, land_cover).config_hash()
            continue
        try:
            hashes[name] = get_preset(preset).config_hash()
        except PresetError:
            hashes.update({f"{name}/{cls}": get_preset(preset, cls).config_hash() for cls in PAPER_CLASSES})
    return hashes


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command that ran, as it would be typed at the repository root."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve() if argv else Path("?")
    shown = script.relative_to(ROOT).as_posix() if script.is_relative_to(ROOT) else argv[0]
    return shlex.join(["python", shown, *argv[1:]])


def stamp(presets: Iterable[str] = (), argv: Sequence[str] | None = None) -> dict:
    """What produced a result: commit (``None`` outside a git checkout), version, date, command, preset hashes."""
    return {
        "commit": sardip.git_commit(),
        "sardip_version": sardip.__version__,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command_line(argv),
        "presets": preset_hashes(presets),
    }


def _short(commit: str) -> str:
    """``abc1234`` of a full commit, keeping ``+dirty``."""
    head, plus, rest = commit.partition("+")
    return head[:7] + plus + rest


def stamp_line(record: Mapping) -> str:
    """The stamp in one Markdown line: a stamp of :func:`stamp`, or one added afterwards to a file whose
    run was not stamped (``recorded_at_commit``, ``stamp_backfilled``)."""
    return _backfilled_line(record) if record.get("stamp_backfilled") else _run_line(record)


def _run_line(record: Mapping) -> str:
    commit = f"commit `{_short(record['commit'])}`" if record.get("commit") else "no git commit"
    line = f"Run at {commit}, sardip {record['sardip_version']}, {record['date']}: `{record['command']}`."
    if record.get("presets"):
        line += " Presets: " + ", ".join(f"`{name}` {h}" for name, h in record["presets"].items()) + "."
    if record.get("kept_rows_from"):
        line += " Rows kept from an earlier run: " + stamp_line(record["kept_rows_from"])
    return line


def _backfilled_line(record: Mapping) -> str:
    line = (f"Recorded at commit `{_short(record['recorded_at_commit'])}` (stamp added afterwards; the script "
            "ran at that commit or shortly before).")  # fmt: skip
    if record.get("script_at_commit"):
        line += (" The script, a one-off study, has since been removed: "
                 f"`git show {_short(record['script_at_commit'])}:{record['script']}`.")  # fmt: skip
    return line


def under_title(markdown: str, line: str) -> str:
    """``markdown`` with ``line`` as its own paragraph right under the ``# title`` (at the top without one)."""
    head, _, body = markdown.partition("\n")
    if not head.startswith("# "):
        return f"{line}\n\n{markdown}"
    body = body.lstrip("\n")
    return f"{head}\n\n{line}\n\n{body}"


def _plain(value: object) -> object:
    """A value JSON cannot write as it is: numpy scalars and arrays as numbers and lists, anything else as text."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def write_results(
    stem: str,
    markdown: str,
    record: Mapping,
    presets: Iterable[str] = (),
    folder: Path | str = RESULTS,
    kept_from: Mapping | None = None,
) -> dict:
    """Write ``folder/<stem>.md`` and ``folder/<stem>.json``, both stamped; return the stamp.

    ``record`` is the JSON's content (a ``"stamp"`` in it, from an earlier run that was read back,
    is replaced). ``kept_from``: the stamp of an earlier run whose rows this one kept and did not
    measure again, recorded in the stamp as ``kept_rows_from``.
    """
    record_stamp = stamp(presets)
    if kept_from:
        record_stamp["kept_rows_from"] = dict(kept_from)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    body = {key: value for key, value in record.items() if key != "stamp"}
    (folder / f"{stem}.json").write_text(json.dumps({"stamp": record_stamp, **body}, indent=1, default=_plain) + "\n")
    text = under_title(markdown, stamp_line(record_stamp))
    (folder / f"{stem}.md").write_text(text if text.endswith("\n") else text + "\n")
    return record_stamp
