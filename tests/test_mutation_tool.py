"""make mutation's own pieces (the run itself grades a thousand mutants: not part of make test): the
marked regions it mutates, and the list of equivalent mutants, each inside such a region, with a reason."""

from __future__ import annotations

import re

from tools import mutation
from tools.mutation import SOLUTION, equivalent, regions


def test_only_the_lines_inside_marked_regions_are_mutated() -> None:
    source = ("a = 1\n# BEGIN SOLUTION: x\nb = 2\nc = 3\n# END SOLUTION\nd = 4\n"
              "    # BEGIN SOLUTION\ne = 5\n    # END SOLUTION\n")
    assert regions(source) == [(3, 4), (8, 8)]


def test_every_equivalent_mutant_is_in_a_marked_region_and_says_why() -> None:
    listed = equivalent()
    assert listed, "tests/grader_fixtures/equivalent_mutants.toml lists no mutant"
    for key, why in listed.items():
        found = re.fullmatch(r"(\w+\.py):(\d+):(\d+):(\w+):(\d+)", key)
        assert found, f"{key}: not a mutant id (module:line:column:operator:occurrence)"
        path = SOLUTION / found[1]
        assert path.is_file(), f"{key}: no module solution/{found[1]}"
        assert any(a <= int(found[2]) <= b for a, b in regions(path.read_text())), f"{key}: not in a marked region"
        assert len(why) > 20, f"{key}: say why it cannot be told from the reference"


def test_the_mutation_block_has_its_place_in_validity_md() -> None:
    page = mutation.PAGE.read_text()
    assert page.count(mutation.BEGIN) == 1 and page.count(mutation.END) == 1
    assert page.index(mutation.BEGIN) < page.index(mutation.END)
