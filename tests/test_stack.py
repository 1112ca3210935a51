"""The embedded stack's life cycle (its own stack in a temp state dir, started by a separate
process that exits, as `veilscan up` does) and the Dask cluster factory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from veilscan.infra import dask_cluster
from veilscan.infra import stack as embedded

# --- no server ---------------------------------------------------------------------------------


def test_state_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(embedded.STATE_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert embedded.resolve_state_dir() == tmp_path.resolve() / ".state"
    monkeypatch.setenv(embedded.STATE_DIR_ENV, str(tmp_path / "elsewhere"))
    assert embedded.resolve_state_dir() == (tmp_path / "elsewhere").resolve()
    assert embedded.resolve_state_dir(tmp_path / "arg") == (tmp_path / "arg").resolve()


def test_status_and_down_without_a_stack(tmp_path: Path) -> None:
    assert embedded.status(tmp_path / "never-started") is None
    assert embedded.down(tmp_path / "never-started") is False


def test_env_for_names_every_endpoint(tmp_path: Path) -> None:
    info = embedded.StackInfo(
        "http://127.0.0.1:1", "ak", "sk", "us-east-1", "http://127.0.0.1:2/api", tmp_path, 1, 2
    )
    env = embedded.env_for(info)
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:2/api"
    assert env["VEILSCAN_S3_ENDPOINT"] == env["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:1"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("ak", "sk")
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert info.prefect_ui_url == "http://127.0.0.1:2"


def test_task_runner_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dask_cluster.ADDRESS_ENV, raising=False)
    monkeypatch.delenv(dask_cluster.WORKERS_ENV, raising=False)
    local = dask_cluster.task_runner()
    assert local.address is None
    assert local.cluster_class == "distributed.LocalCluster"
    assert local.cluster_kwargs["n_workers"] == dask_cluster.DEFAULT_WORKERS
    assert local.cluster_kwargs["threads_per_worker"] == 1
    assert local.cluster_kwargs["processes"] is True
    assert dask_cluster.task_runner(n_workers=3).cluster_kwargs["n_workers"] == 3
    monkeypatch.setenv(dask_cluster.WORKERS_ENV, "4")
    assert dask_cluster.task_runner().cluster_kwargs["n_workers"] == 4

    assert dask_cluster.task_runner("tcp://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"
    monkeypatch.setenv(dask_cluster.ADDRESS_ENV, "tcp://10.0.0.6:8786")
    remote = dask_cluster.task_runner()
    assert remote.address == "tcp://10.0.0.6:8786" and remote.cluster_class is None
    assert dask_cluster.task_runner("tcp://10.0.0.7:8786").address == "tcp://10.0.0.7:8786"


def test_gpu_runner_without_dask_cuda_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(dask_cluster.ADDRESS_ENV, raising=False)
    real_find_spec = dask_cluster.importlib.util.find_spec
    monkeypatch.setattr(
        dask_cluster.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "dask_cuda" else real_find_spec(name, *a),
    )
    with pytest.raises(dask_cluster.GPUSupportMissing, match="dask-cuda"):
        dask_cluster.task_runner(gpus=True)


def test_gpu_workers_offer_the_resource_clip_tasks_ask_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_find_spec = dask_cluster.importlib.util.find_spec
    monkeypatch.setattr(
        dask_cluster.importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "dask_cuda" else real_find_spec(name, *a),
    )
    kwargs = dask_cluster.cuda_cluster_kwargs()
    wanted = dask_cluster.clip_task_annotations(True)["resources"]
    assert all(kwargs["resources"].get(name, 0) >= n for name, n in wanted.items())
    assert "n_workers" not in kwargs  # one per visible GPU unless asked
    assert dask_cluster.cuda_cluster_kwargs(2)["n_workers"] == 2
    assert dask_cluster.clip_task_annotations(False) == {}


# --- a real stack of its own -------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _s3(info: embedded.StackInfo, secret: str | None = None):
    return boto3.session.Session().client(
        "s3",
        endpoint_url=info.s3_endpoint,
        aws_access_key_id=info.access_key,
        aws_secret_access_key=secret or info.secret_key,
        region_name=info.region,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory):
    """A stack started by a short-lived process, as `veilscan up` would: it must outlive it."""
    state = tmp_path_factory.mktemp("own-stack")
    code = "import sys; from veilscan.infra import stack; print(stack.up(sys.argv[1]).weed_pid)"
    started = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-c", code, str(state)], check=True, timeout=180)
        print(f"cold up() in a child process: {time.perf_counter() - started:.1f} s")
        yield state
    finally:
        embedded.down(state)


@pytest.mark.integration
def test_stack_outlives_the_process_that_started_it(own_stack: Path) -> None:
    info = embedded.status(own_stack)
    assert info is not None
    assert _pid_alive(info.weed_pid) and _pid_alive(info.prefect_pid)
    again = embedded.up(own_stack)
    assert again.reused
    assert (again.weed_pid, again.prefect_pid) == (info.weed_pid, info.prefect_pid)
    assert again.s3_endpoint.startswith("http://127.0.0.1:")
    assert again.prefect_api_url.startswith("http://127.0.0.1:")
    record = json.loads((own_stack / "stack.json").read_text())
    assert record["weed"]["pid"] == info.weed_pid


@pytest.mark.integration
def test_store_has_room_for_many_buckets_whatever_the_free_disk(own_stack: Path) -> None:
    """Each bucket takes a volume slot; weed's own default (free disk / volume size) ran out
    mid-suite on a machine with a fuller disk."""
    record = json.loads((own_stack / "stack.json").read_text())
    master = record["weed"]["ports"]["master"]
    with urllib.request.urlopen(f"http://127.0.0.1:{master}/dir/status", timeout=5) as resp:
        topology = json.load(resp)["Topology"]
    assert topology["Max"] >= embedded.WEED_VOLUME_SLOTS
    info = embedded.up(own_stack)
    cli = _s3(info)
    for i in range(30):  # more buckets than the 25 slots weed gave itself with 26 GB free
        cli.create_bucket(Bucket=f"many-{i}")
        cli.put_object(Bucket=f"many-{i}", Key="k", Body=b"x")
    assert cli.get_object(Bucket="many-29", Key="k")["Body"].read() == b"x"


@pytest.mark.integration
def test_services_answer_only_with_the_stack_identity(own_stack: Path) -> None:
    info = embedded.up(own_stack)
    cli = _s3(info)
    cli.create_bucket(Bucket="probe")
    cli.put_object(Bucket="probe", Key="k", Body=b"kept across restarts")
    with pytest.raises(ClientError):
        _s3(info, secret="wrong").list_buckets()
    creds = own_stack / "seaweedfs" / "s3.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    with urllib.request.urlopen(f"{info.prefect_api_url}/health", timeout=5) as resp:
        assert resp.read().strip() == b"true"
    assert (own_stack / "prefect" / "prefect.db").exists()  # PREFECT_HOME is in the state dir


@pytest.mark.integration
def test_up_replaces_a_dead_service_and_keeps_the_data(own_stack: Path) -> None:
    before = embedded.up(own_stack)
    os.kill(before.weed_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _pid_alive(before.weed_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert embedded.status(own_stack) is None
    after = embedded.up(own_stack)
    assert not after.reused
    assert after.weed_pid != before.weed_pid
    assert after.prefect_pid == before.prefect_pid  # the healthy one is left alone
    body = _s3(after).get_object(Bucket="probe", Key="k")["Body"].read()
    assert body == b"kept across restarts"


@pytest.mark.integration
def test_up_replaces_a_hung_service_after_some_patience(
    own_stack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = embedded.up(own_stack)
    monkeypatch.setattr(embedded, "UNHEALTHY_PATIENCE_S", 1.0)
    monkeypatch.setattr(embedded, "HEALTH_TIMEOUT_S", 0.5)
    monkeypatch.setitem(embedded.STOP_GRACE_S, "weed", 1.0)
    os.kill(before.weed_pid, signal.SIGSTOP)  # alive, but answers nothing
    try:
        after = embedded.up(own_stack)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(before.weed_pid, signal.SIGCONT)
    assert after.weed_pid != before.weed_pid and not after.reused
    assert not _pid_alive(before.weed_pid)  # the hung one was killed, not left beside it
    assert _s3(after).get_object(Bucket="probe", Key="k")["Body"].read() == b"kept across restarts"


@pytest.mark.integration
def test_explicit_port_that_differs_from_the_running_one_is_refused(own_stack: Path) -> None:
    info = embedded.up(own_stack)
    port = int(info.s3_endpoint.rsplit(":", 1)[1])
    with pytest.raises(embedded.StackError, match="down"):
        embedded.up(own_stack, s3_port=port + 1)


@pytest.mark.integration
def test_a_prefect_server_of_another_stack_on_the_port_is_not_taken_for_ours(
    own_stack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two stacks started together can both find the default port free: one server binds it,
    the other exits, and the other's health check was answered by the first (a clean-clone
    test run beside a CI run then lost its server when the CI run ended). Here the second
    stack's port check is made to miss the running server, as the race does: ``up`` must
    not come back healthy on the first stack's server (until the check named the server's
    PREFECT_HOME, it did)."""
    info = embedded.up(own_stack)
    port = int(info.prefect_api_url.split(":")[-1].split("/")[0])
    s3_port = embedded._free_port_pair(set())
    monkeypatch.setattr(embedded, "_port_free", lambda _port: True)
    other = tmp_path / "other-stack"
    try:
        with pytest.raises(embedded.StackError, match="exited during start-up"):
            embedded.up(other, s3_port=s3_port, prefect_port=port, timeout_s=90)
    finally:
        embedded.down(other)
    assert embedded.status(own_stack) is not None  # the first stack is left as it was


