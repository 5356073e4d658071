"""Tables: a user's own CSV file read, checked and turned into arrays; any dataset written out as CSV.

`read_table` turns uploaded bytes into a `Table` (a parsed, untouched pandas frame whose index is the
row number a spreadsheet shows, header = row 1); `prepare` picks a label and feature columns out of
it as float32 features and class ids or float targets. Every problem with a file, however odd, is a
`TableError` whose message says in plain words what is wrong and where (column, row). Uploads are
stored content-addressed under `data_root()/tables` so a config can name one by id, within a quota
that removes the least recently used tables (`storage_limits`, diskquota.py); `dataset_csv` writes
any `Dataset` back out as CSV, and downloads quote cells a spreadsheet would run as formulas.

Reading decisions: UTF-8 (a byte-order mark is skipped), else Windows-1252 (what Excel saves on
Windows; it covers Latin-1's letters), else UTF-16 when the file starts with its byte-order mark
(or, without one, when every other byte of its start is zero);
values separated by commas, semicolons or tabs (semicolon and tab files may use decimal commas);
the cells "", "NA", "N/A", "NaN", "nan", "null", "NULL" and "?" are missing; cells and headers are
stripped of surrounding spaces; entirely empty rows and unnamed empty columns are dropped.

This module knows nothing about torch, Streamlit, models or training.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import hashlib
import io
import json
import math
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from . import diskquota, settings
from .lazy import lazy_module
from .ratelimit import RateLimit
from .tasks import CLASSIFICATION, REGRESSION

pd = lazy_module("pandas")  # imported when a table is first read or written: pages start without it

MAX_BYTES = 20 * 2**20  # upload size limit
MAX_ROWS = 200_000
MAX_COLUMNS = 1000
MAX_CLASSES = 50
MIN_ROWS = 4
MAX_IMAGE_ROWS = 5_000  # images written by dataset_csv: 784 pixels a row; 5,000 MNIST rows fit the upload limit
GUESS_MAX_CLASSES = 20  # guess_task: integer labels with at most this many values are classes

MISSING = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "?")
SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs"}
SNIFF_CHARS = 65536  # the separator is guessed from the first rows within this many characters
SNIFF_ROWS = 50
SAVE_AS_CSV = "open it in your spreadsheet program, save it as CSV (comma separated values) and upload that"
ONE_COLUMN = ("the file has only one column (no commas, semicolons or tabs between values); a table needs a "
              "label column and at least one feature column. If the first line is a title, delete it")
SIGNATURES = {  # first bytes of files people rename to .csv
    b"PK\x03\x04": "an Excel workbook (.xlsx) or a zip archive",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}
_TABLE_ID = re.compile(r"[0-9a-f]{16}")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # text a spreadsheet runs as a formula (OWASP: CSV injection)
IN_USE_SECONDS = 120  # a stored table read this recently is taken to be on someone's page: never removed


class TableError(ValueError):
    """A file or a column choice that cannot become a dataset; `message` says why in plain words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, eq=False)  # eq=False: frames do not compare to a single truth value
class Table:
    """A parsed CSV file: the name the user knows it by and its untouched values."""

    name: str  # file name shown to the user
    frame: pd.DataFrame  # parsed values, index = spreadsheet row number (header = row 1); read-only

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.frame.columns)

    @functools.cached_property
    def numeric_columns(self) -> tuple[str, ...]:
        """Columns holding at least one value, every value a number (true/false count as 1/0)."""
        return tuple(c for c in self.columns if _is_numeric(self.frame[c]))

    @property
    def rows(self) -> int:
        return len(self.frame)


@dataclass(frozen=True, eq=False)
class Prepared:
    """The chosen columns as arrays, ready to split and train on."""

    x: np.ndarray  # (N, F) float32
    y: np.ndarray  # classification: (N,) int64 ids 0..C-1; regression: (N,) float32
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]  # classification: sorted distinct labels; regression: ()


# --- reading ----------------------------------------------------------------------------------


def read_table(data: bytes, name: str = "upload.csv") -> Table:
    """Parse uploaded CSV bytes into a Table; TableError says what is wrong with a bad file."""
    _check_size(len(data))
    text = _decode(data)
    if not text.strip():
        raise TableError("the file is empty")
    sep, text = _separator(_normalise(text))
    names = _header(text, sep)
    frame = _clean(_parse(text, sep, len(names)), names)
    return Table(name=name, frame=frame)


