"""Small PyTorch pieces the parity tests and the benchmarks both compare strata against."""
import torch


class TopSStraightThrough(torch.autograd.Function):
    """Forward: keep the s entries of largest magnitude of each row. Backward: identity."""

    @staticmethod
    def forward(ctx, z, s):
        idx = torch.topk(z.abs(), s, dim=1).indices
        return z * torch.zeros_like(z).scatter_(1, idx, 1.0)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def padded(rows, pad_id):
    """Token rows as a right-padded id matrix and its mask (int64)."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask
