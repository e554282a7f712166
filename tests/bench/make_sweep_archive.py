#!/usr/bin/env python3
"""Writes a large sweep archive in the archive's layout (results/SCHEMA.md) with h5py, for timing
the report and the Python reader without computing the sweep:

    make_sweep_archive.py OUT.h5 [--atoms 16,32,64,128,256] [--sets 3] [--seeds 5] [--strata 3,5,7,9]
                          [--rows 3000] [--width 64] [--seed 0]

A synthetic corpus of `--rows` points in strata of known dimension, one embedding, one trained
model per (atoms, sparsity set, seed) and one run per stratum count: 5 x 5 x 5 x 4 = 500 runs by
default. The numbers are random (seeded) but have the archive's shapes, types and links.
"""
import argparse
import json

import h5py
import numpy as np

STR = h5py.string_dtype()


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--atoms", default="16,32,64,128,256")
    ap.add_argument("--sets", type=int, default=5, help="sparsity sets (3 to 7 experts)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--strata", default="3,5,7,9")
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    return ap.parse_args(argv)


def job_id(rng):
    return "".join(rng.choice(list("0123456789abcdef"), 16))


def done(group, rng, config):
    group.attrs.update(job_id=job_id(rng), config=json.dumps(config), status="done", rank=0, ranks=1)


def write_corpus(f, rng, rows):
    dims = [1, 2, 3, 3, 8]
    names = ["line", "plane", "sphere", "torus", "cube8"]
    truth = np.repeat(np.arange(len(dims)), int(np.ceil(rows / len(dims))))[:rows]
    c = f.create_group("corpus")
    c["text"] = np.array([f"{names[t]}-{i}" for i, t in enumerate(truth)], dtype=object).astype(STR)
    c["source"] = np.array([names[t] for t in truth], dtype=object).astype(STR)
    c["id"] = np.array([str(i) for i in range(rows)], dtype=object).astype(STR)
    c["label"] = truth.astype(np.int64)
    c["source_names"] = np.array(names, dtype=object).astype(STR)
    spec = {"dim": 64, "noise": 0.001, "seed": 7,
            "strata": [{"name": n, "kind": "linear", "dim": d, "points": rows // len(dims), "scale": 1.0,
                        "offset": 6.0, "noise": -1.0} for n, d in zip(names, dims)]}
    done(c, rng, {"synthetic": spec, "sources": [], "seed": 7})
    c.attrs.update(fingerprint="0" * 64, rows=rows)
    return truth, np.array(dims, dtype=np.float64)


def write_embedding(f, rng, truth, width):
    e = f.create_group("embeddings/synthetic")
    e.create_dataset("data", data=rng.normal(size=(len(truth), width)).astype(np.float32), chunks=(min(4096, len(truth)), width))
    e["truth"] = truth.astype(np.int64)
    done(e, rng, {"kind": "synthetic"})
    e.attrs.update(kind="synthetic", seconds=0.1)


def write_trained(f, rng, tid, cfg, n, width, epochs=10):
    E, M = len(cfg["sparsity"]), cfg["atoms"]
    t = f.create_group(f"trained/{tid}")
    t["params/dictionaries"] = rng.normal(size=(E, width, M)).astype(np.float32)
    t["train/loss"] = np.sort(rng.random(epochs))[::-1] + 0.1
    g = rng.dirichlet(np.ones(E), size=n).astype(np.float32)
    t["out/gating"] = g
    t["out/recon_error"] = rng.random(n).astype(np.float32)
    t["out/selected"] = g.argmax(1).astype(np.int64)
    t["sparsity"] = np.array(cfg["sparsity"], dtype=np.float32)
    t["analysis/expert_mean_angle"] = rng.random((E, E))
    t["analysis/expert_grassmann"] = rng.random((E, E))
    t["analysis/pca3"] = rng.normal(size=(n, 3)).astype(np.float32)
    t["analysis/expert_usage"] = g.mean(0).astype(np.float64)
    done(t, rng, cfg)
    t.attrs.update(embedding="synthetic", seconds=float(rng.random()), device="cpu",
                   final_loss=float(t["train/loss"][-1]), recon_error_mean=float(g.mean()), entropy_mean=1.0)
    return g


