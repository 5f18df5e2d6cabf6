"""Checks of the deliverable figures: images.py reads a file, tiles.py finds a grid's tiles,
checks.py judges content, judge.py applies the manifest, graded.py is what the catalog calls;
classifier.py is the reference MNIST classifier that reads generated digits."""
