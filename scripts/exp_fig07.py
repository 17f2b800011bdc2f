"""Fig. 7: two results of the loss comparison with similar MSE but very different SSIM (rule fig07)."""

import numpy as np
import pandas as pd

from sardip.experiments import similar_mse_pair
from sardip.figures.experiments import fig07_mse_vs_ssim
from sardip.io import read_table, write_table
from sardip.logs import log_to_file

logger = log_to_file(snakemake.log[0])
runs = [read_table(f).assign(file=k) for k, f in enumerate(snakemake.input.runs)]
table = pd.concat(runs, ignore_index=True)
pair = table.iloc[list(similar_mse_pair(table, snakemake.params.max_mse_ratio))]
write_table(pair, snakemake.output.pair)
panels, originals, holes = [], [], []
for _, run in pair.iterrows():
    arrays = np.load(snakemake.input.arrays[int(run["file"])])
    tile = int(run["row"]) % len(arrays["original"])  # rows: SSIM-loss tiles, then MSE-loss tiles
    originals.append(arrays["original"][tile])
    holes.append(arrays["hidden"][tile])
    label = f"{run['land_cover']} {run['tile_id']}, {run['loss'].upper()} loss"
    panels.append((arrays["output"][int(run["row"])], label, float(run["ssim_fi"]), float(run["mse_fi"])))
logger.info("wrote %s", fig07_mse_vs_ssim(np.stack(originals), panels, np.stack(holes), snakemake.output.fig07))
