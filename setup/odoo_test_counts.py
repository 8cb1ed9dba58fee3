"""Print "PASSED FAILED SKIPPED" for the Odoo test run logged (at --log-level info) in argv[1].

argv[2], a comma-separated list of addons (default: ours), names the addons that must each have
run tests. On stderr: each addon's tests run, failed and skipped, every skipped test with its
reason, and why the run cannot pass.

Odoo ends a test run with "N failed, N error(s) of N tests", where N tests counts the skipped
ones too (a missing or crashing Chrome skips every tour): a skipped test is not a pass. A run that
never got to that line (an install that crashed) counts as one failure, and so does every addon
that ran no test at all, so neither can pass silently.
"""

import collections
import dataclasses
import re
import sys

ADDONS = ("messenger_leads", "messenger_leads_bot", "messenger_leads_reports")

CRASH = re.compile(r" CRITICAL | ERROR .*(Failed to load|Failed to initialize)")
RESULT = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")
# OdooTestResult logs every test under its module's logger: "Starting Class.test ...", then
# "FAIL: Class.test" / "ERROR: Class.test" (at ERROR) or "skipped Class.test : reason" (at INFO).
# A class skipped in setUpClass is logged by odoo.tests.suite as
# "skipped setUpClass (odoo.addons.<addon>.tests.<file>.Class) : reason", its tests never start.
STARTED = re.compile(r" odoo\.addons\.(\w+)\.tests[\w.]*: Starting \S+ \.\.\.")
FAILED = re.compile(r" ERROR \S+ odoo\.addons\.(\w+)\.tests[\w.]*: (?:FAIL|ERROR): ")
SKIPPED = re.compile(r" INFO \S+ ([\w.]+): skipped (.+?) : (.*)$", re.MULTILINE)
ADDON_OF = re.compile(r"odoo\.addons\.(\w+)\.")


@dataclasses.dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    started: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    failures: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    skips: list = dataclasses.field(default_factory=list)  # (addon, test, reason)
    problems: list = dataclasses.field(default_factory=list)  # why the run cannot pass

    def ran(self, addon):
        """Tests of `addon` that ran to a result (a skipped test started but did not run)."""
        return self.started[addon] - sum(1 for skip in self.skips if skip[0] == addon)


def count(text, addons=ADDONS):
    """The Counts of an Odoo test log's text."""
    counts = Counts()
    counts.started.update(STARTED.findall(text))
    counts.failures.update(FAILED.findall(text))
    for logger, test, reason in SKIPPED.findall(text):
        addon = ADDON_OF.search(f"{logger}.") or ADDON_OF.search(test)
        counts.skips.append((addon.group(1) if addon else "?", test, reason.strip()))
    counts.skipped = len(counts.skips)
    results = RESULT.findall(text)
    if not results:
        counts.failed = 1
        counts.problems.append("no Odoo test result: the install or the test run crashed")
    else:
        failed, errors, total = (int(n) for n in results[-1])
        counts.failed = failed + errors
        # only skips of started tests are in the total; a class skipped in setUpClass is not
        started_skips = sum(1 for skip in counts.skips if not skip[1].startswith("setUpClass"))
        counts.passed = max(total - failed - errors - started_skips, 0)
        if CRASH.search(text):
            counts.failed += 1
            counts.problems.append("Odoo logged a module that failed to load")
    if counts.skipped:
        counts.problems.append(
            f"{counts.skipped} test(s) skipped: a skipped test proves nothing"
            " (Chrome missing or crashing skips every tour)"
        )
    for addon in addons:
        if counts.ran(addon) <= 0:
            counts.failed += 1
            counts.problems.append(f"{addon} ran no test")
    return counts


def main(path, addons=ADDONS):
    with open(path, encoding="utf-8", errors="replace") as log:
        counts = count(log.read(), addons)
    for addon in addons:
        addon_skips = sum(1 for skip in counts.skips if skip[0] == addon)
        sys.stderr.write(
            f"  {addon}: {counts.ran(addon)} run, {counts.failures[addon]} failed,"
            f" {addon_skips} skipped\n"
        )
    for addon, test, reason in counts.skips:
        sys.stderr.write(f"  skipped {addon} {test}: {reason}\n")
    for problem in counts.problems:
        sys.stderr.write(f"Odoo tests ({path}): {problem}\n")
    print(counts.passed, counts.failed, counts.skipped)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2].split(",") if len(sys.argv) > 2 else ADDONS)
