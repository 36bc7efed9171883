"""A cluster of five "hosts" on one Linux machine: network namespaces joined by a bridge.

    ┌──────────── bridge smb<tag>, 10.<a>.<b>.1/24 (this machine) ───────────┐
    │              │               │               │               │          │
  s3 .10        scheduler .11    worker-1 .21    worker-2 .22    driver .30
  moto server   dask scheduler   dask worker     dask worker     simplemr
  :9000         :8786            1 thread        1 thread        (run in it)

Each host is a network namespace with its own address and its own folder (its
TMPDIR, SIMPLEMR_TMPDIR, Dask's local directory and HOME), so nothing but the
network joins them: job data goes through the S3 server. Killing a host kills
every process in its namespace, as a machine that loses power.

    sudo python examples/netcluster.py up      # prints what to export, Ctrl-C to stop
    sudo python examples/netcluster.py down    # removes what a killed run left

Needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN), ``ip`` (iproute2), and
``pip install 'simplemr[dask]' 'moto[server]' s3fs``.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: Each cluster's folders are in one named so, then the PID of the process that made it.
FOLDER_PREFIX = "simplemr-netcluster-"
#: The credentials the S3 server accepts (moto accepts any).
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "simplemr",
    "AWS_SECRET_ACCESS_KEY": "simplemr-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
HOSTS = {"s3": 10, "scheduler": 11, "worker-1": 21, "worker-2": 22, "driver": 30}
WORKERS = ("worker-1", "worker-2")
PREFIX = "smr"


def why_not() -> str | None:
    """Why this machine cannot hold the cluster, or None if it can."""
    if sys.platform != "linux":
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    for module in ("distributed", "moto", "s3fs"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install 'simplemr[dask]' 'moto[server]' s3fs)"
    probe = f"{PREFIX}probe{os.getpid() % 100000}"
    try:
        _ip("netns", "add", probe)
    except subprocess.CalledProcessError as error:
        return f"cannot create a network namespace: {error.stderr.strip()}"
    _ip("netns", "del", probe)
    return None


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=True)
    return done.stdout


@dataclass
class NetCluster:
    """The namespaces, the bridge, and the processes of one cluster (``start`` it)."""

    worker_memory: str = "6GiB"
    tag: str = field(default_factory=lambda: f"{os.getpid() % 100000}")
    root: str = field(
        default_factory=lambda: tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
    )
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        number = int(self.tag)
        self.subnet = f"10.{200 + number % 50}.{number // 50 % 250}"
        self.bridge = f"smb{self.tag}"

    # --- names and addresses --------------------------------------------------------

    def namespace(self, host: str) -> str:
        return f"{PREFIX}{self.tag}-{host}"

    def address(self, host: str) -> str:
        return f"{self.subnet}.{HOSTS[host]}"

    @property
    def gateway(self) -> str:
        """This machine's address on the bridge (tests reach every host from it)."""
        return f"{self.subnet}.1"

    @property
    def scheduler(self) -> str:
        return f"tcp://{self.address('scheduler')}:8786"

    @property
    def endpoint(self) -> str:
        return f"http://{self.address('s3')}:9000"

    def folder(self, host: str) -> str:
        """The host's own folder: its temporary files, its home."""
        path = os.path.join(self.root, host)
        os.makedirs(os.path.join(path, "tmp"), exist_ok=True)
        return path

    def environment(self, host: str) -> dict[str, str]:
        """What a process of ``host`` runs with: credentials, its own folders, no
        Dask profiler (it costs Python tasks a quarter of their speed)."""
        home = self.folder(host)
        keep = {
            name: os.environ[name] for name in ("PATH", "LANG", "PYTHONPATH") if name in os.environ
        }
        return {
            **keep,
            **CREDENTIALS,
            "HOME": home,
            "TMPDIR": os.path.join(home, "tmp"),
            "SIMPLEMR_TMPDIR": os.path.join(home, "tmp"),
            "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
            "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__GIL__ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
        }

    # --- life -----------------------------------------------------------------------

    def start(self) -> NetCluster:
        """Make the network, start the S3 server, the scheduler and the workers, and
        wait until all are up."""
        try:
            self._network()
            python = sys.executable
            self.spawn("s3", [python, "-m", "moto.server", "-H", self.address("s3"), "-p", "9000"])
            self.spawn("scheduler", [
                python, "-m", "distributed.cli.dask_scheduler",
                "--host", self.address("scheduler"), "--port", "8786", "--dashboard-address", ":0",
            ])  # fmt: skip
            _wait_for_port(self.address("scheduler"), 8786)
            _wait_for_http(self.endpoint)
            for host in WORKERS:
                self.start_worker(host)
            self.wait_for_workers(len(WORKERS))
        except BaseException:
            self.stop()
            raise
        return self

    def _network(self) -> None:
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for number, host in enumerate(HOSTS):
            namespace, outside, inside = self.namespace(host), f"smv{self.tag}{number}", "eth0"
            _ip("netns", "add", namespace)
            _ip("link", "add", outside, "type", "veth", "peer", "name", f"smp{self.tag}{number}")
            _ip("link", "set", f"smp{self.tag}{number}", "netns", namespace)
            _ip("link", "set", outside, "master", self.bridge)
            _ip("link", "set", outside, "up")
            inns = ["netns", "exec", namespace, "ip"]
            _ip(*inns, "link", "set", f"smp{self.tag}{number}", "name", inside)
            _ip(*inns, "addr", "add", f"{self.address(host)}/24", "dev", inside)
            _ip(*inns, "link", "set", inside, "up")
            _ip(*inns, "link", "set", "lo", "up")
            _ip(*inns, "route", "add", "default", "via", self.gateway)

    def spawn(self, host: str, command: list[str], **options: object) -> subprocess.Popen[bytes]:
        """Start ``command`` on ``host``, logging to its folder."""
        log = open(os.path.join(self.folder(host), "log"), "ab")  # noqa: SIM115
        process = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace(host), *command],
            env=self.environment(host),
            cwd=self.folder(host),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **options,  # type: ignore[call-overload]
        )
        self.processes.setdefault(host, process)
        return process

    def start_worker(self, host: str) -> None:
        self.processes.pop(host, None)
        self.spawn(host, [
            sys.executable, "-m", "distributed.cli.dask_worker", self.scheduler,
            "--host", self.address(host), "--nworkers", "1", "--nthreads", "1",
            "--name", host, "--memory-limit", self.worker_memory,
            "--local-directory", os.path.join(self.folder(host), "tmp"), "--no-dashboard",
        ])  # fmt: skip

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        from distributed import Client

        with Client(self.scheduler, timeout="20s") as client:
            client.wait_for_workers(count, timeout=timeout)

    def run(
        self, host: str, command: list[str], **options: object
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``command`` on ``host`` to its end (the driver, say), as ``subprocess.run``."""
        return subprocess.run(
            ["ip", "netns", "exec", self.namespace(host), *command],
            env={**self.environment(host), **options.pop("env", {})},  # type: ignore[dict-item]
            cwd=self.folder(host),
            **options,  # type: ignore[call-overload]
        )

    def pids(self, host: str) -> list[int]:
        """Every process in ``host``'s namespace."""
        return [int(pid) for pid in _ip("netns", "pids", self.namespace(host)).split()]

    def kill_host(self, host: str) -> None:
        """Kill every process of ``host`` at once (SIGKILL), as a machine that dies."""
        for pid in self.pids(host):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process = self.processes.pop(host, None)
        if process is not None:
            process.wait(timeout=30)

    def stop(self) -> None:
        """Kill every process, remove the namespaces, the bridge and the folders."""
        for host in HOSTS:
            with contextlib.suppress(subprocess.CalledProcessError):
                self.kill_host(host)
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "del", self.namespace(host))
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", self.bridge)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> NetCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def s3(self, **options: Any) -> object:
        """An s3fs filesystem on the cluster's S3 server, from this machine (``options``
        go to ``s3fs.S3FileSystem``)."""
        import s3fs

        return s3fs.S3FileSystem(
            key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            endpoint_url=self.endpoint,
            **options,
        )


