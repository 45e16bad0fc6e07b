# Sawt: one static binary in a minimal image, run as a non-root user.
# Build: docker build -t sawt .   Run: docker run -e DATABASE_URL=postgres://… -p 8080:8080 sawt
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/sawt ./cmd/sawt

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sawt /usr/local/bin/sawt
# A container has no PostgreSQL binaries: DATABASE_URL must point at a server.
ENV SAWT_HTTP_ADDR=:8080 SAWT_ADMIN_ADDR=:8081
USER nonroot:nonroot
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/sawt"]
CMD ["serve"]
