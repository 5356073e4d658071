"""AppTest of the workspace: a browser's runs are filed under a token kept in a cookie, never in the address.

Issue 13, item 6: student B opened the address student A copied (then `…?ws=A's token`) and could
rename and delete A's runs. A workspace in the address is now ignored and removed.
"""
import re

from playground import share
from playground.config import TrainConfig
from playground.progress import History
from playground.ui import server, workspace

XOR = TrainConfig.from_dict({"dataset": {"name": "xor", "n_samples": 40}, "epochs": 3})


def save_run(workspace: str) -> int:
    history = History(epochs=(1, 2, 3), train_loss=(0.9, 0.7, 0.5))
    return server.run_store().save(workspace, XOR, history, {"epochs": 3, "test_accuracy": 0.75}, "completed")


def test_a_copied_address_with_a_workspace_hands_out_none_of_its_runs(open_page):
    owner = "a1b2c3d4e5f6"  # the 12-hex-digit tokens the address used to carry
    save_run(owner)
    classmate = open_page("pages/4_Runs.py", {share.WORKSPACE: owner})
    assert any("No saved runs yet" in box.value for box in classmate.info)
    assert share.WORKSPACE not in classmate.query_params  # removed from the address, not adopted
    mine = classmate.session_state[workspace.KEY]
    assert mine != owner and re.fullmatch(r"[0-9a-f]{32}", mine)
    assert len(server.run_store().runs(owner)) == 1  # nothing of the owner's was touched


def test_the_playground_address_holds_the_setup_but_never_the_workspace(open_page):
    app = open_page("pages/1_Playground.py")
    assert share.from_query(app.query_params).config == TrainConfig()
    assert share.WORKSPACE not in app.query_params
    app.number_input(key="pg_epochs").set_value(5).run()
    assert app.query_params["epochs"] == ["5"] or app.query_params["epochs"] == "5"
    assert share.WORKSPACE not in app.query_params


def test_each_new_browser_gets_a_workspace_of_its_own(open_page):
    first, second = open_page("pages/4_Runs.py"), open_page("pages/4_Runs.py")
    assert first.session_state[workspace.KEY] != second.session_state[workspace.KEY]


def test_the_page_stores_the_workspace_in_the_browser(open_page):
    app = open_page("pages/4_Runs.py")
    cookie_keeper = app.get("bidi_component")  # the Components v2 module that writes the cookie
    assert cookie_keeper, "no cookie component on the page"
