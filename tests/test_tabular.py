"""tabular: reading odd CSV files into tables, preparing columns, stored uploads, datasets as CSV."""
import contextlib
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from playground import tabular
from playground.datasets import make_dataset
from playground.tabular import (
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_ROWS,
    TableError,
    dataset_csv,
    default_features,
    guess_task,
    is_table_id,
    load_upload,
    prepare,
    read_table,
    save_upload,
)
from playground.tasks import CLASSIFICATION, REGRESSION

IRIS = (b"sepal length,sepal width,species\n5.1,3.5,setosa\n4.9,3.0,setosa\n7.0,3.2,versicolor\n"
        b"6.4,3.2,versicolor\n6.3,3.3,virginica\n5.8,2.7,virginica\n")
MIXED = (b"height,weight,colour,grade,passed,price\n"
         b"1.5,60,red,2,true,10.5\n1.6,70,blue,10,false,20.25\n1.7,80,red,3,true,30.0\n"
         b"1.8,90,green,10,false,40.75\n1.9,95,blue,2,true,50.5\n")


def refusal(call, *args) -> str:
    """The TableError message `call(*args)` raises; its str is the same plain message."""
    with pytest.raises(TableError) as caught:
        call(*args)
    assert str(caught.value) == caught.value.message
    return caught.value.message


def rows(count: int, line: bytes = b"1,2\n") -> bytes:
    return b"a,b\n" + line * count


# --- read_table refusals ------------------------------------------------------------------------


@pytest.mark.parametrize("data, words", [
    (b"", ["empty"]),
    (b"  \n\n\t \r\n", ["empty"]),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["not a CSV text file", "PNG image", "save it as CSV"]),
    (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml", ["not a CSV text file", "Excel workbook"]),
    (b"a,b\n1,\x00\x002\n3,4\n5,6\n7,8\n", ["not a CSV text file", "binary data"]),
    (b"a,b\n\x81,1\n\x8d,2\n3,4\n5,6\n", ["neither UTF-8 nor Windows-1252"]),
    (b"a,b\n", ["no rows of data"]),
    (rows(3), ["only 3 rows of data", "at least 4"]),
    (b"a,b\n1,2\n\n\n,\n", ["only 1 row of data"]),
    (b"value\n1\n2\n3\n4\n", ["only one column", "label column", "feature column"]),
    (b"Class marks 2024\nname,mark\nann,3\nbob,4\ncat,5\ndan,6\n", ["only one column", "title"]),
    (b"a,\n1,\n2,\n3,\n4,\n", ["only one column"]),
    (b"sep=;\na,b\n1,2\n3,4\n5,6\n7,8\n", ["only one column"]),
    (b'"' + b"x" * 200_000 + b'",1\n', ["first line", "cannot be read"]),
    (b"a,b\n1,2\n3,4,5\n6,7\n8,9\n", ["line 3 has 3 values", "names 2 columns", "extra comma"]),
    (b"a;b\n1;2\n3;4\n5;6;7;8\n9;1\n", ["line 4 has 4 values", "extra semicolon"]),
    (b"a,b\n1,2,3\n4,5\n6,7\n8,9\n", ["line 2 has 3 values", "names 2 columns"]),
    (b'a,b\n1,2\n3,"4\n5,6\n7,8\n', ["line 3", "quote", "never closed"]),
    (b"a, b ,a\n1,2,3\n4,5,6\n7,8,9\n1,2,3\n", ['"a" appears twice', "columns 1 and 3"]),
    (b"a,,c\n1,2,3\n4,5,6\n7,8,9\n1,2,3\n", ["column 2 has no name", "holds values"]),
    (b"a,b\n" + b"1,2\n" * (MAX_ROWS + 1), [f"more than {MAX_ROWS:,} rows"]),
    (",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)).encode() + b"\n" + b"1,2\n" * 4,
     [f"{MAX_COLUMNS + 1:,} columns", f"limit is {MAX_COLUMNS:,}"]),
], ids=["empty", "only-whitespace", "png-renamed-csv", "xlsx-renamed-csv", "nul-bytes", "not-utf8-nor-cp1252",
        "header-only", "too-few-rows", "blank-rows-do-not-count", "single-column", "title-line",
        "single-column-with-trailing-commas", "excel-sep-line-naming-the-wrong-separator", "giant-header-cell",
        "ragged-row-names-line", "ragged-semicolon-row", "ragged-first-data-row", "unclosed-quote",
        "duplicate-column-names", "unnamed-column-with-values", "too-many-rows", "too-many-columns"])
