"""MkDocs hooks: the pages that quote the repository's own files are generated when the site is built.

The configuration reference, the scene sheet's columns, the ``sardip`` command's help, the benchmark
tables and the changelog each have one source in the repository (``config/schema.yaml``,
``config/scenes.schema.yaml``, :func:`sardip.cli.build_parser`, ``bench/results/*.md``,
``CHANGELOG.md``). A page that pasted them would go stale the day that source changed, so the pages
hold markers instead, replaced here:

- ``<!-- config-table -->``: every key of the workflow configuration, one table per section;
- ``<!-- scene-sheet-table -->``: the columns of the scene sheet;
- ``<!-- cli-help -->``: ``sardip --help`` and each sub-command's ``--help``;
- ``<!-- bench-results -->``: every ``bench/results/*.md`` under a heading of its own;
- ``<!-- layer-rules -->``: the import rules of ``tests/test_layers.py`` (its ``FORBIDDEN`` dict);
- ``<!-- include PATH -->``: a file of the repository, PATH relative to its root (a benchmark's results
  file without its title).

A marker that names a missing file fails the build (``mkdocs build --strict`` runs in the tests).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "config" / "schema.yaml"
SCENE_SCHEMA = REPO / "config" / "scenes.schema.yaml"
LAYER_TEST = REPO / "tests" / "test_layers.py"
BENCH_RESULTS = REPO / "bench" / "results"
#: Where files beside the benchmark tables (figures) appear in the site, relative to docs_dir.
BENCH_ASSETS = "bench-results"
#: Width of the generated ``--help`` text, fixed so the page does not depend on the terminal.
HELP_COLUMNS = "100"

INCLUDE = re.compile(r"<!--\s*include\s+(\S+)\s*-->")
LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,5})(\s)")
FENCE = re.compile(r"^\s*(```|~~~)")


def escape_cell(text: str) -> str:
    """Text for a Markdown table cell: whitespace collapsed; <, >, |, * and _ escaped outside code spans.

    Schema descriptions are plain text with a few code spans; ``<season>`` would otherwise be read
    as an HTML tag, a bare ``|`` would split the cell and ``_<scene>/<season>_`` would turn italic.
    """
    parts = " ".join(text.split()).split("`")
    for i in range(0, len(parts), 2):  # even parts lie outside code spans
        for char, escaped in (("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("*", "\\*"), ("_", "\\_")):
            parts[i] = parts[i].replace(char, escaped)
    return "`".join(parts)


def yaml_value(value: Any) -> str:
    """A default as it would be written in a YAML config file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if value == "":
        return '""'
    return str(value)


def type_text(spec: dict[str, Any]) -> str:
    """The type of a schema field with its constraints, in words (``integer >= 1``, ``one of ...``)."""
    if "enum" in spec:
        return "one of " + ", ".join(f"`{yaml_value(v)}`" for v in spec["enum"])
    kind = spec.get("type", "any")
    text = " or ".join(kind) if isinstance(kind, list) else kind
    if kind == "array":
        items = spec.get("items", {})
        text = ("list; each " if "enum" in items else "list of ") + type_text(items)
        if "minItems" in spec:
            text += f", at least {spec['minItems']}"
    bounds = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"))
    text += "".join(f", {sign} {spec[key]}" for key, sign in bounds if key in spec)
    if "pattern" in spec:
        text += f", matching `{spec['pattern']}`"
    return text


def sections(spec: dict[str, Any], path: str = "") -> list[tuple[str, str, list[tuple[str, dict]]]]:
    """Every object of the schema that holds plain keys: (its path, its description, its keys)."""
    leaves, nested = [], []
    for name, sub in spec.get("properties", {}).items():
        key = f"{path}.{name}" if path else name
        if sub.get("type") == "object" and "properties" in sub:
            nested.extend(sections(sub, key))
        else:
            leaves.append((key, sub))
    own = [(path, spec.get("description", ""), leaves)] if leaves else []
    return own + nested


def config_table(schema_path: Path = SCHEMA) -> str:
    """One table per section of the workflow configuration: key path, type, default, description."""
    schema = yaml.safe_load(schema_path.read_text())
    out = []
    for path, description, leaves in sections(schema):
        out += [f"### `{path}`", "", escape_cell(description), ""]
        out += ["| key | type | default | description |", "|---|---|---|---|"]
        for key, spec in leaves:
            default = f"`{yaml_value(spec['default'])}`" if "default" in spec else "required"
            out.append(f"| `{key}` | {escape_cell(type_text(spec))} | {default} | {escape_cell(spec['description'])} |")
        out.append("")
    return "\n".join(out)


