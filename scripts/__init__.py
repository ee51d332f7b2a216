"""Scripts run from the Makefile (`make demo`)."""
