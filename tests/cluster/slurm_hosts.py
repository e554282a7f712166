"""A real SLURM on the test hosts (hosts.py): Debian's munged and slurmctld on node0 and one
slurmd per host, from a generated slurm.conf in a folder of their own; nothing is read from
or written to /etc. Commands (sbatch, squeue, scancel, ...) run on node0 with SLURM_CONF set.

    with SlurmHosts(3) as s:
        job = s.sbatch(["--nodes=3", script, arg])
        s.wait(job)

`require()` exits 77 (skipped) without the daemons (Debian: slurm-wlm, munge)."""
import os
import re
import shutil
import subprocess
import time

import hosts

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sacct")


def require():
    hosts.require()
    for tool in DAEMONS:
        if shutil.which(tool) is None:
            hosts.skip(f"{tool} not found (Debian: apt-get install slurm-wlm munge)")


class SlurmHosts(hosts.Hosts):
    def __init__(self, count=3, cpus=2):
        super().__init__(count)
        self.cpus = cpus
        self.state = self.folder / "slurm"
        self.conf = self.state / "slurm.conf"
        self.munge_socket = self.state / "munge.socket"

    def _make(self):
        super()._make()
        self.state.mkdir(mode=0o700)
        for name in self.names:
            (self.state / f"spool-{name}").mkdir()
            (self.state / f"tmp-{name}").mkdir()
        self._start_munge()
        self._write_conf()
        self.daemons = [self.popen(0, ["slurmctld", "-D", "-f", self.conf], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)]
        for i, name in enumerate(self.names):
            self.daemons.append(self.popen(i, ["slurmd", "-D", "-f", self.conf, "-N", name],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self._wait_idle()

    def _start_munge(self):
        key = self.state / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        p = self.run(0, ["munged", "--force", f"--socket={self.munge_socket}", f"--key-file={key}",
                         f"--pid-file={self.state / 'munged.pid'}", f"--log-file={self.state / 'munged.log'}",
                         f"--seed-file={self.state / 'munged.seed'}"])
        if p.returncode != 0:
            raise RuntimeError(f"munged did not start: {p.stderr.strip()} ({self.state / 'munged.log'})")

    def _write_conf(self):
        s = self.state
        nodes = "\n".join(f"NodeName={n} NodeAddr={a} CPUs={self.cpus} CoresPerSocket={self.cpus} ThreadsPerCore=1 RealMemory=512 State=UNKNOWN"
                          for n, a in zip(self.names, self.addresses))
        self.conf.write_text(f"""# Generated for one test run: {self.count} hosts in network namespaces.
ClusterName=strata-test
SlurmctldHost={self.names[0]}({self.addresses[0]})
SlurmctldPort=6817
SlurmdPort=6818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={s}/ctld
SlurmdSpoolDir={s}/spool-%n
# Each node's own temporary folder (PMIx puts its per-step folders there), as on real nodes.
TmpFS={s}/tmp-%n
SlurmctldPidFile={s}/slurmctld.pid
SlurmdPidFile={s}/slurmd-%n.pid
SlurmctldLogFile={s}/slurmctld.log
SlurmdLogFile={s}/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=600
{nodes}
PartitionName=test Nodes={",".join(self.names)} Default=YES MaxTime=INFINITE State=UP
""")
        # Named, not detected: detection needs a cgroup file system, and nothing here uses
        # cgroups (proctrack/linuxproc, task/affinity).
        (self.conf.parent / "cgroup.conf").write_text("CgroupPlugin=cgroup/v1\n")

    def command(self, argv, **kw):
        """A SLURM client command on node0."""
        kw.setdefault("env", dict(os.environ, SLURM_CONF=str(self.conf)))
        return self.run(0, argv, **kw)

    def _wait_idle(self, timeout=60):
        deadline = time.monotonic() + timeout
        out = ""
        while time.monotonic() < deadline:
            p = self.command(["sinfo", "-h", "-N", "-o", "%N %T"])
            out = p.stdout + p.stderr
            states = dict(line.split() for line in p.stdout.splitlines() if len(line.split()) == 2)
            if len(states) == self.count and all(v == "idle" for v in states.values()):
                return
            for d in self.daemons:
                if d.poll() is not None:
                    raise RuntimeError(f"a SLURM daemon exited ({d.args[-1]}): see {self.state}/*.log")
            time.sleep(0.5)
        raise RuntimeError(f"SLURM nodes not idle after {timeout} s: {out.strip()}")

    def sbatch(self, argv, env=None):
        e = dict(os.environ, SLURM_CONF=str(self.conf))
        e.update(env or {})
        p = self.command(["sbatch", "--parsable", *map(str, argv)], env=e)
        if p.returncode != 0:
            raise AssertionError(f"sbatch failed: {p.stderr.strip()}")
        return p.stdout.strip().split(";")[0]

    def job_state(self, job):
        p = self.command(["scontrol", "show", "job", job])
        m = re.search(r"JobState=(\S+)", p.stdout)
        return m.group(1) if m else "UNKNOWN"

    ENDED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL",
             "DEADLINE")

    def wait(self, job, timeout=300, until=ENDED):
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.job_state(job)
            if state in until:
                return state
            time.sleep(0.5)
        raise AssertionError(f"job {job} still {state} after {timeout} s")

    def scancel(self, job):
        self.command(["scancel", job])
