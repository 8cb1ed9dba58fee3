"""Print "PASSED FAILED" for the Odoo test run logged in argv[1].

Odoo ends a test run with "N failed, N error(s) of N tests"; a run that never got there
(an install that crashed) counts as one failure so it cannot pass silently.
"""

import re
import sys

CRASH = re.compile(r" CRITICAL | ERROR .*(Failed to load|Failed to initialize)")
RESULT = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")


def main(path):
    with open(path, encoding="utf-8", errors="replace") as log:
        text = log.read()
    results = RESULT.findall(text)
    if not results:
        sys.stderr.write(f"no Odoo test result in {path}: the install or the test run crashed\n")
        print(0, 1)
        return
    failed, errors, total = (int(n) for n in results[-1])
    crashed = int(bool(CRASH.search(text)))
    print(total - failed - errors, failed + errors + crashed)


if __name__ == "__main__":
    main(sys.argv[1])
