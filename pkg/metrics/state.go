package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nexus-go/nexus-go/pkg/repo"
)

// stateCollector reads the engine's state when scraped, rather than
// polling it: blob store usage (the counts pkg/meta keeps per store, one
// read each) and free space, the uploads in progress, the proxies'
// blocks. Nothing is kept between scrapes, so a deleted store or proxy
// disappears from the next one.
type stateCollector struct {
	repos *repo.Manager

	blobBytes, blobCount, freeBytes, uploads *prometheus.Desc
	blocked, autoBlocked                     *prometheus.Desc
}

func newStateCollector(repos *repo.Manager) *stateCollector {
	store := []string{"blobstore"}
	proxy := []string{"repository"}
	return &stateCollector{
		repos: repos,
		blobBytes: prometheus.NewDesc("nexus_blobstore_size_bytes",
			"Total size of the blobs a blob store holds (each blob once, however many assets share it).", store, nil),
		blobCount: prometheus.NewDesc("nexus_blobstore_blobs",
			"Number of blobs a blob store holds.", store, nil),
		freeBytes: prometheus.NewDesc("nexus_blobstore_free_bytes",
			"Bytes available on the file system of a blob store (absent when unknown).", store, nil),
		uploads: prometheus.NewDesc("nexus_blobstore_uploads_in_progress",
			"Resumable uploads (Docker upload sessions) begun in a blob store and not yet committed, cancelled or purged.", store, nil),
		blocked: prometheus.NewDesc("nexus_proxy_blocked",
			"1 while a proxy does not ask its upstream: blocked by configuration or auto-blocked.", proxy, nil),
		autoBlocked: prometheus.NewDesc("nexus_proxy_auto_blocked",
			"1 while a proxy is auto-blocked after upstream failures.", proxy, nil),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.blobBytes, c.blobCount, c.freeBytes, c.uploads, c.blocked, c.autoBlocked} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := stateContext()
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, label string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, label)
	}
	usage, err := c.repos.BlobStoreUsage(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.blobBytes, err)
	}
	for _, u := range usage {
		gauge(c.blobBytes, float64(u.TotalSize), u.Name)
		gauge(c.blobCount, float64(u.BlobCount), u.Name)
		if !u.Unavailable && u.AvailableSpace >= 0 {
			gauge(c.freeBytes, float64(u.AvailableSpace), u.Name)
		}
	}
	for _, s := range c.repos.BlobStores() {
		n, err := s.UploadCount(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.uploads, err)
			continue
		}
		gauge(c.uploads, float64(n), s.Name())
	}
	for _, r := range c.repos.List() {
		if r.Config().Type != repo.Proxy {
			continue
		}
		st := r.Status()
		gauge(c.blocked, b2f(st.Blocked), r.Name())
		gauge(c.autoBlocked, b2f(st.AutoBlocked), r.Name())
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