def test_bad_file_is_refused_in_plain_words(data, words):
    message = refusal(read_table, data)
    for word in words:
        assert word in message


def test_oversized_payload_refused_fast_without_parsing(monkeypatch):
    import pandas
    monkeypatch.setattr(pandas, "read_csv", lambda *a, **k: pytest.fail("parsed an oversized file"))
    data = (b"a,b\n" + b"1,2\n" * (MAX_BYTES // 4))[:MAX_BYTES + 1]
    message = refusal(read_table, data)
    assert "20.1 MB" in message and "limit is 20 MB" in message


# --- read_table: what it accepts ---------------------------------------------------------------


def test_comma_file_reads_names_values_and_numeric_columns():
    table = read_table(IRIS, "iris.csv")
    assert table.name == "iris.csv"
    assert table.columns == ("sepal length", "sepal width", "species")
    assert table.numeric_columns == ("sepal length", "sepal width")
    assert table.rows == 6
    assert table.frame["species"].iloc[2] == "versicolor"


def test_semicolon_file_with_decimal_commas():
    table = read_table(b"x;y\n1,5;2\n2,5;4\n3,25;6\n4;8\n")
    assert table.columns == ("x", "y")
    assert table.frame["x"].tolist() == [1.5, 2.5, 3.25, 4.0]


def test_tab_separated_file_with_commas_inside_text():
    table = read_table(b"name\tscore\nSmith, Ann\t1\nLee, Bo\t2\nKim, Cy\t3\nOh, Di\t4\n")
    assert table.columns == ("name", "score")
    assert table.frame["name"].iloc[0] == "Smith, Ann"


def test_utf8_bom_is_not_part_of_the_first_column_name():
    table = read_table(b"\xef\xbb\xbf" + IRIS)
    assert table.columns[0] == "sepal length"


def test_quoted_fields_keep_their_commas():
    table = read_table(b'city,size\n"Paris, France",1\n"Rome, Italy",2\nOslo,3\n"Lima, ""Peru""",4\n')
    assert table.frame["city"].tolist() == ["Paris, France", "Rome, Italy", "Oslo", 'Lima, "Peru"']


def test_windows_1252_text_is_read():
    table = read_table("name,mark\nRené,1\nZoë,2\nJürgen,3\nÅsa,4\n".encode("cp1252"))
    assert table.frame["name"].tolist() == ["René", "Zoë", "Jürgen", "Åsa"]


def test_utf16_with_byte_order_mark_is_read():
    table = read_table("a\tb\n1\tä\n2\tö\n3\tü\n4\tß\n".encode("utf-16"))
    assert table.columns == ("a", "b") and table.frame["b"].tolist() == ["ä", "ö", "ü", "ß"]


def test_headers_and_cells_are_stripped_and_missing_markers_become_missing():
    table = read_table(b" a , b \n1 , x \nNA,2\nnull,?\n,3\nNaN,N/A\n?,5\n7,y\n")
    assert table.columns == ("a", "b")
    assert table.frame["a"].isna().sum() == 3  # rows 4 and 6 are all missing: dropped
    assert table.frame["b"].dropna().tolist() == ["x", "2", "3", "5", "y"]
    assert table.numeric_columns == ("a",)


def test_blank_rows_are_dropped_and_rows_keep_their_spreadsheet_numbers():
    table = read_table(b"a,b\n1,2\n\n3,4\n,\n5,6\n7,8\n\n\n")
    assert table.rows == 4
    assert table.frame.index.tolist() == [2, 4, 6, 7]


def test_old_mac_line_endings_and_excel_sep_line():
    assert read_table(b"a,b\r1,2\r3,4\r5,6\r7,8\r").frame["b"].tolist() == [2, 4, 6, 8]
    table = read_table(b"sep=;\r\na;b\r\n1,5;2\r\n3;4\r\n5;6\r\n7;8\r\n")
    assert table.columns == ("a", "b") and table.frame.index.tolist() == [2, 3, 4, 5]


def test_row_limit_counts_data_rows_not_trailing_blank_lines():
    assert read_table(b"a,b\n" + b"1,2\n" * MAX_ROWS + b"\n \n\n").rows == MAX_ROWS


def test_trailing_separators_leave_no_unnamed_column():
    assert read_table(b"a,b,\n1,2,\n3,4,\n5,6,\n7,8,\n").columns == ("a", "b")


def test_thousand_columns_by_five_rows_works():
    header = ",".join(f"c{i}" for i in range(MAX_COLUMNS)).encode()
    line = ",".join(str(i) for i in range(MAX_COLUMNS)).encode()
    table = read_table(header + b"\n" + (line + b"\n") * 5)
    assert (table.rows, len(table.columns), len(table.numeric_columns)) == (5, MAX_COLUMNS, MAX_COLUMNS)
    assert prepare(table, "c0", table.columns[1:], REGRESSION).x.shape == (5, MAX_COLUMNS - 1)


def test_odd_files_raise_only_table_errors():
    """Generated messy files: each one reads and prepares, or says why in a TableError; nothing else escapes."""
    rng = np.random.default_rng(0)
    cells = ["1", "2.5", "1e400", "inf", "nan", "NA", "?", "", " ", "True", "red", '"a,b"', '"q""', '"', "1,5", "é"]
    for _ in range(150):
        sep = str(rng.choice([",", ";", "\t"]))
        width = int(rng.integers(2, 5))
        lines = [sep.join(["a", "b", "c", "", "d"][:width])] + [
            sep.join(str(rng.choice(cells)) for _ in range(width + int(rng.integers(-1, 2) * (rng.random() < 0.1))))
            for _ in range(int(rng.integers(3, 8)))]
        data = "\n".join(lines).encode(str(rng.choice(["utf-8", "cp1252", "utf-16"])), errors="replace")
        try:
            table = read_table(data)
            for label in table.columns:
                for task in (CLASSIFICATION, REGRESSION):
                    with contextlib.suppress(TableError):
                        prepare(table, label, [c for c in table.columns if c != label], task)
        except TableError as error:
            assert error.message and "\n" not in error.message


# --- guessing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("label, task", [
    ("colour", CLASSIFICATION), ("passed", CLASSIFICATION), ("grade", CLASSIFICATION),
    ("price", REGRESSION), ("height", REGRESSION),
], ids=["text-labels", "true-false", "few-whole-numbers", "decimals", "measurements"])
def test_guess_task_by_label_kind(label, task):
    assert guess_task(read_table(MIXED), label) == task