def scene_sheet_table(schema_path: Path = SCENE_SCHEMA) -> str:
    """The scene sheet's columns: name, whether required, type, default, description."""
    schema = yaml.safe_load(schema_path.read_text())
    required = set(schema.get("required", []))
    out = ["| column | required | type | default | description |", "|---|---|---|---|---|"]
    for name, spec in schema["properties"].items():
        default = f"`{yaml_value(spec['default'])}`" if "default" in spec else ""
        needed = "yes" if name in required else "no"
        out.append(
            f"| `{name}` | {needed} | {escape_cell(type_text(spec))} | {default} | {escape_cell(spec['description'])} |"
        )
    return "\n".join(out) + "\n"


def cli_help() -> str:
    """``sardip --help`` and each sub-command's help, from the parser the command itself builds.

    Importing :mod:`sardip.cli` loads the sub-commands and with them torch (about 3 s), which is
    the price of help text that cannot go stale.
    """
    from sardip.cli import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS  # argparse sizes its help from the terminal
    try:
        parser = build_parser()
        out = ["```text", parser.format_help().rstrip(), "```", ""]
        seen: set[int] = set()
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction):
                continue
            for name, sub in action.choices.items():
                if id(sub) in seen:  # an alias of a sub-command already shown
                    continue
                seen.add(id(sub))
                out += [f"### `sardip {name}` {{#{name}}}", "", "```text", sub.format_help().rstrip(), "```", ""]
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(out)


def rewrite_link(match: re.Match[str]) -> str:
    """A link of a results file, made to work from the benchmarks page."""
    label, target = match.groups()
    if "://" in target or target.startswith("#") or not (BENCH_RESULTS / target).is_file():
        return match.group(0)
    if target.endswith(".md"):
        return f"{label}(#bench-{Path(target).stem.replace('_', '-')})"
    return f"{label}({BENCH_ASSETS}/{target})"


def bench_section(path: Path) -> str:
    """One results file under a heading of its own, its headings one level down."""
    lines = path.read_text().splitlines()
    title = path.stem
    if lines and lines[0].startswith("# "):
        title, lines = lines[0][2:].strip(), lines[1:]
    anchor = "bench-" + path.stem.replace("_", "-")
    out = [f"## {title} {{#{anchor}}}", "", f"From `bench/results/{path.name}`.", ""]
    in_fence = False
    for line in lines:
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            line = HEADING.sub(r"#\1\2", line)
            line = LINK.sub(rewrite_link, line)
        out.append(line)
    return "\n".join(out).rstrip() + "\n"


def bench_results(folder: Path = BENCH_RESULTS) -> str:
    """Every results file of the benchmarks, in name order."""
    return "\n".join(bench_section(path) for path in sorted(folder.glob("*.md")))


def layer_rules(test_path: Path = LAYER_TEST) -> str:
    """The test's ``FORBIDDEN`` dict as a table: module, what it must not load, the comment on its line.

    Read with :mod:`ast`, not imported, so the site builds without the test's imports and shows the
    rules exactly as the test enforces them.
    """
    source = test_path.read_text()
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "FORBIDDEN" for t in node.targets):
            rules = node.value
            break
    else:
        raise ValueError(f"docs: no FORBIDDEN dict in {test_path}")
    out = ["| module | must not load, directly or through its imports | why |", "|---|---|---|"]
    for key, value in zip(rules.keys, rules.values, strict=True):
        module, forbidden = ast.literal_eval(key), ast.literal_eval(value)
        line = lines[value.end_lineno - 1]
        why = line.split("#", 1)[1].strip() if "#" in line else ""
        out.append(f"| `{module}` | {', '.join(f'`{m}`' for m in forbidden)} | {escape_cell(why)} |")
    return "\n".join(out) + "\n"


def include(match: re.Match[str]) -> str:
    """The named file; a benchmark's results file without its title (the including page has its own
    heading there), the rest as it is."""
    path = REPO / match.group(1)
    if not path.is_file():
        raise FileNotFoundError(f"docs: {match.group(0)} names a missing file: {path}")
    text = path.read_text()
    if path.parent == BENCH_RESULTS and path.suffix == ".md" and text.startswith("# "):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    return text


GENERATORS = {
    "<!-- config-table -->": config_table,
    "<!-- scene-sheet-table -->": scene_sheet_table,
    "<!-- cli-help -->": cli_help,
    "<!-- bench-results -->": bench_results,
    "<!-- layer-rules -->": layer_rules,
}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace the markers of a page by the text generated from the repository's files."""
    for marker, generate in GENERATORS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, generate())
    return INCLUDE.sub(include, markdown)


def on_files(files: Any, config: Any) -> Any:
    """Serve the benchmark figures (files beside the results tables) under ``bench-results/``."""
    from mkdocs.structure.files import File

    for path in sorted(BENCH_RESULTS.iterdir()):
        if path.is_file() and path.suffix not in (".md", ".json"):
            files.append(File.generated(config, f"{BENCH_ASSETS}/{path.name}", abs_src_path=str(path)))
    return files
