#!/usr/bin/env python3
"""Benchmark: one paper-sized training (N=3000, L=2048, E=7, M=32, K=3, 100 epochs, batch 256,
fp32) with strata (tests/tools/moe_bench, core/moe batched over experts) and with a
straightforward PyTorch module that loops over experts, as a researcher would write it; same
device, same run, same data. Prints both times and the ratio. Not a test.

    python tests/bench/bench_moe.py --device cpu|cuda [--epochs 100] [--members 15] [--tools build/tests/tools]

With --members G, strata also trains G models of the configuration (seeds 0..G-1) together as
one batched model (train_moe_group, what `[cluster] fuse = true` does in a sweep) and prints the
seconds per model against the one-model run and the reference.

Both sides time the optimisation only (data already on the device, evaluation excluded); the
reference reads the loss back after every batch (loss.item()), as such code usually does.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from reference_ops import TopSStraightThrough  # noqa: E402


class Expert(nn.Module):
    def __init__(self, L, M, s, steps):
        super().__init__()
        D = torch.randn(L, M)
        D = D / D.norm(dim=0, keepdim=True)
        c = torch.linalg.matrix_norm(D.T @ D, 2)
        self.D = nn.Parameter(D)
        self.W = nn.Parameter(D.T / c)
        self.S = nn.Parameter(torch.eye(M) - D.T @ D / c)
        self.theta = nn.Parameter(torch.zeros(M))
        self.s, self.steps = s, steps

    def forward(self, x):
        b = x @ self.W.T
        z = torch.zeros(x.shape[0], self.W.shape[0], device=x.device)
        for _ in range(self.steps):
            u = b + z @ self.S.T
            z = torch.sign(u) * torch.relu(u.abs() - self.theta)
        return TopSStraightThrough.apply(z, self.s) @ self.D.T


class MixtureOfExperts(nn.Module):
    def __init__(self, L, M, sparsity, steps, Q):
        super().__init__()
        self.experts = nn.ModuleList(Expert(L, M, s, steps) for s in sparsity)
        self.Wq = nn.Linear(L, Q, bias=False)
        self.keys = nn.Parameter(torch.randn(len(sparsity), Q))

    def forward(self, x):
        w = torch.softmax(self.Wq(x) @ self.keys.T / math.sqrt(self.keys.shape[1]), dim=1)
        y = 0
        for e, expert in enumerate(self.experts):
            y = y + w[:, e:e + 1] * expert(x)
        return y

    def renormalise(self):
        with torch.no_grad():
            for ex in self.experts:
                ex.D.div_(ex.D.norm(dim=0, keepdim=True))


def train_reference(X, args, device):
    torch.manual_seed(0)
    model = MixtureOfExperts(X.shape[1], args.atoms, args.sparsity, args.steps, args.gate_dim).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    X = X.to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(args.epochs):
        perm = torch.randperm(X.shape[0], device=device)
        total = 0.0
        for i in range(0, X.shape[0], args.batch):
            x = X[perm[i:i + args.batch]]
            loss = ((x - model(x)) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            model.renormalise()
            total += loss.item() * x.shape[0]
    sync()
    return time.perf_counter() - start, total / X.shape[0]


def synthetic(n, L, seed=0):
    """Points near 7 random 16-dimensional subspaces of R^L plus noise."""
    rng = np.random.default_rng(seed)
    bases = rng.standard_normal((7, L, 16)).astype(np.float32) / np.sqrt(16)
    coef = rng.standard_normal((n, 16)).astype(np.float32)
    X = np.einsum("nlk,nk->nl", bases[rng.integers(0, 7, n)], coef)
    return (X + 0.1 * rng.standard_normal((n, L))).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--atoms", type=int, default=32)
    ap.add_argument("--sparsity", default="8,12,16,20,24,28,32")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--gate-dim", type=int, default=64)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--members", type=int, default=0)
    ap.add_argument("--tools", default=os.environ.get("STRATA_TOOLS_DIR", "build/tests/tools"))
    args = ap.parse_args()
    args.sparsity = [int(s) for s in args.sparsity.split(",")]
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 77
    tool = Path(args.tools) / "moe_bench"
    if not tool.exists():
        print(f"{tool} not found (build the tests/tools targets, or give --tools)", file=sys.stderr)
        return 1

    X = synthetic(args.n, args.dim)
    print(f"N={args.n} L={args.dim} E={len(args.sparsity)} M={args.atoms} K={args.steps} Q={args.gate_dim} "
          f"epochs={args.epochs} batch={args.batch} fp32 device={args.device} "
          f"torch threads={torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as d:
        np.save(Path(d) / "X.npy", X)
        cmd = [str(tool), str(Path(d) / "X.npy"), f"device={args.device}", f"epochs={args.epochs}",
               f"batch={args.batch}", f"atoms={args.atoms}", f"steps={args.steps}", f"gate_dim={args.gate_dim}",
               "sparsity=" + ",".join(map(str, args.sparsity))]
        def run(extra):
            p = subprocess.run(cmd + extra, capture_output=True, text=True)
            if p.returncode != 0:
                sys.stderr.write(p.stderr)
                sys.exit(1)
            return json.loads(p.stdout.strip().splitlines()[-1])
        ours = run([])
        group = run([f"members={args.members}"]) if args.members > 0 else None
    ref_seconds, ref_loss = train_reference(torch.from_numpy(X), args, torch.device(args.device))
    print(f"strata (batched experts):       {ours['seconds']:8.2f} s  final loss {ours['final_loss']:.4f}"
          f"  (whole call {ours['wall_seconds']:.2f} s)")
    print(f"python reference (expert loop): {ref_seconds:8.2f} s  final loss {ref_loss:.4f}")
    print(f"speed-up: {ref_seconds / ours['seconds']:.2f}x")
    if group:
        per = group["seconds"] / group["models"]
        print(f"strata, {group['models']} models together: {group['seconds']:8.2f} s  = {per:.3f} s a model"
              f"  (whole call {group['wall_seconds']:.2f} s)")
        print(f"per model: {ours['seconds'] / per:.2f}x the one-model run, {ref_seconds / per:.2f}x the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
