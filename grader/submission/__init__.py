"""Turning what a student hands in (a folder, a .zip of it, or one notebook) into the files of
a Python package, without running any of it."""

from .load import CONTRACT_MODULES, CONTRACT_NAMES, Submission, load_submission

__all__ = ["CONTRACT_MODULES", "CONTRACT_NAMES", "Submission", "load_submission"]
