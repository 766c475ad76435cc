# Wardmail. The README's two commands: `make demo` and `make test`.
GO        ?= go
BIN       := bin/wardmail
DATA      ?= data
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: all build demo serve test lint vet fmt-check staticcheck unit fuzz bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/wardmail

# Seed the demo health service into $(DATA) and serve it.
demo: build
	./$(BIN) demo --data $(DATA)

serve: build
	./$(BIN) serve --data $(DATA)

# Everything CI runs: formatting, vet, staticcheck, every test with the race detector.
test: lint unit

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

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

# A short run of every fuzz target (the corpus in testdata/ always runs in `make test`).
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./message/ -run '^$$' -fuzz '^FuzzSummarize$$' -fuzztime $(FUZZTIME)
	$(GO) test ./message/ -run '^$$' -fuzz '^FuzzParseDate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./directory/ -run '^$$' -fuzz '^FuzzParseCSV$$' -fuzztime $(FUZZTIME)
	$(GO) test ./imapd/wire/ -run '^$$' -fuzz '^FuzzParseCommand$$' -fuzztime $(FUZZTIME)
	$(GO) test ./server/ -run '^$$' -fuzz '^FuzzConfig$$' -fuzztime $(FUZZTIME)

bench: build
	./$(BIN) bench deliver

clean:
	rm -rf bin
