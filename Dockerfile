# The reference application (cmd/saas). Pure Go: CGO_ENABLED=0, so the
# final image is distroless/static with one binary, running as non-root.
#
#   docker build -t sidelog-saas .
#   docker run -p 8080:8080 -v saas-data:/data sidelog-saas
#
# /data holds the log database (logs.db + logs.db.d/) and, when
# DATABASE_URL is unset, the business SQLite file app.db.

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
# go.work adds the test-only e2e module, which the image does not need.
ENV GOWORK=off
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/saas ./cmd/saas \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/saas /usr/local/bin/saas
# A named volume mounted here starts as a copy of this directory, owned by
# the nonroot user (65532) that the server runs as.
COPY --from=build --chown=65532:65532 /out/data /data
ENV SAAS_DATA_DIR=/data \
    SIDELOG_DB=/data/logs.db \
    ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/saas", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/saas"]
CMD ["serve"]