def test_many_whole_numbers_guess_regression():
    table = read_table(b"year,x\n" + b"".join(f"{1990 + i},{i}\n".encode() for i in range(21)))
    assert guess_task(table, "year") == REGRESSION


def test_default_features_are_numeric_columns_except_the_label():
    table = read_table(MIXED)
    assert default_features(table, "price") == ("height", "weight", "grade", "passed")
    assert default_features(table, "colour") == ("height", "weight", "grade", "passed", "price")


# --- prepare -------------------------------------------------------------------------------------


def test_string_class_labels_become_sorted_class_ids():
    prepared = prepare(read_table(IRIS), "species", ["sepal length", "sepal width"], CLASSIFICATION)
    assert prepared.class_names == ("setosa", "versicolor", "virginica")
    assert prepared.y.tolist() == [0, 0, 1, 1, 2, 2] and prepared.y.dtype == np.int64
    assert prepared.x.dtype == np.float32 and prepared.x.shape == (6, 2)
    np.testing.assert_allclose(prepared.x[:, 0], [5.1, 4.9, 7.0, 6.4, 6.3, 5.8], rtol=1e-6)
    assert prepared.feature_names == ("sepal length", "sepal width")


def test_numeric_class_labels_sort_numerically():
    prepared = prepare(read_table(MIXED), "grade", ["height"], CLASSIFICATION)
    assert prepared.class_names == ("2", "3", "10")
    assert prepared.y.tolist() == [0, 2, 1, 2, 0]


