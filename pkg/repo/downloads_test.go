package repo

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testclock"
)

// download gets p from r as a client would and has it served (what
// serve.Content does on a 200), returning the repository of the asset
// served.
func download(t *testing.T, r Repository, p string) string {
	t.Helper()
	c, err := r.Get(context.Background(), p)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", r.Name(), p, err)
	}
	io.Copy(io.Discard, c.Body)
	c.Body.Close()
	if c.Downloaded == nil {
		t.Fatalf("content of %s/%s records no download", r.Name(), p)
	}
	c.Downloaded(context.Background())
	settle(t, r)
	return c.Asset.Repository
}

func lastDownloaded(t *testing.T, e *env, repo, p string) time.Time {
	t.Helper()
	a, err := e.db.AssetByPath(repo, p)
	if err != nil {
		t.Fatal(err)
	}
	return a.LastDownloaded
}

// TestLastDownloaded: serving an asset records its download time, written
// in the batch's flush and at most once an hour, of the asset actually
// served: a hosted one, a proxy's (first download too) and a group
// member's.
func TestLastDownloaded(t *testing.T) {
	e := newEnv(t)
	clk := testclock.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	e.m.downloads.now = clk.Now
	h := e.create(hostedCfg("h", "allow"))
	put(t, h, "a", "hosted")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from upstream") })
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)
	g := e.create(groupCfg("g", "h", "p"))

	download(t, h, "a")
	if from := download(t, g, "b"); from != "p" { // the proxy's first download, through the group
		t.Fatalf("g/b served from %s", from)
	}
	if !lastDownloaded(t, e, "h", "a").IsZero() {
		t.Fatal("LastDownloaded written before the batch's flush")
	}
	if err := e.m.FlushDownloads(); err != nil {
		t.Fatal(err)
	}
	t0 := clk.Now()
	if got := lastDownloaded(t, e, "h", "a"); !got.Equal(t0) {
		t.Fatalf("h/a LastDownloaded = %v, want %v", got, t0)
	}
	if got := lastDownloaded(t, e, "p", "b"); !got.Equal(t0) {
		t.Fatalf("p/b LastDownloaded = %v, want %v", got, t0)
	}

	// Within the hour, downloads (directly or through the group) rewrite
	// nothing; a flush with nothing recorded writes nothing.
	clk.Advance(59 * time.Minute)
	download(t, h, "a")
	download(t, g, "a")
	download(t, p, "b")
	if len(e.m.downloads.pending) != 0 {
		t.Fatalf("downloads within the hour were batched: %v", e.m.downloads.pending)
	}
	if err := e.m.FlushDownloads(); err != nil {
		t.Fatal(err)
	}
	if got := lastDownloaded(t, e, "h", "a"); !got.Equal(t0) {
		t.Fatalf("h/a rewritten within the hour: %v", got)
	}

	// An hour on it is written again, here by the shutdown's Settle.
	clk.Advance(time.Minute)
	if from := download(t, g, "a"); from != "h" {
		t.Fatalf("g/a served from %s", from)
	}
	if err := e.m.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := lastDownloaded(t, e, "h", "a"); !got.Equal(clk.Now()) {
		t.Fatalf("h/a after an hour and a shutdown = %v, want %v", got, clk.Now())
	}
	if got := lastDownloaded(t, e, "p", "b"); !got.Equal(t0) {
		t.Fatalf("p/b, not downloaded since, = %v", got)
	}
}
