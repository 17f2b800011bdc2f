"""Configuration checks shared by the workflow and the CLI.

The workflow validates ``config`` against ``config/schema.yaml`` at load time, so a typo or a wrong
type stops the run before any job with a message naming the key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match


class ConfigError(ValueError):
    """An invalid configuration; the message names the key."""


def _key_path(error: ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def validate_config(config: dict, basedir: str | Path, validate: Callable) -> None:
    """Validate (and fill defaults of) ``config`` with Snakemake's ``validate``; re-raise naming the key.

    Snakemake flattens the schema error into a long text; on failure the config is checked again
    with jsonschema alone to report the most relevant error with its dotted key path.
    """
    schema_path = Path(basedir) / "config" / "schema.yaml"
    try:
        validate(config, str(schema_path), set_default=True)
    except Exception:
        schema = yaml.safe_load(schema_path.read_text())
        error = best_match(Draft202012Validator(schema).iter_errors(config))
        if error is None:
            raise
        raise ConfigError(f"invalid config at '{_key_path(error)}': {error.message}") from None


def resolve_resource(path: str | Path, basedir: str | Path) -> Path:
    """A relative path from the working directory if it exists there, else from the workflow folder."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    fallback = Path(basedir) / path
    if not fallback.exists():
        raise FileNotFoundError(f"{path}: not found in the working directory nor in {basedir}")
    return fallback
