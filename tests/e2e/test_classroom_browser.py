"""The classroom features in a real browser: lessons, shared and teacher links, CSV data, saved runs,
the exported script and the optimizer race, used the way a teacher and their students would.

Headless Chromium talks to a real `streamlit run app.py` (fixtures in conftest.py); saved runs
surviving a server restart are tested in test_faults_browser.py. Widgets are found by
their `.st-key-<key>` class; every wait is a Playwright auto-waiting `expect` or a
`wait_for_function`, never a fixed sleep. Configs are tiny (XOR of 80 points, 30 epochs) wherever
the test chooses them; the lesson and the race train their own, still small, setups.

The race test also takes lessons.png and runs.png (into the `screenshots` folder, conftest.py).
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from harness import (
    CONNECTED,
    FRESH,
    START_S,
    TEST_S,
    TRAIN_S,
    alert,
    assert_no_exception,
    button,
    click_option,
    connect,
    fresh_page,
    keyed,
    metric,
    open_data,
    open_playground,
    query,
    save_full_page,
    train_to_completion,
    wait_for_saved_runs,
    workspace_of,
)
from playground import share
from playground.config import TrainConfig
from playground.runstore import RunStore, default_path

pytestmark = [pytest.mark.browser, pytest.mark.timeout(TEST_S)]

RACE_S = 2 * TRAIN_S  # 4 optimizers x 300 epochs on a 900-point spiral


# The XOR setup the link tests share: small enough to train in well under a second.
XOR = TrainConfig.from_dict({
    "dataset": {"name": "xor", "n_samples": 80},
    "layers": [{"type": "linear", "out": 8}, {"type": "tanh"}, {"type": "linear"}],
    "optimizer": {"name": "adam", "lr": 0.03}, "epochs": 30, "seed": 7})
XOR_BY_HAND = "/Playground?dataset.name=xor&dataset.n_samples=80&layers=linear(out=8),tanh,linear" \
              "&optimizer.lr=0.03&epochs=30&seed=7"


# --- helpers ------------------------------------------------------------------------------------

def plan_layers(page: Page) -> Locator:
    """The "layer" column of the model's plan table (the only dataframe on the Playground)."""
    return page.locator(f"{FRESH} [data-testid='stDataFrame'] td[role='gridcell'][aria-colindex='2']")


def layer_types(page: Page) -> Locator:
    """The layer chips of the Model's row, input to output ("Linear 8", "Tanh", ...)."""
    return page.locator("[data-testid='stLayoutWrapper'][class*='st-key-pg_chip_'] button:visible p")


def expect_layer_types(page: Page, names: list[str]) -> None:
    """The row of layer chips shows exactly these layer types, in this order (each chip: type, then its size)."""
    expect(layer_types(page)).to_have_count(len(names))
    for row, name in enumerate(names):
        expect(layer_types(page).nth(row)).to_have_text(re.compile(rf"^{name}( |$)"))


def wait_for_query(page: Page, **wanted: str) -> dict[str, str]:
    """Wait until the address bar carries these parameters (the page writes them after a run)."""
    checks = " && ".join(f"p.get({key!r}) === {value!r}" for key, value in wanted.items())
    page.wait_for_function(f"() => {{ const p = new URLSearchParams(location.search); return {checks}; }}")
    return query(page)


def choose(page: Page, key: str, option: str) -> None:
    """Pick `option` in the keyed st.selectbox or st.multiselect, as a person would: open it, click the
    option, close it (a multiselect stays open, and while open it hides the rest of the page from
    the accessibility tree, so get_by_role would find nothing there)."""
    box = keyed(page, key).locator("input[role='combobox']")
    click_option(page, box, option)
    if box.get_attribute("aria-expanded") == "true":
        box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")


def type_number(field: Locator, value: str) -> None:
    """Type into an st.number_input and commit it with Enter (that triggers the rerun)."""
    field.fill(value)
    field.press("Enter")
    expect(field).to_have_value(value)


def final_metrics(page: Page) -> dict[str, str]:
    """The four numbers under the status line once a run has ended."""
    return {label: metric(page, label).inner_text()
            for label in ("Train loss", "Test loss", "Train accuracy", "Test accuracy")}


# --- tests --------------------------------------------------------------------------------------

