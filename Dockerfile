# Strata served from a FoundationDB cluster (see docker-compose.yml, which builds this image).
#
# The FoundationDB client package must match the server's version: it provides libfdb_c, which the
# `foundationdb` npm package's native module links against (and fdb_c.h, should that module have to
# be compiled because no prebuilt binary fits). FoundationDB publishes it for amd64 only, hence the
# platform below.

ARG FDB_VERSION=7.3.63

# Node plus FoundationDB's client library, shared by the build and the final image.
FROM --platform=linux/amd64 node:20-bookworm-slim AS base
ARG FDB_VERSION
ADD https://github.com/apple/foundationdb/releases/download/${FDB_VERSION}/foundationdb-clients_${FDB_VERSION}-1_amd64.deb /tmp/foundationdb-clients.deb
# openssl: `strata serve` makes development certificates with it when none are given.
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/foundationdb-clients.deb openssl \
 && rm -rf /var/lib/apt/lists/* /tmp/foundationdb-clients.deb

# Install and compile. Build tools are here in case a native module (foundationdb, lmdb) has no
# prebuilt binary for this platform; they stay out of the final image.
FROM base AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# `npm ci` also runs the `prepare` script (tsc), so the sources are copied first; dev dependencies
# are then dropped.
RUN npm ci && npm prune --omit=dev

FROM base
WORKDIR /app
COPY --from=build /app /app
# The server writes development certificates under certs/ (a volume in docker-compose.yml, which
# takes this directory's owner when first created).
RUN mkdir -p /app/certs && chown node:node /app/certs
USER node
EXPOSE 6333
# `node bin/strata.js` rather than `npx strata`: npx does not link a project's own bin, and would
# look for a package named `strata` on the registry instead.
ENTRYPOINT ["node", "/app/bin/strata.js"]
CMD ["serve", "--cluster-file", "/var/fdb/fdb.cluster", "--listen", "0.0.0.0:6333"]
