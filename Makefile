# Convenience wrappers; each target is one line of tasks.py, which needs only Python and pip.
PYTHON ?= python3

.PHONY: demo test bench fuzz
demo:
	$(PYTHON) tasks.py demo
test:
	$(PYTHON) tasks.py test
bench:
	$(PYTHON) tasks.py bench
fuzz:
	$(PYTHON) tasks.py fuzz
