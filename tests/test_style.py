"""The repository passes `ruff check` with the configuration in pyproject.toml ([tool.ruff]): line length,
import order, and the pycodestyle, pyflakes and blind-except rules the `# noqa` markers name."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_finds_nothing():
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        pytest.fail(f"`ruff check` found problems (`python -m ruff check --fix` repairs those marked [*]):\n"
                    f"{result.stdout}{result.stderr}", pytrace=False)
