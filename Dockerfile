# syntax=docker/dockerfile:1
# One image for the five loopcrm services; each container picks its service with its command:
#   docker run ... loopcrm python -m services.ticketing
# `python -m services.<name>` applies that service's migrations, then serves on LOOPCRM_PORT.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN groupadd --system --gid 10001 loopcrm \
    && useradd --system --uid 10001 --gid loopcrm --home-dir /app --shell /usr/sbin/nologin loopcrm \
    && mkdir /app \
    && chown loopcrm:loopcrm /app

# Install the project (and its pinned dependencies) from pyproject.toml; the sources are removed
# afterwards, so the image holds only the installed package. The pip cache mount keeps rebuilds
# after a code change fast without putting the cache into a layer.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY shared/ shared/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install . \
    && cd / \
    && rm -rf /build

WORKDIR /app
USER 10001:10001
EXPOSE 8001 8002 8003 8004 8005

# Liveness of whichever service this container runs (LOOPCRM_PORT is set by compose and k8s).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ.get('LOOPCRM_PORT', '8000') + '/healthz', timeout=3)"]

# Overridden per service: python -m services.<name>, or loopcrm topics for the init job.
CMD ["loopcrm", "--help"]
