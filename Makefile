# Lux Billing. `make run` serves the app with demo data; `make test` runs every test.
SHELL := /bin/bash
GO    ?= go
BIN   := ./lux
# Test servers, installed into .bin/ at pinned versions (see docs/DESIGN.md, tests).
STRIPE_MOCK := $(CURDIR)/.bin/stripe-mock
MAILPIT     := $(CURDIR)/.bin/mailpit

.PHONY: run test test-faults fuzz build generate lint bench screenshots migrate tools clean

## run: install PostgreSQL if missing, build, find or start it, seed the demo org on an empty
## database, serve on :8080
run: build
	@scripts/setup.sh run
	@url=$$(scripts/postgres.sh lux) && \
	  DATABASE_URL=$$url $(BIN) seed demo --if-empty && \
	  echo "Open http://localhost:8080/settings/billing — admin@lux.local / lux-demo" && \
	  DATABASE_URL=$$url exec $(BIN) serve

## test: every test (domain, API, browser) against a real PostgreSQL, with the race detector;
## installs PostgreSQL, Chromium and poppler-utils first when they are missing
test: generate $(STRIPE_MOCK) $(MAILPIT)
	@scripts/setup.sh test
	@url=$$(scripts/postgres.sh postgres) && \
	  LUX_TEST_DATABASE_URL=$$url LUX_STRIPE_MOCK=$(STRIPE_MOCK) LUX_MAILPIT=$(MAILPIT) $(GO) test -race -count=1 -timeout 30m ./...

## test-faults: the fault suite (kill -9 under load, database outage, replayed usage and Stripe
## webhooks) on the real binary and private PostgreSQL clusters, then every fuzz target for
## FUZZTIME each
test-faults: generate $(STRIPE_MOCK)
	@scripts/setup.sh faults
	LUX_STRIPE_MOCK=$(STRIPE_MOCK) $(GO) test -tags faults -count=1 -v -timeout 10m ./faults/ 2>&1 | grep -E '^(=== RUN|--- |FAIL|ok|PASS)|FIGURES|seed|_test.go' ; exit $${PIPESTATUS[0]}
	@$(MAKE) --no-print-directory fuzz

## fuzz: every Go fuzz target for FUZZTIME each (default 5s)
FUZZTIME ?= 5s
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

## build: the lux binary
build: generate
	$(GO) build -o $(BIN) .

## generate: templ components → Go (the generated files are committed)
generate:
	@if ls views/*.templ >/dev/null 2>&1; then $(GO) tool templ generate -log-level error; fi

## lint: go vet and gofmt
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## migrate: apply migrations to DATABASE_URL (or the local database)
migrate: build
	@DATABASE_URL=$$(scripts/postgres.sh lux) $(BIN) migrate

## bench: load the API on loopback and record figures (see docs/BENCHMARKS.md)
bench: build $(STRIPE_MOCK)
	@url=$$(scripts/postgres.sh postgres) && \
	  LUX_BENCH_SERVER_URL=$$url $(GO) run ./bench/api && \
	  LUX_BENCH_SERVER_URL=$$url $(GO) run ./bench/reports && \
	  LUX_BENCH_SERVER_URL=$$url $(GO) run ./bench/history && \
	  LUX_BENCH_SERVER_URL=$$url LUX_STRIPE_MOCK=$(STRIPE_MOCK) $(GO) run ./bench/payments

## screenshots: PNGs of every billing page, desktop and phone, in screenshots/
screenshots: $(STRIPE_MOCK) $(MAILPIT)
	@url=$$(scripts/postgres.sh postgres) && \
	  LUX_TEST_DATABASE_URL=$$url LUX_STRIPE_MOCK=$(STRIPE_MOCK) LUX_MAILPIT=$(MAILPIT) LUX_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -run TestScreenshots ./e2e/

## .bin/stripe-mock: Stripe's API test server, for the payment tests
$(STRIPE_MOCK):
	GOBIN=$(CURDIR)/.bin $(GO) install github.com/stripe/stripe-mock@v0.203.0

## .bin/mailpit: a real SMTP server with an HTTP API, for the notification tests
$(MAILPIT):
	GOBIN=$(CURDIR)/.bin $(GO) install github.com/axllent/mailpit@v1.33.1

clean:
	rm -f $(BIN)
