"""The launchers and the worker container recipe: what can be checked here without a cloud or Docker.

- The recipe (launch/Dockerfile) names the Beam and Python versions of the lock and installs the lock.
- Each runner entry (launch/*.sh) passes only runner flags that Beam knows.
- Both jobs build a Dataflow job offline (`--dry_run=True`) with the worker container, and portable
  pipeline protos with no step that a portable runner cannot run (tests/portability.py).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from poseact.pose import pose_model

from .portability import (
    PIPELINE_BUILDERS,
    PORTABLE_REQUIREMENTS,
    dataflow_dry_run,
    non_portable_steps,
    portable_proto,
    sdk_environments,
)

REPO = Path(__file__).resolve().parents[1]
LAUNCH = REPO / "launch"
_spec = importlib.util.spec_from_file_location("check_env", LAUNCH / "check_env.py")
check_env = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_env)
IMAGE = "europe-west1-docker.pkg.dev/poseact-demo/poseact/worker:test"
DATAFLOW_ENV = {"PROJECT": "poseact-demo", "REGION": "europe-west1", "TEMP_LOCATION": "gs://poseact-bucket/tmp",
                "IMAGE": IMAGE, "MACHINE_TYPE": "n2-highcpu-8", "MAX_WORKERS": "7"}
# Shared libraries that MediaPipe's and OpenCV's native code links, and the Debian package providing each;
# glibc, libstdc++, libgcc and zlib come with every Debian image.
SYSTEM_LIBRARIES = {"libEGL.so.1": "libegl1", "libGLESv2.so.2": "libgles2"}
BASE_LIBRARIES = re.compile(r"^(ld-linux.*|lib(c|m|dl|rt|pthread|stdc\+\+|gcc_s|z)\.so\.\d+)$")


# ------------------------------------------------------------------------------- the container recipe


def dockerfile_instructions(path: Path = LAUNCH / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            word, _, rest = pending.partition(" ")
            instructions.append((word.upper(), " ".join(rest.split())))
            pending = ""
    return instructions


def _args(instruction: str) -> list[str]:
    return [rest for word, rest in dockerfile_instructions() if word == instruction]


def _lock_pins() -> dict[str, str]:
    return check_env.read_pins(str(REPO / "requirements.lock"))


def test_base_image_is_beams_sdk_image_for_the_locked_beam_and_our_python():
    requires = re.search(r'python_requires="([^"]+)"', (REPO / "setup.py").read_text()).group(1)
    major, minor = re.match(r">=(\d+)\.(\d+),<\1\.\d+$", requires).groups()
    assert sys.version_info[:2] == (int(major), int(minor)), "the launcher's Python must be the workers'"
    assert _args("FROM") == [f"apache/beam_python{major}.{minor}_sdk:{_lock_pins()['apache-beam']}"]


def test_recipe_installs_exactly_the_lock_and_checks_the_result():
    runs = _args("RUN")
    syncs = [r for r in runs if "uv pip sync" in r]
    assert len(syncs) == 1 and syncs[0].endswith(" requirements.lock")
    installs = [r for r in runs if "pip install" in r]
    allowed = ('pip install --no-cache-dir "uv==${UV_VERSION}"', "uv pip install --system --no-cache --no-deps .")
    assert all(any(a in r for a in allowed) for r in installs), installs
    assert not any("requirements.in" in r or " -r " in r for r in runs)
    project = next(i for i, r in enumerate(runs) if "--no-deps ." in r)
    assert "python launch/check_env.py requirements.lock" in runs[project]
    uv_arg = next(a for a in _args("ARG") if a.startswith("UV_VERSION="))
    setup_env = re.search(r"^UV_VERSION=(\S+)$", (LAUNCH / "setup_env.sh").read_text(), re.MULTILINE).group(1)
    assert uv_arg == f"UV_VERSION={setup_env}", "the image and launch/setup_env.sh must use the same uv"


def _kept_by_dockerignore(path: str, patterns: list[str]) -> bool:
    kept = True
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern[1:] if negate else pattern
        glob = glob.rstrip("/")
        if glob == "*" or path == glob or path.startswith(glob + "/"):
            kept = negate
    return kept


def test_recipe_copies_existing_paths_that_the_build_context_keeps():
    ignore = [line.strip() for line in (LAUNCH / "Dockerfile.dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#") and not line.startswith("**")]
    assert ignore[0] == "*", "the context should hold only what the recipe copies (not .venv, runs/)"
    sources = [shlex.split(a)[0] for a in _args("COPY")]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert _kept_by_dockerignore(source, ignore), f"{source} is excluded by Dockerfile.dockerignore"
    assert not _kept_by_dockerignore(".venv", ignore) and not _kept_by_dockerignore("runs", ignore)
    packages = {p.split("/")[0] for p in ("poseact/", "pipelines/", "schemas/")}
    assert packages <= set(sources), "setup.py packages poseact, pipelines and schemas"


def test_recipe_bakes_the_pose_model_where_workers_look(monkeypatch):
    instructions = dockerfile_instructions()
    env_at = next(i for i, (w, a) in enumerate(instructions) if w == "ENV" and "POSEACT_CACHE=" in a)
    model_at = next(i for i, (w, a) in enumerate(instructions) if w == "RUN" and "poseact model" in a)
    assert env_at < model_at, "the model must be built into the cache the workers read"
    cache = re.search(r"POSEACT_CACHE=(\S+)", instructions[env_at][1]).group(1)
    monkeypatch.setenv("POSEACT_CACHE", cache)
    assert pose_model.cache_dir() == Path(cache) / "models"


def _package_dir(name: str) -> Path:
    return Path(importlib.util.find_spec(name).submodule_search_locations[0])


def _needed_libraries(directory: Path) -> set[str]:
    """Libraries that the shared objects under `directory` link and that their wheels do not bundle."""
    bundled = {f.name for libs in directory.parent.glob("*.libs") for f in libs.iterdir()}
    needed = set()
    for library in directory.rglob("*.so*"):
        out = subprocess.run(["readelf", "-d", str(library)], capture_output=True, text=True, check=True).stdout
        needed |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))
    return needed - bundled


@pytest.mark.skipif(shutil.which("readelf") is None, reason="readelf (binutils) is not installed")
def test_recipe_installs_the_system_libraries_that_mediapipe_and_opencv_link():
    needed = _needed_libraries(_package_dir("mediapipe")) | _needed_libraries(_package_dir("cv2"))
    extra = sorted(lib for lib in needed if not BASE_LIBRARIES.match(lib))
    unknown = [lib for lib in extra if lib not in SYSTEM_LIBRARIES]
    assert not unknown, f"native code now links {unknown}: add their Debian packages to launch/Dockerfile"
    apt = " ".join(r for r in _args("RUN") if "apt-get install" in r).split()
    assert {SYSTEM_LIBRARIES[lib] for lib in extra} <= set(apt)
    assert {"libEGL.so.1", "libGLESv2.so.2"} <= set(extra), "MediaPipe 1.2.3 links EGL and GLES"


def test_local_environment_is_the_lock_with_one_cv2():
    proc = subprocess.run([sys.executable, str(LAUNCH / "check_env.py"), str(REPO / "requirements.lock")],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_env_check_names_every_difference(tmp_path, capsys):
    lock = tmp_path / "requirements.lock"
    lock.write_text("# header\nApache_Beam==2.77.0\n    # via x\nnumpy==9.9.9\nnot-installed-pkg==1.0\n")
    pins = check_env.read_pins(str(lock))
    assert pins == {"apache-beam": "2.77.0", "numpy": "9.9.9", "not-installed-pkg": "1.0"}
    problems = check_env.mismatches(pins, {"apache-beam": "2.77.0", "numpy": "2.4.6"})
    assert problems == ["not-installed-pkg: lock pins 1.0, installed nothing",
                        "numpy: lock pins 9.9.9, installed 2.4.6"]
    lock.write_text("numpy>=2\n")
    with pytest.raises(ValueError, match="not an exact pin"):
        check_env.read_pins(str(lock))
    lock.write_text("numpy==9.9.9\n")
    assert check_env.main([str(lock)]) == 1
    assert "numpy: lock pins 9.9.9" in capsys.readouterr().err


# ------------------------------------------------------------------------------------- the launchers


def launched(script: str, *args: str, **env: str) -> list[str]:
    """The command that `launch/<script>` would run (PRINT_ONLY=1), one argument an item."""
    proc = subprocess.run(["bash", str(LAUNCH / script), *args], check=False, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env, "PRINT_ONLY": "1"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def runner_flags(script: str, **env: str) -> list[str]:
    """Only the flags that `launch/<script>` adds."""
    return launched(script, "extract", **env)[2:]


FLINK_ENV = {"JOB_ENDPOINT": "localhost:8099"}
RUNNERS = {
    "direct.sh": {}, "direct.sh/2": {"WORKERS": "2"}, "dataflow.sh": DATAFLOW_ENV, "flink.sh": FLINK_ENV,
    "flink.sh/docker": {**FLINK_ENV, "ENVIRONMENT_TYPE": "DOCKER", "ENVIRONMENT_CONFIG": IMAGE},
    "flink.sh/process": {**FLINK_ENV, "ENVIRONMENT_TYPE": "PROCESS", "PARALLELISM": "4"},
}


@pytest.mark.parametrize("name", RUNNERS)
def test_runner_entries_differ_only_in_known_beam_flags(name):
    from apache_beam.options.pipeline_options import PipelineOptions

    script, env = name.split("/")[0], RUNNERS[name]
    for job in ("extract", "label"):
        command = launched(script, job, "--input", "in", "--output", "out", "--x=1", **env)
        assert command[:2] == [".venv/bin/poseact", job]
        assert command[-5:] == ["--input", "in", "--output", "out", "--x=1"]
    flags = runner_flags(script, **env)
    assert all(f.startswith("--") and "=" in f for f in flags), flags
    options = PipelineOptions(flags)
    unknown = set(options.get_all_options(retain_unknown_options=True)) - set(options.get_all_options())
    assert not unknown, f"{script} passes flags Beam does not know: {unknown}"
    code = [line for line in (LAUNCH / script).read_text().splitlines() if not line.lstrip().startswith("#")]
    assert not any(re.search(r"(gs|s3)://[a-z0-9]", line) for line in code), f"{script} hard-codes a bucket"


def test_runner_entries_explain_what_is_missing():
    def fails(script, *args, **env):
        base = {k: v for k, v in os.environ.items() if k not in {"PROJECT", "IMAGE", "JOB_ENDPOINT"}}
        proc = subprocess.run(["bash", str(LAUNCH / script), *args], check=False, capture_output=True, text=True,
                              timeout=60, env={**base, **env, "PRINT_ONLY": "1"})
        assert proc.returncode != 0
        return proc.stderr

    assert "usage:" in fails("direct.sh", "train")
    assert "set PROJECT" in fails("dataflow.sh", "extract", **{k: v for k, v in DATAFLOW_ENV.items() if k != "PROJECT"})
    assert "set IMAGE" in fails("dataflow.sh", "extract", **{k: v for k, v in DATAFLOW_ENV.items() if k != "IMAGE"})
    assert "set JOB_ENDPOINT" in fails("flink.sh", "extract")
    assert "ENVIRONMENT_TYPE must be" in fails("flink.sh", "extract", JOB_ENDPOINT="x:1", ENVIRONMENT_TYPE="LOOPBACK")


def test_pipelines_choose_no_runner_and_no_bucket():
    for path in (REPO / "pipelines").glob("*.py"):
        text = path.read_text()
        assert not re.search(r"""runner\s*=\s*["']""", text), f"{path.name} picks a runner"
        assert not re.search(r"""["'](gs|s3)://[a-z0-9]""", text), f"{path.name} names a bucket"


