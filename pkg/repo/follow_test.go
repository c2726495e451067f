package repo

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// gatedUpstream serves payload in two halves, the second only once gate is
// closed, so tests can look at clients while a download is half done.
func gatedUpstream(t *testing.T, payload []byte, gate <-chan struct{}) *upstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		half := len(payload) / 2
		w.Write(payload[:half])
		w.(http.Flusher).Flush()
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		w.Write(payload[half:])
	})
}

// TestProxyFollowersReadBeforeTheEnd: the first client and one joining
// later both get bytes while the download is half done, the joiner from
// the start, a range of what is written is served at once, and all read
// the whole once it is complete.
func TestProxyFollowersReadBeforeTheEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	payload := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	gate := make(chan struct{})
	up := gatedUpstream(t, payload, gate)
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)
	half := len(payload) / 2

	first, err := p.Get(ctx, "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Body.Close()
	if got := repotest.ReadN(t, first.Body, half-1); !bytes.Equal(got, payload[:half-1]) {
		t.Fatal("first client: the written half differs")
	}
	joiner, err := p.Get(ctx, "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer joiner.Body.Close()
	if got := repotest.ReadN(t, joiner.Body, 1000); !bytes.Equal(got, payload[:1000]) {
		t.Fatal("joiner: does not start at the start")
	}
	ranged, err := p.Get(ctx, "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer ranged.Body.Close()
	rs, ok := ranged.Body.(io.ReadSeeker)
	if !ok {
		t.Fatal("a download of known size cannot seek (no ranges)")
	}
	if _, err := rs.Seek(int64(half/2), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if got := repotest.ReadN(t, rs, 4096); !bytes.Equal(got, payload[half/2:half/2+4096]) {
		t.Fatal("range of the written part differs")
	}
	if up.hits.Load() != 1 {
		t.Fatalf("upstream hit %d times, want 1", up.hits.Load())
	}

	close(gate)
	for name, c := range map[string]io.Reader{"first": first.Body, "joiner": joiner.Body} {
		rest, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "first" && !bytes.Equal(rest, payload[half-1:]) || name == "joiner" && !bytes.Equal(rest, payload[1000:]) {
			t.Fatalf("%s: the rest differs (%d bytes)", name, len(rest))
		}
	}
	waitIdle(t, p)
	if _, err := p.Stat(ctx, "big.bin"); err != nil {
		t.Fatalf("not cached: %v", err)
	}
}
