"""gunicorn settings, read from the same environment variables as the app (see .env.example)."""

import math
import os
from pathlib import Path


def _available_cpus(cgroup_root="/sys/fs/cgroup"):
    """CPUs this process may use: the container's CPU quota (cgroup v2, then v1) rounded up, at
    least 1, never more than the CPUs it is allowed to run on; without a quota, those CPUs."""
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:  # no sched_getaffinity (macOS)
        allowed = os.cpu_count() or 1
    root = Path(cgroup_root)
    quota = period = None
    try:  # cgroup v2: "<quota> <period>", or "max <period>" for no quota
        fields = (root / "cpu.max").read_text().split()
        if fields and fields[0] != "max":
            quota = int(fields[0])
            period = int(fields[1]) if len(fields) > 1 else 100_000
    except (OSError, ValueError):
        try:  # cgroup v1: a quota of -1 means none
            quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
            period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            quota = period = None
    if not quota or quota <= 0 or not period or period <= 0:
        return allowed
    return max(1, min(allowed, math.ceil(quota / period)))


def _workers(cgroup_root="/sys/fs/cgroup"):
    """WEB_CONCURRENCY when set, else 2 x the available CPUs + 1."""
    if os.environ.get("WEB_CONCURRENCY"):
        return int(os.environ["WEB_CONCURRENCY"])
    return 2 * _available_cpus(cgroup_root) + 1


bind = f"{os.environ.get('MS_HOST', '0.0.0.0')}:{os.environ.get('MS_PORT', '5000')}"  # noqa: S104
workers = _workers()
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread" if threads > 1 else "sync")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM, workers get this long to finish their requests (compose's stop_grace_period covers it).
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# No control socket in the home folder (read-only or shared homes in containers).
control_socket_disable = True
# The app writes one JSON access line per request (core.logging.AccessLogMiddleware, logger
# "api.access"); gunicorn writes its own only when GUNICORN_ACCESS_LOG names a file or "-".
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
wsgi_app = "config.wsgi:application"

# Prometheus: with several workers, each writes its counters under PROMETHEUS_MULTIPROC_DIR and
# /metrics adds them up (ops.metrics). The directory starts empty, and a worker that exits has
# its live gauges dropped.


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
