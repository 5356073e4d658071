"""The load test's scenarios (benchmarks/load_scenarios.py): the links students open, the live-boundary
reading and the checks drawn from a summary. Nothing is started or timed."""
from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from benchmarks.load_scenarios import (
    SCENARIOS,
    STACKS,
    Student,
    boundary_epoch,
    scenario_checks,
)
from playground import share
from playground.config import TrainConfig
from playground.lessons import LESSONS
from playground.pace import FAST, WATCH


def setup_of(student: Student) -> share.SharedSetup:
    """What the Playground makes of the student's address (as link.setup_from_link does)."""
    params = dict(parse_qsl(student.query))
    lesson = LESSONS.get(params.get(share.LESSON, ""))
    if lesson is not None and not share.has_config(params):
        params = {**share.to_query(lesson.config, lesson.hide, lesson.slug), **params}
    return share.from_query(params)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_gives_each_student_a_link_the_app_accepts(name):
    students = SCENARIOS[name].students(30)
    assert len(students) == 30
    for student in students:
        if student.query:
            setup_of(student)  # raises ConfigError on a link the app would refuse


def test_default_opens_the_bare_page_at_the_watch_pace_and_presses_at_once():
    scenario = SCENARIOS["default"]
    assert set(scenario.students(30)) == {Student("", WATCH)}
    assert scenario.spread_s is None


def test_same_opens_the_relu_lesson_link_whose_setup_is_the_default():
    students = SCENARIOS["same"].students(30)
    assert len(set(students)) == 1
    setup = setup_of(students[0])
    assert setup.lesson == "spiral-relu" and setup.config == TrainConfig()
    assert students[0].pace == WATCH


def test_seeds_keep_the_architecture_and_vary_seed_and_rate_at_the_fast_pace():
    configs = [setup_of(s).config for s in SCENARIOS["seeds"].students(30)]
    assert {s.pace for s in SCENARIOS["seeds"].students(30)} == {FAST}
    assert configs[0] == TrainConfig()  # the warm-up's: the default setup
    assert len({c.seed for c in configs}) == 30
    assert len({c.optimizer.lr for c in configs}) > 3
    assert {share.layers_text(c.layers) for c in configs} == {share.layers_text(TrainConfig().layers)}


def test_mixed_cycles_the_stacks_with_a_seed_each():
    configs = [setup_of(s).config for s in SCENARIOS["mixed"].students(30)]
    assert configs[0] == TrainConfig()
    stacks = {share.layers_text(c.layers) for c in configs}  # with the defaults the app fills in
    assert len(stacks) == len(STACKS) and share.layers_text(TrainConfig().layers) in stacks
    assert len({c.seed for c in configs}) == 30


def test_speed_label_is_what_the_speed_control_shows():
    assert Student(pace=WATCH).speed_label == "Watch" and Student(pace=FAST).speed_label == "Fast"


@pytest.mark.parametrize("data, epoch", [
    ('{"text":"Decision boundary \u2014 epoch 471"}'.encode(), 471),  # UTF-8, as the server sends it
    (b'{"text":"Decision boundary \\u2014 epoch 3"}', 3),  # ASCII-escaped JSON
    (b'{"text":"Decision boundary"}', 0),  # the bare data before a run
    (b"", 0), (None, 0),
])
def test_boundary_epoch_reads_the_charts_title(data, epoch):
    assert boundary_epoch(data) == epoch


def summary(**changes) -> dict:
    base = {"sessions": 3, "pages_live": 3, "live_after": {"n": 3, "p50_ms": 300, "p95_ms": 900, "max_ms": 900},
            "pages_queued": 0, "done_ratio": 1.2, "rss_growth_mb": 50.0,
            "interaction": {"n": 5, "p50_ms": 100, "p95_ms": 800, "max_ms": 2000}}
    return {**base, **changes}


def test_same_passes_when_every_page_is_live_in_time_and_done_soon():
    assert all(scenario_checks(SCENARIOS["same"], summary()).values())


@pytest.mark.parametrize("changes, failed", [
    ({"live_after": {"n": 3, "p50_ms": 300, "p95_ms": 1500, "max_ms": 1500}}, "within 1 s"),
    ({"pages_live": 2}, "live boundary"),
    ({"pages_queued": 1}, "Queued"),
    ({"done_ratio": 1.6}, "1.5x"),
    ({"done_ratio": None}, "1.5x"),
    ({"rss_growth_mb": 250.0}, "memory"),
])
def test_same_fails_the_check_that_was_missed(changes, failed):
    checks = scenario_checks(SCENARIOS["same"], summary(**changes))
    assert [name for name, ok in checks.items() if not ok] and \
        all(failed in name for name, ok in checks.items() if not ok)


