"""sweeps/REFERENCE.md is what `strata keys` prints from the specs' declarations: a key added,
renamed or documented differently in the code fails here until the page is regenerated."""
import difflib
import sys

from strata_test import SOURCE, strata

page = SOURCE / "sweeps" / "REFERENCE.md"
printed = strata("keys").stdout
written = page.read_text() if page.exists() else ""
if printed != written:
    diff = "".join(difflib.unified_diff(written.splitlines(True), printed.splitlines(True), "sweeps/REFERENCE.md",
                                        "strata keys", n=1))
    sys.exit(f"{page} is stale; regenerate it with `build/strata keys > sweeps/REFERENCE.md`:\n{diff[:4000]}")
# Every key of the README's sweep example is in the reference.
readme = (SOURCE / "README.md").read_text()
for key in ("samples_per_source", "pooling", "batch_tokens", "sparsity_sets", "sparsity_cost", "load_balance",
            "entropy_weight", "standardize", "gate_dim", "kmeans_restarts", "mle_k", "source_column", "max_chars",
            "delimiter", "quote", "fortune"):
    assert f"`{key}`" in printed or key in printed, key
print(f"{page.name}: {len(printed.splitlines())} lines, up to date")