def test_text_class_labels_with_numbers_sort_naturally():
    table = read_table(b"label,x\nclass 10,1\nclass 2,2\nclass 1,3\nclass 2,4\n")
    assert prepare(table, "label", ["x"], CLASSIFICATION).class_names == ("class 1", "class 2", "class 10")


def test_boolean_features_become_zero_and_one_and_regression_targets_float():
    prepared = prepare(read_table(MIXED), "price", ["passed", "weight"], REGRESSION)
    assert prepared.x[:, 0].tolist() == [1, 0, 1, 0, 1]
    assert prepared.y.dtype == np.float32 and prepared.y.shape == (5,)
    assert prepared.y.tolist() == [10.5, 20.25, 30.0, 40.75, 50.5]
    assert prepared.class_names == ()


MISSING_X = b"x,y,t\n1,a,1.5\n2,b,2.5\n,a,3.5\n4,,4.5\n,b,5.5\n6,a,6.5\n"
HUGE = b"x,y\n1,a\n2,b\n1e400,a\n4,b\n"
TOO_BIG_FOR_FLOAT32 = b"x,y\n1,a\n2,b\n3,a\n1e39,b\n"
ONE_CLASS = b"x,y\n1,a\n2,a\n3,a\n4,a\n"
MANY_NUMBERS = b"x,y\n" + b"".join(f"{i},{i}\n".encode() for i in range(60))
MANY_WORDS = b"x,y\n" + b"".join(f"{i},word{i}\n".encode() for i in range(60))


@pytest.mark.parametrize("data, label, features, task, words", [
    (IRIS, "kind", ["sepal width"], CLASSIFICATION, ['no column "kind"', '"species"']),
    (IRIS, "species", ["petal"], CLASSIFICATION, ['no column "petal"']),
    (IRIS, "species", ["sepal width", "species"], CLASSIFICATION, ['"species" is the label', "cannot also"]),
    (IRIS, "species", [], CLASSIFICATION, ["at least one feature"]),
    (MIXED, "price", ["height", "colour"], REGRESSION,
     ['column "colour" is not numeric: row 2 has "red"', "leave it out"]),
    (MISSING_X, "y", ["x"], CLASSIFICATION,
     ['column "x" has 2 missing values', "first in row 4", "remove those rows"]),
    (MISSING_X, "y", ["t"], CLASSIFICATION, ['column "y" has 1 missing value ', "first in row 5"]),
    (ONE_CLASS, "y", ["x"], CLASSIFICATION, ['only one class ("a")', "at least two classes"]),
    (MANY_NUMBERS, "y", ["x"], CLASSIFICATION, ["60 different values", "50 classes", "choose regression"]),
    (MANY_WORDS, "y", ["x"], CLASSIFICATION, ["60 different values", "fewer values"]),
    (IRIS, "species", ["sepal width"], REGRESSION,
     ['label column "species" is not numeric', 'row 2 has "setosa"', "choose classification"]),
    (MIXED, "passed", ["height"], REGRESSION, ['"passed" is not numeric']),
    (HUGE, "y", ["x"], CLASSIFICATION, ['column "x" has an infinite or too large value in row 4']),
    (TOO_BIG_FOR_FLOAT32, "y", ["x"], CLASSIFICATION, ["too large value in row 5 (1e+39)"]),
    (IRIS, "species", ["sepal width"], "clustering", ['unknown task "clustering"']),
], ids=["unknown-label", "unknown-feature", "label-as-feature", "no-features", "text-feature",
        "missing-feature-values", "missing-label-values", "single-class", "too-many-numeric-classes",
        "too-many-text-classes", "regression-on-text-label", "regression-on-true-false", "infinite-value",
        "value-too-large-for-float32", "unknown-task"])
