"""Expectations for canonical split files and class maps (Great Expectations 1.x)."""

from __future__ import annotations

import os
import posixpath

import great_expectations as gx
import pandas as pd

from t2l.data.splits.path_class import class_keys, squash
from t2l.data.splits.schema import CLASS_COLUMNS, SPLIT_COLUMNS, normalise_class_name
from t2l.fsio import RealPaths

E = gx.expectations
ABSOLUTE = r"^(?:/|\\|[A-Za-z]:)"
PARENT_ESCAPE = r"(?:^|[/\\])\.\.(?:[/\\]|$)"


def normalised_path(path: object) -> str | None:
    """The file a split path names, however it is spelled: ``./a/b.mp4``, ``a//b.mp4``, ``a/./b.mp4``
    and ``a\\b.mp4`` all name ``a/b.mp4`` (None for an empty or missing path)."""
    return posixpath.normpath(path.replace("\\", "/")) if isinstance(path, str) and path else None


def _columns_present(required: list[str], why: str) -> list:
    return [E.ExpectTableColumnsToMatchSet(column_set=required, exact_match=False, meta={"why": why})]


def _not_empty(why: str) -> list:
    return [E.ExpectTableRowCountToBeBetween(min_value=1, meta={"why": why})]


def class_map_checks(classes: pd.DataFrame) -> list:
    """label/class_name present, not null, unique; labels are non-negative integers."""
    checks = (_columns_present(CLASS_COLUMNS, "a class map has columns label,class_name")
              + _not_empty("a class map names at least one class"))
    for col in set(CLASS_COLUMNS) & set(classes.columns):
        checks += [E.ExpectColumnValuesToNotBeNull(column=col, meta={"why": f"every class needs a {col}"}),
                   E.ExpectColumnValuesToBeUnique(column=col, meta={"why": f"a {col} names one class only"})]
    if "label" in classes.columns:
        checks.append(E.ExpectColumnValuesToMatchRegex(column="label", regex=r"^\d+$",
                                                       meta={"why": "labels are non-negative integers"}))
    return checks


def prepare_split(frame: pd.DataFrame, classes: pd.DataFrame, root: str,
                  path_class: str | None = None) -> pd.DataFrame:
    """Add the derived columns that split checks look at: label's class name, the path in normal
    form, whether it lies inside the root (as written, and with every symlink followed) and names
    a file, and, where the dataset's paths encode the class (rule ``path_class``), the class each
    path names."""
    out = frame.copy()
    if "path" in out.columns:
        out["normalised_path"] = out["path"].map(normalised_path)
    if {"label", "class_name"} <= set(classes.columns) and "label" in out.columns:
        out["class_name_of_label"] = out["label"].map(dict(zip(classes["label"], classes["class_name"])))
        if path_class and "path" in out.columns:
            out["label_class_key"] = [squash(n) if isinstance(n, str) else None for n in out["class_name_of_label"]]
            out["path_class_key"] = class_keys(path_class, out["normalised_path"])
    if "path" in out.columns:
        base = os.path.normpath(root)
        paths = out["path"].fillna("")
        joined = [os.path.normpath(os.path.join(base, p)) for p in paths]
        out["inside_root"] = [bool(p) and "\0" not in p and j.startswith(base + os.sep) and not os.path.isabs(p)
                              for p, j in zip(paths, joined)]
        # symlinks followed: a link inside the root may point out of it (the path as the OS resolves it)
        real = RealPaths()
        out["real_inside_root"] = [ok and real.inside(base, os.path.join(base, p))
                                   for ok, p in zip(out["inside_root"], paths)]
        out["file_exists"] = [ok and os.path.isfile(j) for ok, j in zip(out["real_inside_root"], joined)]
    return out


def split_checks(frame: pd.DataFrame, classes: pd.DataFrame, dataset: str) -> list:
    """Checks for one split CSV; ``frame`` has passed through prepare_split."""
    checks = (_columns_present(SPLIT_COLUMNS, "split files have columns " + ",".join(SPLIT_COLUMNS))
              + _not_empty("a split file lists at least one video"))
    cols = set(frame.columns)
    for col in set(SPLIT_COLUMNS) & cols:
        checks.append(E.ExpectColumnValuesToNotBeNull(column=col, meta={"why": f"every row needs a {col}"}))
    if "path" in cols:
        checks += [
            E.ExpectColumnValuesToBeUnique(column="normalised_path", meta={
                "why": "a video appears once per split, however its path is spelled (duplicated row)"}),
            E.ExpectColumnValuesToNotMatchRegex(column="path", regex=ABSOLUTE,
                                                meta={"why": "paths are relative to the dataset root"}),
            E.ExpectColumnValuesToNotMatchRegex(column="path", regex=PARENT_ESCAPE,
                                                meta={"why": "paths must not climb out of the dataset root with '..'"}),
            E.ExpectColumnValuesToBeInSet(column="inside_root", value_set=[True],
                                          meta={"why": "the path resolves inside the dataset root"}),
            E.ExpectColumnValuesToBeInSet(column="real_inside_root", value_set=[True],
                                          meta={"why": "the file it names, symlinks followed, lies inside the dataset "
                                                       "root (a symlink pointing out of it?)"}),
            E.ExpectColumnValuesToBeInSet(column="file_exists", value_set=[True],
                                          meta={"why": "the video file exists under the dataset root"}),
        ]
    if "label" in cols and "label" in classes.columns:
        checks.append(E.ExpectColumnValuesToBeInSet(column="label", value_set=sorted(classes["label"].dropna()),
                                                    meta={"why": "labels come from the class map"}))
    if "class_name_of_label" in cols and "class_name" in cols:
        checks.append(E.ExpectColumnPairValuesToBeEqual(
            column_A="class_name", column_B="class_name_of_label", ignore_row_if="either_value_is_missing",
            meta={"why": "class_name agrees with the class map's name for the row's label"}))
    if "path_class_key" in cols:
        checks.append(E.ExpectColumnPairValuesToBeEqual(
            column_A="label_class_key", column_B="path_class_key", ignore_row_if="either_value_is_missing",
            meta={"why": "the row's label is the class its path names (swapped labels in a split file?)"}))
    if "dataset" in cols:
        checks.append(E.ExpectColumnValuesToBeInSet(column="dataset", value_set=[dataset],
                                                    meta={"why": f"rows belong to dataset {dataset}"}))
    return checks


def with_normalised_names(classes: pd.DataFrame) -> pd.DataFrame:
    return classes.assign(normalised_name=classes["class_name"].fillna("").map(normalise_class_name))


def disjoint_checks(seen: set[str]) -> list:
    """Zero-shot: no target class name (frame from with_normalised_names) is one the source has seen."""
    return [E.ExpectColumnValuesToNotBeInSet(
        column="normalised_name", value_set=sorted(seen),
        meta={"why": "zero-shot target classes must be disjoint from the source classes (after normalisation "
                     "and renames)"})]


def flag_checks(column: str, why: str) -> list:
    """Every row's boolean ``column`` is False (a derived flag marking an offending row)."""
    return [E.ExpectColumnValuesToBeInSet(column=column, value_set=[False], meta={"why": why})]


def null_checks(column: str, why: str) -> list:
    """Every row's ``column`` is empty (a derived column naming what is wrong with the row)."""
    return [E.ExpectColumnValuesToBeNull(column=column, meta={"why": why})]


def count_checks(column: str, k: int, why: str) -> list:
    return [E.ExpectColumnValuesToBeInSet(column=column, value_set=[k], meta={"why": why})]
