"""A class's own handwriting as data: the drawings its members gave (`classroom`) read for the "class_digits"
dataset, the CSV and PNG-grid downloads of them, a model's accuracy and confusion matrix on them, and who may
use them.

The drawings are (28, 28) uint8 white-on-black digits made like MNIST's (`drawing.mnist_digit`). `pin` reads a
class's drawings into its `datasets.ClassChoice`, which carries them from then on (to a worker process too),
so a run, the page showing it and the worker training it all see the same ones, whoever gives a drawing
meanwhile; `datasets` makes the dataset from them (stratified split by the data seed, at least 20). Only a
member or the teacher of a class may train on its drawings from the app (`access_problem`); the command line
(the server's admin) may read any class by its code. Knows nothing about Streamlit or training.
"""
from __future__ import annotations

import functools
import io
from dataclasses import replace

import numpy as np

from .classroom import DIGIT_SIDE, ClassStore, Digit
from .datasets import ClassChoice, ClassDigitsError, too_few_digits
from .images import DIGIT_NAMES
from .inspection import confusion_matrix
from .kept import Kept
from .runstore import RunStore, default_location

__all__ = ["ClassDigitsError", "too_few_digits"]  # and the functions below
GRID_COLUMNS, GRID_GAP = 20, 2  # the PNG grid: drawings a row, pixels between them
PIXEL_COLUMNS = tuple(f"pixel{i}" for i in range(DIGIT_SIDE * DIGIT_SIDE))
_PINNED = Kept(16)  # (code, newest id, count) -> the pinned ClassChoice: every page's rerun asks


@functools.lru_cache(maxsize=4)
def class_store(path: str | None = None) -> ClassStore:
    """The classes in the store at `path` (a file or URL; default: the server's, `runstore.default_location`)."""
    return ClassStore(RunStore(path or default_location()))


def arrays(digits: list[Digit]) -> tuple[np.ndarray, np.ndarray]:
    """The drawings as images (N, 28, 28) uint8 and their labels (N,) int64."""
    x = np.stack([d.pixels for d in digits]) if digits else np.zeros((0, DIGIT_SIDE, DIGIT_SIDE), np.uint8)
    return x.astype(np.uint8), np.array([d.label for d in digits], dtype=np.int64)


def per_label(labels: np.ndarray) -> np.ndarray:
    """How many drawings each digit 0-9 has."""
    return np.bincount(np.asarray(labels, np.int64), minlength=len(DIGIT_NAMES))[:len(DIGIT_NAMES)]


def pin(choice: ClassChoice, store: ClassStore | None = None) -> ClassChoice:
    """`choice` with the drawings its class has now (unchanged when pinned already); ClassDigitsError when there
    is no such class any more. The same drawings are read once and shared (`_PINNED`)."""
    if choice.upto is not None:
        return choice
    store = store or class_store()
    if store.info(choice.code) is None:
        raise ClassDigitsError(f"there is no class {choice.code} any more (a class ends after some days)")
    state = (choice.code, *store.digits_state(choice.code))  # a state never comes back once it changed
    return _PINNED.get_or_make(state, lambda: _read(choice.code, store))


def _read(code: str, store: ClassStore) -> ClassChoice:
    digits = store.digits(code)
    x, y = arrays(digits)
    return ClassChoice(code, digits[-1].id if digits else 0, len(y), x.tobytes(), y.astype(np.uint8).tobytes())


def pinned_config(config, store: ClassStore | None = None):
    """A `DatasetConfig` (or `TrainConfig`) whose class's drawings are pinned; other configs as they are."""
    dataset = getattr(config, "dataset", config)
    if dataset.classroom is None or dataset.classroom.upto is not None:
        return config
    pinned = replace(dataset, classroom=pin(dataset.classroom, store))
    return config.replace(dataset=pinned) if dataset is not config else pinned


# --- downloads --------------------------------------------------------------------------------


def csv_text(x: np.ndarray, y: np.ndarray) -> str:
    """The drawings as CSV: a header (label, pixel0 ... pixel783), then one row a drawing, pixels 0-255 row by row."""
    rows = np.column_stack([np.asarray(y, np.int64), np.asarray(x, np.int64).reshape(len(y), -1)])
    lines = [",".join(("label", *PIXEL_COLUMNS))] + [",".join(map(str, row)) for row in rows.tolist()]
    return "\n".join(lines) + "\n"


def read_csv(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The images (N, 28, 28) uint8 and labels of `csv_text`'s CSV (for scripts and tests)."""
    table = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    return table[:, 1:].reshape(-1, DIGIT_SIDE, DIGIT_SIDE).astype(np.uint8), table[:, 0]


def grid_shape(count: int, columns: int = GRID_COLUMNS) -> tuple[int, int]:
    """(height, width) in pixels of the PNG grid of `count` drawings."""
    rows, cols = max(1, -(-count // columns)), max(1, min(count, columns))
    return rows * (DIGIT_SIDE + GRID_GAP) + GRID_GAP, cols * (DIGIT_SIDE + GRID_GAP) + GRID_GAP


def grid_image(x: np.ndarray, columns: int = GRID_COLUMNS) -> np.ndarray:
    """The drawings side by side, `columns` a row, on a grey background (uint8, white ink on black)."""
    height, width = grid_shape(len(x), columns)
    grid = np.full((height, width), 96, np.uint8)
    for i, image in enumerate(np.asarray(x, np.uint8)):
        top, left = (GRID_GAP + (DIGIT_SIDE + GRID_GAP) * n for n in divmod(i, columns))
        grid[top:top + DIGIT_SIDE, left:left + DIGIT_SIDE] = image
    return grid


def png_grid(x: np.ndarray, columns: int = GRID_COLUMNS) -> bytes:
    """`grid_image` as PNG file bytes."""
    from PIL import Image  # Pillow comes with Streamlit; only for this download

    buffer = io.BytesIO()
    Image.fromarray(grid_image(x, columns), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


# --- a model on them, and who may use them -----------------------------------------------------


def model_on_digits(predict, x: np.ndarray, y: np.ndarray, batch: int = 512) -> tuple[float, np.ndarray]:
    """Accuracy and (10, 10) confusion matrix (row: the label given, column: the guess) of `predict` (raw pixels
    (N, 1, 28, 28) on 0-255 -> class probabilities, like `checkpoint.LoadedModel.predict`) on the drawings."""
    x = np.asarray(x, np.uint8).reshape(-1, 1, DIGIT_SIDE, DIGIT_SIDE)
    guesses = [np.asarray(predict(x[i:i + batch])).argmax(axis=1) for i in range(0, len(x), batch)]
    guessed = np.concatenate(guesses) if guesses else np.zeros(0, np.int64)
    matrix = confusion_matrix(y, guessed, len(DIGIT_NAMES))
    return float(matrix.trace() / max(matrix.sum(), 1)), matrix


def access_problem(code: str, member_codes, taught_code: str | None) -> str | None:
    """Why a browser in classes `member_codes` that teaches `taught_code` (or none) may not train on the drawings
    of class `code`; None when it may (only members and the teacher of a class may, from the app)."""
    if code == taught_code or code in set(member_codes):
        return None
    return (f"This setup trains on the drawings of class {code}, and only that class's members and teacher can "
            "use them: join the class on the Class page, or pick another dataset.")
