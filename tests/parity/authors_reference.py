"""A plain PyTorch transcription of the authors' published procedure (repository
helloimlixin/llm-stratified, the notebook export of their experiments), used as the reference
for strata's preset = "authors-code". It keeps their structure on purpose: one module per
expert, one module per LISTA layer, a Python loop over the points of a batch for the routing,
the pairwise contrastive loss on labels, Adam over all parameters. What differs from their
notebook is only what a test needs: the batch order and the initial weights are given (from
strata's dump) instead of drawn by DataLoader(shuffle=True) and PyTorch's module init, and the
PCA is scikit-learn's exact solver on float64 input.
"""
import numpy as np
import torch
from torch import nn
from sklearn.decomposition import PCA


def pca_scores(X, n_components):
    """PCA to n_components (the authors: PCA(n_components=64).fit_transform), exact solver."""
    pca = PCA(n_components=n_components, svd_solver="full")
    scores = pca.fit_transform(np.asarray(X, dtype=np.float64))
    return scores.astype(np.float32), pca


class TopKStraightThrough(torch.autograd.Function):
    """Keep the k entries of largest magnitude per row; the gradient passes as for identity."""

    @staticmethod
    def forward(ctx, x, k):
        idx = torch.topk(x.abs(), k, dim=1).indices
        keep = torch.zeros_like(x).scatter_(1, idx, 1.0)
        return x * keep

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class LISTALayer(nn.Module):
    """z_next = topk(W x + S z, s), W and S bias-free linear maps."""

    def __init__(self, input_dim, code_dim, sparsity):
        super().__init__()
        self.W = nn.Linear(input_dim, code_dim, bias=False)
        self.S = nn.Linear(code_dim, code_dim, bias=False)
        self.sparsity = sparsity

    def forward(self, x, z):
        return TopKStraightThrough.apply(self.W(x) + self.S(z), self.sparsity)


class LISTAExpert(nn.Module):
    """Untied LISTA layers from z = 0; the dictionary only reconstructs (never in the loss)."""

    def __init__(self, input_dim, code_dim, layers, sparsity):
        super().__init__()
        self.dictionary = nn.Parameter(torch.randn(input_dim, code_dim) * 0.01)
        self.layers = nn.ModuleList(LISTALayer(input_dim, code_dim, sparsity) for _ in range(layers))

    def forward(self, x):
        z = torch.zeros(x.shape[0], self.dictionary.shape[1])
        for layer in self.layers:
            z = layer(x, z)
        return z @ self.dictionary.T, z


class AttentionGate(nn.Module):
    def __init__(self, input_dim, query_dim, experts):
        super().__init__()
        self.query = nn.Linear(input_dim, query_dim)
        self.keys = nn.Parameter(torch.randn(experts, query_dim))

    def forward(self, x):
        q = self.query(x)
        return torch.softmax(q @ self.keys.T / q.shape[-1] ** 0.5, dim=1)


class AuthorsMixture(nn.Module):
    def __init__(self, input_dim, code_dim, sparsity_levels, layers=5, query_dim=128, threshold=0.5):
        super().__init__()
        self.threshold = threshold
        self.gate = AttentionGate(input_dim, query_dim, len(sparsity_levels))
        self.experts = nn.ModuleList(LISTAExpert(input_dim, code_dim, layers, s) for s in sparsity_levels)
        self.head = nn.Sequential(nn.Linear(code_dim, code_dim), nn.ReLU(), nn.Linear(code_dim, input_dim))
        self.register_buffer("sparsity", torch.tensor(sparsity_levels, dtype=torch.float32))

    def route(self, p):
        """Among experts with p >= threshold * max p, the one with the smallest sparsity."""
        eligible = (p >= self.threshold * p.max()).nonzero(as_tuple=True)[0]
        if eligible.numel() == 0:
            return int(torch.argmax(p))
        return int(eligible[torch.argmin(self.sparsity[eligible])])

    def forward(self, x, details=False):
        probs = self.gate(x)
        codes = torch.stack([expert(x)[1] for expert in self.experts], dim=0)  # [E, B, M]
        chosen = torch.empty(x.shape[0], codes.shape[2])
        selected = []
        for i in range(x.shape[0]):
            e = self.route(probs[i])
            selected.append(e)
            chosen[i] = codes[e, i, :]
        out = self.head(chosen)
        if details:
            return out, probs, torch.tensor(selected, dtype=torch.int64), codes
        return out


