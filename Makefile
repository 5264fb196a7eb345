# Shortcuts; the README's two commands are the reference.
.PHONY: lab lab-up lab-converge lab-down test unit lint bench
lab:
	lab/lab.sh
lab-up:
	lab/lab.sh up
lab-converge:
	lab/lab.sh converge
lab-down:
	lab/lab.sh down
test:
	tests/run.sh
unit:
	TEST_STAGES="unit" tests/run.sh
lint:
	TEST_STAGES="lint" tests/run.sh
bench:
	.venv/bin/python scripts/benchmark.py
