# The casebank GitHub Action image (action.yml: runs.using docker, image Dockerfile).
# GitHub runs it as root with the checkout mounted at /github/workspace as the working
# directory, so there is deliberately no USER or WORKDIR here.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

# GitPython drives the git binary. python:3.12-slim has none; a base that already has git
# (CI's local Debian base) skips apt. The checkout belongs to another uid than the
# container's, so git must trust every directory whatever HOME is.
RUN if ! command -v git >/dev/null 2>&1; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
    && git config --system --add safe.directory '*'

# A venv keeps pip away from the distribution's Python (PEP 668 on Debian's python3).
ENV PATH=/opt/casebank/bin:$PATH \
    PYTHONUNBUFFERED=1

COPY requirements/action.txt /tmp/casebank/requirements/action.txt
RUN python3 -m venv /opt/casebank \
    && pip install --no-cache-dir -r /tmp/casebank/requirements/action.txt

# The package itself last, without dependencies: the lock above is the whole runtime, and
# pip check fails the build if the lock and the package disagree. bank-schema/ is what the
# src/casebank/schemas symlink points at.
COPY pyproject.toml README.md /tmp/casebank/
COPY bank-schema /tmp/casebank/bank-schema
COPY src /tmp/casebank/src
RUN pip install --no-cache-dir --no-deps /tmp/casebank \
    && pip check \
    && rm -rf /tmp/casebank

ENTRYPOINT ["casebank", "action"]