def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise TableError(f"the file is {math.ceil(size / 2**20 * 10) / 10:.1f} MB; the limit is "
                         f"{MAX_BYTES // 2**20} MB: keep fewer rows or columns")


def _normalise(text: str) -> str:
    """Unix line ends (Windows and old Mac files too); blank lines before the header and at the end dropped."""
    text = re.sub(r"\A(?:[ \t]*\n)+", "", text.replace("\r\n", "\n").replace("\r", "\n"))
    end = text.find("\n", len(text.rstrip(" \t\n")))  # the end of the last line with a value
    return text if end < 0 else text[:end + 1]


def _decode(data: bytes) -> str:
    """UTF-8 (BOM skipped), Windows-1252, or UTF-16 (with a BOM, or plainly without); binary files are refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("utf-16")
    kind = next((what for magic, what in SIGNATURES.items() if data.startswith(magic)), None)
    if kind is None and b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is not None:
            return text
        kind = f"binary data (byte {data.index(0) + 1:,} is a NUL byte, which text never holds)"
    if kind:
        raise TableError(f"this is not a CSV text file: it looks like {kind}; {SAVE_AS_CSV}")
    for encoding in ("utf-8-sig", "cp1252"):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode(encoding)
    raise TableError(f"the file's text is neither UTF-8 nor Windows-1252; {SAVE_AS_CSV} (UTF-8)")


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a byte-order mark, told by every other byte of its start being zero (its
    first 2,048 characters are ASCII or Latin-1, as a table's header and numbers are); else None."""
    head = data[:4096]
    if len(data) % 2 or len(head) < 4:
        return None
    for encoding, high, low in (("utf-16-le", head[1::2], head[0::2]), ("utf-16-be", head[0::2], head[1::2])):
        if not any(high) and all(low):
            with contextlib.suppress(UnicodeDecodeError):
                return data.decode(encoding)
    return None


def _separator(text: str) -> tuple[str, str]:
    """The separator and the text from the header on: Excel's "sep=;" first line is obeyed and dropped."""
    if (found := re.match(r"sep=(.)\n", text)) and found.group(1) in SEPARATORS:
        return found.group(1), text[found.end():]
    return _sniff(text), text


def _sniff(text: str) -> str:
    """The separator splitting the first rows into the same number (> 1) of columns, the most columns;
    failing that, the one splitting the first line most."""
    widths = {sep: _row_widths(text, sep) for sep in SEPARATORS}
    consistent = [sep for sep, found in widths.items() if len(set(found)) == 1 and found[0] > 1]
    return max(consistent or list(SEPARATORS), key=lambda s: widths[s][0])  # ties: comma, semicolon, tab


def _row_widths(text: str, sep: str) -> list[int]:
    """Number of values (trailing empty ones left out) in each of the first non-blank rows."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS:
        sample = sample[:sample.rfind("\n") + 1] or sample
    widths = []
    with contextlib.suppress(csv.Error):
        for row in csv.reader(io.StringIO(sample), delimiter=sep, skipinitialspace=True):
            while row and not row[-1].strip():
                row.pop()
            if row:
                widths.append(len(row))
            if len(widths) == SNIFF_ROWS:
                break
    return widths or [0]


def _header(text: str, sep: str) -> list[str]:
    """The column names of the first line, stripped; refuses too many or repeated names."""
    try:
        names = [n.strip() for n in next(csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True))]
    except csv.Error as error:
        raise TableError(f"the first line (the column names) cannot be read: {error}") from None
    if len(names) < 2:
        raise TableError(ONE_COLUMN)
    if len(names) > MAX_COLUMNS:
        raise TableError(f"the file has {len(names):,} columns; the limit is {MAX_COLUMNS:,}")
    for i, name in enumerate(names):
        if name and name in names[i + 1:]:
            raise TableError(f'the column name "{name}" appears twice in the first line (columns {i + 1} and '
                             f"{names.index(name, i + 1) + 1}); give every column its own name")
    return names


def _parse(text: str, sep: str, width: int) -> pd.DataFrame:
    """pandas' parse of the whole text (one row past MAX_ROWS at most); ragged rows name their line."""
    decimal = "," if sep != "," and _decimal_commas(text[:SNIFF_CHARS]) else "."
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)  # extra values in the first data row
        try:
            return pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal, index_col=False,
                               keep_default_na=False, na_values=list(MISSING), skipinitialspace=True,
                               skip_blank_lines=False, nrows=MAX_ROWS + 1, low_memory=False)
        except (ValueError, OverflowError, pd.errors.ParserWarning) as error:  # ParserError: a ValueError
            raise TableError(_parse_problem(str(error), text, sep, width)) from None


