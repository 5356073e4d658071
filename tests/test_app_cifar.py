"""AppTest: choosing CIFAR-10 on the Playground without its folder (the page says how to get it, no
traceback) and with a synthetic folder in the real format (colour samples, per-channel normalisation,
the colour presets, a short run whose filters show in colour), and the Draw page's reason for not
offering that colour model."""
import shutil

import pytest

from app_popovers import open_data
from cifar_folder import write_cifar_folder
from playground import cifar, images, settings
from playground.kept import Kept
from playground.text import markdown_literal
from playground.ui import server


@pytest.fixture
def fresh_data(monkeypatch):
    """The data folder without CIFAR-10, and no image or dataset cached from another test; the folder a
    test writes is removed afterwards."""
    folder = settings.data_root() / cifar.FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    monkeypatch.setattr(server, "_RECENT_DATASETS", Kept(8))
    server._shared_dataset.clear()
    images.clear_cache()
    yield settings.data_root()
    shutil.rmtree(folder, ignore_errors=True)
    server._shared_dataset.clear()
    images.clear_cache()


def errors(app) -> list[str]:
    return [e.value for e in app.error]


def captions(app) -> str:
    return " ".join(c.value for c in app.caption)


def test_without_the_folder_the_page_says_where_to_get_cifar10(open_playground, fresh_data):
    at = open_playground()
    open_data(at).selectbox(key="pg_dataset").set_value("cifar10").run()
    assert not at.exception
    problem = next(e for e in errors(at) if "CIFAR-10 (colour) is not available here" in e)
    assert markdown_literal(cifar.URL) in problem  # shown as written: Markdown's characters escaped
    assert markdown_literal(f"cifar-10-batches-py folder in {fresh_data}") in problem
    assert at.button(key="pg_train").disabled


def test_with_the_folder_cifar10_shows_colour_samples_and_offers_the_colour_presets(open_playground, fresh_data):
    write_cifar_folder(fresh_data, per_batch=20, n_test=20)
    at = open_playground()
    open_data(at).selectbox(key="pg_dataset").set_value("cifar10").run()
    assert not at.exception and not errors(at)
    assert [row["layer"] for row in at.dataframe[0].value.to_dict("records")] == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]  # the CIFAR CNN
    assert "Input [3, 32, 32] → output [10]" in captions(at) and "25,578 parameters" in captions(at)
    assert "per colour channel: red (x − " in captions(at) and "CIFAR-10 from its local folder" in captions(at)
    samples = at.get("image")[0].proto.imgs
    assert [img.caption for img in samples[:10]] == list(cifar.CLASS_NAMES)
    assert "32x32 colour pixels" in captions(at)
    keys = {button.key for button in at.button}
    assert {"pg_preset_CIFAR CNN", "pg_preset_Small ResNet"} <= keys and "pg_preset_Two-conv + dropout" not in keys


def test_a_cifar10_run_shows_colour_filters_and_the_draw_page_says_why_it_is_not_offered(open_playground,
                                                                                       fresh_data):
    write_cifar_folder(fresh_data, per_batch=20, n_test=20)
    at = open_playground()
    open_data(at).selectbox(key="pg_dataset").set_value("cifar10").run()
    at.number_input(key="pg_epochs").set_value(1).run()
    at.button(key="pg_train").click().run()
    at.session_state["pg_run"].join(120)
    at.run()
    assert not at.exception
    assert "The 16 filters (3x3) of the first Conv2d, in colour" in captions(at)
    at.switch_page("pages/2_Draw.py").run()
    assert not at.exception
    assert at.radio(key="dr_choice").options == ["The default MNIST model"]
    assert "The Playground's model is not offered: That model takes 3x32x32 colour images" in captions(at)


def test_online_without_the_folder_the_page_offers_the_download_and_shows_its_progress(open_playground, fresh_data,
                                                                                        monkeypatch, tmp_path):
    from cifar_server import archive_bytes, md5, serving
    from playground import dataset_download

    body = archive_bytes(write_cifar_folder(tmp_path, per_batch=20, n_test=20))
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "0")
    monkeypatch.setattr(dataset_download, "_JOBS", {})
    monkeypatch.setattr(cifar, "MD5", md5(body))
    with serving(body) as url:
        monkeypatch.setattr(cifar, "URL", url)
        at = open_playground()
        open_data(at).selectbox(key="pg_dataset").set_value("cifar10").run()
        assert not at.exception and not errors(at)  # nothing was downloaded in the script run
        assert any("CIFAR-10 (colour) is not on this server yet" in i.value for i in at.info)
        assert at.button(key="pg_train").disabled
        at.button(key="pg_data_download").click().run()
        dataset_download.job("cifar10").join(60)
        at.run()
    assert not at.exception and not errors(at)
    assert "CIFAR-10 downloaded from http://127.0.0.1" in captions(at) and not at.button(key="pg_train").disabled
