# Role: gpuforge.cluster.munge_slurm (validation job).
"""PyTorch DDP smoke test, one process per node under torchrun (NCCL on GPUs, gloo on CPUs).

Every rank starts from the same weights, trains on its own data for a few steps with the
gradients all-reduced by DDP, then evaluates one fixed batch. Ranks whose weights stayed in
step print the same final loss; each prints one JSON line with its samples/s (after a few warm-up steps).
"""

import json
import os
import socket
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

BATCH = 64  # samples per step and rank


def main() -> None:
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local}") if backend == "nccl" else torch.device("cpu")
    torch.manual_seed(1234)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)).to(device)
    ddp = DistributedDataParallel(model, device_ids=[local] if backend == "nccl" else None)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.02)
    data = torch.Generator().manual_seed(100 + rank)
    steps = int(os.environ.get("DDP_SMOKE_STEPS", "50"))
    warmup = min(5, steps - 1)
    started = 0.0
    for step in range(steps):
        if step == warmup:  # samples/s over the steps after the first few (allocation, NCCL setup)
            if backend == "nccl":
                torch.cuda.synchronize(device)
            started = time.perf_counter()
        x = torch.randn(BATCH, 16, generator=data).to(device)
        loss = torch.nn.functional.mse_loss(ddp(x), x.sum(dim=1, keepdim=True))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if backend == "nccl":
        torch.cuda.synchronize(device)
    samples_per_s = (steps - warmup) * BATCH / (time.perf_counter() - started)
    x = torch.randn(256, 16, generator=torch.Generator().manual_seed(7)).to(device)
    with torch.no_grad():
        final = torch.nn.functional.mse_loss(model(x), x.sum(dim=1, keepdim=True)).item()
    print(json.dumps({"rank": rank, "world": world, "host": socket.gethostname(), "backend": backend,
                      "steps": steps, "final_loss": round(final, 6),
                      "samples_per_s": round(samples_per_s, 1)}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
