# telegraf-chrony: build, test and measure.
# `make test` is what CI runs (.ci/run): it installs the system packages the
# tests need when it can (root), then runs every test with the race detector,
# the real chronyd, Telegraf, InfluxDB, Kafka-protocol and Prometheus
# integration tests included.

GO        ?= go
BIN       := bin/telegraf-chrony
PKGS      := ./...
LIBPKGS   := ./plugins/inputs/chrony_tracking/tracking/...
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
FUZZTIME  ?= 15s
LONGFUZZ  ?= 5m
TEST_TIMEOUT ?= 40m

.PHONY: all build test unit lint fuzz fuzz-short bench demo deps examples clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/telegraf-chrony

# System packages the integration tests use: chronyd and chronyc (chrony),
# influxd and influx (influxdb, influxdb-client), prometheus and promtool
# (prometheus). Installed when running as root; otherwise named.
deps:
	@scripts/deps.sh

test: deps lint
	TELEGRAF_CHRONY_REQUIRE_LAB=1 $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	$(MAKE) fuzz-short
	TELEGRAF_CHRONY_REQUIRE_LAB=1 $(GO) test -run '^$$' -bench . -benchtime 1x -count=1 $(PKGS)

# Unit tests only: no chronyd needed (integration tests skip, saying why).
unit:
	$(GO) test -count=1 $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	@# The library builds wherever chronyd runs: UDP everywhere, the unix
	@# socket and permission parts on unix systems, a clear error elsewhere.
	GOOS=freebsd $(GO) vet $(LIBPKGS)
	GOOS=darwin $(GO) vet $(LIBPKGS)
	GOOS=windows $(GO) build $(LIBPKGS)

# Every fuzz target, bounded: FUZZTIME each in `make test`, LONGFUZZ in `make fuzz`.
fuzz-short:
	@scripts/fuzz.sh $(FUZZTIME)

fuzz:
	@scripts/fuzz.sh $(LONGFUZZ)

bench: deps
	@scripts/bench.sh

demo: build deps
	@scripts/demo.sh

# Regenerate what is made from other files: the Grafana dashboards from
# examples/grafana's generator, the README's example blocks from examples/.
# `make test` fails while either is out of date.
examples:
	$(GO) run ./examples/grafana/gen
	$(GO) test -count=1 -run TestREADMEShowsExamples ./test/pipelines -update

clean:
	rm -rf bin
