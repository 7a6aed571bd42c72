"""tests/run.sh waits for the package manager's lock instead of failing while another install
runs (issue 11, point 12): run it with an apt-get that holds the lock unless told to wait."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FAKE_APT = """#!/bin/sh
echo "$*" >> "$LOG"
case "$*" in
  *DPkg::Lock::Timeout=*) exit 0 ;;
esac
echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2
exit 100
"""


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_run_sh_waits_for_the_apt_lock(tmp_path):
    tree = tmp_path / "checkout"
    (tree / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "tests/run.sh", tree / "tests/run.sh")
    (tree / ".venv/bin").mkdir(parents=True)
    _script(tree / ".venv/bin/python", "#!/bin/sh\necho \"python $*\" >> \"$LOG\"\n")  # pip and pytest
    fake = tmp_path / "bin"
    fake.mkdir()
    _script(fake / "apt-get", FAKE_APT)
    _script(fake / "id", "#!/bin/sh\necho 0\n")  # as root
    _script(fake / "dpkg-query", "#!/bin/sh\nexit 1\n")  # nothing installed yet
    log = tmp_path / "log"
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "LOG": str(log)}
    r = subprocess.run(["sh", str(tree / "tests/run.sh")], env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    calls = log.read_text().splitlines()
    apt = [c for c in calls if not c.startswith("python ")]
    assert any(" install " in f" {c} " for c in apt) and all("DPkg::Lock::Timeout=" in c for c in apt), calls
    assert calls[-1].startswith("python -m pytest")
