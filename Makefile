# telegraf-chrony: build, test, package and measure.
# `make test` is what CI runs (.ci/run): it installs the system packages the
# tests need when it can (root), builds the release (make dist), then runs
# every test with the race detector, the real chronyd, Telegraf, InfluxDB,
# Kafka-protocol and Prometheus integration tests and the package test
# included, and the unit tests with the next Go release.

GO        ?= go
BIN       := bin/telegraf-chrony
# Two modules: the root holds what ships (the command, the plugin, the
# library, internal/) and their own tests; test/ is the test wing (end to
# end with Telegraf agents, pipelines, packaging, the shim, benchmarks, the
# Grafana generator), a module of its own so that nothing it needs reaches
# the product's go.mod. PKGS runs in each.
PKGS      := ./...
WING      := test
LIBPKGS   := ./cmdmon/...
VERSION   ?= $(shell scripts/version.sh)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
COMMIT_TIME ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
DIST      := dist
# The Go release after the one this machine has: make test also vets,
# builds and unit-tests with it (the go command fetches it once).
GO_NEXT   ?= go1.27.3
FUZZTIME  ?= 15s
LONGFUZZ  ?= 5m
TEST_TIMEOUT ?= 40m

.PHONY: all build dist test chrony-builds test-go-next test-arch unit lint fuzz fuzz-short bench demo deps examples clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/telegraf-chrony

# Release artifacts from the current commit: static binaries for linux
# amd64, arm64 and armv7, a .deb and an .rpm of each, SHA256SUMS. The
# packager (tools/dist, a module of its own) keeps nfpm out of the
# command's dependencies.
dist:
	cd tools/dist && $(GO) run . -root ../.. -out ../../$(DIST) \
	  -version '$(VERSION)' -mtime '$(COMMIT_TIME)' -ldflags '$(LDFLAGS)'

# System packages the tests use: chronyd and chronyc (chrony), influxd and
# influx (influxdb, influxdb-client), prometheus and promtool (prometheus),
# rpm (to inspect the .rpm), man (man-db), qemu-aarch64-static and
# qemu-arm-static (qemu-user-static). Installed when running as root;
# otherwise named.
deps:
	@scripts/deps.sh test

test: deps lint dist chrony-builds
	TELEGRAF_CHRONY_REQUIRE_LAB=1 TELEGRAF_CHRONY_DIST=$(CURDIR)/$(DIST) \
	  $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	cd $(WING) && TELEGRAF_CHRONY_REQUIRE_LAB=1 TELEGRAF_CHRONY_DIST=$(CURDIR)/$(DIST) \
	  $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	cd tools/dist && $(GO) test -count=1 ./...
	$(MAKE) test-arch
	$(MAKE) test-go-next
	$(MAKE) fuzz-short
	TELEGRAF_CHRONY_REQUIRE_LAB=1 $(GO) test -run '^$$' -bench . -benchtime 1x -count=1 $(PKGS)
	cd $(WING) && TELEGRAF_CHRONY_REQUIRE_LAB=1 $(GO) test -run '^$$' -bench . -benchtime 1x -count=1 $(PKGS)

# The next Go release: vet, build and the unit tests (-short: the tests
# that need chronyd, Telegraf or InfluxDB skip). Its packages run side by
# side on two cores: a 100 ms-bounded gather queued behind 150 others took
# 1.77 s there in a fresh-clone run (Within allows 1.65 s with the default
# Slack), so Slack is 3 s here: bounded, not hung.
test-go-next:
	GOTOOLCHAIN=$(GO_NEXT) $(GO) version
	for m in . $(WING); do (cd $$m && \
	  GOTOOLCHAIN=$(GO_NEXT) $(GO) vet $(PKGS) && \
	  GOTOOLCHAIN=$(GO_NEXT) $(GO) build $(PKGS) && \
	  TELEGRAF_CHRONY_SLACK=3s GOTOOLCHAIN=$(GO_NEXT) $(GO) test -short -count=1 $(PKGS)) || exit 1; done

# The library's, the plugin's and the command's internal packages' tests
# (--diagnose, the line protocol writer) built for the other architectures
# the release ships, run in qemu-user-static's emulators (named, so no
# binfmt registration is needed; no -race there): 32-bit ARM is where
# 64-bit fields and time values go wrong. Their chronyd is this machine's,
# which the emulated tests start like any program. The release binaries
# themselves run in test/packaging (TestBinariesOnce). Emulated, every step
# is slower: the timed assertions get a Slack of 4 s (testutil/timing).
ARCHPKGS  := ./cmdmon/... ./plugins/... ./internal/...
# qemu-user can deadlock a multi-threaded program that forks (seen once:
# an emulated cmdmon.test stuck in the fork that starts a chronyd, idle for
# ten minutes): a package whose run hangs past ARCHTIMEOUT is run once more,
# saying so; a failure that repeats fails.
ARCHTIMEOUT ?= 6m
test-arch:
	@for arch in "arm64 qemu-aarch64-static" "arm qemu-arm-static"; do set -- $$arch; \
	  for try in 1 2; do \
	    echo "test-arch: GOARCH=$$1 under $$2 (try $$try)"; \
	    TELEGRAF_CHRONY_REQUIRE_LAB=1 TELEGRAF_CHRONY_SLACK=4s GOARCH=$$1 GOARM=7 \
	      $(GO) test -count=1 -timeout $(ARCHTIMEOUT) -exec $$2 $(ARCHPKGS) && break; \
	    [ $$try = 2 ] && exit 1; \
	  done; \
	done

# chronyd and chronyc of each release in TELEGRAF_CHRONY_CHRONY_SRC, built
# (or found in the cache) before the tests run, so that a cold build does
# not share the cores with timing-sensitive tests. Nothing without it.
chrony-builds:
	$(GO) test -count=1 -v -run '^TestReleasesBuild$$' ./testutil/chronybuild

# Unit tests only: no chronyd needed (integration tests skip, saying why).
unit:
	$(GO) test -count=1 $(PKGS)
	cd $(WING) && $(GO) test -count=1 $(PKGS)

# gofmt, go vet (every module), and the root go.mod's go line: the lowest
# that the dependencies allow. (That no root requirement is above Telegraf
# v1.37.2's own is test/telegrafbuild's check.)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	cd $(WING) && $(GO) vet $(PKGS)
	@# The library builds wherever chronyd runs: UDP everywhere, the unix
	@# socket and permission parts on unix systems, a clear error elsewhere.
	GOOS=freebsd $(GO) vet $(LIBPKGS)
	GOOS=darwin $(GO) vet $(LIBPKGS)
	GOOS=windows $(GO) build $(LIBPKGS)
	cd tools/dist && $(GO) vet ./...
	@scripts/goline.sh

# Every fuzz target, bounded: FUZZTIME each in `make test`, LONGFUZZ in `make fuzz`.
fuzz-short:
	@scripts/fuzz.sh $(FUZZTIME)

fuzz:
	@scripts/fuzz.sh $(LONGFUZZ)

bench: deps
	@scripts/bench.sh

# chronyd only: the demo reads the local chronyd, or starts a private one.
demo: build
	@scripts/deps.sh demo
	@scripts/demo.sh

# Regenerate what is made from other files: the Grafana dashboards from
# examples/grafana's generator, the documents' example blocks from the files
# they show (examples/, the packaged drop-in).
# `make test` fails while either is out of date.
examples:
	cd $(WING) && $(GO) run ./grafana/gen
	cd $(WING) && $(GO) test -count=1 -run TestDocsShowExamples ./pipelines -update

clean:
	rm -rf bin $(DIST)
