"""What the catalog's verdicts are made of: the grader's own reference formulas (written
from the handout, independent of solution/), known wrong formulas, deterministic inputs,
and comparisons that explain a mismatch."""
