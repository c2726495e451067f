package clientip

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestExtractor(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"no setting: the peer, header ignored", nil, "10.1.2.3:4000", []string{"203.0.113.9"}, "10.1.2.3"},
		{"no setting, no header", nil, "192.0.2.1:1", nil, "192.0.2.1"},
		{"untrusted peer: header ignored", proxies, "192.0.2.1:1", []string{"203.0.113.9"}, "192.0.2.1"},
		{"loopback is not trusted unless configured", proxies, "127.0.0.1:1", []string{"203.0.113.9"}, "127.0.0.1"},
		{"private ranges are not trusted unless configured", proxies, "192.168.1.1:1", []string{"203.0.113.9"}, "192.168.1.1"},
		{"trusted peer: the forwarded client", proxies, "10.0.0.1:1", []string{"203.0.113.9"}, "203.0.113.9"},
		{"trusted peer without header", proxies, "10.0.0.1:1", nil, "10.0.0.1"},
		{"trusted hops are skipped from the right", proxies, "10.0.0.1:1", []string{"203.0.113.9, 10.0.0.7"}, "203.0.113.9"},
		{"a client's own entries left of it do not count", proxies, "10.0.0.1:1", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9"},
		{"several headers are one list", proxies, "10.0.0.1:1", []string{"198.51.100.1", "203.0.113.9, 10.0.0.7"}, "203.0.113.9"},
		{"IPv6 proxy and client", proxies, "[2001:db8::1]:1", []string{"2001:db8:ffff::5, 2001:db8::2"}, "2001:db8:ffff::5"},
		{"IPv6 client outside the proxy range", proxies, "[2001:db8::1]:1", []string{"2a00:1450::1"}, "2a00:1450::1"},
		{"garbage right of the client: the proxy counts", proxies, "10.0.0.1:1", []string{"203.0.113.9, not-an-ip"}, "10.0.0.1"},
		{"a single trusted address", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, "127.0.0.1:1", []string{"203.0.113.9"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = tt.peer
		for _, v := range tt.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		if got := Extractor(tt.trusted)(req); got != tt.want {
			t.Errorf("%s: client = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestOfPrefersTheRecordedAddress(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "10.0.0.1:5000"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if got := Of(req); got != "10.0.0.1" {
		t.Errorf("Of without a recorded address = %q; want the peer 10.0.0.1", got)
	}
	if got := Of(With(req, "198.51.100.4")); got != "198.51.100.4" {
		t.Errorf("Of with a recorded address = %q; want 198.51.100.4", got)
	}
	if got := FromContext(With(req, "198.51.100.4").Context()); got != "198.51.100.4" {
		t.Errorf("FromContext with a recorded address = %q; want 198.51.100.4", got)
	}
	if got := FromContext(req.Context()); got != "" {
		t.Errorf("FromContext without a recorded address = %q; want none", got)
	}
}
