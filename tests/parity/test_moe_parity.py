"""Parity of strata's paper model (core/moe, batched over experts) with a plain PyTorch
implementation of the same equations written here, one expert at a time.

tests/tools/moe_step_dump runs strata on small data and writes its inputs, initial weights,
batch order, first-batch forward outputs, first-step gradients, the parameters after a few
Adam steps and a whole train_moe() run. This test recomputes all of it from the same initial
weights and batch order and requires agreement within 1e-5 (fp32, CPU): absolute for values
below 1, relative above.
"""
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from reference_ops import TopSStraightThrough  # noqa: E402
from moe_dump import TOL, TOOL, check, dump  # noqa: E402

torch.set_num_threads(1)


# --- the reference: the paper's equations, one expert at a time ------------------------------

class Reference:
    def __init__(self, cfg, init):
        self.cfg = cfg
        names = ["dictionaries", "lista_W", "lista_S", "lista_theta"]
        if cfg["gate"] == "attention":
            names += ["gate_Wq", "gate_keys"]
        self.names = names
        self.p = {n: torch.tensor(init[n], requires_grad=True) for n in names}

    def encode(self, x, e):
        W, S, theta = self.p["lista_W"][e], self.p["lista_S"][e], self.p["lista_theta"][e]
        b = x @ W.T
        z = torch.zeros(x.shape[0], W.shape[0])
        for _ in range(self.cfg["lista_steps"]):
            u = b + z @ S.T
            z = torch.sign(u) * torch.relu(u.abs() - theta)
        return TopSStraightThrough.apply(z, self.cfg["sparsity"][e])

    def forward(self, x):
        E = len(self.cfg["sparsity"])
        codes = [self.encode(x, e) for e in range(E)]
        scores = None
        if self.cfg["gate"] == "attention":
            q = x @ self.p["gate_Wq"].T
            scores = q @ self.p["gate_keys"].T / math.sqrt(q.shape[1])
            w = torch.softmax(scores, dim=1)
        else:
            w = torch.full((x.shape[0], E), 1.0 / E)
        y = torch.zeros_like(x)
        for e in range(E):
            y = y + w[:, e:e + 1] * (codes[e] @ self.p["dictionaries"][e].T)
        return y, w, scores, codes

    def loss(self, x, out, epoch=0):
        y, w, scores, _ = out
        loss = ((x - y) ** 2).sum(1).mean() / x.shape[1]
        if scores is not None:
            if self.cfg.get("sparsity_cost", 0):
                warmup = self.cfg.get("sparsity_warmup", 0)
                ramp = min(1.0, (epoch + 1) / warmup) if warmup else 1.0
                s = torch.tensor(self.cfg["sparsity"], dtype=torch.float32) / x.shape[1]
                loss = loss + self.cfg["sparsity_cost"] * ramp * (w * s).sum(1).mean()
            E = w.shape[1]
            if self.cfg["load_balance"]:
                loss = loss + self.cfg["load_balance"] * E * (w.mean(0) ** 2).sum()
            if self.cfg["entropy_weight"]:
                entropy = -(w * torch.log_softmax(scores, dim=1)).sum(1).mean()
                loss = loss + self.cfg["entropy_weight"] * entropy
        return loss

    def renormalise(self):
        with torch.no_grad():
            D = self.p["dictionaries"]
            D.div_(D.norm(dim=1, keepdim=True).clamp_min(1e-12))
            if self.cfg.get("thresholds", "nonnegative") == "nonnegative":
                self.p["lista_theta"].clamp_(min=0.0)

    def numpy(self):
        return {n: t.detach().numpy() for n, t in self.p.items()}


def standardise(X):
    X = X.astype(np.float64)
    mean, std = X.mean(0), X.std(0)
    std = np.where(std > 0, std, 1.0)
    return ((X - mean) / std).astype(np.float32), mean, std


# --- comparison --------------------------------------------------------------------------------

