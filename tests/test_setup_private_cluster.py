"""The set-up's private PostgreSQL cluster from a checkout inside a folder only its owner may enter
(Debian's /root is 0700): as root, PostgreSQL runs as `postgres`, which must still reach the
cluster's data, socket and log; the cluster stays this checkout's and goes when its .state does."""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_ROOT = os.geteuid() == 0


def _setup_bash(checkout, script):
    env = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    return subprocess.run(
        ["bash", "-c", f"source setup/common.sh; {script}"],
        check=False,  # the tests read the status and stderr
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_private_cluster_starts_from_a_folder_only_its_owner_may_enter(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    checkout = private / "checkout"
    (checkout / "setup").mkdir(parents=True)
    shutil.copy(ROOT / "setup" / "common.sh", checkout / "setup")
    link = checkout / ".state" / "pg"
    try:
        started = _setup_bash(
            checkout,
            'ensure_postgres; echo "data=$PG_DATA"; psql_admin -c "SELECT current_user"; '
            "stop_postgres",
        )
        assert started.returncode == 0, started.stderr
        assert "postgres" in started.stdout.splitlines(), started.stdout
        data = Path(started.stdout.split("data=", 1)[1].splitlines()[0])
        assert (data / "PG_VERSION").is_file()
        if not AS_ROOT:  # PostgreSQL runs as this user, who can enter the folder
            assert data == link / "data"
            return
        away = data.parent
        assert link.is_symlink() and link.resolve() == away, "the checkout links to its cluster"
        assert away.stat().st_uid == int(
            subprocess.check_output(["id", "-u", "postgres"], text=True)
        )
        assert oct(away.stat().st_mode & 0o777) == "0o700", "the cluster is private"

        shutil.rmtree(checkout / ".state")
        swept = _setup_bash(
            checkout,
            '_sweep_away_clusters "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"',
        )
        assert swept.returncode == 0, swept.stderr
        assert not away.exists(), "a cluster whose checkout cleaned its .state is removed"
    finally:
        if link.is_symlink():  # whatever failed, leave no cluster behind
            target = link.resolve()
            link.unlink()
            _setup_bash(
                checkout,
                '_sweep_away_clusters "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"',
            )
            assert not target.exists()
