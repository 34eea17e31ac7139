"""The reports for reviewers, from a suite run's results (`tutorial-conformance report`):
the Allure HTML (allure.py), the claims matrix (matrix.py) and the annotated tutorial
(tutorial.py). Installed with the suite, so that they need no checkout."""
