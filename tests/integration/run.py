#!/usr/bin/env python3
"""Runs the integration suite: tests/integration/test_*.py with unittest, verbosely.

The server binary comes from $SB_BIN (default build/asan/switchboard, relative to the repo
root). The last line printed is exactly "N passed, N failed" (errors count as failed, skips are
not counted as passed); the exit code is 0 only when nothing failed.
"""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))


class CountingResult(unittest.TextTestResult):
    """Remembers one outcome per test id; any failure or error of a test wins over success."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.outcomes = {}
        self.durations = {}
        self._t0 = None

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        if self._t0 is not None:
            self.durations[test.id()] = time.monotonic() - self._t0

    def _set(self, test, outcome):
        tid = test.id()
        if self.outcomes.get(tid) in ("failed",) and outcome != "failed":
            return
        self.outcomes[tid] = outcome

    def addSuccess(self, test):
        super().addSuccess(test)
        self._set(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._set(test, "failed")

    def addError(self, test, err):
        super().addError(test, err)
        self._set(test, "failed")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._set(test, "skipped")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._set(test, "skipped")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._set(test, "failed")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._set(test, "failed")


def main():
    sb_bin = os.environ.get("SB_BIN", "build/asan/switchboard")
    if not os.path.isabs(sb_bin):
        here = os.path.abspath(sb_bin)
        sb_bin = here if os.path.exists(here) else os.path.join(REPO_ROOT, sb_bin)
    os.environ["SB_BIN"] = sb_bin
    os.chdir(REPO_ROOT)
    if not (os.path.isfile(sb_bin) and os.access(sb_bin, os.X_OK)):
        print("integration: no server binary at %s (build it, or set SB_BIN)" % sb_bin)
        print("0 passed, 1 failed")
        return 1
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    try:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    except Exception as e:  # an import error in a test module
        print("integration: could not load the tests: %r" % e)
        print("0 passed, 1 failed")
        return 1
    print("integration: server binary %s" % sb_bin, flush=True)
    t0 = time.monotonic()
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult)
    result = runner.run(suite)
    passed = sum(1 for o in result.outcomes.values() if o == "passed")
    failed = sum(1 for o in result.outcomes.values() if o == "failed")
    # Loader failures (a module that does not import) show up as errors of synthetic tests.
    slow = sorted(result.durations.items(), key=lambda kv: -kv[1])[:5]
    print("integration: slowest: " + ", ".join("%s %.1f s" % (k.split(".", 1)[1], v)
                                               for k, v in slow))
    print("integration: %.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
