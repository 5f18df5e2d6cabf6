"""Running student code away from the grader: staged files, confined worker processes, and
the `Student` object the catalog's tests call."""
