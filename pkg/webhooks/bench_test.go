package webhooks

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// BenchmarkDelivery: what delivering events to a receiver that answers
// at once costs (read, render, sign, POST, state), per delivery: the work
// a fast receiver adds to each change, done off the client's request. It
// reports the wall time per delivery of one webhook's worker and the CPU
// time per delivery of the process (the receiver's side included).
func BenchmarkDelivery(b *testing.B) {
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got.Add(1) }))
	defer rcv.Close()
	db := openDB(b)
	createHook(b, db, "bench", rcv.URL)
	// A component and an asset event each, written in few transactions.
	var reqs []meta.PutAssetRequest
	for i := range b.N {
		p := "a/" + strconv.Itoa(i)
		reqs = append(reqs, meta.PutAssetRequest{Asset: meta.Asset{Repository: "raw-hosted", Path: p,
			Blob: digest.FromString(p), BlobStore: "default", Size: 1}, Component: &meta.Component{Repository: "raw-hosted", Format: "raw", Name: p}})
		if len(reqs) == 1000 || i == b.N-1 {
			if _, _, err := db.PutAssets(reqs); err != nil {
				b.Fatal(err)
			}
			reqs = reqs[:0]
		}
	}
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime(b)
	startService(b, db, Options{})
	for got.Load() < int64(2*b.N) {
		time.Sleep(time.Millisecond)
	}
	n := float64(2 * b.N)
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/n, "ns/delivery")
	b.ReportMetric(float64((cpuTime(b)-cpu).Nanoseconds())/n, "cpu-ns/delivery")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
