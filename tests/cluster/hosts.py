"""Several test hosts on one machine, linked by a real TCP network of their own.

Each host is a network namespace with one interface (`strata0`) on a private bridge and an
address in 10.213.0.0/24; its processes also get a hostname of their own (a UTS namespace).
Nothing else is reachable from a host: a namespace has only its loopback and the bridge's
subnet, no default route, and the machine's own namespace has no address on the bridge.
OpenMPI launches into the hosts through tests/cluster/netns_rsh.sh, its remote-shell agent
(`ip netns exec`, a fresh environment, like ssh onto a node), and carries every message over
TCP on `strata0` (btl self,tcp; the daemons' out-of-band traffic on the same interface).

    with Hosts(3) as h:                 # node0..node2
        p = h.mpirun([1, 1, 1], [BIN, "run", sweep])  # rank 0 on node0, 1 on node1, 2 on node2
        h.link_down(2)                  # faults: link_down, slow_wire, kill_host

Names carry this process's pid (namespaces strata-<pid>-n<i>, bridge sb<pid>, folder
/tmp/strata-hosts-<pid>-*): a later harness removes what a killed one left behind. Teardown
kills every process inside the hosts and deletes them, also when the test fails or is stopped
by SIGTERM/SIGINT/SIGHUP. `require()` exits 77 (skipped) where namespaces cannot be made."""
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUBNET = "10.213.0"  # test-only addresses, never routed anywhere: only inside our namespaces
FIRST_HOST = 10
IFACE = "strata0"
AGENT = Path(__file__).resolve().parent / "netns_rsh.sh"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def skip(why):
    print(f"skipped: {why}")
    sys.exit(77)


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def require(*tools):
    """Exits 77 unless this process may make network namespaces (root, iproute2, util-linux's
    unshare, permission) and finds every one of `tools` on PATH."""
    if os.geteuid() != 0:
        skip("network namespaces need root")
    for tool in ("ip", "unshare", "mpirun", *tools):
        if shutil.which(tool) is None:
            skip(f"{tool} not found")
    probe = f"strata-{os.getpid()}-probe"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        skip(f"cannot make a network namespace here: {made.stderr.strip()}")
    _ip("netns", "del", probe, check=False)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_inside(namespace):
    """SIGKILL to every process in a namespace; returns how many there were."""
    out = _ip("netns", "pids", namespace, check=False).stdout.split()
    for pid in out:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    return len(out)


def _remove_namespace(namespace):
    for _ in range(50):
        if not _kill_inside(namespace):
            break
        time.sleep(0.1)
    _ip("netns", "del", namespace, check=False)


def remove_stale():
    """Deletes the hosts and bridges of harnesses whose process is gone (killed with SIGKILL,
    where no teardown runs)."""
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        m = re.match(r"(strata-(\d+)-\S+)", line)
        if m and not _alive(int(m.group(2))):
            _remove_namespace(m.group(1))
    for line in _ip("-o", "link", "show", "type", "bridge", check=False).stdout.splitlines():
        m = re.match(r"\d+:\s+(sb(\d+)):", line)
        if m and not _alive(int(m.group(2))):
            _ip("link", "del", m.group(1), check=False)
    for folder in Path(tempfile.gettempdir()).glob("strata-hosts-*-*"):
        m = re.match(r"strata-hosts-(\d+)-", folder.name)
        if m and not _alive(int(m.group(1))):
            shutil.rmtree(folder, ignore_errors=True)