def _wait_for_port(host: str, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f} s")
        time.sleep(0.2)


def _wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} does not answer after {timeout:.0f} s")
        time.sleep(0.2)


def remove_leftovers() -> list[str]:
    """Remove the namespaces, bridges and folders of clusters whose process is gone."""
    removed = []
    for folder in glob.glob(os.path.join(tempfile.gettempdir(), FOLDER_PREFIX + "*")):
        tag = os.path.basename(folder)[len(FOLDER_PREFIX) :].split("-")[0]
        if tag.isdigit() and not _alive(int(tag)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    for line in _ip("netns", "list").splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith(PREFIX) and "-" in name:
            tag = name[len(PREFIX) : name.index("-")]
            if tag.isdigit() and not _alive(int(tag)):
                for pid in _ip("netns", "pids", name).split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
                _ip("netns", "del", name)
                removed.append(name)
    for line in _ip("-o", "link", "show", "type", "bridge").splitlines():
        name = line.split(":")[1].strip()
        if name.startswith("smb") and name[3:].isdigit() and not _alive(int(name[3:])):
            _ip("link", "del", name)
            removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    # Tags are PIDs modulo 100000; on this machine they are the PIDs themselves.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def running() -> Iterator[NetCluster]:
    """A started cluster, stopped at the end of the block."""
    cluster = NetCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("up", "down", "put"))
    parser.add_argument("where", nargs="*", help="put: ENDPOINT LOCAL_FOLDER BUCKET/PREFIX")
    args = parser.parse_args()
    if args.command == "put":
        import s3fs

        endpoint, local, remote = args.where
        s3 = s3fs.S3FileSystem(endpoint_url=endpoint)
        s3.put(local.rstrip("/") + "/", remote.rstrip("/") + "/", recursive=True)
        return
    if args.command == "down":
        print("\n".join(remove_leftovers()) or "nothing to remove")
        return
    reason = why_not()
    if reason:
        sys.exit(f"netcluster: {reason}")
    with running() as cluster:
        s3 = cluster.s3()
        s3.mkdir("data")  # type: ignore[attr-defined]
        keys = " ".join(f"{name}={value}" for name, value in CREDENTIALS.items())
        print(
            f"""The cluster is up (Ctrl-C stops it). Here, or on the driver host
(sudo ip netns exec {cluster.namespace("driver")} bash):

    export {keys}
    S3="--storage-option endpoint_url={cluster.endpoint}"
    python examples/netcluster.py put {cluster.endpoint} books/ data/books/
    simplemr wordcount s3://data/books/ --output s3://data/counts/ $S3 \\
        --executor dask --scheduler {cluster.scheduler}
""",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
