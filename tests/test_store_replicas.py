"""Two replicas on one PostgreSQL database: a run saved or a class joined on one is seen on the other, in
this process (two stores) and from another process (a second server)."""
import json
import subprocess
import sys
from pathlib import Path

from playground.classroom import ClassStore
from playground.config import TrainConfig
from playground.progress import History
from playground.runstore import RunStore

ROOT = Path(__file__).resolve().parents[1]
HISTORY = History(epochs=(1, 2), train_loss=(1.0, 0.5))
OTHER_REPLICA = """
import json, sys
from playground.classroom import ClassStore
from playground.config import TrainConfig
from playground.progress import History
from playground.runstore import RunStore
url, code = sys.argv[1:]
store = RunStore(url)
run_id = store.save("student", TrainConfig(), History(epochs=(1,), train_loss=(0.3,)), {}, "completed", name="there")
classes = ClassStore(store)
classes.join(code, "student2", "Bo")
print(json.dumps({"id": run_id, "runs": [r.name for r in store.runs("student")],
                  "members": [m.name for m in classes.members(code)]}))
"""


def test_two_stores_on_one_database_see_each_others_runs_and_classes(pg_url):
    one, two = RunStore(pg_url), RunStore(pg_url)
    run_id = one.save("student", TrainConfig(), HISTORY, {"epochs": 2}, "completed", name="here")
    assert [r.id for r in two.runs("student")] == [run_id]
    code = ClassStore(one).create("teacher", "Year 9").info.code
    ClassStore(two).join(code, "student", "Ada")
    assert [m.name for m in ClassStore(one).members(code)] == ["Ada"]


def test_a_second_server_process_sees_and_adds_runs_and_members(pg_url):
    here = RunStore(pg_url)
    here.save("student", TrainConfig(), HISTORY, {}, "completed", name="here")
    classes = ClassStore(here)
    code = classes.create("teacher").info.code
    classes.join(code, "student", "Ada")
    result = subprocess.run([sys.executable, "-c", OTHER_REPLICA, pg_url, code], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    there = json.loads(result.stdout.strip().splitlines()[-1])
    assert there["runs"] == ["there", "here"] and there["members"] == ["Ada", "Bo"]
    assert [r.name for r in here.runs("student")] == ["there", "here"] and here.get("student", there["id"])
    assert [m.name for m in classes.members(code)] == ["Ada", "Bo"]