def write_run(f, rng, rid, tid, cfg, S, truth, true_dims, gating, sparsity):
    n, E = gating.shape
    r = f.create_group(f"runs/{rid}")
    strata = rng.integers(0, S, size=n).astype(np.int64)
    r["out/strata"] = strata
    a = r.create_group("analysis")
    sizes = np.bincount(strata, minlength=S).astype(np.int64)
    a["sizes"] = sizes
    base = np.array([true_dims[np.bincount(truth[strata == s], minlength=len(true_dims)).argmax()] for s in range(S)])
    for name in ("pca", "twonn", "mle"):
        a[f"dims/{name}"] = base + rng.normal(scale=0.5, size=S)
    ws = (gating * np.asarray(sparsity)[None, :]).sum(1)
    a["weighted_sparsity"] = np.array([ws[strata == s].mean() for s in range(S)])
    a["entropy_by_stratum"] = rng.random(S)
    a["entropy_by_domain"] = rng.random(len(true_dims))
    a["entropy_overall"] = float(rng.random())
    a["gating_by_stratum"] = rng.dirichlet(np.ones(E), size=S)
    a["gating_by_domain"] = rng.dirichlet(np.ones(E), size=len(true_dims))
    a["contingency"] = np.stack([np.bincount(truth[strata == s], minlength=len(true_dims)) for s in range(S)])
    a["ari_source"] = float(rng.random())
    a["nmi_source"] = float(rng.random())
    for name, lo in (("pca", "dims/pca"), ("twonn", "dims/twonn"), ("mle", "dims/mle"),
                     ("weighted_sparsity", "weighted_sparsity"), ("entropy", "entropy_by_stratum")):
        est = a[lo][()]
        a[f"ci/{name}"] = np.stack([est, est - 0.3, est + 0.3], axis=1)
    for link, target in (("params", "params"), ("train", "train"), ("out/gating", "out/gating"),
                         ("out/recon_error", "out/recon_error"), ("trained", "")):
        r[link] = h5py.SoftLink(f"/trained/{tid}" + (f"/{target}" if target else ""))
    done(r, rng, dict(cfg, train=tid, strata=S, strata_on="embeddings", kmeans_restarts=10, variance_fraction=0.75,
                      mle_k=10, bootstrap=50, seed=7, pca_dim=0))
    r.attrs.update(train_id=tid, embedding="synthetic", strata=S, seconds=float(rng.random()))


def main(argv=None):
    args = parse(argv)
    rng = np.random.default_rng(args.seed)
    atoms = [int(v) for v in args.atoms.split(",")]
    strata = [int(v) for v in args.strata.split(",")]
    sets = [list(range(8, 8 + 4 * (3 + k % 5), 4)) for k in range(args.sets)]
    with h5py.File(args.out, "w") as f:
        f.attrs.update(format_version=1, program="strata", program_version="bench", created="2026-01-01T00:00:00Z",
                       sweep_toml="# written by tests/bench/make_sweep_archive.py\n")
        truth, true_dims = write_corpus(f, rng, args.rows)
        write_embedding(f, rng, truth, args.width)
        runs = 0
        for m in atoms:
            for sset in sets:
                for seed in range(args.seeds):
                    cfg = {"embedding": "synthetic", "embed": "0" * 16, "preset": "paper", "atoms": m,
                           "sparsity": sset, "lista_steps": 3, "gate": "attention", "gate_dim": 32, "lr": 0.003,
                           "seed": seed, "epochs": 10, "batch_size": 128, "pca_dim": 0, "load_balance": 0.0,
                           "entropy_weight": 0.0, "standardize": True, "format": 1}
                    tid = job_id(rng)
                    gating = write_trained(f, rng, tid, cfg, len(truth), args.width)
                    for S in strata:
                        write_run(f, rng, job_id(rng), tid, cfg, S, truth, true_dims, gating, sset)
                        runs += 1
    print(f"{args.out}: {runs} runs")


if __name__ == "__main__":
    main()
