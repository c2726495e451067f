package repo

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// recordingMeter keeps what the engine tells a Meter.
type recordingMeter struct {
	mu        sync.Mutex
	lookups   map[string][]bool // by repository: hit or miss, in order
	exchanges map[string][]bool // by repository: failed or not, in order
	groups    map[string][]int  // by group: members asked per lookup
}

func newRecordingMeter() *recordingMeter {
	return &recordingMeter{lookups: map[string][]bool{}, exchanges: map[string][]bool{}, groups: map[string][]int{}}
}

func (r *recordingMeter) ProxyLookup(repository string, hit bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups[repository] = append(r.lookups[repository], hit)
}

func (r *recordingMeter) UpstreamExchange(repository string, took time.Duration, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if took <= 0 {
		failed = true // a latency that cannot be is a failure of the test
	}
	r.exchanges[repository] = append(r.exchanges[repository], failed)
}

func (r *recordingMeter) GroupLookup(group string, asked int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.groups[group] = append(r.groups[group], asked)
}

// take returns what was recorded since the last take and forgets it.
func (r *recordingMeter) take() (lookups, exchanges map[string][]bool, groups map[string][]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lookups, exchanges, groups = r.lookups, r.exchanges, r.groups
	r.lookups, r.exchanges, r.groups = map[string][]bool{}, map[string][]bool{}, map[string][]int{}
	return lookups, exchanges, groups
}

// The engine tells its Meter of every proxy lookup (hit or miss), every
// upstream exchange (failed or not) and every group lookup (members
// asked), whatever the format.
func TestMeterCountsProxyAndGroupLookups(t *testing.T) {
	e := newEnv(t)
	rec := newRecordingMeter()
	e.m.opts.Meter = rec
	ctx := context.Background()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a.bin":
			io.WriteString(w, "upstream a")
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		default:
			http.NotFound(w, r)
		}
	})
	p, _ := newProxyRepo(t, e, "p", up.URL+"/", func(c *Config) { c.HTTPClient = &HTTPClient{AutoBlock: false} })
	h := e.create(hostedCfg("h", "allow"))
	put(t, h, "local.txt", "local")
	g := e.create(groupCfg("g", "h", "p"))

	type want struct {
		lookups, exchanges map[string][]bool
		groups             map[string][]int
	}
	check := func(what string, w want) {
		t.Helper()
		l, x, gr := rec.take()
		if !reflect.DeepEqual(l, w.lookups) || !reflect.DeepEqual(x, w.exchanges) || !reflect.DeepEqual(gr, w.groups) {
			t.Errorf("%s: lookups %v, exchanges %v, groups %v; want %v, %v, %v", what, l, x, gr, w.lookups, w.exchanges, w.groups)
		}
	}
	none := map[string][]bool{}
	noGroups := map[string][]int{}

	read(t, ctx, p, "a.bin")
	check("first GET", want{map[string][]bool{"p": {false}}, map[string][]bool{"p": {false}}, noGroups})
	read(t, ctx, p, "a.bin")
	check("cached GET", want{map[string][]bool{"p": {true}}, none, noGroups})

	_, err := p.Get(ctx, "missing")
	wantKind(t, err, errs.NotFound, "missing upstream")
	_, err = p.Get(ctx, "missing")
	wantKind(t, err, errs.NotFound, "missing, remembered")
	check("404 then negative cache", want{map[string][]bool{"p": {false, true}}, map[string][]bool{"p": {false}}, noGroups})

	_, err = p.Get(ctx, "broken")
	wantKind(t, err, errs.Upstream, "upstream 502")
	check("upstream failing", want{map[string][]bool{"p": {false}}, map[string][]bool{"p": {true}}, noGroups})

	read(t, ctx, g, "local.txt")
	check("group, first member has it", want{none, none, map[string][]int{"g": {1}}})
	read(t, ctx, g, "a.bin")
	check("group, second member has it", want{map[string][]bool{"p": {true}}, none, map[string][]int{"g": {2}}})
}
