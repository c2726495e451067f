package main

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// target renders a measured ratio against the least it should be.
func target(ratio, min float64) string {
	if ratio >= min {
		return fmt.Sprintf("%.2f (target >= %.2f: met)", ratio, min)
	}
	return fmt.Sprintf("%.2f (target >= %.2f: MISSED)", ratio, min)
}

// coldLayerSize and coldLayers: the layers pulled once each through a proxy
// never holding them, and directly from its upstream.
const (
	coldLayerSize = 300 << 20
	coldLayers    = 3
)

// BenchmarkDockerProxyColdLayer pulls 300 MiB layers, one client at a
// time, from CNCF Distribution directly and through a nexus-go proxy of it
// that has never seen them: the first pull of a big layer is what a proxy
// is used for, and its client reads the download as it is being cached.
// It reports both rates and their ratio (the median of three layers); it
// runs once whatever b.N is:
//
//	go test -run '^$' -bench BenchmarkDockerProxyColdLayer -benchtime 1x ./cmd/nexus-go/
func BenchmarkDockerProxyColdLayer(b *testing.B) {
	upstream := bpStartRegistry(b)
	data, digests := benchData(b, coldLayers, coldLayerSize)
	client := benchClient()
	defer client.CloseIdleConnections()
	up := &registry{base: upstream, client: client}
	if _, err := parallel(coldLayers, func(i int) error { return up.pushBlob(bpUpImage, data[i], digests[i]) }); err != nil {
		b.Fatalf("pushing to the registry: %v", err)
	}

	s := benchServer(b)
	port := testproc.FreePort(b)
	createDockerProxy(s, dockerProxyJSON("docker-proxy", upstream, port, true, ""))
	proxy := bpConnector(b, s, client, port)

	pull := func(r *registry, i int) (time.Duration, error) {
		req, err := r.newRequest(http.MethodGet, "/v2/"+bpUpImage+"/blobs/"+digests[i], nil, nil)
		if err != nil {
			return 0, err
		}
		start := time.Now()
		err = drain(r.client, req, coldLayerSize)
		return time.Since(start), err
	}
	var ratios []float64
	var directs, colds []time.Duration
	b.ResetTimer()
	for i := range coldLayers {
		direct, err := pull(up, i)
		if err != nil {
			b.Fatalf("direct pull: %v", err)
		}
		cold, err := pull(proxy, i)
		if err != nil {
			b.Fatalf("cold proxy pull: %v", err)
		}
		directs, colds = append(directs, direct), append(colds, cold)
		ratios = append(ratios, direct.Seconds()/cold.Seconds())
	}
	b.StopTimer()
	slices.Sort(ratios)
	ratio := ratios[len(ratios)/2]
	b.ReportMetric(ratio, "cold-proxy/direct")
	b.ReportMetric(mbps(coldLayerSize, colds[len(colds)/2]), "cold-proxy-MB/s")
	b.ReportMetric(mbps(coldLayerSize, directs[len(directs)/2]), "direct-MB/s")
	b.Logf("cold proxy pull of %d MiB layers: direct %v, through the proxy %v; ratio (median) %s",
		coldLayerSize>>20, directs, colds, target(ratio, 0.8))
}
