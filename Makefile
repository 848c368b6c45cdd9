# livedash — build, run and test. `make run` and `make test` are all a new
# user needs; see README.md.
GO      ?= go
BIN     := bin/livedash
ARGS    ?= --demo
WEB_SRC := $(shell find web/src web/index.html web/vite.config.ts web/vite.embed.config.ts web/package.json -type f 2>/dev/null)
CLIENT_SRC := $(shell find clients/js/src clients/js/package.json clients/js/tsconfig.json -type f 2>/dev/null)

.PHONY: all build run test test-go test-web test-e2e test-client client bench fuzz screenshots web clean

all: build

## build: the web app, then the server binary with the app embedded
build: web
	$(GO) build -o $(BIN) ./cmd/livedash

## run: build and serve on http://localhost:8080 with demo data (ARGS= to drop --demo)
run: build
	./$(BIN) serve $(ARGS)

## web: the app, embed.js and livedash.js into web/dist, which the binary embeds
web: web/dist/index.html

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

# embed.js bundles the client's source; /livedash.js is the client's own build, copied.
web/dist/index.html: web/node_modules/.package-lock.json clients/js/dist/livedash.js $(WEB_SRC) $(CLIENT_SRC)
	cd web && npm run build
	cp clients/js/dist/livedash.js web/dist/livedash.js

## client: the JavaScript client package (clients/js/dist)
client: clients/js/dist/livedash.js

clients/js/node_modules/.package-lock.json: clients/js/package-lock.json
	cd clients/js && npm ci --no-audit --no-fund

clients/js/dist/livedash.js: clients/js/node_modules/.package-lock.json $(CLIENT_SRC)
	cd clients/js && npm run build

## test: vet, Go tests with the race detector, web and client unit tests, client
## integration tests against the binary, browser end-to-end tests
test: test-go test-web test-client test-e2e

# The stream tests: run once more on the other kind of connection.
STREAM_TESTS := SSE|Stream|Resume|Reset|Heartbeat|Slow|Fanout|Streams

test-go: web
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...
	@echo "again, the stream tests with SSE streams attached to the engine, not pooled (sse_goroutine_per_stream):"
	LIVEDASH_TEST_SSE_GOROUTINES=1 $(GO) test -race -count=1 -timeout 5m -run '$(STREAM_TESTS)' ./httpapi/

test-web: web/node_modules/.package-lock.json
	cd web && npm test

test-client: build
	cd clients/js && npm test && LIVEDASH_BIN=$(CURDIR)/$(BIN) npm run test:integration

test-e2e: build
	@if [ -d web/e2e ]; then cd web && LIVEDASH_BIN=$(CURDIR)/$(BIN) npm run e2e; else echo "no browser tests yet"; fi

## screenshots: the pages in light and dark, into docs/screenshots (what the docs show)
screenshots: build
	cd web && LIVEDASH_BIN=$(CURDIR)/$(BIN) LIVEDASH_SCREENSHOTS=$(CURDIR)/docs/screenshots node --test --test-concurrency=1 e2e/screenshots.test.mjs e2e/editor.test.mjs

## bench: Go benchmarks of the hot paths (not part of make test)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./hub/ ./sqlite/ ./httpapi/ ./push/

## fuzz: each fuzz target for FUZZTIME (default 1m; docs/security.md has 5-minute runs).
## Their seed corpora (and past finds under testdata/fuzz) run in make test.
FUZZTIME     ?= 1m
FUZZ_TARGETS := .:FuzzDecodePublish .:FuzzPatterns .:FuzzCovers ./lineproto:FuzzParse ./httpapi:FuzzWebSocketFrame ./otlp:FuzzConvert
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "== $$fn ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

clean:
	rm -rf bin web/dist/assets web/dist/index.html web/dist/embed.js web/dist/livedash.js clients/js/dist
