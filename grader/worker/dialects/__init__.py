"""Adapters: the contract's calls (the ones the grader's probes make) answered through a course's own
API. One module per dialect; each defines PROVIDES (the contract modules it stands in for) and
`Adapter(find, device, via)`, whose `module(name)` returns an object with the contract's names.
An adapter runs in the worker, so it is the student's as much as the rest of the worker: it only
translates calls, and every verdict is still computed by the grader from what comes back."""