def test_mixed_checks_interactions_and_liveness():
    checks = scenario_checks(SCENARIOS["mixed"], summary(interaction={"n": 5, "p50_ms": 1, "p95_ms": 1200,
                                                                       "max_ms": 3500}, pages_live=2))
    assert sorted(name for name, ok in checks.items() if not ok) == [
        "every page showed a live boundary", "interaction max < 3000 ms", "interaction p95 < 1000 ms"]


def test_seeds_check_only_the_ratio_and_memory():
    checks = scenario_checks(SCENARIOS["seeds"], summary(done_ratio=9.5, pages_live=0, pages_queued=30))
    assert {name: ok for name, ok in checks.items()} == {
        "all done within 3x one run alone": False,
        "server memory growth < 200 MB after the sessions closed": True}


def test_unmeasured_memory_is_no_check():
    assert not any("memory" in name for name in scenario_checks(SCENARIOS["default"], summary(rss_growth_mb=None)))


def test_live_figures_count_from_the_first_click_to_the_last_end():
    from benchmarks.load_test import live_figures
    results = [{"train_s": 10, "clicked_s": 4.0, "ended_s": 14.0, "live_after_s": 0.5, "queued": False},
               {"train_s": 12, "clicked_s": 5.5, "ended_s": 17.5, "live_after_s": None, "queued": True},
               {"error": "TimeoutError: the page never loaded"}]
    figures = live_figures(results, warm_up_s=10.0)
    assert figures["done_after_clicks_s"] == 13.5 and figures["done_ratio"] == 1.35
    assert figures["clicks_spread_s"] == 1.5
    assert figures["pages_live"] == 1 and figures["live_after"]["max_ms"] == 500 and figures["pages_queued"] == 1


def test_accuracy_checks_hold_runs_of_the_warm_ups_setup_to_its_accuracy():
    from benchmarks.load_test import accuracy_checks
    warm = {"query": "seed=1", "accuracy": 0.95}
    sessions = [{"status": "Completed", "query": "seed=1", "accuracy": 0.95},
                {"status": "Completed", "query": "seed=2", "accuracy": 0.99}]
    assert all(accuracy_checks({"warm_up": warm, "sessions": sessions}, SCENARIOS["seeds"]).values())
    sessions[0]["accuracy"] = 0.94
    assert accuracy_checks({"warm_up": warm, "sessions": sessions}, SCENARIOS["seeds"]) == {
        "runs with the warm-up's setup equal its accuracy": False}
    checks = accuracy_checks({"warm_up": warm, "sessions": sessions}, SCENARIOS["same"])
    assert checks["accuracy in 0.93-0.97"] is False  # 0.99 is out of the default setup's range


# --- the `class` scenario: students in a class, the teacher's board (benchmarks/load_class.py) ---------------

def test_class_students_each_carry_their_own_workspace_cookie_and_open_the_hand_out():
    from playground.runstore import check_workspace
    from playground.ui import workspace
    from playground.ui.training_panel import LR_CHOICES

    students = SCENARIOS["class"].students(30)
    assert len({s.workspace for s in students}) == 30
    for student in students:
        assert student.cookie == f"{workspace.COOKIE}={check_workspace(student.workspace)}"
        assert student.open_handout and student.query == "" and student.pace == WATCH
    picked = [s.lr for s in students if s.lr]
    assert 3 <= len(picked) <= 10 and not students[0].lr  # a few differ; the warm-up's keeps the hand-out's
    assert set(picked) <= {f"{v:g}" for v in LR_CHOICES} and set(picked) != {f"{TrainConfig().optimizer.lr:g}"}
    assert all(s.cookie == "" and not s.open_handout for s in SCENARIOS["default"].students(3))


def test_class_is_prepared_in_the_runs_file_with_every_student_and_the_default_setup(tmp_path):
    from benchmarks.load_class import TEACHER_WORKSPACE, prepare_class
    from benchmarks.load_scenarios import TEACHER_COOKIE, WORKSPACE_COOKIE
    from playground.classroom import ClassStore
    from playground.runstore import RunStore
    from playground.ui import class_session, workspace

    students = SCENARIOS["class"].students(5)
    prepared = prepare_class(tmp_path / "runs.sqlite", [*students, Student()])  # one without a cookie: not in it
    store = ClassStore(RunStore(tmp_path / "runs.sqlite"))
    assert prepared.members == 5 and store.is_teacher(prepared.code, prepared.secret)
    assert [m.workspace for m in store.members(prepared.code)] == [s.workspace for s in students]
    assert store.handout(prepared.code).payload == TrainConfig().to_dict()
    sent = dict(part.split("=", 1) for part in prepared.teacher_cookie.split("; "))
    assert (TEACHER_COOKIE, WORKSPACE_COOKIE) == (class_session.TEACHER_COOKIE, workspace.COOKIE)
    assert class_session.from_cookie(sent[TEACHER_COOKIE]) == (prepared.code, prepared.secret)
    assert sent[WORKSPACE_COOKIE] == TEACHER_WORKSPACE == workspace.valid(TEACHER_WORKSPACE)


