"""The full reliability suites (load, faults, hostile bodies, security) on the bench database.

setup/test.sh runs the same suites at a quick size; this runs them at full size and prints
their figures ("reliability SUITE: NAME = VALUE").
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    env = dict(
        os.environ,
        ML_RELIABILITY="full",
        ML_TEST_DB=os.environ["ML_BENCH_DB"],
        ML_INSTALL_LOG=os.environ["ML_BENCH_INSTALL_LOG"],
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "reliability", "-q", "-s", "-p", "no:cacheprovider"],
        cwd=os.path.join(ROOT, "tests"),
        env=env,
        check=False,
    )
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
