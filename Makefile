# nexus-go: `make run` serves on the embedded default (bbolt + filesystem
# under ./nexus-data, port 8081); `make test` runs every test.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
DATA_DIR ?= ./nexus-data

# The OCI conformance suite, pinned; the Docker engine and skopeo come from
# Debian's packages. Tests of real clients fail, rather than skip, when
# NEXUS_GO_E2E_CLIENTS=required and a client is missing.
CONFORMANCE_VERSION := v0.0.0-20260831232431-97274622c111
# CNCF Distribution: a real third-party registry, upstream of proxy tests.
REGISTRY_VERSION := v3.1.2
# oras and regctl: clients of the referrers API and the tag schema.
ORAS_VERSION := v1.3.6
REGCTL_VERSION := v0.11.7
# crane: a daemonless client of first pulls through proxies.
CRANE_VERSION := v0.22.1
# Verdaccio (a third-party npm registry: upstream and peer of the npm tests)
# and pnpm, from the npm registry into $(TOOLS)/npm. Verdaccio 5 needs
# node-fetch 2.7.0 on the Node 20 here, hence the override.
VERDACCIO_VERSION := 5.33.0
PNPM_VERSION := 9.15.9
# axe-core: the accessibility rules the UI tests inject into every page.
AXE_VERSION := 4.14.1
NPM_TOOLS_JSON := {"private":true,"dependencies":{"verdaccio":"$(VERDACCIO_VERSION)","pnpm":"$(PNPM_VERSION)","axe-core":"$(AXE_VERSION)"},"overrides":{"node-fetch":"2.7.0"}}
NPM_TOOLS_STAMP := .installed-$(VERDACCIO_VERSION)-$(PNPM_VERSION)-axe-$(AXE_VERSION)
# Maven and the plugins of the Maven tests, from Debian: they put a
# Maven-layout repository at /usr/share/maven-repo, the tests' upstream.
MAVEN_PACKAGES := maven libmaven-deploy-plugin-java libmaven-install-plugin-java \
	libmaven-resources-plugin-java libmaven-compiler-plugin-java libmaven-jar-plugin-java \
	libsurefire-java junit4 libmaven-plugin-tools-java
MAVEN_REPO_DIRS := $(addprefix org/apache/maven/plugins/maven-,deploy-plugin install-plugin \
	resources-plugin compiler-plugin jar-plugin surefire-plugin plugin-plugin) junit/junit \
	org/apache/maven/plugin-tools/maven-plugin-annotations
TOOLS := $(CURDIR)/bin/tools
export NEXUS_GO_CONFORMANCE := $(TOOLS)/conformance
export NEXUS_GO_REGISTRY := $(TOOLS)/registry
export NEXUS_GO_ORAS := $(TOOLS)/oras
export NEXUS_GO_REGCTL := $(TOOLS)/regctl
export NEXUS_GO_CRANE := $(TOOLS)/crane
export NEXUS_GO_VERDACCIO := $(TOOLS)/npm/node_modules/.bin/verdaccio
export NEXUS_GO_PNPM := $(TOOLS)/npm/node_modules/.bin/pnpm
export NEXUS_GO_AXE := $(TOOLS)/npm/node_modules/axe-core/axe.min.js
# The browser of the UI tests: Debian's chromium, headless.
export NEXUS_GO_CHROMIUM ?= /usr/bin/chromium

.PHONY: build run test test-deps vet fmt-check bench fuzz clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/nexus-go ./cmd/nexus-go