def test_lesson_opens_in_the_playground_and_keeps_its_promise(page: Page):
    """Lessons → "Open in the Playground" → the lesson banner; Train; the banner's verdict holds."""
    connect(page, "/Lessons", "Lessons")
    card = page.locator(".st-key-ls_card_line")  # a container, not an element: no FRESH prefix
    expect(card).to_contain_text("Linear regression: learn y = 2x")
    expect(card).to_contain_text("Asks first: After 1,000 epochs of plain SGD")  # the story waits for an answer
    card.get_by_role("link", name="Open in the Playground").click()

    expect(page.get_by_role("heading", name="Playground", exact=True)).to_be_visible(timeout=START_S * 1000)
    banner = page.locator(".st-key-pg_lesson_box")
    expect(banner).to_contain_text("Lesson · Linear regression: learn y = 2x")
    keyed(page, "pg_quiz_line").get_by_text("about 10", exact=True).click()  # it asks first (test_lesson_question_…)
    expect(banner).to_contain_text("Four points on y = 2x and one Linear layer")
    expect(banner).to_contain_text("Expected: a prediction of about 10.0 for x = 5.0")
    # The lesson's setup is on the page: y = 2x, one Linear layer, MSE, SGD 0.01, 1000 epochs.
    open_data(page)
    expect(keyed(page, "pg_dataset").locator("input")).to_have_value("Linear regression y = 2x")
    expect(keyed(page, "pg_loss").locator("input")).to_have_value("MSE")
    expect(keyed(page, "pg_opt").locator("input")).to_have_value("SGD")
    expect(keyed(page, "pg_epochs").locator("input")).to_have_value("1000")
    expect_layer_types(page, ["Linear"])
    expect(banner.locator("[data-testid='stAlertContentSuccess']")).to_have_count(0)  # no verdict before a run

    train_to_completion(page)
    verdict = banner.locator("[data-testid='stAlertContentSuccess']").filter(has_text="Prediction for x = 5.0")
    expect(verdict).to_have_text(re.compile(r"Prediction for x = 5\.0 (9\.9\d\d|10\.0\d\d|10\.100): as the lesson "
                                            r"said \(a prediction of about 10\.0 for x = 5\.0\)\."))
    params = wait_for_query(page, lesson="line", layers="linear")
    assert params["dataset.name"] == "linear_regression" and params["optimizer.name"] == "sgd", params
    assert "ws" not in params, f"the workspace is in the address: {page.url}"  # a copied link hands out no runs
    assert re.fullmatch(r"[0-9a-f]{32}", workspace_of(page))  # it lives in the browser's cookie
    assert_no_exception(page)


def test_a_shared_link_reproduces_the_setup_and_the_run(page: Page, browser: Browser, app_url: str):
    """A hand-written link and share.link's for the same config fill the same widgets and train the same run."""
    built = share.link(f"{app_url}/Playground", XOR)
    hand = parse_qs(urlsplit(XOR_BY_HAND).query)
    assert share.from_query({k: v[-1] for k, v in hand.items()}).config == XOR  # same setup, two spellings

    first = open_and_train_xor(page, XOR_BY_HAND)
    with fresh_page(browser, app_url) as someone_else:
        second = open_and_train_xor(someone_else, built)
    assert re.fullmatch(r"0\.\d{4}|1\.0000", first["Test accuracy"]), first
    assert first == second, f"the same setup trained differently: {first} vs {second}"


def open_and_train_xor(page: Page, address: str) -> dict[str, str]:
    """Open a link to the XOR setup, check every widget shows it, train it; the final metrics."""
    open_playground(page, address)
    open_data(page)
    expect(keyed(page, "pg_dataset").locator("input")).to_have_value("XOR")
    expect(keyed(page, "pg_ds_xor_n_samples").locator("input")).to_have_value("80")
    expect(keyed(page, "pg_epochs").locator("input")).to_have_value("30")
    expect(keyed(page, "pg_seed").locator("input")).to_have_value("7")
    expect(keyed(page, "pg_opt").locator("input")).to_have_value("Adam")
    expect(keyed(page, "pg_lr").get_by_role("slider")).to_have_attribute("aria-valuetext", "0.03")
    expect_layer_types(page, ["Linear", "Tanh", "Linear"])
    expect(plan_layers(page)).to_have_text(["Linear", "Tanh", "Linear"])
    expect(page.get_by_text(re.compile(r"Input \[2\] → output \[2\] · 42 parameters"))).to_be_visible()
    train_to_completion(page)
    expect(page.get_by_text(re.compile(r"epoch 30 / 30 ·"))).to_be_visible()
    metrics = final_metrics(page)
    assert_no_exception(page)
    return metrics