# ---------------------------------------------------------------------------- Dataflow, offline


@pytest.mark.parametrize("job", PIPELINE_BUILDERS)
def test_dataflow_job_builds_offline_with_the_worker_container(job, monkeypatch):
    monkeypatch.chdir(REPO)  # --setup_file=./setup.py, as launch/dataflow.sh runs from the repository root
    built = dataflow_dry_run(PIPELINE_BUILDERS[job], runner_flags("dataflow.sh", **DATAFLOW_ENV))
    assert non_portable_steps(built.proto) == []
    environments = sdk_environments(built.proto)
    assert environments
    from apache_beam.portability import common_urns
    from apache_beam.portability.api import beam_runner_api_pb2

    for env in environments.values():
        assert env.urn == common_urns.environments.DOCKER.urn
        assert beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image == IMAGE
        staged = {beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(d.role_payload).staged_name
                  for d in env.dependencies}
        assert "workflow.tar.gz" in staged, "--setup_file ships this checkout's code"
    pool = built.environment.worker_pools[0]
    assert (pool.machine_type, pool.autoscaling_settings.max_num_workers) == ("n2-highcpu-8", 7)
    assert [i.container_image for i in pool.sdk_harness_container_images] == [IMAGE]
    # Dataflow starts one SDK process per vCPU, each loading its own pose model (docs/speed.md, sizing).
    assert all(i.use_single_core_per_container for i in pool.sdk_harness_container_images)
    assert "use_runner_v2" in built.environment.experiments


