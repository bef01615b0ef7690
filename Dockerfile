# syntax=docker/dockerfile:1
# hiraga image: non-root, slim, one process per container (serve / worker / db upgrade / backup).
#   docker build -t hiraga:0.1.0 .                                    # with the built-in 0.5B model
#   docker build -t hiraga:0.1.0-server --build-arg WITH_EMBEDDED_MODEL=0 .   # model servers only
# docs/operations.md explains the shapes, the volumes and the health endpoints.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG WITH_EMBEDDED_MODEL=1
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/hiraga
COPY deploy/docker/dependencies.py /tmp/dependencies.py
COPY pyproject.toml README.md ./
RUN python /tmp/dependencies.py --embedded-model "${WITH_EMBEDDED_MODEL}" > /tmp/requirements.txt \
 && /opt/hiraga/bin/pip install -r /tmp/requirements.txt
COPY src ./src
RUN /opt/hiraga/bin/pip install --no-deps . \
 && /opt/hiraga/bin/python -m compileall -q /opt/hiraga/lib

FROM ${PYTHON_IMAGE}
# libgomp1: OpenMP for llama.cpp (embedded model) and the e5 embedder. Not pinned: the base image's
# Debian release fixes the version, and a pin would break the build at the next security update.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 hiraga \
 && useradd --system --uid 10001 --gid hiraga --home-dir /var/lib/hiraga --shell /usr/sbin/nologin hiraga \
 && mkdir -p /var/lib/hiraga/anchors \
 && chown -R hiraga:hiraga /var/lib/hiraga
COPY --from=build /opt/hiraga /opt/hiraga
ENV PATH=/opt/hiraga/bin:$PATH \
    HIRAGA_DATA_DIR=/var/lib/hiraga \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /var/lib/hiraga
VOLUME ["/var/lib/hiraga"]
EXPOSE 8000
# liveness only (the process answers); readiness is /readyz, for orchestrators and the proxy
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["hiraga"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
