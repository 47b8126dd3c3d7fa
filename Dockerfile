# syntax=docker/dockerfile:1
# Build: docker build -t newsdesk .
# Run:   docker run -p 8080:8080 -v newsdesk-data:/data newsdesk
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/newsdesk ./cmd/newsdesk && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /out/newsdesk /usr/local/bin/newsdesk
COPY config/ /app/config/
COPY feeds/ /app/feeds/
# The store lives on a volume. distroless has no /data, so create it owned by
# the nonroot user (65532): a new named volume copies that ownership.
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME ["/data"]
ENV NEWSDESK_CONFIG=/app/config/newsdesk.yaml NEWSDESK_DATA=/data/newsdesk.db NEWSDESK_ADDR=:8080
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/newsdesk", "health"]
ENTRYPOINT ["/usr/local/bin/newsdesk"]
CMD ["serve"]