def contrastive_loss(emb, labels, margin=1.0):
    d = torch.cdist(emb, emb, p=2)
    same = (labels.unsqueeze(1) == labels.unsqueeze(0)).float()
    return (same * d ** 2 + (1 - same) * torch.clamp(margin - d, min=0.0) ** 2).mean()


def train(model, epochs_of_batches, lr=1e-3, margin=1.0):
    """The authors' loop; the batches come from `epochs_of_batches` (a list per epoch of (x, y)).
    Returns the per-epoch loss as they print it: sum of loss * batch size / points."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    curve = []
    for epoch in epochs_of_batches:
        total, count = 0.0, 0
        for x, y in epoch:
            loss = contrastive_loss(model(x), y, margin)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
            count += x.shape[0]
        curve.append(total / count)
    return curve


def load_weights(model, get):
    """Copies strata's parameter arrays (names of AuthorsMoe::parameters()) into the modules.
    `get(name)` returns the array; layouts: lista_W [T,E,M,P], lista_S [T,E,M,M],
    dictionaries [E,P,M], gate_W [G,P], gate_b [G], gate_keys [E,G], head_* as nn.Linear."""
    W, S, D = get("lista_W"), get("lista_S"), get("dictionaries")
    with torch.no_grad():
        for e, expert in enumerate(model.experts):
            expert.dictionary.copy_(torch.from_numpy(D[e]))
            for t, layer in enumerate(expert.layers):
                layer.W.weight.copy_(torch.from_numpy(W[t, e]))
                layer.S.weight.copy_(torch.from_numpy(S[t, e]))
        model.gate.query.weight.copy_(torch.from_numpy(get("gate_W")))
        model.gate.query.bias.copy_(torch.from_numpy(get("gate_b")))
        model.gate.keys.copy_(torch.from_numpy(get("gate_keys")))
        model.head[0].weight.copy_(torch.from_numpy(get("head_W1")))
        model.head[0].bias.copy_(torch.from_numpy(get("head_b1")))
        model.head[2].weight.copy_(torch.from_numpy(get("head_W2")))
        model.head[2].bias.copy_(torch.from_numpy(get("head_b2")))


def strata_view(model):
    """The model's parameters and gradients in strata's names and layouts (as numpy)."""
    def grad_of(p):
        return np.zeros(p.shape, np.float32) if p.grad is None else p.grad.detach().numpy()

    def stack(fn):
        return np.stack([np.stack([fn(layer) for layer in ex.layers]) for ex in model.experts], axis=1)

    params = {
        "lista_W": stack(lambda l: l.W.weight.detach().numpy()),
        "lista_S": stack(lambda l: l.S.weight.detach().numpy()),
        "dictionaries": np.stack([ex.dictionary.detach().numpy() for ex in model.experts]),
        "gate_W": model.gate.query.weight.detach().numpy(),
        "gate_b": model.gate.query.bias.detach().numpy(),
        "gate_keys": model.gate.keys.detach().numpy(),
        "head_W1": model.head[0].weight.detach().numpy(),
        "head_b1": model.head[0].bias.detach().numpy(),
        "head_W2": model.head[2].weight.detach().numpy(),
        "head_b2": model.head[2].bias.detach().numpy(),
    }
    grads = {
        "lista_W": stack(lambda l: grad_of(l.W.weight)),
        "lista_S": stack(lambda l: grad_of(l.S.weight)),
        "dictionaries": np.stack([grad_of(ex.dictionary) for ex in model.experts]),
        "gate_W": grad_of(model.gate.query.weight),
        "gate_b": grad_of(model.gate.query.bias),
        "gate_keys": grad_of(model.gate.keys),
        "head_W1": grad_of(model.head[0].weight),
        "head_b1": grad_of(model.head[0].bias),
        "head_W2": grad_of(model.head[2].weight),
        "head_b2": grad_of(model.head[2].bias),
    }
    return params, grads
