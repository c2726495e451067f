package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/webhooks"
)

// fakeHooks is a WebhookSource answering what the test sets.
type fakeHooks struct {
	mu  sync.Mutex
	sts []webhooks.Webhook
	err error
}

func (f *fakeHooks) Statuses() ([]webhooks.Webhook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sts, f.err
}

func (f *fakeHooks) set(sts []webhooks.Webhook, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sts, f.err = sts, err
}

// scrapeText serves m's metrics as the debug listener does and returns
// every nexus_webhook_ sample, parsed from the text format, as
// "name{labels}" → value, and the answer's status.
func scrapeText(t *testing.T, m *Metrics) (map[string]float64, int) {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler(discard).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatalf("parsing the scrape: %v", err)
	}
	out := map[string]float64{}
	for name, f := range families {
		if !strings.HasPrefix(name, "nexus_webhook_") {
			continue
		}
		for _, s := range f.GetMetric() {
			out[name+"{"+labelsOf(s)+"}"] = valueOf(s)
		}
	}
	return out, w.Code
}

// Each webhook's state is exported by name at each scrape, with the types
// Prometheus needs; a webhook gone is gone from the next scrape, and a
// failing source fails only its own series.
func TestWebhookCollector(t *testing.T) {
	m := New()
	src := &fakeHooks{}
	m.WatchWebhooks(src)
	success := time.Unix(1_800_000_000, 500_000_000)
	src.set([]webhooks.Webhook{
		{Webhook: meta.Webhook{Name: "ci", Payload: "nexus"}, Pending: 3,
			State: meta.WebhookState{Delivered: 40, Dropped: 2, Failures: 5, LastSuccess: success, LastFailure: success.Add(time.Minute)}},
		{Webhook: meta.Webhook{Name: "new", Payload: "registry"}},
	}, nil)
	got, code := scrapeText(t, m)
	want := map[string]float64{
		"nexus_webhook_events_pending{webhook=ci}":                 3,
		"nexus_webhook_events_delivered_total{webhook=ci}":         40,
		"nexus_webhook_events_dropped_total{webhook=ci}":           2,
		"nexus_webhook_failures{webhook=ci}":                       5,
		"nexus_webhook_last_success_timestamp_seconds{webhook=ci}": 1_800_000_000.5,
		"nexus_webhook_events_pending{webhook=new}":                0,
		"nexus_webhook_events_delivered_total{webhook=new}":        0,
		"nexus_webhook_events_dropped_total{webhook=new}":          0,
		"nexus_webhook_failures{webhook=new}":                      0,
	}
	if code != http.StatusOK || len(got) != len(want) {
		t.Fatalf("scrape (status %d):\n%v\nwant\n%v", code, got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if name := f.GetName(); strings.HasPrefix(name, "nexus_webhook_") && strings.HasSuffix(name, "_total") != (f.GetType().String() == "COUNTER") {
			t.Errorf("%s is a %s", name, f.GetType())
		}
	}

	src.set([]webhooks.Webhook{{Webhook: meta.Webhook{Name: "new"}, State: meta.WebhookState{Delivered: 1}}}, nil)
	if got, _ := scrapeText(t, m); len(got) != 4 || got["nexus_webhook_events_delivered_total{webhook=new}"] != 1 {
		t.Errorf("after ci's deletion: %v, want only new's four series", got)
	}
	src.set(nil, errors.New("database closed"))
	if got, code := scrapeText(t, m); len(got) != 0 || code != http.StatusOK {
		t.Errorf("with the source failing: status %d, %v; want the other metrics served", code, got)
	}
}
