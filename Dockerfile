# syntax=docker/dockerfile:1
# Build: docker build -t newsdesk .          (BuildKit: the default builder since Docker 23)
# Run:   docker run -p 8080:8080 -v newsdesk-data:/data newsdesk
# Your own config: mount a directory (not a single file, so live reload sees
# edits saved by rename) and point NEWSDESK_CONFIG at the file in it:
#   docker run -p 8080:8080 -v newsdesk-data:/data -v "$PWD/myconfig:/etc/newsdesk:ro" \
#     -e NEWSDESK_CONFIG=/etc/newsdesk/newsdesk.yaml newsdesk
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
# Cache mounts keep the module and build caches between builds, so a source
# change rebuilds only what it touches.
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/newsdesk ./cmd/newsdesk && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /out/newsdesk /usr/local/bin/newsdesk
COPY config/ /app/config/
COPY feeds/ /app/feeds/
# The store lives on a volume. distroless has no /data, so create it owned by
# the nonroot user (65532): a new named volume copies that ownership.
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME ["/data"]
# No NEWSDESK_ADDR here: the config's listen (":8080" in the bundled config)
# decides the port, so an admin's config is never silently overridden.
ENV NEWSDESK_CONFIG=/app/config/newsdesk.yaml NEWSDESK_DATA=/data/newsdesk.db
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/newsdesk", "health"]
ENTRYPOINT ["/usr/local/bin/newsdesk"]
CMD ["serve"]