def test_bad_column_choice_is_refused_naming_column_and_row(data, label, features, task, words):
    message = refusal(prepare, read_table(data), label, features, task)
    for word in words:
        assert word in message


def test_too_many_text_classes_do_not_suggest_regression():
    assert "regression" not in refusal(prepare, read_table(MANY_WORDS), "y", ["x"], CLASSIFICATION)


# --- stored uploads ------------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    return tmp_path


def test_upload_round_trip_keeps_name_and_values(data_dir):
    ref = save_upload(IRIS, "iris.csv")
    assert is_table_id(ref)
    assert (data_dir / "tables" / f"{ref}.csv").read_bytes() == IRIS
    assert not [p for p in (data_dir / "tables").iterdir() if p.suffix == ".tmp"]
    table = load_upload(ref)
    assert table.name == "iris.csv" and table.columns == read_table(IRIS).columns
    assert load_upload(ref) is table  # cached: parsed once


def test_same_bytes_give_the_same_id(data_dir):
    assert save_upload(IRIS, "a.csv") == save_upload(IRIS, "b.csv") != save_upload(MIXED, "a.csv")


def test_bad_upload_is_refused_and_not_stored(data_dir):
    assert "only one column" in refusal(save_upload, b"a\n1\n2\n3\n4\n", "a.csv")
    assert not (data_dir / "tables").exists() or not list((data_dir / "tables").iterdir())


def test_path_refs_load_csv_files_from_disk(data_dir):
    path = data_dir / "marks.csv"
    path.write_bytes(IRIS)
    table = load_upload(str(path))
    assert table.name == "marks.csv" and table.rows == 6
    path.write_bytes(MIXED)  # a changed file is read again
    assert load_upload(str(path)).columns == read_table(MIXED).columns


def test_unknown_id_and_missing_path_are_refused(data_dir):
    assert "the uploaded table 0123456789abcdef is no longer on the server" in refusal(load_upload, "0123456789abcdef")
    assert "upload the CSV again" in refusal(load_upload, "0123456789abcdef")
    assert 'no CSV file "nowhere.csv"' in refusal(load_upload, "nowhere.csv")


def test_paths_can_be_switched_off_for_untrusted_configs(data_dir):
    path = data_dir / "marks.csv"
    path.write_bytes(IRIS)
    assert "not the id of an uploaded table" in refusal(lambda ref: load_upload(ref, allow_paths=False), str(path))


def test_table_ids_are_sixteen_lowercase_hex_characters():
    assert is_table_id("0123456789abcdef")
    assert not any(is_table_id(ref) for ref in ("0123456789ABCDEF", "0123456789abcde", "x.csv", "0123456789abcdef0"))


# --- datasets as CSV -----------------------------------------------------------------------------


def round_trip(dataset):
    table = read_table(dataset_csv(dataset))
    features = tuple(c for c in table.columns if c not in ("label", "split"))
    return table, prepare(table, "label", features, dataset.task)


