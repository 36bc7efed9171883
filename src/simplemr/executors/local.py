"""The local executor: worker processes on this machine, each owned through its own pipe.

    driver                                   worker i (one per core)
    ──────                                   ───────────────────────
    submit(task) ─▶ queue ─▶ idle worker? ──pipe──▶ execute(job, task)
    next_completed() ◀── wait(pipes + sentinels) ◀──pipe── Completion
                         │
                         └─ a sentinel fired: the worker died. Its task completes
                            as a 'lost' failure (naming the signal or exit code),
                            and a fresh worker takes its place.

Why not ``multiprocessing.Pool`` or ``ProcessPoolExecutor``: when the OS kills one
of their workers, ``Pool.map`` waits forever and ``ProcessPoolExecutor`` fails
every pending task at once without saying which one was running. With a pipe per
worker and its process sentinel, the driver always knows which task a dead worker
held, and no shared queue lock can die with a worker.

Workers ignore SIGINT and SIGQUIT: Ctrl-C reaches the whole process group, and it is
the driver's job to stop them and clean up. They end as soon as their driver's end
of the pipe closes (on Linux), even in the middle of a task, so a driver killed with
SIGKILL leaves no worker running.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import multiprocessing.resource_tracker
import os
import pickle
import select
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
import traceback
import types
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from .. import shipping
from ..errors import JobDefinitionError, SimplemrError
from ..shuffle.task import TaskProgress, watched_by
from ..signals import TERMINAL_KEYS, TERMINATING, signals_held
from .base import (
    Attempt,
    Completion,
    Executor,
    Task,
    TaskFailure,
    execute,
    portable,
    unsendable,
)
from .limits import check_machine_allows

__all__ = ["LocalExecutor", "default_start_method"]


def default_start_method() -> str:
    """``forkserver`` where there is one, else ``spawn``.

    Both start workers from a clean, single-threaded process, so replacing a dead
    worker is safe even while the driver runs threads (a plain ``fork`` of a
    threaded process can deadlock on a lock held by another thread).
    """
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


_READY = "ready"
_swept = False
#: How often, in seconds, a worker says whether its task progressed.
HEARTBEAT_INTERVAL = 1.0
#: How many times a worker killed while it starts is started again before the job fails.
START_TRIES = 3
_STOP = b"stop"
#: With a task timeout, how long a starting worker may go without a sign of life
#: before it counts as stopped: until its job is loaded, a thread of it says it is
#: alive every second, so only a process that does not run at all (stopped, or its
#: interpreter still starting under heavy load) is silent that long. One that runs but
#: never finishes loading (a job file's import that waits forever) is not caught.
START_SILENCE = 60.0

#: A worker's garbage collector thresholds (generations 0, 1, 2, as CPython 3.8 to
#: 3.13 read them). A task's tables are millions of small objects that all live until
#: it spills; at CPython's default (a collection every 700 allocations, 2000 in 3.13)
#: the collector walks them again and again, for nothing. Cyclic garbage of the job's
#: own code waits a little longer: at most 50,000 objects.
WORKER_GC_THRESHOLDS = (50_000, 20, 10)


#: Seconds between two looks for stalled tasks (about HEARTBEAT_INTERVAL apart) past
#: which the driver takes itself to have been stopped, not its workers.
DRIVER_AWAY = 5.0


#: What a worker that the system would not let start says of it.
LIMIT_ON_PROCESSES = (
    "a limit on processes and threads (ulimit -u, or a container's pids limit) may be "
    "reached: ask for fewer workers"
)


@dataclass(frozen=True)
class _CannotStart:
    """A new worker's first word when it cannot run: why."""

    reason: str


