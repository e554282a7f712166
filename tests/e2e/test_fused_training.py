"""Models of equal shapes trained together (`[cluster] fuse = true`, the default) give the archive
of training them one by one (`fuse = false`), bit for bit on the CPU: seeds, sparsity sets,
learning rates and the sparsity cost differ between the models of one group."""
import re
import tempfile
from pathlib import Path

from strata_test import SOURCE, assert_same_datasets, datasets, strata

tmp = Path(tempfile.mkdtemp(prefix="strata-fused-"))
text = (SOURCE / "sweeps" / "ground_truth.toml").read_text()
text = text.replace('archive = "../results/ground_truth.h5"\n', "")
for key, value in (("epochs", "6"), ("seeds", "[0, 1, 2]"), ("lr", "[3e-3, 1e-2]")):
    text, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
    assert n == 1, key
text = re.sub(r"^sparsity = .*$", "sparsity_sets = [[2, 4, 6, 8, 12, 16], [1, 2, 3, 4, 6, 8]]", text, flags=re.M)
archives = {}
for fuse in ("true", "false"):
    sweep = tmp / f"fuse_{fuse}.toml"
    sweep.write_text(text + f"\n[cluster]\nfuse = {fuse}\n")
    archives[fuse] = tmp / f"fuse_{fuse}.h5"
    p = strata("run", sweep, "--archive", archives[fuse], "--threads", "2", "--no-report")
    if fuse == "true":
        assert re.search(r"training 24 models together", p.stdout + p.stderr), (p.stdout + p.stderr)[-2000:]
count = assert_same_datasets(archives["true"], archives["false"])
trained = {k.split("/")[1] for k in datasets(archives["true"]) if k.startswith("trained/")}
assert len(trained) == 24, len(trained)
print(f"fused and one by one: {count} datasets equal, {len(trained)} trained models")