@pytest.mark.parametrize("name, params", [
    ("spiral", {"n_per_class": 20}), ("circles", {"n_samples": 40}),
    ("digits", {"train_images": 50, "test_images": 20}),
], ids=["spiral", "circles-named-classes", "digits-images"])
def test_classification_dataset_csv_reads_back_with_same_x_and_classes(name, params):
    dataset = make_dataset(name, params)
    table, prepared = round_trip(dataset)
    x = dataset.x_all.reshape(len(dataset.x_all), -1).astype(np.float32)
    np.testing.assert_array_equal(prepared.x, x)
    assert set(prepared.class_names) == set(dataset.class_names)
    labels = np.concatenate([dataset.y_train, dataset.y_test])
    assert [prepared.class_names[i] for i in prepared.y] == [dataset.class_names[i] for i in labels]
    assert table.frame["split"].tolist() == ["train"] * len(dataset.y_train) + ["test"] * len(dataset.y_test)


def test_regression_dataset_csv_reads_back_with_same_values():
    dataset = make_dataset("linear_regression", {"n_samples": 30, "noise": 0.3}, test_fraction=0.2)
    table, prepared = round_trip(dataset)
    assert table.columns == ("x", "label", "split")
    np.testing.assert_array_equal(prepared.x, dataset.x_all)
    np.testing.assert_array_equal(prepared.y, np.concatenate([dataset.y_train, dataset.y_test]).reshape(-1))


def test_sequence_dataset_csv_has_a_column_per_step_and_reads_back_with_same_values():
    dataset = make_dataset("sine_sequence", {"n_samples": 30, "steps": 4})
    table, prepared = round_trip(dataset)
    assert table.columns == ("step_1", "step_2", "step_3", "step_4", "label", "split")
    np.testing.assert_array_equal(prepared.x, dataset.x_all[:, :, 0])
    np.testing.assert_array_equal(prepared.y, np.concatenate([dataset.y_train, dataset.y_test]).reshape(-1))


def test_image_dataset_csv_names_pixel_columns():
    header = dataset_csv(make_dataset("digits", {"train_images": 5, "test_images": 5})).split(b"\n")[0]
    assert header.startswith(b"pixel_0,pixel_1,") and header.endswith(b"pixel_63,label,split")


def test_too_many_images_for_csv_are_refused():
    dataset = make_dataset("digits", {"train_images": 0, "test_images": 0})
    big = replace(dataset, x_train=np.zeros((5_000, 1, 8, 8), np.uint8), y_train=np.zeros(5_000, np.int64),
                  x_test=np.zeros((1, 1, 8, 8), np.uint8), y_test=np.zeros(1, np.int64))
    message = refusal(dataset_csv, big)
    assert "5,001 images" in message and "at most 5,000" in message


def test_configs_name_tables_by_path_only_when_the_command_line_allows_it(tmp_path):
    from playground.config import ConfigError, TrainConfig

    path = tmp_path / "points.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    data = {"dataset": {"name": "csv", "file": str(path), "label": "label", "features": ["a", "b"],
                        "task": "classification"}}
    with pytest.raises(ConfigError) as error:
        TrainConfig.from_dict(data)
    assert error.value.key == "dataset.file" and "not the id of an uploaded table" in error.value.message
    assert TrainConfig.from_dict(data, allow_paths=True).dataset.n_classes == 2


def test_table_bytes_returns_the_upload(tmp_path, monkeypatch):
    from playground.tabular import table_bytes

    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    data = b"x,y\n1,0\n2,1\n3,0\n4,1\n"
    assert table_bytes(save_upload(data, "small.csv")) == data


# --- stored uploads: disk space, names ---------------------------------------------------------


def table_of(seed: int, rows_count: int = 2000) -> bytes:
    """A distinct valid CSV of about 8.5 bytes a row (16,900 bytes for 2,000 rows)."""
    return b"a,b,label\n" + b"".join(f"{seed},{i},{i % 2}\n".encode() for i in range(rows_count))


def used_ago(data_dir, ref: str, seconds: float) -> None:
    when = time.time() - seconds
    for path in (data_dir / "tables").glob(f"{ref}.*"):
        os.utime(path, (when, when))


def stored_bytes(data_dir) -> int:
    return sum(p.stat().st_size for p in (data_dir / "tables").iterdir())