def test_teacher_link_hides_controls_from_students(page: Page, browser: Browser, app_url: str):
    """Teacher mode hides the layer editor and the learning rate; the student still sees the plan and can train."""
    open_playground(page, XOR_BY_HAND)
    panel = page.locator(".st-key-pg_share_panel")
    panel.get_by_text("Share a link to this setup").click()
    panel.get_by_text("Teacher mode").click()
    expect(keyed(page, "pg_share_hide")).to_be_visible()
    choose(page, "pg_share_hide", "Layer editor and presets")
    choose(page, "pg_share_hide", "Learning rate")
    code = panel.locator("[data-testid='stCode'] code")
    expect(code).to_contain_text("hide=model,learning_rate")
    expect(panel).to_contain_text("Hidden controls keep the link's values.")
    link = code.inner_text().strip()
    assert link.startswith(f"{app_url}/Playground?") and "ws=" not in link, link  # the teacher's runs stay theirs

    with fresh_page(browser, app_url) as student:
        open_playground(student, link)
        expect(student.get_by_text("🔒 Set by your teacher's link, so not shown: layer editor and presets, "
                                   "learning rate.")).to_be_visible()
        expect(student.get_by_text("🔒 The layers are set by the link; the table below shows them.")).to_be_visible()
        expect(student.locator(".st-key-pg_add_layer")).to_have_count(0)
        expect(student.locator(".st-key-pg_lr")).to_have_count(0)
        expect(layer_types(student)).to_have_count(0)
        expect(plan_layers(student)).to_have_text(["Linear", "Tanh", "Linear"])
        open_data(student)
        expect(keyed(student, "pg_dataset").locator("input")).to_have_value("XOR")  # not hidden, still there
        train_to_completion(student)
        expect(student.get_by_text(re.compile(r"learning rate 0\.03\b"))).to_be_visible()  # the link's, kept
        assert_no_exception(student)
        # The lock survives a reload: the address bar still hides the same controls.
        wait_for_query(student, hide="model,learning_rate")
        student.reload()
        expect(student.locator(CONNECTED)).to_be_attached(timeout=START_S * 1000)
        expect(button(student, "pg_train")).to_be_enabled()
        expect(student.get_by_text(re.compile("🔒 Set by your teacher's link"))).to_be_visible()
        expect(student.locator(".st-key-pg_add_layer")).to_have_count(0)
        expect(student.locator(".st-key-pg_lr")).to_have_count(0)
        assert_no_exception(student)


@pytest.mark.parametrize(("address", "named"), [
    ("/Playground?dataset.name=cifar", re.compile(r"dataset\.name.*cifar|cifar.*dataset\.name", re.S)),
    ("/Playground?layers=linear(out=", re.compile(r"layers.*linear\(out=", re.S)),
], ids=["unknown-dataset", "cut-off-layers"])
def test_a_malformed_link_warns_and_shows_the_default_setup(page: Page, address: str, named: re.Pattern):
    """A bad link names its problem in a warning; the page shows the default spiral setup, no traceback."""
    open_playground(page, address)
    warning = alert(page, "Warning", "This link's setup could not be used")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(named)
    open_data(page)
    expect(keyed(page, "pg_dataset").locator("input")).to_have_value("Spiral")
    expect(keyed(page, "pg_epochs").locator("input")).to_have_value("1000")
    expect_layer_types(page, ["Linear", "ReLU", "Linear"])
    expect(page.get_by_text("603 parameters")).to_be_visible()
    # The address bar now holds the setup shown, so copying it shares a link that works.
    wait_for_query(page, **{"dataset.name": "spiral", "layers": "linear(out=100),relu,linear"})
    assert_no_exception(page)


