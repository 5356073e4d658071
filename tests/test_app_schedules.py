"""AppTest of the Playground's schedule settings, the optimizer's "More" popover and the learning-rate curve."""
import json

import pytest

from app_popovers import open_popover
from test_app_playground import finish
from test_live_chart import keyed_chart


@pytest.fixture
def at(open_playground):
    return open_playground()


def shown_config(app) -> dict:
    open_popover(app, "pg_config_panel")
    return json.loads(next(c.value for c in app.code if c.language == "json"))


def problems(app) -> str:
    return " ".join(e.value for e in app.error) + " ".join(m.value for m in app.markdown)


def test_plateau_shows_its_settings_and_how_a_hand_set_rate_combines(at):
    at.selectbox(key="pg_schedule").set_value("plateau").run()
    at.slider(key="pg_sched_factor").set_value(0.5).run()
    at.number_input(key="pg_sched_patience").set_value(3).run()
    assert not at.exception
    assert any("new base" in c.value for c in at.caption)
    assert shown_config(at)["schedule"] == {"name": "plateau", "factor": 0.5, "patience": 3}


def test_multistep_reads_comma_milestones_and_names_a_bad_list(at):
    at.selectbox(key="pg_schedule").set_value("multistep").run()
    at.text_input(key="pg_sched_milestones").input("100, 300").run()
    assert shown_config(at)["schedule"] == {"name": "multistep", "milestones": [100, 300], "gamma": 0.1}
    at.text_input(key="pg_sched_milestones").input("300, 100").run()
    assert not at.exception and "schedule.milestones" in problems(at)
    at.text_input(key="pg_sched_milestones").input("soon").run()
    assert not at.exception and "schedule.milestones" in problems(at)


def test_onecycle_and_exponential_take_their_settings(at):
    at.selectbox(key="pg_schedule").set_value("onecycle").run()
    at.select_slider(key="pg_sched_max_lr").set_value(0.1).run()
    assert shown_config(at)["schedule"] == {"name": "onecycle", "max_lr": 0.1}
    at.selectbox(key="pg_schedule").set_value("exponential").run()
    assert shown_config(at)["schedule"] == {"name": "exponential", "gamma": 0.99}


def test_adams_more_popover_sets_betas_and_eps_that_stay_when_it_closes(at):
    assert "betas" not in shown_config(at)["optimizer"]
    open_popover(at, "pg_opt_more")
    at.number_input(key="pg_opt_beta1").set_value(0.8).run()
    at.select_slider(key="pg_opt_eps").set_value(1e-6).run()
    at.session_state["pg_opt_more"] = False
    at.run()
    optimizer = shown_config(at)["optimizer"]
    assert optimizer["betas"] == [0.8, 0.999] and optimizer["eps"] == 1e-6


@pytest.mark.parametrize("name, key, widget, value", [("rmsprop", "alpha", "pg_opt_alpha", 0.9),
                                                       ("adadelta", "rho", "pg_opt_rho", 0.5)])
def test_each_optimizer_shows_only_its_own_settings(at, name, key, widget, value):
    at.selectbox(key="pg_opt").set_value(name).run()
    open_popover(at, "pg_opt_more")
    at.number_input(key=widget).set_value(value).run()
    assert shown_config(at)["optimizer"][key] == value
    assert not any(w.key == "pg_opt_beta1" for w in at.number_input)


def test_sgd_has_no_more_popover(at):
    at.selectbox(key="pg_opt").set_value("sgd").run()
    assert not at.exception
    assert "pg_opt_more" not in [getattr(p, "key", None) for p in at.get("popover")]


def test_a_run_with_a_schedule_draws_its_learning_rate_curve(at):
    at.number_input(key="pg_epochs").set_value(30).run()
    at.selectbox(key="pg_schedule").set_value("step").run()
    at.number_input(key="pg_step_size").set_value(10).run()
    at.button(key="pg_train").click().run()
    finish(at)
    assert not at.exception
    curve = keyed_chart(at, "pg_lr_chart")
    assert "Learning rate" in json.dumps(curve["layout"])
    assert sorted(set(curve["data"][0]["y"]), reverse=True) == [0.001, 0.0005, 0.00025]  # halved every 10 epochs
