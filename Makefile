# Wardmail. The README's two commands: `make demo` and `make test`.
GO        ?= go
BIN       := bin/wardmail
DATA      ?= data
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: all build ui demo serve test lint vet fmt-check staticcheck unit test-postgres postgresql e2e e2e-postgres screenshots fuzz bench bench-ui clean testnet-deps s3-deps test-cluster cluster-deps scan-deps

all: build

build: ui
	@test -e $(BIN) || echo "Building bin/wardmail with Go: the first build compiles SQLite (cgo) and every dependency, a few minutes on a fresh machine; later builds take seconds."
	$(GO) build -o $(BIN) ./cmd/wardmail

# The webmail (web/ui): npm packages exactly as package-lock.json says, then
# TypeScript and Vite into web/dist, which the binary embeds (web/ui.go).
UI       := web/ui
CHROMIUM ?= /usr/bin/chromium

$(UI)/node_modules/.package-lock.json: $(UI)/package.json $(UI)/package-lock.json
	@echo "Installing the webmail's npm packages as web/ui/package-lock.json pins them (npm ci)..."
	cd $(UI) && npm ci --no-audit --no-fund

ui: $(UI)/node_modules/.package-lock.json
	cd $(UI) && npm run build

# Seed the demo health service into $(DATA) and serve it.
demo: build
	./$(BIN) demo --data $(DATA)

serve: build
	./$(BIN) serve --data $(DATA)

# Everything CI runs: formatting, vet, staticcheck, every test with the race
# detector on SQLite and again on PostgreSQL (a throwaway cluster), and the
# browser tests on both, and several nodes failing over (test-cluster). The parts are independent and run TEST_JOBS at a
# time (each PostgreSQL part starts a cluster of its own; much of each part
# waits on sockets and subprocesses, so two overlap well on two cores), each
# part's output kept together.
TEST_JOBS ?= 2
test:
	$(MAKE) -j$(TEST_JOBS) -Otarget lint unit test-postgres e2e e2e-postgres test-cluster

lint: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt: these files are not formatted:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

# The test internet's Debian programs are installed first (testnet-deps), and
# its tests are required to run rather than skip; the same for the scanners
# (scan-deps) and the S3 gateway (s3-deps).
unit: testnet-deps scan-deps s3-deps
	WARDMAIL_TESTNET=require WARDMAIL_SCAN=require WARDMAIL_S3=require $(GO) test -race -count=1 -timeout 20m ./...

# Rspamd and ClamAV's clamd, which the scanning tests start with their own
# configuration (package scan/scantest). They skip without them unless
# WARDMAIL_SCAN=require.
scan-deps:
	scripts/scan-deps.sh

# The Debian programs of the test internet (docs/testnet.md): Knot, Unbound,
# Postfix, OpenDKIM. Its tests skip without them unless WARDMAIL_TESTNET=require.
testnet-deps:
	scripts/testnet-deps.sh

# Several nodes on one machine (package clustertest): PostgreSQL with a
# synchronous standby, Versity's S3 gateway, HAProxy, and `wardmail serve`
# processes that the tests kill: node loss, database failover.
test-cluster: cluster-deps
	WARDMAIL_CLUSTER=require $(GO) test -count=1 -timeout 15m ./clustertest/
	WARDMAIL_CLUSTER=require $(GO) test -count=1 -timeout 10m -run TestClusterSim ./sim/

cluster-deps:
	scripts/cluster-deps.sh

# The S3-compatible server that the object-store tests start (Versity's
# gateway, go install); they skip without it unless WARDMAIL_S3=require.
s3-deps:
	GO=$(GO) scripts/s3-deps.sh

# Every test again with the store on PostgreSQL: Debian's server (installed
# here when missing), a throwaway cluster in a temporary folder on a unix
# socket, a fresh database per test (scripts/test-postgres.sh).
test-postgres: postgresql scan-deps s3-deps
	WARDMAIL_SCAN=require WARDMAIL_S3=require scripts/test-postgres.sh $(GO) test -race -count=1 -timeout 30m ./...

postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y postgresql; \
		else sudo apt-get update && sudo apt-get install -y postgresql; fi; \
	fi

# Browser tests: Debian's Chromium (installed here when missing; no browser
# download) driven by playwright-core against a real `wardmail demo`, with
# axe-core for WCAG 2.1 AA. Screenshots go to bin/screenshots; `make
# screenshots` refreshes the ones the README shows.
$(CHROMIUM):
	if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	else sudo apt-get update && sudo apt-get install -y chromium; fi

e2e: build $(CHROMIUM)
	cd $(UI) && WARDMAIL_BIN=$(CURDIR)/$(BIN) CHROMIUM=$(CHROMIUM) SCREENSHOTS=$(CURDIR)/bin/screenshots node e2e/run.mjs

