"""AppTest of the Playground's CSV uploads under attack: too many too fast, a full disk, a classmate's
upload of the same file under another name, and a table removed from the server to make room."""
import hashlib
import shutil
from collections import namedtuple

import pytest
from streamlit.testing.v1 import AppTest

from app_popovers import open_data
from playground import tabular


def table(seed: int) -> bytes:
    return b"x1,x2,label\n" + b"".join(f"{seed},{i},{i % 2}\n".encode() for i in range(30))


@pytest.fixture
def csv_page(open_playground):
    """`csv_page(name, data)`: a fresh session on 'Your CSV file' with `data` uploaded as `name`."""
    def open_csv(name: str = "first.csv", data: bytes = table(0)) -> AppTest:
        app = open_playground()
        open_data(app).selectbox(key="pg_dataset").set_value("csv").run()
        upload(app, name, data)
        assert not app.error and not app.exception
        return app
    return open_csv


def upload(app: AppTest, name: str, data: bytes) -> None:
    app.file_uploader(key="pg_csv_upload").set_value((name, data, "text/csv")).run()


def errors(app: AppTest) -> str:
    return " ".join(e.value for e in app.error)


def shown_name(app: AppTest) -> str:
    return next(c.value for c in app.caption if " rows, " in c.value)


def test_uploading_many_files_quickly_is_refused_saying_when_to_try_again(monkeypatch, csv_page):
    monkeypatch.setenv("PLAYGROUND_UPLOADS_PER_MINUTE", "3")
    app = csv_page("t0.csv", table(0))
    upload(app, "t1.csv", table(1))
    upload(app, "t2.csv", table(2))
    kept = app.session_state["pg_csv_file"]
    upload(app, "t3.csv", table(3))
    message = errors(app)
    assert "t3.csv was not loaded" in message and "3 files" in message and "in the last minute" in message
    assert "try again in" in message and "seconds" in message and "still uses t2.csv" in message
    assert app.session_state["pg_csv_file"] == kept and not app.exception
    assert not (tabular.tables_dir() / f"{hashlib.sha256(table(3)).hexdigest()[:16]}.csv").exists()


def test_a_full_disk_refuses_an_upload_and_keeps_the_table(monkeypatch, csv_page):
    app = csv_page()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**11, 10**11 - 2**20, 2**20))
    upload(app, "more.csv", table(7))
    message = errors(app)
    assert "more.csv was not loaded: the server's disk is full" in message and "still uses first.csv" in message
    assert not app.exception


def test_a_classmate_uploading_the_same_file_under_another_name_renames_nothing(csv_page):
    data = table(11)
    student_a = csv_page("mine.csv", data)
    student_b = csv_page("other.csv", data)
    assert student_a.session_state["pg_csv_file"] == student_b.session_state["pg_csv_file"]
    student_a.run()
    assert "**mine.csv**" in shown_name(student_a)
    assert "**other.csv**" in shown_name(student_b)


def test_a_table_removed_to_make_room_asks_to_upload_it_again(csv_page):
    app = csv_page("gone.csv", table(21))
    for path in tabular.tables_dir().glob(f"{app.session_state['pg_csv_file']}.*"):
        path.unlink()  # what the quota does to a table nobody used for a while
    app.run()
    message = errors(app)
    assert "is no longer on the server" in message and "upload the CSV again" in message
    assert app.button(key="pg_train").disabled and not app.exception