@pytest.mark.integration
def test_activate_points_prefect_at_this_server(own_stack: Path) -> None:
    from prefect import flow

    info = embedded.up(own_stack)
    marker = f"activate-probe-{time.time_ns()}"

    @flow(name=marker)
    def probe() -> str:
        return os.environ["PREFECT_API_URL"]

    before = os.environ.get("PREFECT_API_URL")
    with embedded.activate(info):
        assert probe() == info.prefect_api_url
    req = urllib.request.Request(
        f"{info.prefect_api_url}/flows/filter",
        data=json.dumps({"flows": {"name": {"any_": [marker]}}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert [f["name"] for f in json.load(resp)] == [marker]
    assert os.environ.get("PREFECT_API_URL") == before  # restored


@pytest.mark.integration
def test_down_stops_both_process_groups(own_stack: Path) -> None:
    info = embedded.up(own_stack)
    assert embedded.down(own_stack) is True
    assert not _pid_alive(info.weed_pid) and not _pid_alive(info.prefect_pid)
    assert not (own_stack / "stack.json").exists()
    assert embedded.status(own_stack) is None
    assert embedded.down(own_stack) is False


# --- Dask on the session stack (conftest) ------------------------------------------------------


@pytest.mark.integration
def test_annotated_clip_task_runs_on_a_worker_offering_the_resource(stack) -> None:
    """CPU stand-in for LocalCUDACluster: workers offering GPU=1 take the annotated task, and
    the worker process sees the stack's Prefect API."""
    import dask
    from prefect import flow, task
    from prefect_dask import DaskTaskRunner

    @task
    def where() -> tuple[dict, str]:
        from distributed import get_worker

        return dict(get_worker().state.total_resources), os.environ["PREFECT_API_URL"]

    kwargs = {**dask_cluster.local_cluster_kwargs(1), "resources": {"GPU": 1}}

    @flow(
        task_runner=DaskTaskRunner(cluster_class=dask_cluster.LOCAL_CLUSTER, cluster_kwargs=kwargs)
    )
    def annotated() -> tuple[dict, str]:
        with dask.annotate(**dask_cluster.clip_task_annotations(True)):
            future = where.submit()
        return future.result()

    resources, api_url = annotated()
    assert resources == {"GPU": 1}
    assert api_url == stack.prefect_api_url
