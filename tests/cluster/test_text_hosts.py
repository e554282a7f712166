"""The text quickstart on three hosts: the coordinator on node0, one worker on node1 and one on
node2 (tests/cluster/hosts.py: network namespaces on a private bridge, OpenMPI over TCP).
tests/mpi/tiny_text.toml embeds 26 texts with two poolings of all-MiniLM-L6-v2 in 4 shards
each, trains and analyses: every job must land in an archive equal, bit for bit (attributes
that record when and where aside), to the one a single process writes, and the inputs and
results must have crossed the test network."""
import hosts
from crash_support import require_tools
from host_runs import TINY_TEXT, assert_same_archive, events, ranks_that_ran, reference, run_argv, wire_bytes
from strata_test import scratch

hosts.require()
require_tools()
tmp = scratch("cluster-text")

single = reference(TINY_TEXT, tmp / "single.h5")

with hosts.Hosts(3) as h:
    before = [wire_bytes(h, i) for i in range(3)]
    archive = tmp / "hosts.h5"
    p = h.mpirun([1, 1, 1], run_argv(TINY_TEXT, archive), timeout=120)
    assert p.returncode == 0, (p.returncode, p.stderr[-4000:])
    after = [wire_bytes(h, i) for i in range(3)]

ran = ranks_that_ran(events(p.stdout))
assert ran == {1, 2}, f"jobs ran on ranks {ran}, not on both worker hosts"
count = assert_same_archive(single, archive)
print(f"3 hosts (coordinator node0, workers node1, node2): {count} datasets as one process writes them")

# The workers' results (embedding shards of 26 x 384 floats, trained models) reached node0 over
# the wire: each worker host sent more than a shard's worth.
for i in (1, 2):
    sent = after[i][1] - before[i][1]
    assert sent > 26 * 384 * 4 // 4, f"node{i} sent only {sent} bytes"
    print(f"node{i}: {after[i][0] - before[i][0]} bytes in, {sent} bytes out on the test network")
print("ok")
