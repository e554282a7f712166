"""Parity of strata's preset = "authors-code" (core/moe/authors_model.h, experts batched)
with tests/parity/authors_reference.py, a plain transcription of the authors' procedure.

tests/tools/moe_step_dump writes strata's PCA scores, initial weights, batch order, first-batch
outputs, first-step gradients, parameters after a few steps and a whole train_moe() run; the
reference recomputes them from the same weights and order. Agreement within 1e-5 (fp32, CPU;
absolute below 1, relative above); routing decisions and code supports must be identical.

One parameter is compared differently: the loss depends on the head's outputs only through
their pairwise distances, so it is invariant to the last bias head_b2 and that bias's gradient
is zero up to rounding (~1e-9). Adam divides by the gradient's own magnitude, so both
implementations move head_b2 by about +-lr per step in the direction of their rounding noise.
For it the test requires a vanishing gradient and a drift within lr per step, not equality.
"""
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))
sys.path.insert(0, str(HERE))
from moe_dump import TOL, TOOL, check, dump  # noqa: E402
import authors_reference as ar  # noqa: E402

torch.set_num_threads(1)


NOISE_DRIVEN = {"head_b2"}


def check_param(what, name, got, want, init, lr, steps):
    if name in NOISE_DRIVEN:
        for side in (got, want):
            drift = np.max(np.abs(np.asarray(side, np.float64) - init))
            assert drift <= lr * steps * 1.001 + 1e-7, f"{what}: drift {drift:.3g} beyond lr x steps"
        return 0.0
    return check(what, got, want)


def run_case(name, cfg, X, labels, steps):
    load = dump("moe-authors", name, cfg, steps, X=X, labels=labels)
    worst = 0.0

    # PCA as scikit-learn computes it (exact solver on float64 input).
    Z, pca = ar.pca_scores(X, cfg["pca_dim"])
    worst = max(worst, check("PCA scores", load("inputs"), Z))
    worst = max(worst, check("PCA components", load("stat_pca_components"), pca.components_))
    worst = max(worst, check("PCA mean", load("stat_pca_mean"), pca.mean_))
    Zt, yt = torch.from_numpy(Z), torch.from_numpy(labels)

    def fresh_model():
        m = ar.AuthorsMixture(cfg["pca_dim"], cfg["atoms"], cfg["sparsity"], layers=cfg["authors_lista_layers"])
        ar.load_weights(m, lambda n: load("init_" + n))
        return m

    orders = [torch.from_numpy(load(f"order_{e}")) for e in range(cfg["epochs"])]
    epochs = [[(Zt[b], yt[b]) for b in torch.split(o, cfg["batch_size"])] for o in orders]
    batches = [b for e in epochs for b in e]

    # Forward on the first batch at the initial weights.
    model = fresh_model()
    with torch.no_grad():
        out, probs, selected, codes = model(batches[0][0], details=True)
    worst = max(worst, check("projection", load("fwd_projection"), out))
    worst = max(worst, check("gating", load("fwd_gating"), probs))
    worst = max(worst, check("codes", load("fwd_codes"), codes))
    assert np.array_equal(load("fwd_selected"), selected.numpy()), "routing differs on the first batch"

    # First-step gradients and parameters after `steps` steps.
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    losses = []
    for k, (x, y) in enumerate(batches[:steps]):
        loss = ar.contrastive_loss(model(x), y, cfg["contrastive_margin"])
        opt.zero_grad()
        loss.backward()
        if k == 0:
            _, grads = ar.strata_view(model)
            for n, g in grads.items():
                worst = max(worst, check(f"gradient {n}", load("grad_" + n), g))
            for n in NOISE_DRIVEN:
                assert np.max(np.abs(grads[n])) < 1e-6 and np.max(np.abs(load("grad_" + n))) < 1e-6, n
        opt.step()
        losses.append(loss.item())
    worst = max(worst, check("step losses", load("step_losses"), losses))
    params, _ = ar.strata_view(model)
    for n, v in params.items():
        worst = max(worst, check_param(f"{n} after {steps} steps", n, load("step_" + n), v, load("init_" + n),
                                       cfg["lr"], steps))

    # A whole train_moe() run: the authors' loop over the same batches.
    model = fresh_model()
    curve = ar.train(model, epochs, lr=cfg["lr"], margin=cfg["contrastive_margin"])
    worst = max(worst, check("epoch losses", load("train_loss"), curve))
    params, _ = ar.strata_view(model)
    for n, v in params.items():
        worst = max(worst, check_param(f"trained {n}", n, load("train_" + n), v, load("init_" + n), cfg["lr"],
                                       sum(len(e) for e in epochs)))
    with torch.no_grad():
        _, probs, selected, codes = model(Zt, details=True)
        D = torch.stack([ex.dictionary for ex in model.experts])  # [E, P, M]
        recon = torch.stack([codes[e, i] @ D[e].T for i, e in enumerate(selected.tolist())])
    worst = max(worst, check("gating", load("out_gating"), probs))
    worst = max(worst, check("recon_error", load("out_recon_error"), ((Zt - recon) ** 2).sum(1)))
    assert np.array_equal(load("out_selected"), selected.numpy()), "routing differs after training"
    support = (codes != 0).permute(1, 0, 2).numpy().astype(np.uint8)
    assert np.array_equal(load("out_support"), support), "support differs"
    print(f"{name}: {steps} steps and {cfg['epochs']} epochs agree; max deviation {worst:.2e}")


def main():
    if not TOOL.exists():
        print(f"{TOOL} not built", file=sys.stderr)
        return 1
    rng = np.random.default_rng(4)
    n, L = 56, 20
    centres = rng.standard_normal((4, L)) * 2
    labels = (np.arange(n) % 4).astype(np.int64)
    X = (centres[labels] + rng.standard_normal((n, L))).astype(np.float32)
    cfg = dict(preset="authors-code", atoms=8, sparsity=[2, 3, 5, 8], pca_dim=6, authors_lista_layers=3, lr=1e-3,
               epochs=2, batch_size=16, contrastive_margin=1.0, seed=2)
    run_case("small", cfg, X, labels, steps=4)
    # The authors' sizes: PCA to 64, 32 atoms, 5 layers, seven experts.
    n, L = 96, 80
    labels = rng.integers(0, 3, n).astype(np.int64)
    X = (rng.standard_normal((3, L))[labels] * 3 + rng.standard_normal((n, L))).astype(np.float32)
    cfg = dict(preset="authors-code", atoms=32, sparsity=[8, 12, 16, 20, 24, 28, 32], pca_dim=64,
               authors_lista_layers=5, lr=1e-3, epochs=2, batch_size=16, contrastive_margin=1.0, seed=0)
    run_case("paper-sizes", cfg, X, labels, steps=3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
