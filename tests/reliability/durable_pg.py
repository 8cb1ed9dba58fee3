"""A PostgreSQL cluster of the suite's own, set as in production, that the suite may crash.

The set-up's cluster runs with fsync and synchronous_commit off (fast tests) and may be shared
with others; a crash there would prove little and hurt them. This one is made for one suite in
.state/pg-<name>: PostgreSQL's durable defaults, a copy of the test database, stopped the hard way
(an immediate shutdown: no checkpoint, crash recovery at the next start, as after a power cut or
an OOM kill) and removed afterwards.
"""

import configparser
import glob
import os
import re
import shutil
import subprocess

import pytest

DURABLE = ("fsync", "synchronous_commit", "full_page_writes")


def _pg_bin():
    if os.environ.get("PG_BIN"):
        return os.environ["PG_BIN"]
    found = glob.glob("/usr/lib/postgresql/*/bin")
    if not found:
        pytest.fail(
            "the PostgreSQL fault runs its own cluster and needs PostgreSQL's server programs "
            "(initdb, pg_ctl): install Debian's postgresql"
        )
    return max(found, key=lambda path: [int(n) for n in re.findall(r"\d+", path)])


class DurableCluster:
    def __init__(self, state_dir, name, source_conf, database):
        self.dir = os.path.join(state_dir, f"pg-{name}")
        self.data = os.path.join(self.dir, "data")
        self.run_dir = os.path.join(self.dir, "run")
        self.log = os.path.join(self.dir, "postgres.log")
        self.port = "5432"  # the socket's name only: the cluster listens on no TCP port
        self.bin = _pg_bin()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.source = configparser.ConfigParser()
        self.source.read(source_conf)
        self.source_conf = source_conf
        self.database = database
        self.conf = os.path.join(state_dir, f"odoo-{database}-{name}.conf")

    def _run(self, program, *args, as_postgres=False, check=True):
        command = [*(self.as_postgres if as_postgres else []), f"{self.bin}/{program}", *args]
        subprocess.run(command, check=check, timeout=300, stdout=subprocess.DEVNULL)

    def _pg_ctl(self, *args, check=True):
        self._run(
            "pg_ctl",
            "-D",
            self.data,
            "-w",
            "-t",
            "120",
            "-l",
            self.log,
            *args,
            as_postgres=True,
            check=check,
        )

    def start(self):
        """A new cluster holding a copy of the database, and an Odoo config that uses it."""
        self.remove()
        os.makedirs(self.run_dir)
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.run_dir, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            self.data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            as_postgres=True,
        )
        self._start_server()
        user = self.source["options"]["db_user"]
        self.psql("postgres", f'CREATE ROLE "{user}" LOGIN CREATEDB')
        self.psql("postgres", f'CREATE DATABASE "{self.database}" OWNER "{user}"')
        self._copy_database(user)
        with open(self.source_conf, encoding="utf-8") as source:
            text = source.read()
        text = re.sub(r"(?m)^db_host = .*$", f"db_host = {self.run_dir}", text)
        text = re.sub(r"(?m)^db_port = .*$", f"db_port = {self.port}", text)
        with open(self.conf, "w", encoding="utf-8") as conf:
            conf.write(text)
        return self

    def _start_server(self):
        # PostgreSQL's defaults, said out loud: whatever a postgresql.conf says, this is durable
        settings = " ".join(f"-c {name}=on" for name in DURABLE)
        self._pg_ctl(
            "-o", f"-k {self.run_dir} -p {self.port} -c listen_addresses='' {settings}", "start"
        )

    def _copy_database(self, user):
        options = self.source["options"]
        source_env = dict(os.environ)
        if options.get("db_password", "False") != "False":
            source_env["PGPASSWORD"] = options["db_password"]
        dump = subprocess.Popen(
            [
                f"{self.bin}/pg_dump",
                "-Fc",
                "--no-owner",
                "--no-privileges",
                "-h",
                options["db_host"],
                "-p",
                options["db_port"],
                "-U",
                user,
                self.database,
            ],
            stdout=subprocess.PIPE,
            env=source_env,
        )
        restore = subprocess.run(
            [
                f"{self.bin}/pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "-h",
                self.run_dir,
                "-p",
                self.port,
                "-U",
                user,
                "-d",
                self.database,
            ],
            stdin=dump.stdout,
            check=False,
            timeout=600,
        )
        dump.stdout.close()
        if dump.wait(timeout=600) or restore.returncode:
            pytest.fail(f"could not copy {self.database} into the suite's own PostgreSQL")

    def psql(self, database, sql):
        result = subprocess.run(
            [
                f"{self.bin}/psql",
                "-h",
                self.run_dir,
                "-p",
                self.port,
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-qtAc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout.strip()

    def crash_and_restart(self):
        """An immediate shutdown (no checkpoint: the next start recovers from the WAL)."""
        self._pg_ctl("-m", "immediate", "stop")
        self._start_server()

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._pg_ctl("-m", "fast", "stop", check=False)

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        if os.path.exists(self.conf):
            os.remove(self.conf)