def run_case(name, cfg, X, steps):
    load = dump("moe-parity", name, cfg, steps, X=X)
    worst = 0.0

    # Inputs.
    if cfg["standardize"]:
        Z, mean, std = standardise(X)
        worst = max(worst, check("inputs", load("inputs"), Z))
        worst = max(worst, check("input_mean", load("stat_input_mean"), mean))
        worst = max(worst, check("input_std", load("stat_input_std"), std))
    else:
        Z = X.astype(np.float32)
        assert np.array_equal(load("inputs"), Z)
    Zt = torch.from_numpy(Z)

    ref = Reference(cfg, {n: load("init_" + n) for n in
                          ["dictionaries", "lista_W", "lista_S", "lista_theta", "gate_Wq", "gate_keys"]
                          if load.has("init_" + n)})
    epochs = [torch.from_numpy(load(f"order_{e}")) for e in range(cfg["epochs"])]
    batches = [b for order in epochs for b in torch.split(order, cfg["batch_size"])]

    # Forward on the first batch at the initial weights.
    x0 = Zt[batches[0]]
    with torch.no_grad():
        y, w, scores, codes = ref.forward(x0)
        worst = max(worst, check("forward y", load("fwd_y"), y))
        worst = max(worst, check("forward gating", load("fwd_gating"), w))
        worst = max(worst, check("forward codes", load("fwd_codes"), torch.stack(codes)))
        worst = max(worst, check("forward loss", load("fwd_loss")[0], ref.loss(x0, (y, w, scores, codes))))

    # Steps, one by one: gradients of the first, parameters after all.
    opt = torch.optim.Adam([ref.p[n] for n in ref.names], lr=cfg["lr"])
    losses = []
    epoch_of = [e for e, order in enumerate(epochs) for _ in torch.split(order, cfg["batch_size"])]
    for k, b in enumerate(batches[:steps]):
        x = Zt[b]
        opt.zero_grad()
        loss = ref.loss(x, ref.forward(x), epoch_of[k])
        loss.backward()
        if k == 0:
            for n in ref.names:
                worst = max(worst, check(f"gradient {n}", load("grad_" + n), ref.p[n].grad))
        opt.step()
        ref.renormalise()
        losses.append(loss.item())
    worst = max(worst, check("step losses", load("step_losses"), losses))
    for n, v in ref.numpy().items():
        worst = max(worst, check(f"{n} after {steps} steps", load("step_" + n), v))

    # A whole train_moe() run from the same start.
    ref = Reference(cfg, {n: load("init_" + n) for n in ref.names})
    opt = torch.optim.Adam([ref.p[n] for n in ref.names], lr=cfg["lr"])
    curve = []
    for epoch, order in enumerate(epochs):
        total = 0.0
        for b in torch.split(order, cfg["batch_size"]):
            x = Zt[b]
            opt.zero_grad()
            loss = ref.loss(x, ref.forward(x), epoch)
            loss.backward()
            opt.step()
            ref.renormalise()
            total += loss.item() * len(b)
        curve.append(total / len(Z))
    worst = max(worst, check("epoch losses", load("train_loss"), curve))
    for n, v in ref.numpy().items():
        worst = max(worst, check(f"trained {n}", load("train_" + n), v))
    with torch.no_grad():
        y, w, _, codes = ref.forward(Zt)
    worst = max(worst, check("gating", load("out_gating"), w))
    worst = max(worst, check("recon_error", load("out_recon_error"), ((Zt - y) ** 2).sum(1)))
    support = (torch.stack(codes) != 0).permute(1, 0, 2).numpy().astype(np.uint8)
    assert np.array_equal(load("out_support"), support), "support differs"
    assert np.array_equal(load("out_selected"), w.argmax(1).numpy()), "selected differs"
    assert np.array_equal(load("out_dictionaries"), load("train_dictionaries"))
    print(f"{name}: {len(batches[:steps])} steps and {cfg['epochs']} epochs agree; max deviation {worst:.2e}")


def check_gate_init(X):
    """gate_init = "rms" draws W_q as "unit" does and divides it by the RMS of the inputs the
    model sees (float64): the two initial W_q differ by exactly that factor."""
    cfg = {**BASE, "standardize": False, "epochs": 1}
    loads = {init: dump("moe-gate-init", init, {**cfg, "gate_init": init}, 1, X=X) for init in ("unit", "rms")}
    rms = np.sqrt(np.mean(X.astype(np.float32).astype(np.float64) ** 2))
    unit, scaled = (loads[k]("init_gate_Wq").astype(np.float64) for k in ("unit", "rms"))
    assert rms > 3, rms
    check("W_q under gate_init = rms", scaled * rms, unit, tol=1e-6)
    print(f"gate_init: W_q divided by the inputs' RMS {rms:.4f}")


def data(n, L, seed):
    """Points near three random 3-D subspaces of R^L, offset and scaled per feature."""
    rng = np.random.default_rng(seed)
    bases = rng.standard_normal((3, L, 3))
    coef = rng.standard_normal((n, 3))
    X = np.einsum("nlk,nk->nl", bases[np.arange(n) % 3], coef) + 0.05 * rng.standard_normal((n, L))
    return (X * rng.uniform(0.5, 2.0, L) + rng.uniform(-1, 1, L)).astype(np.float32)


BASE = dict(atoms=6, sparsity=[2, 3, 5], lista_steps=3, gate_dim=4, gate="attention", lr=5e-3, epochs=3,
            batch_size=16, load_balance=0.1, entropy_weight=0.05, standardize=True, seed=7, preset="paper")


def main():
    if not TOOL.exists():
        print(f"{TOOL} not built", file=sys.stderr)
        return 1
    X = data(40, 12, 0)
    check_gate_init(X * 7.0)
    run_case("attention", BASE, X, steps=4)
    run_case("uniform", {**BASE, "gate": "uniform", "sparsity": [4, 4], "lista_steps": 2, "standardize": False,
                         "seed": 3}, X, steps=3)
    run_case("single", {**BASE, "sparsity": [3], "lista_steps": 1, "load_balance": 0.0, "seed": 5}, X, steps=3)
    run_case("one-sparsity", {**BASE, "sparsity": [3, 3, 3, 3], "entropy_weight": -0.05, "batch_size": 13, "seed": 9},
             data(45, 10, 1), steps=5)
    # The per-atom cost on the gate, ramped over two epochs, with free (paper-literal) thresholds
    # and the gate drawn at unit scale; the steps cross an epoch boundary (40 points, batch 16).
    run_case("sparsity-cost", {**BASE, "sparsity_cost": 0.3, "sparsity_warmup": 2, "thresholds": "free",
                               "gate_init": "unit", "seed": 11}, X, steps=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
