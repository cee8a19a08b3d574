# syntax=docker/dockerfile:1
# vod-gateway: GraphiQL assets bundled in a Node stage, the package installed into a venv in a
# Python stage, and a slim runtime that runs as a non-root user. The same image runs the emulator
# (`vod-gateway emulator ...`). See docs/deployment.md.
#
#   docker build -t vod-gateway .

FROM node:20-slim AS graphiql
WORKDIR /src
COPY graphiql/ graphiql/
# npm ci from the lockfile, then esbuild; writes /src/gateway/static/graphiql/
RUN bash graphiql/build.sh

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway/ gateway/
COPY --from=graphiql /src/gateway/static/graphiql/ gateway/static/graphiql/
RUN /opt/venv/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
# glibc's allocator for every object: memory goes back to the system once a crowd of subscriptions
# has gone (CPython's keeps 1 MiB arenas), for up to 5% more CPU: docs/benchmarks.md
ENV PYTHONMALLOC=malloc
RUN groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin gateway
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8000
# /healthz answers while the process serves; /readyz also checks the upstream and Redis
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["vod-gateway", "serve", "--host", "0.0.0.0", "--port", "8000"]