def test_storing_past_the_quota_removes_the_least_recently_used_tables(data_dir, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TABLES_MB", str(60_000 / 2**20))  # 60 kB
    refs = []
    for seed in range(10):  # 17 kB each: the quota holds three
        refs.append(save_upload(table_of(seed), f"t{seed}.csv"))
        used_ago(data_dir, refs[-1], 1000 - seed)  # older uploads were used longer ago
        if seed == 2:
            load_upload(refs[1])  # t1 is used again (on a page now): it must outlive the others
        assert stored_bytes(data_dir) <= 60_000
    kept = {ref for ref in refs if (data_dir / "tables" / f"{ref}.csv").exists()}
    assert kept == {refs[1], refs[8], refs[9]}
    message = refusal(load_upload, refs[0])
    assert "no longer on the server" in message and "upload the CSV again" in message


def test_a_recently_used_table_is_not_removed_and_the_refusal_says_to_wait(data_dir, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TABLES_MB", str(30_000 / 2**20))
    first = save_upload(table_of(1), "first.csv")  # just used: on someone's page
    message = refusal(save_upload, table_of(2), "second.csv")
    assert "space for uploads" in message and "try again" in message
    assert load_upload(first).name == "first.csv"


def test_a_full_disk_refuses_an_upload_with_a_clear_message(data_dir, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    before = save_upload(MIXED, "mixed.csv")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**11, 10**11 - 10 * 2**20, 10 * 2**20))
    message = refusal(save_upload, IRIS, "iris.csv")
    assert "the server's disk is full" in message and "10 MB free" in message
    assert [p.stem for p in (data_dir / "tables").glob("*.csv")] == [before]
    assert save_upload(MIXED, "again.csv") == before  # bytes already stored need no room


def test_the_same_bytes_under_another_name_keep_the_first_name(data_dir):
    ref = save_upload(IRIS, "mine.csv")
    assert save_upload(IRIS, "other.csv") == ref
    assert load_upload(ref).name == "mine.csv"
    assert load_upload(ref, name="other.csv").name == "other.csv"  # the second uploader's own name
    assert load_upload(ref, name="other.csv").frame is load_upload(ref).frame  # parsed once


# --- downloads: spreadsheet formulas -------------------------------------------------------------

FORMULAS = (b'x,=SUM(1),label\n-1.5,1,"=HYPERLINK(""http://evil/"",""Click"")"\n2,+3,+cmd\n3,4,@import\n'
            b'4,5,-2 cm\n5,6,-7\n')


def test_text_cells_and_names_that_start_a_formula_are_quoted_and_numbers_kept(data_dir):
    lines = tabular.table_bytes(save_upload(FORMULAS, "evil.csv")).decode().splitlines()
    assert lines[0] == "x,'=SUM(1),label"
    assert lines[1].startswith("-1.5,1,") and "'=HYPERLINK" in lines[1]
    assert lines[2].endswith(",'+cmd") and lines[3].endswith(",'@import") and lines[4].endswith(",'-2 cm")
    assert lines[5].endswith(",-7")  # a negative number is not a formula


def test_a_table_without_formulas_downloads_unchanged(data_dir):
    assert tabular.table_bytes(save_upload(MIXED, "mixed.csv")) == MIXED


def test_dataset_csv_quotes_class_names_that_start_a_formula():
    dataset = make_dataset("spiral", {"n_per_class": 5})
    hostile = replace(dataset, class_names=("=1+1", "-x", "@y"))
    labels = [line.split(",")[-2] for line in dataset_csv(hostile).decode().splitlines()[1:]]
    assert set(labels) == {"'=1+1", "'-x", "'@y"}
    assert b"'" not in dataset_csv(dataset)  # numbers such as -0.5 stay numbers


def test_importing_the_module_leaves_pandas_unloaded():
    """Every page imports this module; pandas (0.3 s) loads only when a table is read or written."""
    code = "import sys, playground.tabular; print('pandas' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True, timeout=300)
    assert result.stdout.strip() == "False", result.stderr
