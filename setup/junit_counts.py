"""Print "PASSED FAILED SKIPPED" from the pytest JUnit XML report in argv[1]."""

import os
import sys
import xml.etree.ElementTree as ET


def main(path):
    if not os.path.exists(path):
        sys.stderr.write(f"no pytest report at {path}: pytest did not run\n")
        print(0, 1, 0)
        return
    suites = ET.parse(path).getroot()
    suites = [suites] if suites.tag == "testsuite" else list(suites)
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    print(tests - failed - skipped, failed, skipped)


if __name__ == "__main__":
    main(sys.argv[1])
