"""The hostile corpus, as one list: every attack on the grader that the suite tries, the class of
the threat model it belongs to (docs/security.md), and the test that tries it. docs/validity.md is
written from this list and the outcomes of a `make test` run (tools/validity.py), not by hand.

The attacks of hostile.py are listed from it; the others are tests of their own elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.grader_fixtures.hostile import cases

# The classes of the threat model, in the order docs/validity.md shows them.
CLASSES = {
    "forged": "Forged measurements: the worker reports what it likes",
    "linked": "Linked files: symbolic links (a notebook too), FIFOs",
    "reading": "Reading the grader, the reference, other checkouts, /proc",
    "leftover": "Processes left behind, across gradings and after the grader exits",
    "batch": "Gradings of a parallel batch reading each other",
    "replies": "Hostile replies: deep or shared structures, huge sizes, huge messages",
    "images": "Image bombs: huge PNG and GIF files",
    "zips": "Malformed and unsafe zips",
    "parser": "Code and notebooks too deep for the parser",
    "outputs": "The grader's outputs: --out links, results.json written by the submission",
    "time": "Slow submissions, slow but correct ones, the whole grade's time",
    "hidden": "Hidden-probe leakage",
    "probes": "Probe-shaped fakes: the right calls, noise for values",
    "figures": "Figures without a model: data set digits, missing or foreign weights",
    "exhaust": "Crashes, hangs and exhaustion of the worker",
    "grader": "Attacks on the grader's own process and verdicts",
}


# The classes whose defence is the worker's confinement, which differs as root and as an ordinary user
# (its own uid, or a user namespace): their cases run again in make test's pass as `nobody`. The other
# classes are defended by the grader's own code (its loader, its reading of replies, its deadlines, its
# checks), the same code in both modes: they run once, as root.
CONFINEMENT = {"reading", "leftover", "batch", "exhaust"}
CONFINED_CASES = {"write_results", "kill_grader"}  # the worker writing the grader's outputs, signalling the grader


@dataclass(frozen=True)
class Case:
    cls: str  # a key of CLASSES
    what: str
    test: str  # the pytest node id that tries it
    root_only: bool = False  # only root can stop it (skipped as an ordinary user)
    confined: bool | None = None  # whether the worker's confinement defends it (None: as its class says)

    @property
    def both_modes(self) -> bool:
        """Run again as an ordinary user: its defence depends on how the worker is confined."""
        return self.cls in CONFINEMENT if self.confined is None else self.confined


HOSTILE_CLASS = {
    "loop_at_import": "exhaust", "os_exit_at_import": "exhaust", "kill_own_worker": "exhaust",
    "memory_bomb": "exhaust", "fork_bomb": "exhaust", "print_100mb": "replies", "wrong_dtype": "replies",
    "meta_device": "replies", "patch_allclose": "grader", "write_results": "outputs", "read_solution": "reading",
    "read_hidden_tests": "reading", "network": "reading", "kill_grader": "grader", "proc_scan": "reading",
    "late_results": "leftover", "search_filesystem": "reading", "ast_recursion": "parser",
    "slow_but_correct": "time", "huge_message": "replies", "shared_reply": "replies", "deep_reply": "replies",
    "layers_listed_not_used": "forged", "missing_module": "exhaust",
}

S, SUB, FIG = "tests/test_grader_sandbox.py::", "tests/test_grader_submission.py::", "tests/test_grader_figures.py::"
NB, TR, H = "tests/test_grader_notebook.py::", "tests/test_grader_training.py::", "tests/test_grader_hostile.py::"
MALFORMED = {"bad_crc": "a bad CRC", "encrypted": "a password", "unknown_method": "an unknown compression method",
             "clash": "a file and a folder of one name", "long_name": "a name too long to unpack"}
UNSAFE = {"absolute": "an absolute path", "dotdot": "a '..' path", "link": "a symbolic link"}

OTHERS = [
    Case("forged", "a worker that writes garbage where its answers go", S + "test_a_forged_answer_is_refused"),
    Case("forged", "training that reports a falling loss with no learning (lr 0)",
         TR + "test_training_bug_loses_its_test[forged_losses]"),
    Case("forged", "the held-out evaluation answers the noisy input it was sent",
         TR + "test_training_bug_loses_its_test[forged_evaluation]"),
    Case("linked", "links to files and folders, a FIFO, in the submission",
         SUB + "test_links_and_special_files_are_not_graded"),
    Case("linked", "a folder holding only a link to the solution notebook",
         SUB + "test_a_folder_holding_a_link_to_the_solution_notebook_scores_zero"),
    Case("reading", "a search of the worker's whole filesystem for any file of the project",
         S + "test_no_file_of_the_project_is_visible_anywhere"),
    Case("reading", "another checkout of the project, readable by all",
         S + "test_the_worker_sees_another_checkout_of_the_project_nowhere"),
    Case("reading", "the grader's and the reference's files by path",
         S + "test_the_grader_s_files_are_hidden_as_any_user"),
    Case("reading", "/proc of the grader and of every other process", S + "test_the_worker_sees_no_other_process"),
    Case("leftover", "a daemon (new session, double fork) left by the worker",
         S + "test_nothing_a_worker_starts_outlives_it"),
    Case("batch", "two gradings at once, each searching /tmp for the other's staged code",
         "tests/test_batch.py::test_gradings_of_a_parallel_batch_cannot_read_each_other"),
    Case("replies", "an answer of 10**9 values through shared references, bypassing the worker's encoder",
         S + "test_an_answer_too_large_once_expanded_is_refused[shared]"),
    Case("replies", "an answer nested 5000 levels deep, bypassing the worker's encoder",
         S + "test_an_answer_too_large_once_expanded_is_refused[deep]"),
    Case("images", "PNG and GIF bombs, a truncated file, a huge frame count",
         FIG + "test_unreadable_huge_or_blank_files_are_refused"),
    *[Case("zips", f"a zip with {what}", f"{SUB}test_malformed_zips_are_rejected_in_one_line[{kind}]")
      for kind, what in MALFORMED.items()],
    *[Case("zips", f"a zip with {what}", f"{SUB}test_unsafe_zips_are_rejected[{kind}]")
      for kind, what in UNSAFE.items()],
    Case("zips", "a zip over 50 MB unpacked", SUB + "test_zip_larger_than_the_limit_is_rejected"),
    Case("parser", "notebook cells nested a million levels deep",
         NB + "test_code_too_deep_for_the_parser_is_a_skipped_cell_not_a_crash"),
    Case("parser", "a notebook whose JSON is nested 200,000 levels deep",
         NB + "test_json_too_deep_for_the_reader_is_a_one_line_rejection"),
    Case("parser", "a notebook that is not JSON", NB + "test_unreadable_notebook_scores_zero_with_a_message"),
    Case("outputs", "--out given as a symbolic link; links planted in it",
         SUB + "test_the_output_is_never_written_through_a_link"),
    Case("time", "one request that would run past the grade's total time",
         SUB + "test_one_slow_request_cannot_carry_the_grade_past_its_total_time"),
    Case("time", "a grade already past its total time",
         SUB + "test_a_grade_past_its_total_time_fails_the_tests_still_to_run"),
    Case("hidden", "a worker that logs every input and returns the log in a visible test's message",
         H + "test_a_visible_test_s_output_is_the_same_with_or_without_the_hidden_tests"),
    Case("probes", "every function makes the probed calls and returns noise or a constant",
         H + "test_a_probe_shaped_fake_earns_at_most_two_points"),
    Case("figures", "every grid of samples redrawn with MNIST test digits",
         FIG + "test_sample_grids_made_of_mnist_digits_lose_their_points"),
    Case("figures", "the reference's figures and loss logs without the weights that made them",
         FIG + "test_figures_without_weights_lose_their_points"),
    Case("figures", "weights that did not make the figures: untrained, another run's, wrong settings",
         FIG + "test_weights_that_did_not_make_the_figures_lose_their_points"),
    Case("exhaust", "a hang at import, then a fresh worker",
         S + "test_a_module_that_hangs_at_import_costs_one_timeout"),
]


def all_cases() -> list[Case]:
    hostile = [Case(HOSTILE_CLASS[h.name], h.what, f"{H}test_hostile_submission_gains_nothing[{h.name}]",
                    root_only=h.needs_root, confined=True if h.name in CONFINED_CASES else None) for h in cases(0)]
    return hostile + OTHERS


if __name__ == "__main__":
    # For make test-unprivileged: the node ids of the cases to run in both modes, outside the files given
    # (which that pass runs whole).
    import sys

    files = set(sys.argv[2:]) if sys.argv[1:2] == ["--outside"] else set()
    print(" ".join(sorted({c.test for c in all_cases() if c.both_modes and c.test.split("::")[0] not in files})))