def _blobs_csv(path: Path, extra_text_column: bool = False) -> Path:
    """Two Gaussian blobs, 60 points each, labelled with words: x1,x2[,colour],species."""
    rng = np.random.default_rng(3)
    rows = []
    for species, centre in (("setosa", (-2.0, -1.5)), ("virginica", (2.0, 1.5))):
        for x1, x2 in rng.normal(centre, 0.7, size=(60, 2)):
            colour = f"{'red' if species == 'setosa' else 'blue'}," if extra_text_column else ""
            rows.append(f"{x1:.3f},{x2:.3f},{colour}{species}")
    header = "x1,x2,colour,species" if extra_text_column else "x1,x2,species"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_train_on_an_uploaded_csv_and_refuse_bad_files(page: Page, tmp_path: Path):
    """Upload a 2-feature CSV: label, features and task are guessed, it trains to a boundary; bad files are refused."""
    open_playground(page)
    open_data(page)
    choose(page, "pg_dataset", "Your CSV file")
    expect(alert(page, "Info", "Upload a CSV file to train on it")).to_be_visible()
    expect(button(page, "pg_train")).to_be_disabled()

    upload = page.locator(".st-key-pg_csv_upload input[type='file']")
    upload.set_input_files(str(_blobs_csv(tmp_path / "flowers.csv")))
    expect(page.get_by_text("flowers.csv: 120 rows, 3 columns.")).to_be_visible()
    expect(keyed(page, "pg_csv_label").locator("input")).to_have_value("species")
    expect(keyed(page, "pg_csv_features").locator("[data-tag]")).to_have_text(["x1", "x2"])
    expect(keyed(page, "pg_csv_task").get_by_role("radio", name="classification (detected)")).to_be_checked()
    expect(page.get_by_text(re.compile(r"Input \[2\] → output \[2\]"))).to_be_visible()
    type_number(keyed(page, "pg_epochs").locator("input"), "300")
    expect(button(page, "pg_train")).to_be_enabled()

    train_to_completion(page)
    expect(keyed(page, "pg_boundary").locator(".gtitle")).to_have_text("Decision boundary — epoch 300")
    expect(keyed(page, "pg_boundary").locator(".heatmaplayer image").first).to_be_attached()
    expect(keyed(page, "pg_boundary").locator(".legendtext")).to_have_text(["setosa", "virginica"])
    expect(keyed(page, "pg_boundary").locator(".xtitle")).to_have_text("x1")
    accuracy = float(metric(page, "Test accuracy").inner_text())
    assert accuracy >= 0.95, f"two well separated blobs should be learned, got test accuracy {accuracy}"

    # A picture renamed to .csv: refused with the reason; the last good table stays.
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    upload.set_input_files(str(png))
    refused = alert(page, "Error", "photo.csv was not loaded")
    expect(refused).to_contain_text("this is not a CSV text file")
    expect(refused).to_contain_text("save it as CSV")
    expect(refused).to_contain_text("The page still uses flowers.csv")
    expect(page.get_by_text("flowers.csv: 120 rows, 3 columns.")).to_be_visible()
    expect(button(page, "pg_train")).to_be_enabled()

    # A text column chosen as a feature: named, with the row that is not a number; Train is off.
    upload.set_input_files(str(_blobs_csv(tmp_path / "coloured.csv", extra_text_column=True)))
    expect(page.get_by_text("coloured.csv: 120 rows, 4 columns.")).to_be_visible()
    expect(refused).to_have_count(0)
    expect(keyed(page, "pg_csv_features").locator("[data-tag]")).to_have_text(["x1", "x2"])
    choose(page, "pg_csv_features", "colour")
    problem = alert(page, "Error", 'column "colour" is not numeric')
    expect(problem).to_be_visible()
    expect(problem).to_contain_text('"red"')
    expect(button(page, "pg_train")).to_be_disabled()
    expect(page.get_by_role("heading", name="Playground", exact=True)).to_be_visible()
    assert_no_exception(page)


