"""Bad input at the command line: one clear line on stderr, exit code 2, nothing lost."""
from pathlib import Path

from strata_test import SOURCE, scratch, strata

bad = sorted((SOURCE / "tests" / "sweeps_bad").glob("*.toml"))
assert len(bad) >= 20
for f in bad:
    expected = f.read_text().splitlines()[0].removeprefix("# expect: ")
    p = strata("plan", f, check=False)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2, (f.name, p.returncode, p.stderr)
    assert len(lines) == 1 and expected in lines[0], (f.name, p.stderr)
print(f"{len(bad)} malformed sweeps: exit 2 with the expected message")

# The paper's sweep plans here, and `run` names the first missing input without creating anything.
plan = strata("plan", SOURCE / "sweeps" / "paper.toml").stdout
assert "experts=7 atoms=32 sparsity=[8,12,16,20,24,28,32]" in plan and "strata=5" in plan, plan
tmp = scratch("cli-errors")
p = strata("run", SOURCE / "sweeps" / "paper.toml", "--archive", tmp / "paper.h5", check=False)
assert p.returncode == 2 and "aclImdb" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
assert not (tmp / "paper.h5").exists()

# Wrong files where an archive is expected.
junk = tmp / "junk.h5"
junk.write_bytes(b"not an archive")
p = strata("inspect", junk, check=False)
assert p.returncode == 2 and "junk.h5" in p.stderr, p.stderr
p = strata("run", SOURCE / "sweeps" / "nope.toml", check=False)
assert p.returncode == 2 and "nope.toml" in p.stderr, p.stderr
print("ok")
