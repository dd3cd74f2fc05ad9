"""`pip install .` gives a working `callkpi` (issue 15, item 5): the wheel is built from this tree,
installed into a fresh venv and run from there.

Kept quick: the wheel is installed with --no-deps, and the fresh venv reaches the dependencies of
the test venv through a path file (a plain directory line, so the test venv's own editable callkpi
is not loaded); the callkpi that runs must be the one from the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.packaging


def _run(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALLKPI_", "PYTHON"))}
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, check=False,
                          cwd=cwd, env={**env, "COLUMNS": "100"})
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_the_wheel_installs_and_runs(tmp_path) -> None:
    wheels = tmp_path / "wheels"
    build = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, ROOT,
                 cwd=tmp_path)
    assert "BuildBackendWarning" not in build.stderr and "deprecated" not in build.stderr.lower()
    (wheel,) = wheels.glob("callkpi-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    dependencies = sysconfig.get_paths()["purelib"]
    (site / "test_venv_dependencies.pth").write_text(dependencies + "\n", encoding="utf-8")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel)

    where = _run(python, "-c", "import callkpi; print(callkpi.__file__)").stdout.strip()
    assert Path(where).is_relative_to(env_dir)
    program = env_dir / "bin" / "callkpi"
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert _run(program, "--version", cwd=tmp_path).stdout.strip() == f"callkpi {declared}"
    demo_help = _run(program, "demo", "--help", cwd=tmp_path).stdout
    assert "--port" in demo_help and "--dir" in demo_help
    # the data files the demo needs travel in the wheel: the default scenario and the web's templates
    _run(python, "-c", "from importlib.resources import files; "
         "assert files('callkpi.simulate').joinpath('default_scenario.toml').is_file(); "
         "assert files('callkpi.web').joinpath('templates').is_dir()", cwd=tmp_path)