run: build
	@echo "data in $(DATA_DIR); on first start the admin password is written to $(DATA_DIR)/admin.password"
	./bin/nexus-go serve --data-dir $(DATA_DIR)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test-deps:
	@if ! command -v dockerd >/dev/null || ! command -v skopeo >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io skopeo >/dev/null; \
		else echo "docker.io and skopeo are needed (apt-get install docker.io skopeo)"; exit 1; fi; \
	fi
	@if ! command -v slapd >/dev/null && ! [ -x /usr/sbin/slapd ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null; \
		else echo "slapd and ldap-utils are needed (apt-get install slapd ldap-utils)"; exit 1; fi; \
	fi
	@# aiosmtpd: the SMTP server of the mail tests (Debian's, for its python3).
	@if ! python3 -c 'import aiosmtpd' 2>/dev/null && ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-aiosmtpd >/dev/null; \
		else echo "python3-aiosmtpd is needed (apt-get install python3-aiosmtpd)"; exit 1; fi; \
	fi
	@if ! [ -x $(NEXUS_GO_CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium is needed (apt-get install chromium)"; exit 1; fi; \
	fi
	@missing=; command -v mvn >/dev/null || missing=mvn; \
	for d in $(MAVEN_REPO_DIRS); do [ -e /usr/share/maven-repo/$$d ] || missing="$$missing $$d"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(MAVEN_PACKAGES) >/dev/null; \
		else echo "Maven and its plugins are needed (missing:$$missing; apt-get install $(MAVEN_PACKAGES))"; exit 1; fi; \
	fi
	@[ -x $(TOOLS)/conformance ] || GOBIN=$(TOOLS) $(GO) install github.com/opencontainers/distribution-spec/conformance@$(CONFORMANCE_VERSION)
	@[ -x $(TOOLS)/registry ] || GOBIN=$(TOOLS) $(GO) install github.com/distribution/distribution/v3/cmd/registry@$(REGISTRY_VERSION)
	@[ -x $(TOOLS)/oras ] || GOBIN=$(TOOLS) $(GO) install oras.land/oras/cmd/oras@$(ORAS_VERSION)
	@[ -x $(TOOLS)/regctl ] || GOBIN=$(TOOLS) $(GO) install github.com/regclient/regclient/cmd/regctl@$(REGCTL_VERSION)
	@[ -x $(TOOLS)/crane ] || GOBIN=$(TOOLS) $(GO) install github.com/google/go-containerregistry/cmd/crane@$(CRANE_VERSION)
	@command -v npm >/dev/null || { echo "node and npm are needed (apt-get install nodejs npm)"; exit 1; }
	@# Installed again only when the pinned versions change (the stamp names them).
	@[ -e $(TOOLS)/npm/$(NPM_TOOLS_STAMP) ] && [ -x $(NEXUS_GO_VERDACCIO) ] && [ -x $(NEXUS_GO_PNPM) ] && [ -f $(NEXUS_GO_AXE) ] || { \
		rm -rf $(TOOLS)/npm && mkdir -p $(TOOLS)/npm && echo '$(NPM_TOOLS_JSON)' > $(TOOLS)/npm/package.json && \
		cd $(TOOLS)/npm && npm install --no-audit --no-fund --loglevel=error >/dev/null && \
		touch $(NPM_TOOLS_STAMP); }

# The tests, then short fuzzing sessions of the parsers of client input.
# Those are bounded by an execution count, not a duration: when a duration
# ends while a worker is mid-input, go test can fail with a bare "context
# deadline exceeded" on a loaded machine (a race in its fuzzing coordinator).
test: fmt-check vet test-deps
	NEXUS_GO_E2E_CLIENTS=required $(GO) test -race -timeout 20m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=200000x

# Micro-benchmarks, then the end-to-end workloads against the built server
# (each runs its fixed workload once and reports throughput and RSS).
# BenchmarkDockerPeers runs the Docker workload side by side with zot and an
# in-memory registry and reports the ratios. zot is no Go module to install:
# build it from a checkout of its sources (project-zot/zot) with
#   CGO_ENABLED=0 GOEXPERIMENT=jsonv2 go build -o $(TOOLS)/zot ./cmd/zot
# and it is used from there (NEXUS_GO_ZOT); without it that peer is skipped.
# BenchmarkNpmPeers runs the npm workload (installs, packument GETs) through
# a group beside Verdaccio (NEXUS_GO_VERDACCIO, from test-deps) with an
# uplink to the same upstream, and reports the ratios and both peak RSS.
# To profile the server under a workload, give the benchmarked server a
# debug listener (http.debug.addr, see docs/configuration.md):
#   NEXUS_GO_E2E_DEBUG_ADDR=127.0.0.1:6060 go test -run '^$$' -bench DockerPeers -benchtime 1x ./cmd/nexus-go/
#   go tool pprof -seconds 5 http://127.0.0.1:6060/debug/pprof/profile
export NEXUS_GO_ZOT ?= $(wildcard $(TOOLS)/zot)
bench: test-deps
	$(GO) test -run '^$$' -bench . -benchtime 2s ./pkg/... ./formats/...
	$(GO) test -run '^$$' -bench . -benchtime 1x ./cmd/...

# Fuzzing runs of the path normaliser, the wildcard matcher, the npm parsers, the
# privilege matcher and the Maven path and metadata parsers, each for FUZZTIME (go test runs one target at a time;
# a duration such as 30s, or an execution count such as 200000x).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzCleanPath -fuzztime $(FUZZTIME) ./pkg/repo/
	$(GO) test -run '^$$' -fuzz FuzzMatch -fuzztime $(FUZZTIME) ./pkg/wildcard/
	$(GO) test -run '^$$' -fuzz FuzzPrivilege -fuzztime $(FUZZTIME) ./pkg/auth/
	$(GO) test -run '^$$' -fuzz FuzzParseArtifact -fuzztime $(FUZZTIME) ./formats/maven/
	$(GO) test -run '^$$' -fuzz FuzzParseMetadata -fuzztime $(FUZZTIME) ./formats/maven/
	$(GO) test -run '^$$' -fuzz FuzzPackument -fuzztime $(FUZZTIME) ./formats/npm/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./pkg/csel/

clean:
	rm -rf bin