class Hosts:
    def __init__(self, count=3, tcp_retries2=None):
        """`tcp_retries2`: on node0 (where mpirun runs), how many times TCP resends unanswered
        data before it gives the connection up (Linux's default 15 is ~15 minutes; 6 is ~25 s).
        mpirun, ending a job, waits for every daemon's answer: for one on a host cut off the
        network, until TCP gives up."""
        self.count = count
        self.tcp_retries2 = tcp_retries2
        self.tag = f"strata-{os.getpid()}"
        self.bridge = f"sb{os.getpid()}"
        self.names = [f"node{i}" for i in range(count)]
        self.namespaces = [f"{self.tag}-n{i}" for i in range(count)]
        self.addresses = [f"{SUBNET}.{FIRST_HOST + i}" for i in range(count)]
        self.links = [f"sv{os.getpid()}n{i}" for i in range(count)]  # the bridge's end of each
        self.folder = Path(tempfile.mkdtemp(prefix=f"strata-hosts-{os.getpid()}-"))
        self.hosts_file = self.folder / "hosts"
        self._made = False
        self._nft = set()

    # --- making and removing -----------------------------------------------------------------
    def __enter__(self):
        remove_stale()
        atexit.register(self.teardown)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, _exit_on_signal)
        self._made = True
        try:
            self._make()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False

    def _make(self):
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("link", "set", self.bridge, "up")
        for ns, link, address in zip(self.namespaces, self.links, self.addresses):
            _ip("netns", "add", ns)
            _ip("link", "add", link, "type", "veth", "peer", "name", IFACE, "netns", ns)
            _ip("link", "set", link, "master", self.bridge)
            _ip("link", "set", link, "up")
            _ip("-n", ns, "addr", "add", f"{address}/24", "dev", IFACE)
            _ip("-n", ns, "link", "set", IFACE, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        if self.tcp_retries2 is not None:
            subprocess.run(["ip", "netns", "exec", self.namespaces[0], "sysctl", "-q", "-w",
                            f"net.ipv4.tcp_retries2={self.tcp_retries2}"], check=True)
        self.hosts_file.write_text(
            "".join(f"{a} {ns} {n}\n" for a, ns, n in zip(self.addresses, self.namespaces, self.names)))

    def teardown(self):
        if not self._made:
            return
        self._made = False
        for ns in self.namespaces:
            _remove_namespace(ns)
        _ip("link", "del", self.bridge, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- running on a host -------------------------------------------------------------------
    def on(self, i, argv):
        """The command line that runs `argv` on host i (its namespace and hostname)."""
        return ["ip", "netns", "exec", self.namespaces[i], "unshare", "--uts", "--",
                "sh", "-c", 'hostname "$0" && exec "$@"', self.names[i], *map(str, argv)]

    def run(self, i, argv, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(self.on(i, argv), **kw)

    def popen(self, i, argv, **kw):
        return subprocess.Popen(self.on(i, argv), **kw)

    def mpi_environment(self, env=None):
        """What mpirun on node0 needs to launch into the hosts and talk over the test network."""
        e = dict(os.environ)
        e.update({
            "OMPI_MCA_plm_rsh_agent": str(AGENT),
            "OMPI_MCA_plm_rsh_no_tree_spawn": "1",
            "OMPI_MCA_btl": "self,tcp",
            "OMPI_MCA_btl_tcp_if_include": IFACE,
            "OMPI_MCA_oob_tcp_if_include": IFACE,
            "OMPI_ALLOW_RUN_AS_ROOT": "1",
            "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            "STRATA_HOSTS_FILE": str(self.hosts_file),
            "OMP_NUM_THREADS": "1",
        })
        e.update(env or {})
        return e

    def mpirun_argv(self, layout, argv, forward=()):
        """mpirun on node0 with layout[i] ranks on host i, ranks numbered host by host; the
        names in `forward` are passed to the ranks (-x), like any site's mpirun line."""
        hosts = ",".join(f"{a}:{n}" for a, n in zip(self.addresses, layout) if n > 0)
        cmd = ["mpirun", "-np", str(sum(layout)), "-H", hosts, "--bind-to", "none", "-x", "OMP_NUM_THREADS"]
        for name in forward:
            cmd += ["-x", name]
        return self.on(0, cmd + [str(a) for a in argv])

    def mpirun(self, layout, argv, env=None, forward=(), timeout=120):
        return subprocess.run(self.mpirun_argv(layout, argv, forward), capture_output=True, text=True,
                              env=self.mpi_environment(env), timeout=timeout)

    def mpirun_popen(self, layout, argv, env=None, forward=(), **kw):
        return subprocess.Popen(self.mpirun_argv(layout, argv, forward), env=self.mpi_environment(env), **kw)

    # --- faults ------------------------------------------------------------------------------
    def link_down(self, i):
        """Cuts host i off the network: its interface goes down, packets to and from it are lost."""
        _ip("-n", self.namespaces[i], "link", "set", IFACE, "down")

    def link_up(self, i):
        _ip("-n", self.namespaces[i], "link", "set", IFACE, "up")

    def kill_host(self, i):
        """SIGKILL to every process on host i (its MPI daemon and ranks): the host is gone."""
        return _kill_inside(self.namespaces[i])

    def slow_wire(self, i, delay_ms, loss_percent, rate="10mbit"):
        """Delay and loss on host i's outgoing traffic. With the kernel's netem: `tc netem delay
        loss rate`. Kernels without netem (it is a module of its own) get the nearest the
        kernel has: a token bucket (`tc tbf`) whose queue holds packets up to `delay_ms`
        at `rate`, and nftables dropping `loss_percent` of the packets at random. Returns
        which one was used."""
        ns = self.namespaces[i]
        netem = subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", IFACE, "root", "netem",
                                "delay", f"{delay_ms}ms", "loss", f"{loss_percent}%", "rate", rate],
                               capture_output=True, text=True)
        if netem.returncode == 0:
            return "netem"
        if shutil.which("nft") is None:
            raise RuntimeError(f"no netem ({netem.stderr.strip()}) and no nft for packet loss")
        subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", IFACE, "root", "tbf", "rate", rate,
                        "burst", "4kb", "latency", f"{delay_ms}ms"], check=True, capture_output=True, text=True)
        rules = "table inet strata_wire {\n"
        for chain, hook, match in (("out", "output", "oifname"), ("in", "input", "iifname")):
            rules += (f"  chain {chain} {{\n    type filter hook {hook} priority 0;\n"
                      f"    {match} \"{IFACE}\" numgen random mod 100 < {loss_percent} drop\n  }}\n")
        rules += "}\n"
        subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules, check=True, capture_output=True,
                       text=True)
        self._nft.add(i)
        return "tbf+nft"

    def clear_wire(self, i):
        ns = self.namespaces[i]
        subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", IFACE, "root"], capture_output=True)
        if i in self._nft:
            subprocess.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "strata_wire"],
                           capture_output=True)
            self._nft.discard(i)


def _exit_on_signal(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")
