# The Infty worker image: `docker build -t infty-worker .`, or `docker compose build worker`.
# The entrypoint is the `infty` CLI, the default command `worker` (docs/interface.md); any other
# command works too, e.g. `docker run --rm infty-worker --help`.
# No secret is built in: the model key and endpoint come from the environment at run time.

# ---- build: all dependencies, compile TypeScript, prebuild the workflow bundle ----
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the package's postinstall provisions the Temporal CLI (the worker image never
# runs a server) and its prepare builds, which needs the sources copied below first.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies, the built code, bubblewrap; runs as a non-root user ----
FROM node:24.22.3-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="infty-worker" \
      org.opencontainers.image.description="Infty on Temporal worker: a durable Solver/Director/Verifier orchestrator" \
      org.opencontainers.image.licenses="Apache-2.0"

# bubblewrap sandboxes the Solver's shell commands (docs/behaviour.md §7.3); util-linux's prlimit
# and setpriv limit them and tie them to the worker (already in the base image, named so that they
# stay); git and python3 are there for those commands (the sandbox shows them this image's
# filesystem, read-only). Change the list with --build-arg SOLVER_PACKAGES="...". inotify-tools'
# inotifywait tells turn snapshots of big run directories what changed (docs/architecture.md
# decision 13); without it they walk the whole tree.
# DL3008 (pin apt versions) is ignored on purpose: Debian replaces a package version in the archive
# when it ships a security fix, so a pinned version stops installing; the base image tag pins the
# release (bookworm) and each build gets its current security updates.
ARG SOLVER_PACKAGES="git python3"
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap ca-certificates inotify-tools util-linux ${SOLVER_PACKAGES} \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data/home /data/runs \
 && chown node:node /data/home /data/runs

WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Production dependencies only; --ignore-scripts skips the package's postinstall and prepare (see
# above) and the dependencies' install scripts, none of which the prebuilt code needs.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
# What the published package holds (package.json "files"), plus the container health check.
COPY bin ./bin
COPY prompts ./prompts
COPY scripts/setup-temporal.js scripts/temporal-cli.js scripts/temporal-cli.d.ts ./scripts/
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
COPY deploy/worker-healthcheck.js ./deploy/worker-healthcheck.js

# Run directories and the worker's state (transcripts, journals, fences): mount volumes here; a
# fresh named volume takes over the ownership of these directories.
ENV INFTY_HOME=/data/home \
    INFTY_RUNS_ROOT=/data/runs
# Tells the worker it runs in this image (bubblewrap is installed here), so that a sandbox that
# does not work is reported as the Docker host's setting or the container's options, not a missing package.
ENV INFTY_IN_IMAGE=1
# The base image's `node` user, by number (so that a runtime can check it is not root without
# reading /etc/passwd); the code stays root-owned, read-only to it.
USER 1000:1000
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "/app/deploy/worker-healthcheck.js"]
ENTRYPOINT ["node", "/app/bin/infty.js"]
CMD ["worker"]