# The browser tests again with every store on PostgreSQL: a throwaway
# cluster (scripts/test-postgres.sh), a database per data folder
# (web/ui/e2e/demo.mjs storeArgs).
e2e-postgres: build $(CHROMIUM) postgresql
	scripts/test-postgres.sh sh -c 'cd $(UI) && WARDMAIL_BIN=$(CURDIR)/$(BIN) CHROMIUM=$(CHROMIUM) SCREENSHOTS=$(CURDIR)/bin/screenshots-postgres node e2e/run.mjs'

screenshots: build $(CHROMIUM)
	cd $(UI) && WARDMAIL_BIN=$(CURDIR)/$(BIN) CHROMIUM=$(CHROMIUM) SCREENSHOTS=$(CURDIR)/docs/screenshots node e2e/run.mjs

# A short run of every fuzz target (the corpus in testdata/ always runs in `make test`).
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./message/ -run '^$$' -fuzz '^FuzzSummarize$$' -fuzztime $(FUZZTIME)
	$(GO) test ./message/ -run '^$$' -fuzz '^FuzzParseDate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./message/ -run '^$$' -fuzz '^FuzzThreadKeys$$' -fuzztime $(FUZZTIME)
	$(GO) test ./message/ -run '^$$' -fuzz '^FuzzEncodeBinaryParts$$' -fuzztime $(FUZZTIME)
	$(GO) test ./message/ -run '^$$' -fuzz '^FuzzCRLF$$' -fuzztime $(FUZZTIME)
	$(GO) test ./directory/ -run '^$$' -fuzz '^FuzzParseCSV$$' -fuzztime $(FUZZTIME)
	$(GO) test ./imapd/wire/ -run '^$$' -fuzz '^FuzzParseCommand$$' -fuzztime $(FUZZTIME)
	$(GO) test ./server/ -run '^$$' -fuzz '^FuzzConfig$$' -fuzztime $(FUZZTIME)
	$(GO) test ./web/ -run '^$$' -fuzz '^FuzzParseQuery$$' -fuzztime $(FUZZTIME)
	$(GO) test ./smtpd/ -run '^$$' -fuzz '^FuzzSMTPSession$$' -fuzztime $(FUZZTIME)
	$(GO) test ./lists/ -run '^$$' -fuzz '^FuzzParseRule$$' -fuzztime $(FUZZTIME)
	$(GO) test ./imapd/ -run '^$$' -fuzz '^FuzzCommandArgs$$' -fuzztime $(FUZZTIME)
	$(GO) test ./inbound/ -run '^$$' -fuzz '^FuzzRewrite$$' -fuzztime $(FUZZTIME)
	$(GO) test ./inbound/ -run '^$$' -fuzz '^FuzzParseOrigin$$' -fuzztime $(FUZZTIME)
	$(GO) test ./inbound/ -run '^$$' -fuzz '^FuzzParseResults$$' -fuzztime $(FUZZTIME)
	$(GO) test ./inbound/ -run '^$$' -fuzz '^FuzzLookAlike$$' -fuzztime $(FUZZTIME)
	$(GO) test ./imapd/ -run '^$$' -fuzz '^FuzzThread$$' -fuzztime $(FUZZTIME)
	$(GO) test ./imapd/ -run '^$$' -fuzz '^FuzzCatenate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./directory/ -run '^$$' -fuzz '^FuzzValidateAddress$$' -fuzztime $(FUZZTIME)
	$(GO) test ./store/ -run '^$$' -fuzz '^FuzzWords$$' -fuzztime $(FUZZTIME)
	$(GO) test ./store/postgres/ -run '^$$' -fuzz '^FuzzParseKeys$$' -fuzztime $(FUZZTIME)
	$(GO) test ./auth/ -run '^$$' -fuzz '^FuzzParseAppPassword$$' -fuzztime $(FUZZTIME)
	$(GO) test ./auth/ -run '^$$' -fuzz '^FuzzParseSecondFactor$$' -fuzztime $(FUZZTIME)
	$(GO) test ./store/ -run '^$$' -fuzz '^FuzzExpandOnly$$' -fuzztime $(FUZZTIME)
	$(GO) test ./store/ -run '^$$' -fuzz '^FuzzParseStepRule$$' -fuzztime $(FUZZTIME)

bench: build
	./$(BIN) bench deliver

# The message list at 100,000 messages in Chromium: frame times while
# scrolling, and the list API at deep offsets (docs/benchmarks.md).
BENCH_COUNT ?= 100000
bench-ui: build $(CHROMIUM)
	cd $(UI) && WARDMAIL_BIN=$(CURDIR)/$(BIN) CHROMIUM=$(CHROMIUM) BENCH_COUNT=$(BENCH_COUNT) node e2e/bench-list.mjs

clean:
	rm -rf bin
