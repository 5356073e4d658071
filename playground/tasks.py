"""The two kinds of problem a dataset poses: classification (class ids) or regression (numbers).

The bottom floor: every module that asks "which task is this?" imports these names from here, so
datasets, tables, losses, the engine and the figures share them without importing one another.
This module imports nothing of the playground's and knows nothing else.
"""
from __future__ import annotations

CLASSIFICATION = "classification"  # targets are class ids 0..k-1
REGRESSION = "regression"  # targets are float vectors
TASKS = (CLASSIFICATION, REGRESSION)
