"""Settings from the environment: each PLAYGROUND_* variable's default and its bad values, read in one module."""
import ast
import re
from pathlib import Path

import pytest

from playground import settings
from playground.settings import abandoned_seconds, default_workers, idle_seconds, turn_minutes

PLAYGROUND = Path(settings.__file__).parent


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_WORKERS", "3")
    monkeypatch.setenv("PLAYGROUND_IDLE_SECONDS", "12.5")
    assert default_workers() == 3 and idle_seconds() == 12.5
    monkeypatch.delenv("PLAYGROUND_WORKERS")
    monkeypatch.delenv("PLAYGROUND_IDLE_SECONDS")
    assert default_workers() >= 1 and idle_seconds() == 90.0
    monkeypatch.setenv("PLAYGROUND_WORKERS", "two")
    with pytest.raises(ValueError, match="PLAYGROUND_WORKERS must be a whole number"):
        default_workers()


def test_settings_for_turns_and_abandoned_runs_come_from_the_environment(monkeypatch):
    assert turn_minutes() == 10.0 and abandoned_seconds() == 30.0
    monkeypatch.setenv("PLAYGROUND_TURN_MINUTES", "0.5")
    monkeypatch.setenv("PLAYGROUND_ABANDONED_SECONDS", "45")
    assert turn_minutes() == 0.5 and abandoned_seconds() == 45.0
    monkeypatch.setenv("PLAYGROUND_TURN_MINUTES", "forever")
    with pytest.raises(ValueError, match="PLAYGROUND_TURN_MINUTES must be a positive number of minutes"):
        turn_minutes()


def test_the_budget_comes_from_the_environment(monkeypatch):
    assert settings.budget_minutes() == settings.BUDGET_MINUTES
    monkeypatch.setenv("PLAYGROUND_RUN_BUDGET_MINUTES", "2.5")
    assert settings.budget_minutes() == 2.5
    for bad in ("soon", "0", "-3"):
        monkeypatch.setenv("PLAYGROUND_RUN_BUDGET_MINUTES", bad)
        with pytest.raises(ValueError, match="PLAYGROUND_RUN_BUDGET_MINUTES must be a positive number of minutes"):
            settings.budget_minutes()


def test_env_numbers_fall_back_to_the_default(monkeypatch):
    monkeypatch.setenv("QUOTA_TEST", "12.5")
    assert settings.non_negative_number("QUOTA_TEST", 3) == 12.5
    for bad in ("lots", "-1", "nan"):
        monkeypatch.setenv("QUOTA_TEST", bad)
        assert settings.non_negative_number("QUOTA_TEST", 3) == 3


def test_storage_and_upload_limits_have_defaults_and_ignore_bad_values(monkeypatch):
    for name in ("TABLES_MB", "MIN_FREE_MB", "UPLOADS_PER_MINUTE", "UPLOAD_MB_PER_MINUTE"):
        monkeypatch.delenv(f"PLAYGROUND_{name}", raising=False)
    assert (settings.tables_mb(), settings.min_free_mb()) == (500, 200)
    assert (settings.uploads_per_minute(), settings.upload_mb_per_minute()) == (6, 60)
    monkeypatch.setenv("PLAYGROUND_TABLES_MB", "lots")
    monkeypatch.setenv("PLAYGROUND_UPLOADS_PER_MINUTE", "0")  # at least one upload a minute
    assert settings.tables_mb() == 500 and settings.uploads_per_minute() == 1


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_downloads_are_allowed_unless_switched_off(monkeypatch, value):
    monkeypatch.setenv("PLAYGROUND_OFFLINE", value)
    assert settings.downloads_allowed()


def test_downloads_are_allowed_when_the_switch_is_unset(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_OFFLINE", raising=False)
    assert settings.downloads_allowed()


def test_data_root_defaults_to_a_cache_folder_in_home(monkeypatch, tmp_path):
    monkeypatch.delenv("PLAYGROUND_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert settings.data_root() == tmp_path / ".cache" / "neural-playground"


def test_the_runs_database_is_unset_unless_named(monkeypatch, tmp_path):
    monkeypatch.delenv("PLAYGROUND_RUNS_DB", raising=False)
    assert settings.runs_db() is None
    monkeypatch.setenv("PLAYGROUND_RUNS_DB", str(tmp_path / "mine.sqlite"))
    assert settings.runs_db() == tmp_path / "mine.sqlite"


def test_the_shared_store_and_ray_are_off_unless_named(monkeypatch):
    for name in ("PLAYGROUND_DB_URL", "PLAYGROUND_RAY_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    assert settings.db_url() is None and settings.ray_address() is None
    monkeypatch.setenv("PLAYGROUND_DB_URL", "postgresql+psycopg://np@127.0.0.1:5432/playground")
    monkeypatch.setenv("PLAYGROUND_RAY_ADDRESS", "ray://10.0.0.2:10001")
    assert settings.db_url().startswith("postgresql+psycopg://") and settings.ray_address() == "ray://10.0.0.2:10001"
    monkeypatch.setenv("PLAYGROUND_RAY_ADDRESS", "auto")
    assert settings.ray_address() == "auto"


@pytest.mark.parametrize("name, value", [("PLAYGROUND_DB_URL", "mysql://root:hunter2@db/x"),
                                         ("PLAYGROUND_DB_URL", "just-a-file.sqlite"),
                                         ("PLAYGROUND_RAY_ADDRESS", "ray://host"),
                                         ("PLAYGROUND_RAY_ADDRESS", "http://x:1; rm -rf /")])
def test_a_bad_store_url_or_ray_address_names_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name) as raised:
        settings.db_url() if name == "PLAYGROUND_DB_URL" else settings.ray_address()
    assert "hunter2" not in str(raised.value)


def test_the_table_in_the_docstring_lists_every_variable_the_module_reads():
    source = Path(settings.__file__).read_text()
    code = source.split('"""', 2)[2]
    read = set(re.findall(r'"(PLAYGROUND_\w+)"', code))
    table = {name: function for name, function in re.findall(r"\| `(PLAYGROUND_\w+)` +\| `(\w+)\(\)`", source)}
    assert set(table) == read and len(read) == 19
    assert all(callable(getattr(settings, function)) for function in table.values())


def is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def environ_problems(tree: ast.AST) -> tuple[list[str], list[str]]:
    """(PLAYGROUND_* variables read, writes to the environment) in a module's code, as source text."""
    reads, writes = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and is_environ(node.value):
            (writes if isinstance(node.ctx, (ast.Store, ast.Del)) else reads).append(ast.unparse(node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target, method = node.func.value, node.func.attr
            if is_environ(target) and method in ("pop", "setdefault", "update", "clear", "popitem"):
                writes.append(ast.unparse(node))
            elif method in ("putenv", "unsetenv"):
                writes.append(ast.unparse(node))
            elif (is_environ(target) and method == "get") or method == "getenv":
                reads.append(ast.unparse(node))
    return [read for read in reads if "PLAYGROUND_" in read], writes


def test_only_settings_reads_playground_variables_and_nothing_writes_the_environment():
    found = {}
    for path in sorted(PLAYGROUND.rglob("*.py")):
        reads, writes = environ_problems(ast.parse(path.read_text()))
        if writes or (reads and path.name != "settings.py"):
            found[path.name] = reads + writes
    assert found == {}
