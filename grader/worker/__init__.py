"""Code that runs inside the sandbox, next to the student's code.

The stager copies this package into each sandbox, so it must import nothing from the rest of
`grader` (only the standard library, torch and its own modules, relatively). The grader
process imports it too: for the wire format and for the mock UNets' formulas.
"""