def _decimal_commas(sample: str) -> bool:
    return bool(re.search(r"\d,\d", sample)) and not re.search(r"\d\.\d", sample)


def _parse_problem(message: str, text: str, sep: str, width: int) -> str:
    """pandas' complaint in plain words, with the line (1 = the header) where it knows it."""
    if found := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message):
        expected, line, saw = found.groups()
        return _ragged(int(line), int(saw), int(expected), sep)
    if found := re.search(r"EOF inside string starting at row (\d+)", message):
        return f'line {int(found.group(1)) + 1} opens a quote (") that is never closed'
    for line, row in _numbered_rows(text, sep):
        if len(row) > width:
            return _ragged(line, len(row), width, sep)
    return f"the file cannot be read as a table ({message})"


def _ragged(line: int, saw: int, expected: int, sep: str) -> str:
    return (f"line {line} has {saw} values but the first line names {expected} columns; look for an extra "
            f"{SEPARATORS[sep][:-1]} or a value that needs quotes in line {line}")


def _numbered_rows(text: str, sep: str):
    """(line number where the row starts, values) for each row; stops quietly at unreadable text."""
    reader = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)
    line = 1
    with contextlib.suppress(csv.Error):
        for row in reader:
            yield line, row
            line = reader.line_num + 1


def _clean(raw: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Stripped names and cells, missing markers as NaN, empty rows and unnamed empty columns dropped."""
    if len(raw) > MAX_ROWS:
        raise TableError(f"the file has more than {MAX_ROWS:,} rows; keep at most {MAX_ROWS:,}")
    raw.columns = range(len(names))  # positions while cleaning: unnamed columns share the name ""
    raw.index = pd.RangeIndex(2, len(raw) + 2)  # spreadsheet row numbers: the header is row 1
    for i, dtype in enumerate(raw.dtypes):
        if isinstance(dtype, pd.StringDtype):
            raw[i] = _clean_cells(raw[i])
    frame = raw.dropna(how="all")
    frame.columns = names
    frame = _drop_unnamed(frame)
    if len(frame.columns) < 2:
        raise TableError(ONE_COLUMN)
    if frame.empty:
        raise TableError("the file has a first line of column names but no rows of data")
    if len(frame) < MIN_ROWS:
        raise TableError(f"the file has only {len(frame)} row{'s' * (len(frame) > 1)} of data; "
                         f"at least {MIN_ROWS} are needed")
    return frame


def _clean_cells(column: pd.Series) -> pd.Series:
    column = column.str.strip()
    return column.mask(column.isin(MISSING))


def _drop_unnamed(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns with no name are dropped when empty (a stray separator), refused when they hold values."""
    for i, name in enumerate(frame.columns):
        if not name and frame.iloc[:, i].notna().any():
            raise TableError(f"column {i + 1} has no name in the first line but holds values; give it a name")
    return frame.loc[:, [bool(name) for name in frame.columns]]


# --- columns as numbers -----------------------------------------------------------------------


def _numbers(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, NaN where missing or not a number; mask of present values that are not numbers)."""
    if pd.api.types.is_numeric_dtype(column.dtype):  # includes bool: 0/1
        return column.to_numpy(dtype=np.float64), np.zeros(len(column), dtype=bool)
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return values, np.isnan(values) & column.notna().to_numpy()


def _is_numeric(column: pd.Series) -> bool:
    values, bad = _numbers(column)
    return not bad.any() and not np.isnan(values).all()


def _is_bool(column: pd.Series) -> bool:
    return pd.api.types.infer_dtype(column, skipna=True) == "boolean"


def _first(mask: np.ndarray, column: pd.Series) -> tuple[int, str]:
    """Spreadsheet row and text of the first value where `mask` holds (text cut to 40 characters)."""
    i = int(np.argmax(mask))
    text = " ".join(str(column.iloc[i]).split())  # on one line
    return int(column.index[i]), text if len(text) <= 40 else text[:37] + "..."


def _column(table: Table, name: str) -> pd.Series:
    if name not in table.frame.columns:
        shown = ", ".join(f'"{c}"' for c in table.columns[:10]) + (", ..." if len(table.columns) > 10 else "")
        raise TableError(f'there is no column "{name}" in {table.name}; its columns are {shown}')
    return table.frame[name]


def guess_task(table: Table, label: str) -> str:
    """Classification for text, true/false or whole-number labels with few values; else regression."""
    column = _column(table, label)
    if _is_bool(column) or not _is_numeric(column):
        return CLASSIFICATION
    values = _numbers(column)[0]
    values = values[~np.isnan(values)]
    whole = bool(np.all(values == np.round(values)))
    return CLASSIFICATION if whole and len(np.unique(values)) <= GUESS_MAX_CLASSES else REGRESSION


def default_features(table: Table, label: str) -> tuple[str, ...]:
    """Every numeric column except the label."""
    return tuple(c for c in table.numeric_columns if c != label)


# --- preparing --------------------------------------------------------------------------------


def prepare(table: Table, label: str, features: Sequence[str], task: str) -> Prepared:
    """The label and feature columns as arrays; TableError names the column and row of any problem."""
    features = _check_choice(table, label, features, task)
    x = np.empty((table.rows, len(features)), dtype=np.float32)
    for j, name in enumerate(features):
        x[:, j] = _feature(table.frame[name], name)
    y, class_names = LABELS[task](_column(table, label), label)
    return Prepared(x=x, y=y, feature_names=features, class_names=class_names)


def _check_choice(table: Table, label: str, features: Sequence[str], task: str) -> tuple[str, ...]:
    if task not in LABELS:
        raise TableError(f'unknown task "{task}"; choose "{CLASSIFICATION}" or "{REGRESSION}"')
    _column(table, label)
    features = tuple(dict.fromkeys(features))
    if not features:
        raise TableError("choose at least one feature column")
    if label in features:
        raise TableError(f'column "{label}" is the label, so it cannot also be a feature; leave it out')
    for name in features:
        _column(table, name)
    return features


def _feature(column: pd.Series, name: str) -> np.ndarray:
    values, bad = _numbers(column)
    if bad.any():
        row, text = _first(bad, column)
        raise TableError(f'column "{name}" is not numeric: row {row} has "{text}"; leave it out of the '
                         "features (the network only reads numbers)")
    _check_missing(column, name, "leave the column out of the features")
    return _finite32(values, column, name)


def _check_missing(column: pd.Series, name: str, other_fix: str) -> None:
    missing = column.isna().to_numpy()
    if count := int(missing.sum()):
        row, _ = _first(missing, column)
        raise TableError(f'column "{name}" has {count:,} missing value{"s" * (count > 1)} (the first in row '
                         f"{row}); remove those rows from the file or {other_fix}")


def _finite32(values: np.ndarray, column: pd.Series, name: str) -> np.ndarray:
    with np.errstate(over="ignore"):
        values = values.astype(np.float32)
    if not np.isfinite(values).all():
        row, text = _first(~np.isfinite(values), column)
        raise TableError(f'column "{name}" has an infinite or too large value in row {row} ({text}); '
                         "numbers must be finite and below 3.4e38")
    return values


def _class_labels(column: pd.Series, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class ids 0..C-1 in the order of the sorted distinct labels (numbers by value)."""
    _check_missing(column, name, "choose another label")
    numeric = _is_numeric(column) and not _is_bool(column)
    if numeric:
        keys = _finite32(_numbers(column)[0], column, name)
        distinct = np.unique(keys)
        names = tuple(_number_name(v) for v in distinct)
    else:
        keys = column.map(str).to_numpy()
        distinct = names = tuple(sorted(set(keys), key=natural_sort_key))
    _check_class_count(len(names), names, name, numeric)
    return pd.Categorical(keys, categories=distinct).codes.astype(np.int64), names


def _check_class_count(count: int, names: tuple[str, ...], name: str, numeric: bool) -> None:
    if count < 2:
        raise TableError(f'the label column "{name}" has only one class ("{names[0]}"); classification '
                         "needs at least two classes")
    if count > MAX_CLASSES:
        fix = "it holds numbers, so choose regression" if numeric else "choose a label with fewer values"
        raise TableError(f'the label column "{name}" has {count:,} different values, more than the '
                         f"{MAX_CLASSES} classes allowed; {fix}")


def _number_name(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 2**53 else str(value)


def natural_sort_key(text: str) -> tuple:
    """Sort key putting "class 2" before "class 10"."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)), text


def _regression_labels(column: pd.Series, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    values, bad = _numbers(column)
    if _is_bool(column):
        bad = column.notna().to_numpy()
    if bad.any():
        row, text = _first(bad, column)
        raise TableError(f'the label column "{name}" is not numeric (row {row} has "{text}"); regression '
                         "predicts numbers, so choose classification")
    _check_missing(column, name, "choose another label")
    return _finite32(values, column, name), ()


LABELS = {CLASSIFICATION: _class_labels, REGRESSION: _regression_labels}  # task -> label reader


# --- stored uploads ---------------------------------------------------------------------------


def tables_dir() -> Path:
    return settings.data_root() / "tables"


def is_table_id(ref: str) -> bool:
    return isinstance(ref, str) and bool(_TABLE_ID.fullmatch(ref))


def save_upload(data: bytes, name: str) -> str:
    """Check and store an upload as tables_dir()/<id>.csv (+ <id>.json with the name it was first stored
    under, which later uploads of the same bytes do not change); returns the id. Makes room first (see
    `storage_limits`); TableError when there is none."""
    read_table(data, name)
    ref = hashlib.sha256(data).hexdigest()[:16]
    try:
        diskquota.store_once(tables_dir(), ref, ".csv", data, Path(name).name[:200] or "upload.csv", storage_limits())
    except diskquota.NoRoom as error:
        raise TableError(error.message) from None
    except OSError as error:
        raise TableError(f"the server could not store the file: {error.strerror or error}") from None
    return ref


def upload_rate() -> RateLimit:
    """Uploads one browser session may make per minute: $PLAYGROUND_UPLOADS_PER_MINUTE files (default 6)
    and $PLAYGROUND_UPLOAD_MB_PER_MINUTE megabytes (default 60)."""
    return RateLimit(count=settings.uploads_per_minute(), size=int(settings.upload_mb_per_minute() * diskquota.MB))


def storage_limits() -> diskquota.Limits:
    """$PLAYGROUND_TABLES_MB (default 500) for all stored tables together; $PLAYGROUND_MIN_FREE_MB
    (default 200) left free on the disk; a table used in the last IN_USE_SECONDS is never removed."""
    return diskquota.Limits(quota=int(settings.tables_mb() * diskquota.MB),
                            keep_free=int(settings.min_free_mb() * diskquota.MB), protect=IN_USE_SECONDS)


def table_bytes(ref: str) -> bytes:
    """An uploaded table (by id) for download next to an exported script: its stored bytes, unless a cell or
    name would run as a spreadsheet formula; then its values rewritten as UTF-8 CSV made safe (`spreadsheet_safe`)."""
    path, name = _locate(ref, allow_paths=False)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise TableError(f'cannot read "{ref}": {error.strerror or error}') from None
    frame = _load(str(path.resolve()), path.stat().st_mtime_ns, name).frame
    safe = spreadsheet_safe(frame)
    return data if safe is frame else safe.to_csv(index=False, lineterminator="\n").encode("utf-8")


def load_upload(ref: str, *, allow_paths: bool = True, name: str | None = None) -> Table:
    """The table of an id from save_upload or, when `allow_paths`, of a CSV file's path; cached, read-only.
    `name` (the uploader's own name for it) replaces the stored name shown."""
    path, stored_name = _locate(ref, allow_paths)
    try:
        stat = path.stat()
        _check_size(stat.st_size)
        table = _load(str(path.resolve()), stat.st_mtime_ns, stored_name)
    except OSError as error:
        raise TableError(f'cannot read "{ref}": {error.strerror or error}') from None
    return table if not name or name == table.name else replace(table, name=name)


def _locate(ref: str, allow_paths: bool) -> tuple[Path, str]:
    """(file to read, name to show) for a table id (marked as used now) or a path."""
    if is_table_id(ref):
        path = tables_dir() / f"{ref}.csv"
        if not path.is_file():
            raise TableError(f"the uploaded table {ref} is no longer on the server (tables nobody used for a "
                             "while are removed to make room); upload the CSV again")
        diskquota.touch(path)
        return path, _stored_name(ref)
    if not allow_paths:
        raise TableError(f'"{ref}" is not the id of an uploaded table; upload the CSV again')
    path = Path(ref).expanduser()
    if not path.is_file():
        raise TableError(f'there is no CSV file "{ref}" (and it is not the id of an uploaded table)')
    return path, path.name


def _stored_name(ref: str) -> str:
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        return str(json.loads((tables_dir() / f"{ref}.json").read_text("utf-8"))["name"])
    return f"{ref}.csv"


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, name: str) -> Table:
    return read_table(Path(path).read_bytes(), name)


# --- datasets out as CSV ----------------------------------------------------------------------


def dataset_csv(dataset) -> bytes:
    """A `datasets.Dataset` as UTF-8 CSV: feature (or pixel_i) columns, label, split; train rows first."""
    frame = _feature_frame(dataset)
    if clash := {"label", "split"} & set(frame.columns):
        raise TableError(f'a feature is called "{clash.pop()}", a name the CSV needs for its own column')
    y = np.concatenate([dataset.y_train, dataset.y_test]).reshape(-1)
    if dataset.task == CLASSIFICATION:
        frame["label"] = np.asarray(dataset.class_names, dtype=object)[y.astype(np.int64)]
    else:
        frame["label"] = y.astype(np.float32).astype(str)
    frame["split"] = ["train"] * len(dataset.y_train) + ["test"] * len(dataset.y_test)
    return spreadsheet_safe(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell and column name that a spreadsheet would run as a formula (it starts with
    =, +, -, @, a tab or a carriage return and is not a number, such as -1.5) prefixed with a single quote,
    as OWASP's advice on CSV injection says; `frame` itself when nothing needs it."""
    columns = [_quoted(str(name)) for name in frame.columns]
    changed = {name: frame[name].map(_quoted) for name in frame.columns
               if not pd.api.types.is_numeric_dtype(frame[name].dtype) and frame[name].map(_is_formula).any()}
    if not changed and columns == [str(name) for name in frame.columns]:
        return frame
    safe = frame.assign(**changed) if changed else frame.copy()
    safe.columns = columns
    return safe


def _is_formula(cell) -> bool:
    if not isinstance(cell, str) or not cell.startswith(FORMULA_STARTS):
        return False
    try:
        float(cell)
        return False
    except ValueError:
        return True


def _quoted(cell):
    return "'" + cell if _is_formula(cell) else cell


def _feature_frame(dataset) -> pd.DataFrame:
    """Features as the shortest text that reads back as the same float32; images as integer pixels; a sequence
    of one value a step as step_1 (the oldest) ... step_T."""
    if dataset.x_train.ndim == 3:
        values = dataset.x_all.reshape(len(dataset.x_all), -1).astype(np.float32).astype(str)
        return pd.DataFrame(values, columns=[f"step_{i + 1}" for i in range(values.shape[1])])
    if not dataset.is_image:
        return pd.DataFrame(dataset.x_all.astype(np.float32).astype(str), columns=list(dataset.feature_names))
    if (count := len(dataset.x_train) + len(dataset.x_test)) > MAX_IMAGE_ROWS:
        raise TableError(f"this dataset has {count:,} images; set train images / test images to at most "
                         f"{MAX_IMAGE_ROWS:,} in total to download it as CSV")
    pixels = dataset.x_all.reshape(count, -1)
    return pd.DataFrame(pixels, columns=[f"pixel_{i}" for i in range(pixels.shape[1])])
