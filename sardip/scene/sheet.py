"""The scene sheet of the workflow's ``anonymise`` target: a TSV with one scene to anonymise per row.

Columns (``config/scenes.schema.yaml``): ``name``, ``scene`` (one file, or one per polarisation
separated by ``;``), ``mask``, and optionally ``preset``, ``land_cover``, ``units``, ``grow`` and
``accept_detectable`` (``yes`` publishes a scene whose audit finds the edit, :mod:`sardip.scene.gate`); empty
cells take the schema's default, and lines starting with ``#`` are comments. :func:`read_sheet`
checks every row against the schema when the workflow starts, so a typo stops the run before any
job, with a message naming the sheet, the row and the column.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from sardip.scene.settings import SceneSettings

#: Columns that decide only whether a finished scene is published, not how it is filled.
PUBLISH_COLUMNS: tuple[str, ...] = ("accept_detectable",)


class SheetError(ValueError):
    """A scene sheet that cannot be used; the message names the sheet, the row and the column."""


def _rows(path: Path) -> pd.DataFrame:
    try:
        lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    except OSError as err:
        raise SheetError(f"scene sheet {path}: {err.strerror}") from None
    return pd.read_csv(io.StringIO("\n".join(lines)), sep="\t", dtype=str, keep_default_na=False)


def read_sheet(path: str | Path, schema_path: str | Path) -> pd.DataFrame:
    """The sheet's rows, checked against the schema and with defaults filled in, indexed by ``name``."""
    path = Path(path)
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = Draft202012Validator(schema)
    defaults = {key: spec["default"] for key, spec in schema["properties"].items() if "default" in spec}
    records = []
    for number, raw in enumerate(_rows(path).to_dict("records"), start=1):
        row = {key: value.strip() for key, value in raw.items() if value.strip() != ""}
        if "grow" in row and row["grow"].isdigit():
            row["grow"] = int(row["grow"])
        error = best_match(validator.iter_errors(row))
        if error is not None:
            column = ".".join(str(p) for p in error.absolute_path) or "<row>"
            raise SheetError(f"scene sheet {path}, row {number} ({raw.get('name', '?')}), column {column}: "
                             f"{error.message}")  # fmt: skip
        records.append({**defaults, **row})
    if not records:
        raise SheetError(f"scene sheet {path} has no row")
    sheet = pd.DataFrame(records)
    repeated = sheet["name"][sheet["name"].duplicated()].tolist()
    if repeated:
        raise SheetError(f"scene sheet {path}: names {repeated} are used by more than one row")
    return sheet.set_index("name", drop=False)


def scene_files(row: Mapping[str, object]) -> list[str]:
    """The files of a row's ``scene`` cell."""
    return [part.strip() for part in str(row["scene"]).split(";") if part.strip()]


def row_settings(
    row: Mapping[str, object], options: Mapping[str, object], detector_model: str | None = None
) -> SceneSettings:
    """The :class:`SceneSettings` of one sheet row under the config's ``anonymise`` options, audited
    with the learned detector's weights ``detector_model`` (``None``: the shipped model; the plan needs
    none). The workflow owns its outputs (Snakemake removes them before a job), so they are
    overwritten."""
    return SceneSettings(
        preset=str(row["preset"]), land_cover=str(row["land_cover"]) or None, units=str(row["units"]),
        grow=int(row["grow"]), iterations=options["iterations"], seed=int(options["seed"]),
        margin=int(options["margin"]), max_side=int(options["max_side"]), attempts=int(options["attempts"]),
        batch=int(options["batch"]),
        device=str(options["device"]),
        cog=bool(options["cog"]), overwrite=True, detector_model=detector_model,
        accept_detectable=row.get("accept_detectable", "no") == "yes",
    )  # fmt: skip
