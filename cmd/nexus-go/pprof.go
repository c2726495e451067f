//go:build pprof

package main

// Built with -tags pprof only (never in a release): the runtime profiles
// on http://$NEXUS_PPROF_ADDR/debug/pprof/, for profiling the server under
// a benchmark's load, e.g.
//
//	GOFLAGS=-tags=pprof NEXUS_PPROF_ADDR=127.0.0.1:6060 go test -run '^$' -bench DockerPeers -benchtime 1x ./cmd/nexus-go/
//	go tool pprof -seconds 5 http://127.0.0.1:6060/debug/pprof/profile
//
// (the harness passes no NEXUS_GO_* variable to the server, hence the name).

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	// Only the server: not the test binary, which has the same package.
	if addr := os.Getenv("NEXUS_PPROF_ADDR"); addr != "" && len(os.Args) > 1 && os.Args[1] == "serve" {
		go http.ListenAndServe(addr, nil)
	}
}
