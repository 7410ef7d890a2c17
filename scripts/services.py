"""Throwaway PostgreSQL, Redis and MongoDB-speaking servers on free loopback ports.

Used by the test suite (scripts/pytest_services.py), `make run` (scripts/run_local.py) and the
benchmarks. Each server lives in its own directory and is stopped with SIGTERM.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, process: subprocess.Popen, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} before listening")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on {LOOPBACK}:{port} within {timeout}s")


def find_postgres_binary(name: str) -> str | None:
    for directory in POSTGRES_BIN_DIRS:
        candidate = directory / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def _demote_to(user: str):
    """PostgreSQL refuses to run as root: run it as `user` when we are root."""
    if os.geteuid() != 0:
        return None, None
    record = pwd.getpwnam(user)

    def demote():
        os.setgid(record.pw_gid)
        os.setuid(record.pw_uid)

    return demote, record


def _process_tree(root: int) -> list[int]:
    """`root` and every process descending from it (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


@dataclass
class Server:
    """A server process we started; `stop()` is idempotent."""

    name: str
    port: int
    directory: Path
    process: subprocess.Popen | None = None
    owns_directory: bool = True
    log_path: Path = field(init=False)

    def __post_init__(self):
        self.log_path = self.directory / f"{self.name}.log"

    def stop(self, *, remove: bool = True) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if remove and self.owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    halt_signal = signal.SIGKILL

    @contextmanager
    def paused(self):
        """Hang the server (SIGSTOP to it and its children: it still accepts connections, then
        answers nothing) for the duration of the block, then let it go on (SIGCONT)."""
        pids = _process_tree(self.process.pid)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield self
        finally:
            for pid in pids:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def kill(self) -> None:
        """Stop abruptly (fault tests); the directory is kept so `restart()` can reopen it."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(self.halt_signal)
            self.process.wait(timeout=30)
        self.process = None


class PostgresServer(Server):
    user = "postgres"
    database = "app"
    # "Fast shutdown": clients are cut off at once and no orphaned backend keeps the shared
    # memory (SIGKILL of the postmaster would block the restart); with synchronous_commit off, a
    # crash-style stop could drop the last commits, which is not the outage being simulated.
    halt_signal = signal.SIGINT

    @classmethod
    def start(cls, directory: Path | None = None) -> PostgresServer:
        initdb = find_postgres_binary("initdb")
        if not initdb:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        directory = Path(directory or tempfile.mkdtemp(prefix="pg-"))
        directory.mkdir(parents=True, exist_ok=True)
        server = cls(name="postgres", port=free_port(), directory=directory)
        demote, record = _demote_to(cls.user)
        if record:
            os.chown(directory, record.pw_uid, record.pw_gid)
        data = directory / "data"
        subprocess.run(
            [initdb, "-D", str(data), "-U", cls.user, "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=demote,
        )
        server.restart()
        return server

    def restart(self) -> None:
        demote, _ = _demote_to(self.user)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    find_postgres_binary("postgres"), "-D", str(self.directory / "data"),
                    "-h", LOOPBACK, "-p", str(self.port), "-k", str(self.directory),
                    "-c", "fsync=off", "-c", "synchronous_commit=off",
                    "-c", "full_page_writes=off", "-c", "max_connections=200",
                ],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=demote,
            )
        wait_for_port(self.port, process=self.process, name="postgres")
        self._wait_until_accepting()

    def _wait_until_accepting(self, timeout: float = 30) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.admin_url("postgres"), autocommit=True) as conn:
                    exists = conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
                    ).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{self.database}"')
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def admin_url(self, database: str) -> str:
        return f"postgres://{self.user}@{LOOPBACK}:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.admin_url(self.database)


class RedisServer(Server):
    @classmethod
    def start(cls, directory: Path | None = None) -> RedisServer:
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server not found (apt-get install redis-server)")
        directory = Path(directory or tempfile.mkdtemp(prefix="redis-"))
        directory.mkdir(parents=True, exist_ok=True)
        server = cls(name="redis", port=free_port(), directory=directory)
        server.restart()
        return server

    def restart(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    "redis-server", "--bind", LOOPBACK, "--port", str(self.port),
                    "--dir", str(self.directory), "--save", "", "--appendonly", "no",
                    "--protected-mode", "yes", "--daemonize", "no",
                ],
                stdout=log, stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, process=self.process, name="redis")

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}"


class MongoServer(Server):
    """secantusdb: a MongoDB-compatible server, run as a separate process."""

    # A stopped server, not a crashed one: without --sync-on-commit a SIGKILL may drop the last
    # acknowledged writes, which is a durability setting of the test server, not an outage.
    halt_signal = signal.SIGTERM

    @classmethod
    def start(cls, directory: Path | None = None, *, port: int | None = None) -> MongoServer:
        owns = directory is None
        directory = Path(directory or tempfile.mkdtemp(prefix="mongo-"))
        directory.mkdir(parents=True, exist_ok=True)
        server = cls(name="mongo", port=port or free_port(), directory=directory, owns_directory=owns)
        server.restart()
        return server

    def restart(self) -> None:
        binary = Path(sys.executable).with_name("secantusd-py")
        command = str(binary) if binary.exists() else shutil.which("secantusd-py")
        if not command:
            raise RuntimeError("secantusd-py not found (pip install -r requirements/local.txt)")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    command, "--host", LOOPBACK, "--port", str(self.port),
                    "--storage-path", str(self.directory / "data"), "--log-level", "WARNING",
                ],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.directory,
            )
        wait_for_port(self.port, process=self.process, name="secantusdb", timeout=60)

    @property
    def url(self) -> str:
        return f"mongodb://{LOOPBACK}:{self.port}/"