# ---------------------------------------------------------------------------- portable pipelines


FLINK_ENVIRONMENTS = {
    "EXTERNAL": ({}, "beam:env:external:v1", "localhost:50000"),
    "PROCESS": ({"ENVIRONMENT_TYPE": "PROCESS"}, "beam:env:process:v1", "/opt/apache/beam/boot"),
    "DOCKER": ({"ENVIRONMENT_TYPE": "DOCKER", "ENVIRONMENT_CONFIG": IMAGE}, "beam:env:docker:v1", IMAGE),
}


def _environment_target(env) -> str:
    from apache_beam.portability.api import beam_runner_api_pb2

    payload = {"beam:env:external:v1": lambda p: beam_runner_api_pb2.ExternalPayload.FromString(p).endpoint.url,
               "beam:env:process:v1": lambda p: beam_runner_api_pb2.ProcessPayload.FromString(p).command,
               "beam:env:docker:v1": lambda p: beam_runner_api_pb2.DockerPayload.FromString(p).container_image}
    return payload[env.urn](env.payload)


@pytest.mark.parametrize("environment", FLINK_ENVIRONMENTS)
@pytest.mark.parametrize("job", PIPELINE_BUILDERS)
def test_portable_proto_has_only_portable_steps(job, environment):
    extra_env, urn, target = FLINK_ENVIRONMENTS[environment]
    proto = portable_proto(PIPELINE_BUILDERS[job], runner_flags("flink.sh", **FLINK_ENV, **extra_env))
    assert non_portable_steps(proto) == []
    environments = sdk_environments(proto)
    assert [(e.urn, _environment_target(e)) for e in environments.values()] == [(urn, target)]
    assert set(proto.requirements) <= PORTABLE_REQUIREMENTS, "a requirement that Flink or Spark may lack"


def test_non_portable_steps_are_found():
    proto = portable_proto(PIPELINE_BUILDERS["extract"], runner_flags("flink.sh", **FLINK_ENV))
    leaves = sorted((t for t in proto.components.transforms.values() if not t.subtransforms),
                    key=lambda t: t.unique_name)
    pardo = next(t for t in leaves if t.spec.urn == "beam:transform:pardo:v1")
    pardo.spec.urn = "beam:transform:pickled_python:v1"
    other = next(t for t in leaves if t.spec.urn == "beam:transform:pardo:v1")
    other.environment_id = ""
    found = non_portable_steps(proto)
    assert len(found) == 2
    assert f"{pardo.unique_name}: beam:transform:pickled_python:v1 is not a portable primitive" in found
    assert f"{other.unique_name}: beam:transform:pardo:v1 has no SDK environment" in found


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_runner_entries_pass_shellcheck():
    scripts = [str(LAUNCH / name) for name in ("job.sh", "direct.sh", "dataflow.sh", "flink.sh")]
    proc = subprocess.run(["shellcheck", "-x", *scripts], check=False, capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout
