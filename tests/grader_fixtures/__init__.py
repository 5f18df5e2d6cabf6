"""Helpers for the grader's own tests (tests/test_grader_*.py): hand-broken submissions, the
Gradescope results schema, and a cache that grades each submission once per session."""
