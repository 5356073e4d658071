"""Refresh the README's pictures (docs/*.png): `python -m tests.e2e.refresh_docs` from the repository root.

Runs the browser tests that take them with $PLAYGROUND_SCREENSHOTS set to docs/ (the test suite
itself writes them to a temporary folder, never into the repository), then draws the pictures made
by a script (`DRAWN`), then checks that every picture was written. Needs what the browser tests
need: /usr/bin/chromium. Takes a few minutes.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# The pictures, by the browser test that takes them.
PICTURES = {
    "tests/e2e/test_playground_browser.py::test_train_the_default_spiral": ("screenshot.png",),
    "tests/e2e/test_playground_browser.py::test_train_a_small_cnn_and_inspect_its_mistakes": ("inspect.png",),
    "tests/e2e/test_draw_browser.py::test_draw_a_one_then_a_zero": ("draw.png",),
    "tests/e2e/test_classroom_browser.py::test_optimizer_race": ("lessons.png", "runs.png"),
}
# The pictures drawn by a script rather than screenshotted, by the module that draws them.
DRAWN = {"docs.home_picture": ("home.png",)}


def main() -> int:
    started = time.time()
    env = {**os.environ, "PLAYGROUND_SCREENSHOTS": str(DOCS)}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *PICTURES]
    done = subprocess.run(command, cwd=ROOT, env=env)
    for module in DRAWN:
        done = subprocess.run([sys.executable, "-m", module], cwd=ROOT) if not done.returncode else done
    stale = [name for names in {**PICTURES, **DRAWN}.values() for name in names
             if not (DOCS / name).is_file() or (DOCS / name).stat().st_mtime < started]
    if done.returncode or stale:
        print(f"refresh_docs: not refreshed: {', '.join(stale) or 'the tests failed'}", file=sys.stderr)
        return done.returncode or 1
    print(f"refresh_docs: wrote {', '.join(f'docs/{n}' for names in {**PICTURES, **DRAWN}.values() for n in names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
