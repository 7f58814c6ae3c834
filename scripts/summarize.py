#!/usr/bin/env python3
"""Adds up meson test logs (JSON lines) and pytest JUnit XML into one
closing line, "N passed, N failed[, N skipped]", which is what CI reads."""
import json
import os
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    if path.endswith(".json"):
        with open(path) as f:
            for line in f:
                r = json.loads(line).get("result")
                if r in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif r == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    else:
        root = ET.parse(path).getroot()
        for suite in root.iter("testsuite"):
            t = int(suite.get("tests", 0))
            f = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            s = int(suite.get("skipped", 0))
            passed += t - f - s
            failed += f
            skipped += s
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
