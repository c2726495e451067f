# nexus-go: `make run` serves on the embedded default (bbolt + filesystem
# under ./nexus-data, port 8081); `make test` runs every test.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
DATA_DIR ?= ./nexus-data

.PHONY: build run test vet fmt-check bench fuzz clean

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

test: fmt-check vet
	$(GO) test -race -timeout 20m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

# A short fuzzing run of the path normaliser.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzCleanPath -fuzztime 30s ./pkg/repo/

clean:
	rm -rf bin
