# Generated from the reference by tools/make_skeleton.py: do not edit by hand.

