"""Draw the disjoint regions of seeds 0, 1, 2 (train / validation / test / buffer) for the old
protocol (one block per class) and the blocked one (block 40), both at window 11, and print
per-seed class counts. Usage: python regions.py > regions.txt  (writes regions.png)"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from spectranet.hsi.datasets import load_scene  # noqa: E402
from spectranet.hsi.disjoint import disjoint_split  # noqa: E402

labels = load_scene("indian_pines").labels
cmap = ListedColormap(["white", "#2b83ba", "#fdae61", "#d7191c", "#bbbbbb"])
fig, axes = plt.subplots(2, 3, figsize=(10, 7))
for row, block in enumerate((None, 40)):
    for seed in range(3):
        split = disjoint_split(labels, window=11, val_size=0.35, seed=seed, block=block)
        img = np.zeros(labels.size, int)
        for code, idx in ((1, split.train), (2, split.val), (3, split.test), (4, split.discarded)):
            img[idx] = code
        ax = axes[row, seed]
        ax.imshow(img.reshape(labels.shape), cmap=cmap, vmin=0, vmax=4, interpolation="nearest")
        ax.set_title(f"{'one block' if block is None else f'block {block}'}, seed {seed}")
        ax.set_xticks([]), ax.set_yticks([])
        counts = np.stack([np.bincount(labels.ravel()[getattr(split, n)], minlength=16)
                           for n in ("train", "val", "test", "discarded")])
        print(f"block {block} seed {seed}: kept {counts[:3].sum()} "
              f"(train {counts[0].sum()}, val {counts[1].sum()}, test {counts[2].sum()}), "
              f"buffer {counts[3].sum()}; missing {split.info['missing']}")
handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i)) for i in range(1, 5)]
fig.legend(handles, ["train", "validation", "test", "buffer"], loc="lower center", ncol=4)
fig.tight_layout(rect=(0, 0.05, 1, 1))
fig.savefig("regions.png", dpi=80)
