package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nexus-go/nexus-go/pkg/webhooks"
)

// WebhookSource is what the webhook collector reads: webhooks.Service.
type WebhookSource interface {
	Statuses() ([]webhooks.Webhook, error)
}

// WatchWebhooks registers the collector of the webhooks' delivery state,
// read at each scrape: a webhook's series exist while it does.
func (m *Metrics) WatchWebhooks(src WebhookSource) {
	m.reg.MustRegister(newWebhookCollector(src))
}

// webhookCollector exports each webhook's state, by name (label webhook):
// the workers keep it current, so a scrape costs a read of the webhooks
// and a count of each one's pending events.
type webhookCollector struct {
	src WebhookSource

	pending, delivered, dropped, failures, lastSuccess *prometheus.Desc
}

func newWebhookCollector(src WebhookSource) *webhookCollector {
	hook := []string{"webhook"}
	return &webhookCollector{
		src: src,
		pending: prometheus.NewDesc("nexus_webhook_events_pending",
			"Events a webhook has yet to deliver (counted up to 10000).", hook, nil),
		delivered: prometheus.NewDesc("nexus_webhook_events_delivered_total",
			"Events a webhook delivered since it was created.", hook, nil),
		dropped: prometheus.NewDesc("nexus_webhook_events_dropped_total",
			"Events a webhook dropped, still failing after webhooks.max-age, since it was created.", hook, nil),
		failures: prometheus.NewDesc("nexus_webhook_failures",
			"Failed delivery attempts of a webhook in a row (0 after a success).", hook, nil),
		lastSuccess: prometheus.NewDesc("nexus_webhook_last_success_timestamp_seconds",
			"When a webhook last delivered an event, in seconds since the epoch (absent before its first).", hook, nil),
	}
}

func (c *webhookCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pending, c.delivered, c.dropped, c.failures, c.lastSuccess} {
		ch <- d
	}
}

func (c *webhookCollector) Collect(ch chan<- prometheus.Metric) {
	sts, err := c.src.Statuses()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.pending, err)
		return
	}
	for _, w := range sts {
		st := w.State
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(w.Pending), w.Name)
		ch <- prometheus.MustNewConstMetric(c.delivered, prometheus.CounterValue, float64(st.Delivered), w.Name)
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(st.Dropped), w.Name)
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.GaugeValue, float64(st.Failures), w.Name)
		if !st.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.lastSuccess, prometheus.GaugeValue,
				float64(st.LastSuccess.UnixNano())/1e9, w.Name)
		}
	}
}