def grid_data(tiles) -> bytes:
    """The tile grid component's data as the server sends it (JSON with the board's HTML)."""
    import json

    from playground import board_html
    return json.dumps({"html": board_html.grid(tiles), "version": "1"}).encode()


def test_the_board_tab_counts_tiles_and_the_most_running_at_once():
    from benchmarks.load_class import BoardSeen, grid_html
    from playground.board import NOT_STARTED, Tile

    seen = BoardSeen()
    idle = [Tile(i, f"<b>S{i}</b>", NOT_STARTED) for i in range(3)]
    running = [Tile(0, "S0", "running", 5, 10, 0.5, changes=()), Tile(1, "S1", "running", 2, 10, 0.4,
                                                                     changes=("lr 0.001 → 0.003",)),
               Tile(2, "S2", "queued")]
    for tiles in (idle, running, [*running[:1], Tile(1, "S1", "completed", 10, 10, 0.9, changes=())]):
        seen.read(grid_data(tiles))
    seen.read(b'{"html": "<p>not a board</p>"}')
    assert grid_html(None) is None and grid_html(b"not json") is None
    assert (seen.grids, seen.tiles_max, seen.running_peak) == (3, 3, 2)
    assert seen.at_peak == {"running": 2, "queued": 1}
    assert seen.last == {"running": 1, "completed": 1} and "lr 0.001 → 0.003" not in seen.changes


def test_class_checks_the_board_beside_the_interactions():
    good = {"tiles_max": 3, "refreshes": 12, "exceptions": []}
    assert all(scenario_checks(SCENARIOS["class"], summary(board=good)).values())
    failed = scenario_checks(SCENARIOS["class"], summary(board={**good, "tiles_max": 2, "refreshes": 0},
                                                         interaction={"n": 5, "p50_ms": 1, "p95_ms": 1200,
                                                                      "max_ms": 5000}))
    assert sorted(name for name, ok in failed.items() if not ok) == [
        "interaction p95 < 1000 ms", "the board refreshed", "the board showed a tile for every student"]
    assert not any("board" in name for name in scenario_checks(SCENARIOS["mixed"], summary()))


# --- st_client's fragment round trips ----------------------------------------------------------------------

def test_a_fragment_run_answers_the_requests_waiting_before_it_started_timed_from_the_oldest():
    from benchmarks.st_client import RunLog

    runs = RunLog()
    runs.fragment_asked_at("f", 1.0)
    runs.fragment_asked_at("f", 1.2)
    runs.fragment_started("r1", ["f"], 1.5)
    runs.fragment_asked_at("f", 1.6)  # after r1 began: the next run answers it
    runs.fragment_finished("r1", True, 1.8)
    runs.fragment_started("r2", ["f"], 1.9)
    runs.fragment_finished("r2", False, 2.0)  # cut short: no round trip, the request still waits
    runs.fragment_started("r3", ["f"], 2.5)
    runs.fragment_finished("r3", True, 2.9)
    runs.fragment_started("r4", ["f"], 3.0)  # nobody asked (e.g. the fragment reran itself): not timed
    runs.fragment_finished("r4", True, 3.1)
    assert [(f, round(s, 3)) for f, s in runs.fragment_trips] == [("f", 0.8), ("f", 1.3)]
    runs.fragment_asked_at("f", 4.0)
    runs.full_run_started()
    assert runs.fragment_superseded == 1 and runs.fragment_asked == {}


def test_the_session_times_fragment_runs_from_the_messages_it_receives():
    import time

    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from benchmarks.st_client import Session

    def message(run: str, fragment: str = "", finished=None) -> ForwardMsg:
        msg = ForwardMsg()
        msg.metadata.run.script_run_id = run
        if fragment:
            msg.metadata.run.fragment_ids.append(fragment)
        if finished is None:
            msg.new_session.SetInParent()
        else:
            msg.script_finished = finished
        return msg

    tab = Session("http://127.0.0.1:1", "Class", headers={"Cookie": "a=b"})
    assert tab.headers == {"Cookie": "a=b"} and Session("http://127.0.0.1:1", "Class").headers == {}
    tab._handle(message("full"))
    tab.runs.fragment_asked_at("f", time.monotonic())
    tab._handle(message("poll", "f"))
    tab._handle(message("poll", "f", ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY))
    tab._handle(message("full", finished=ForwardMsg.FINISHED_SUCCESSFULLY))
    assert len(tab.runs.fragment_trips) == 1 and tab.runs.fragment_trips[0][0] == "f"
    assert tab.runs.fragment_trips[0][1] >= 0 and tab.runs.fragment_runs == 1 and tab.runs.fragment_asked["f"] == []