def test_exported_script_trains_on_its_own(page: Page, tmp_path: Path):
    """The export panel's script runs with plain Python, outside the app, and ends exactly where the app's
    run ended (same data, same seeds). Its --epochs option is tested in tests/test_export.py."""
    open_playground(page, XOR_BY_HAND)
    train_to_completion(page)
    in_the_app = final_metrics(page)
    panel = page.locator(".st-key-pg_export_panel")
    panel.get_by_text("Export as a PyTorch script").click()
    expect(panel.locator("[data-testid='stCode']")).to_contain_text("import torch")
    with page.expect_download() as download:
        button(page, "pg_download_script").click()
    script = tmp_path / download.value.suggested_filename
    download.value.save_as(script)
    assert script.suffix == ".py", script
    assert_no_exception(page)

    as_exported = _final_line(_run_script(script))
    shown = {"train_loss": "Train loss", "test_loss": "Test loss", "train_accuracy": "Train accuracy",
             "test_accuracy": "Test accuracy"}
    assert {label: f"{float(as_exported[key]):.4f}" for key, label in shown.items()} == in_the_app, \
        f"the script's 30 epochs ended at {as_exported}, the app's at {in_the_app}"


def _run_script(script: Path) -> str:
    done = subprocess.run([sys.executable, str(script)], cwd=script.parent, capture_output=True, text=True,
                          timeout=TRAIN_S)
    assert done.returncode == 0, f"the exported script failed:\n{done.stderr}"
    assert "epoch 30/30" in done.stdout, done.stdout
    return done.stdout


def _final_line(output: str) -> dict[str, str]:
    """The script's last line, "final train_loss=0.61 ... test_accuracy=0.56", as a dict."""
    finals = [line for line in output.splitlines() if line.startswith("final ")]
    assert finals, f"no final line in the script's output:\n{output}"
    metrics = dict(item.split("=", 1) for item in finals[-1].split()[1:])
    assert re.fullmatch(r"0\.\d+|1(\.0*)?", metrics.get("test_accuracy", "")), finals[-1]
    return metrics


def test_optimizer_race(page: Page, screenshots: Path):
    """Start the race: both overlays appear, the verdict holds, and the Runs page lists its four runs."""
    connect(page, "/Lessons", "Lessons")
    button(page, "ls_start_optimizer-race").click()
    loss, accuracy = keyed(page, "ls_race_loss"), keyed(page, "ls_race_accuracy")
    expect(loss.locator(".main-svg").first).to_be_visible(timeout=START_S * 1000)
    expect(accuracy.locator(".main-svg").first).to_be_visible()
    expect(loss.locator(".gtitle")).to_have_text("Train loss")
    expect(accuracy.locator(".gtitle")).to_have_text("Test accuracy")
    verdict = page.locator("[data-testid='stAlertContentSuccess'], [data-testid='stAlertContentWarning']") \
        .filter(has_text="Final train loss")
    expect(verdict).to_be_visible(timeout=RACE_S * 1000)
    expect(verdict).to_contain_text("As the lesson said: the adaptive optimizers win, momentum helps SGD.")
    expect(page.get_by_text(re.compile(r"Completed · epoch 300 / 300"))).to_be_visible()
    for name in ("SGD", "SGD + momentum", "Adam", "RMSprop"):
        expect(loss.locator(".legendtext").filter(has_text=re.compile(f"^{re.escape(name)}$"))).to_have_count(1)
    save_full_page(page, screenshots / "lessons.png", accuracy.locator(".main-svg").first)

    workspace = workspace_of(page)
    assert len(wait_for_saved_runs(RunStore(default_path()), workspace, 4)) == 4
    page.locator("[data-testid='stSidebar']").get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="Runs", exact=True)).to_be_visible()
    picked = keyed(page, "rn_pick").locator("[data-tag]")
    expect(picked).to_have_count(3)  # the three newest are compared at first
    keyed(page, "rn_pick").locator("input[role='combobox']").click()
    expect(page.get_by_role("option")).to_have_count(1)  # the oldest, not picked at first
    names = [*picked.all_inner_texts(), *page.get_by_role("option").all_inner_texts()]
    page.keyboard.press("Escape")
    assert sorted(re.sub(r"^#\d+ · ", "", name) for name in names) == \
        sorted(f"Race: {name}" for name in ("SGD", "SGD + momentum", "Adam", "RMSprop")), names
    expect(keyed(page, "rn_loss").locator(".main-svg").first).to_be_visible()
    save_full_page(page, screenshots / "runs.png", keyed(page, "rn_score").locator(".main-svg").first)
    assert_no_exception(page)