def _worker_main(
    conn: Connection,
    job_payload: bytes,
    environment: dict[str, str],
    heartbeat: Any,
    read: Any,
) -> None:
    """A worker's life: receive a task, execute it, reply, repeat.

    The reply is ``(result, failure)`` only: the driver knows which task it sent.
    A worker whose driver has gone (stopped, interrupted, killed) ends quietly.
    ``heartbeat`` (shared memory) says when its task last made progress, ``read`` how
    many input bytes it has read.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)
    # A process group of its own, which every process it starts joins (a mapper's
    # commands, their children): the driver ends the whole group with the worker.
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    # Started with the stopping signals held back: SIGTERM and the rest act as usual.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (*TERMINAL_KEYS, *TERMINATING))
    state = _WorkerState(heartbeat, read, TaskProgress())
    try:
        if hasattr(select, "POLLRDHUP"):  # Linux
            threading.Thread(target=_watch_driver, args=(conn,), daemon=True).start()
        threading.Thread(target=_beat, args=(state,), daemon=True).start()
    except RuntimeError as error:  # "can't start new thread": threads count as processes
        with contextlib.suppress(OSError):
            conn.send_bytes(pickle.dumps(_CannotStart(f"it could not start a thread ({error})")))
        return
    # A fork server started by an earlier job holds that moment's environment.
    os.environ.clear()
    os.environ.update(environment)
    # A broken pipe means the driver closed its end: there is nobody left to reply to.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        _serve(conn, job_payload, state)


def _watch_driver(conn: Connection) -> None:
    """End this worker the moment its driver is gone, even killed with SIGKILL: its end
    of the pipe closes (with ``forkserver``, whose server lives as long as any worker
    does, so the kernel's parent-death signal would never fire), or this process is
    handed to another parent (with ``fork``, whose workers also hold the driver's ends
    of their pipes, so those never close). A thread, so a busy worker goes too."""
    parent = os.getppid()
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLRDHUP)
    hung_up = select.POLLRDHUP | select.POLLHUP | select.POLLERR | select.POLLNVAL
    while True:
        events = poller.poll(1000 * HEARTBEAT_INTERVAL)
        if any(event & hung_up for _, event in events) or os.getppid() != parent:
            if os.getpgid(0) == os.getpid():  # its group, this worker and what it started
                os.killpg(0, signal.SIGKILL)
            os._exit(1)


def _end(process: Any) -> None:
    """Kill a worker and every process of its group (the commands its task runs, what
    they started), not the worker alone."""
    _end_group(process.pid)
    process.kill()


def _end_group(pid: int | None) -> None:
    """Kill what is left of the process group a worker of process id ``pid`` leads
    (none where it could not make one: then no group has that id)."""
    if pid is not None:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


class _WorkerState:
    """What a worker tells its driver through shared memory: when its task last
    made progress (``heartbeat``), and the input bytes the task has read (``read``),
    from what the task counts into ``progress``."""

    def __init__(self, heartbeat: Any, read: Any, progress: TaskProgress) -> None:
        self.heartbeat = heartbeat
        self.read = read
        self.progress = progress
        self.loaded = threading.Event()  # the job is loaded: tasks may come
        self.lock = threading.Lock()  # between the beat and a task's start and end

    def new_task(self) -> None:
        """A task starts or ended: it has read nothing (yet, or any more), and
        follows nothing (what it followed may be let go)."""
        with self.lock:
            self.progress.read = 0
            self.progress.spot[0] = None
            self.read.value = 0


def _beat(state: _WorkerState) -> None:
    """Say, in shared memory, when the running task last made progress and what it
    has read, and, until the job is loaded, that the worker is alive; a stopped or
    stuck worker stops saying so."""
    last = state.progress.sample()
    while True:
        time.sleep(HEARTBEAT_INTERVAL)
        ticks = state.progress.sample()
        if ticks != last or not state.loaded.is_set():
            state.heartbeat.value = time.monotonic()  # one clock for every process
            last = ticks
        with state.lock:
            state.read.value = state.progress.read


def _serve(conn: Connection, job_payload: bytes, state: _WorkerState) -> None:
    """Load the job, say so, then run tasks until told to stop or the driver is gone,
    each counting its progress into ``state.progress``."""
    try:
        job = shipping.loads(job_payload)
    except BaseException:
        conn.send_bytes(pickle.dumps(traceback.format_exc()))
        return
    gc.freeze()  # what the worker loaded to start (modules, the job) is kept for good
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    state.loaded.set()
    conn.send_bytes(pickle.dumps(_READY))
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if message == _STOP:
            return
        try:
            task = pickle.loads(message)
        except Exception as error:
            failure = TaskFailure("internal", f"a worker could not load its input: {error!r}")
            conn.send_bytes(pickle.dumps((None, failure, Attempt())))
            continue
        state.heartbeat.value = time.monotonic()
        state.new_task()
        with watched_by(state.progress):
            completion = execute(job, task)
        state.new_task()  # before the reply: its bytes now count as the task's
        conn.send_bytes(_reply(completion))


def _reply(completion: Completion) -> bytes:
    """Pickle ``(result, failure, attempt)``, dropping what cannot make the trip home."""
    failure = portable(completion.failure)
    try:
        reply = (completion.result, failure, completion.attempt)
        return pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        failure = TaskFailure("internal", f"its result cannot be pickled: {error!r}")
        return pickle.dumps((None, failure, completion.attempt))


@contextlib.contextmanager
def _main_module_withheld() -> Iterator[None]:
    """Start processes that do not import the caller's ``__main__``.

    ``spawn`` and ``forkserver`` tell each new process to import the parent's main
    module (by path or by name, as ``__mp_main__``) so that pickles naming it resolve.
    That re-runs an unguarded script's job in every worker, and fails for standard
    input. The job's code travels by value (``shipping.py``), so a worker has no use
    for the import: while a process starts, ``__main__`` is a module that names no file.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def remove_dead_socket_folders(root: str | None = None) -> None:
    """Remove the ``pymp-*`` folders a killed driver left in the temp folder.

    multiprocessing keeps its fork server's socket in such a folder and removes it at
    exit, which a driver killed with SIGKILL never reaches. A folder of this user
    whose every entry is a socket that nobody listens on any more is such a leftover.
    """
    root = root or tempfile.gettempdir()
    try:
        names = [name for name in os.listdir(root) if name.startswith("pymp-")]
        # Sockets some process holds, read without touching them: a connection would
        # make a live fork server fail its hand-over.
        with open("/proc/net/unix", encoding="utf-8", errors="replace") as table:
            held = {line.split()[-1] for line in table if len(line.split()) >= 8}
    except OSError:
        return  # not Linux, or nothing to look at
    for name in names:
        folder = os.path.join(root, name)
        try:
            if os.lstat(folder).st_uid != os.getuid() or os.path.islink(folder):
                continue
            entries = [os.path.join(folder, entry) for entry in os.listdir(folder)]
            sockets = all(stat.S_ISSOCK(os.lstat(entry).st_mode) for entry in entries)
        except OSError:
            continue
        if entries and sockets and not any(entry in held for entry in entries):
            shutil.rmtree(folder, ignore_errors=True)


def describe_exit(exitcode: int | None) -> str:
    """Say how a process ended, naming the signal and its likely cause."""
    if exitcode is None:
        return "stopped responding"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = {
            "SIGKILL": " (killed from outside, often by the kernel's out-of-memory killer)",
            "SIGSEGV": " (a crash in native code)",
            "SIGBUS": " (a crash in native code, or a full /dev/shm)",
            "SIGABRT": " (aborted by native code)",
            "SIGXFSZ": " (a file grew past the size limit)",
        }.get(name, "")
        return f"was killed by {name}{hint}"
    return f"exited with code {exitcode}"


class _Worker:
    __slots__ = ("conn", "given", "heartbeat", "process", "read", "stalled", "started", "task")

    def __init__(self, process: Any, conn: Connection, heartbeat: Any, read: Any) -> None:
        self.process = process
        self.conn = conn
        self.heartbeat = heartbeat  # shared: when its task last made progress
        self.read = read  # shared: the input bytes its task has read
        self.task: Task | None = None
        self.started = 0.0  # when it was given its task (time.time(), for events)
        self.given = 0.0  # the same, by time.monotonic()
        self.stalled = False  # killed for making no progress


class LocalExecutor(Executor):
    """Runs tasks on ``workers`` processes of this machine."""

    name = "local"

    def __init__(
        self, workers: int, start_method: str | None = None, task_timeout: float | None = None
    ) -> None:
        super().__init__(workers)
        check_machine_allows(self.workers)
        #: Seconds a task may go without progress before its worker is killed (None: no limit).
        self.task_timeout = task_timeout or None
        method = start_method or default_start_method()
        if method not in multiprocessing.get_all_start_methods():
            raise JobDefinitionError(
                f"start method {method!r} is not available here; choose one of "
                f"{', '.join(multiprocessing.get_all_start_methods())}"
            )
        self.start_method = method
        self._context = multiprocessing.get_context(method)
        if method == "forkserver":
            # The server imports simplemr once; every worker forks from it ready to go.
            self._context.set_forkserver_preload(["simplemr.executors.local"])
        self._workers: list[_Worker] = []
        self._queue: deque[Task] = deque()
        self._done: deque[Completion] = deque()
        self._payload = b""
        self._ignored_sigchld = False
        self._checked = time.monotonic()  # when stalled tasks were last looked for

    def start(self, job_payload: bytes) -> None:
        global _swept
        if not _swept:  # once a process: what drivers killed before this one left
            _swept = True
            remove_dead_socket_folders()
        self._heed_children()
        self._checked = time.monotonic()
        self._queue.clear()
        self._done.clear()
        self._payload = job_payload
        # All start at once; then each is waited for in turn.
        self._workers = [self._start_process(slot) for slot in range(self.workers)]
        for slot, worker in enumerate(self._workers):
            self._workers[slot] = self._until_ready(slot, worker)

    def _heed_children(self) -> None:
        """Give SIGCHLD its default action while this executor's workers are this
        process's children (``spawn``, ``fork``): ignored, inherited so or set so, it
        has the kernel reap them at once, and a dead worker would look alive forever."""
        if self.start_method == "forkserver":
            return  # the workers are the fork server's children, and it heeds them
        if signal.getsignal(signal.SIGCHLD) != signal.SIG_IGN:
            return
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        except ValueError:  # not the main thread: it cannot be changed here
            raise JobDefinitionError(
                f"SIGCHLD is ignored in this process, so workers started with "
                f"{self.start_method!r} could not be told dead, and only the main thread "
                "can change it: run the job from the main thread, or use "
                "start_method='forkserver'"
            ) from None
        self._ignored_sigchld = True

    def _spawn(self, slot: int) -> _Worker:
        return self._until_ready(slot, self._start_process(slot))

    def _until_ready(self, slot: int, worker: _Worker) -> _Worker:
        """Wait for a new worker's first word; return the worker once it is ready.

        One that cannot load the job, or exits with an error, fails the job at once
        with the reason: every worker would do the same. One killed by a signal while
        it starts (as the kernel's out-of-memory killer does under pressure) is
        started again, up to ``START_TRIES`` in all.
        """
        for tries in itertools.count(1):
            try:
                problem, worth_retrying = self._await_ready(worker)
            except BaseException:
                _end(worker.process)
                raise
            if problem is None:
                return worker
            _end(worker.process)  # should it still be there
            worker.process.join()
            if not worth_retrying or tries == START_TRIES:
                self.shutdown(cancel=True)
                times = f" (started {tries} times)" if tries > 1 else ""
                raise SimplemrError(f"a worker process failed to start: {problem}{times}")
            worker = self._start_process(slot)
        raise AssertionError("unreachable")

    def _start_process(self, slot: int) -> _Worker:
        ours, theirs = self._context.Pipe(duplex=True)
        heartbeat = self._context.RawValue("d", time.monotonic())
        read = self._context.RawValue("q", 0)
        # get_context(str) is typed BaseContext, which has no Process; every real context has.
        process = self._context.Process(  # type: ignore[attr-defined]
            target=_worker_main,
            args=(theirs, self._payload, dict(os.environ), heartbeat, read),
            name=f"Worker-{slot + 1}",
            daemon=True,
        )
        # Workers (and the fork server) start with Ctrl-C and Ctrl-\\ held back, the
        # stopping signals too while the fork server hands a worker over (cut short,
        # the handshake makes the server print a traceback); the driver gets them after.
        try:
            multiprocessing.resource_tracker.ensure_running()
            with _main_module_withheld(), signals_held(also=TERMINATING):
                process.start()
        except (BlockingIOError, EOFError) as error:  # fork refused, here or in the server
            ours.close()
            theirs.close()
            raise SimplemrError(
                f"cannot start worker {slot + 1} of {self.workers}: the system refused "
                f"another process ({error or type(error).__name__}); {LIMIT_ON_PROCESSES}"
            ) from None
        theirs.close()
        return _Worker(process, ours, heartbeat, read)

    def _await_ready(self, worker: _Worker) -> tuple[str | None, bool]:
        """Wait for a new worker's first word: ``(None, _)`` when it is ready, else what
        went wrong and whether another try might go better (it was killed by a signal,
        or, with a task timeout, went silent while it started: stopped, or stuck)."""
        process, conn = worker.process, worker.conn
        silence = START_SILENCE if self.task_timeout else None
        timeout = None if silence is None else HEARTBEAT_INTERVAL
        while not wait([conn, process.sentinel], timeout=timeout):
            if silence is not None and time.monotonic() - worker.heartbeat.value > silence:
                _end(process)
                process.join()
                conn.close()
                return f"it made no progress for {silence:g} s while it started", True
        message = None
        if conn.poll():
            with contextlib.suppress(EOFError, OSError):
                message = pickle.loads(conn.recv_bytes())
        if message == _READY:
            return None, False
        process.join(timeout=5)
        conn.close()
        if isinstance(message, _CannotStart):
            return f"{message.reason}; {LIMIT_ON_PROCESSES}", False
        if isinstance(message, str):
            return f"it could not load the job:\n{message}", False
        detail = f"it {describe_exit(process.exitcode)} before it was ready"
        if process.exitcode is not None and process.exitcode > 0:
            detail += " (its error output, above, says why)"
        return detail, process.exitcode is None or process.exitcode < 0

    def submit(self, task: Task) -> None:
        self._queue.append(task)
        self._dispatch()

    def _dispatch(self) -> None:
        for worker in self._workers:
            while self._queue and worker.task is None:
                task = self._queue.popleft()
                try:
                    message = shipping.dumps(task)
                except Exception as error:
                    self._done.append(Completion(task.context, failure=unsendable(error)))
                    continue
                worker.task = task
                worker.started = time.time()
                worker.given = time.monotonic()
                # A worker that died idle fails to take it; its sentinel then re-runs it.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    worker.conn.send_bytes(message)

    def next_completed(self) -> Completion:
        self._dispatch()
        while not self._done:
            if not any(worker.task for worker in self._workers):
                raise RuntimeError("next_completed() called with no task submitted")
            watched: dict[Any, _Worker] = {}
            for worker in self._workers:
                watched[worker.conn] = worker
                watched[worker.process.sentinel] = worker
            ready = wait(list(watched), timeout=HEARTBEAT_INTERVAL if self.task_timeout else None)
            self._stop_stalled()
            handled: set[int] = set()
            for obj in ready:
                worker = watched[obj]
                if id(worker) in handled:
                    continue
                handled.add(id(worker))
                self._collect(worker)
            self._dispatch()
        return self._done.popleft()

    def reading(self) -> int | None:
        return sum(
            int(worker.read.value)
            for worker in list(self._workers)
            if (task := worker.task) is not None and task.context.phase == "map"
        )

    def _stop_stalled(self) -> None:
        """Kill each worker whose task made no progress for ``task_timeout`` seconds (a
        stopped process, code stuck on one record); its death makes the attempt lost."""
        if not self.task_timeout:
            return
        now = time.monotonic()
        # This process was stopped itself (Ctrl-Z, SIGSTOP) if it looked so long ago:
        # the silence is its own, so each task's clock starts again.
        away, self._checked = now - self._checked > DRIVER_AWAY, now
        for worker in self._workers:
            if worker.task is None or worker.stalled:
                continue
            if away:
                worker.given = now
                continue
            if worker.conn.poll():  # its reply waits: the task ended, it is not stuck
                continue
            if now - max(worker.given, worker.heartbeat.value) > self.task_timeout:
                worker.stalled = True
                _end(worker.process)

    def _collect(self, worker: _Worker) -> None:
        if worker.conn.poll() and worker.task is not None:
            context = worker.task.context
            try:
                result, failure, attempt = pickle.loads(worker.conn.recv_bytes())
            except (EOFError, OSError):
                pass  # it died: see below
            except Exception as error:
                worker.task = None
                failure = TaskFailure("internal", f"its reply could not be unpickled: {error!r}")
                self._done.append(Completion(context, failure=failure, attempt=self._ran(worker)))
                return
            else:
                worker.task = None
                if not attempt.worker:  # it could not even load the task
                    attempt = self._ran(worker)
                self._done.append(Completion(context, result, failure, attempt))
                return
        if worker.process.is_alive():
            return
        self._replace(worker)

    @staticmethod
    def _ran(worker: _Worker) -> Attempt:
        """What the driver knows of an attempt its worker could not report."""
        return Attempt(worker.process.name, worker.started, time.time())

    def _replace(self, worker: _Worker) -> None:
        worker.process.join()
        task = worker.task
        if task is not None:
            how = describe_exit(worker.process.exitcode)
            if worker.stalled:
                how = (
                    f"made no progress for {self.task_timeout:g} s and was killed (the task "
                    "timeout: a stopped process, or code stuck on one record)"
                )
            failure = TaskFailure("lost", f"its worker process (pid {worker.process.pid}) {how}")
            self._done.append(Completion(task.context, failure=failure, attempt=self._ran(worker)))
        worker.conn.close()
        slot = self._workers.index(worker)
        self._workers[slot] = self._spawn(slot)

    def shutdown(self, *, cancel: bool = False) -> None:
        self._queue.clear()
        self._done.clear()
        for worker in self._workers:
            if cancel or worker.task is not None:
                _end(worker.process)
            else:
                try:
                    worker.conn.send_bytes(_STOP)
                except OSError:
                    _end(worker.process)
        for worker in self._workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                _end(worker.process)
                worker.process.join()
            _end_group(worker.process.pid)  # what its tasks started and left running
            worker.conn.close()
        self._workers = []
        if self._ignored_sigchld:  # as the caller had it
            self._ignored_sigchld = False
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
