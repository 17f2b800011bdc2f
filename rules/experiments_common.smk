"""Settings and input functions of the experiment rules (rules/experiments.smk)."""

EXP = config["experiments"]
SEARCH = EXP["search"]
# Settings that decide a search's trials (operational ones such as the device reach the scripts as params too).
SEARCH_SETTINGS = {
    "trials": SEARCH["trials"],
    "iterations": SEARCH["iterations"],
    "report_every": SEARCH["report_every"],
    "min_resource": SEARCH["min_resource"],
    "reduction_factor": SEARCH["reduction_factor"],
    "seed": EXP["seed"],
}


def experiment_classes():
    """The configured classes that have selected tiles, in config order."""
    present = set(selected()["class"])
    return [c for c in config["selection"]["classes"] if c in present]


def class_tiles(land_cover, n):
    """The first ``n`` selected tiles of ``land_cover`` (selection order)."""
    table = selected()
    return table.index[table["class"] == land_cover][:n].tolist()


def sample_tiles(section):
    return lambda wildcards: class_tiles(wildcards.cls, EXP[section]["tiles_per_class"])


def sample_s1(section):
    return lambda wildcards: [
        selected().loc[t, "s1_path"] for t in sample_tiles(section)(wildcards)
    ]


def epi_tile(wildcards):
    return class_tiles(wildcards.cls, 1)[0]


def per_class(pattern, **more):
    return lambda wildcards: expand(pattern, cls=experiment_classes(), **more)
