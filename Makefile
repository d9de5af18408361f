# vr: build, test, benchmark and demo. Every target that needs system packages runs
# scripts/deps.sh first (idempotent; a no-op when everything is installed).

GO        ?= go
BIN       ?= bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/vr-paas/vr/pkg/cli.Version=$(VERSION)
BINARIES  := vbuild vimage vruntime vruntime-precise vrcli proc-publisher
FUZZTIME  ?= 10s
# Test timeout per package; the whole CI run must stay under 20 minutes.
TESTFLAGS ?= -count=1 -timeout 15m

.PHONY: all deps build test unit fuzz bench demo vet clean

all: build

deps:
	./scripts/deps.sh

build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ $(addprefix ./cmd/,$(BINARIES))

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l cmd pkg scripts)" || { echo "gofmt needed:"; gofmt -l cmd pkg scripts; exit 1; }
	./scripts/check-layering.sh

# test: everything, real containers included (run as root; CI sets VR_TEST_REQUIRE=all so a
# test that would skip fails instead), then every fuzzer briefly.
test: deps vet
	$(GO) test $(TESTFLAGS) ./...
	$(MAKE) fuzz

# unit: the tests that need neither root nor LXC still run; the others skip with a message.
unit:
	$(GO) test -short ./...

fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# bench: every benchmark prints its figures. The container lifecycle takes 200 samples so its
# p99 means something; the heavy ones (150-200 MB trees) run a few times each.
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 200x ./pkg/container/lxc/
	$(GO) test -run '^$$' -bench . -benchtime 5x -timeout 60m $$($(GO) list ./pkg/... | grep -v '/pkg/container/lxc$$')

demo: deps build
	./scripts/demo.sh

clean:
	rm -rf $(BIN)
