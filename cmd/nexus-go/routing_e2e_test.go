package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// A routing rule on proxies and groups of every format that has them: a
// blocked path is 404 and reaches neither the upstream nor the members;
// other paths go through.
func TestRoutingRulesOverFormats(t *testing.T) {
	var hits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/octet-stream")
		fmt.Fprintf(w, "upstream %s", r.URL.Path)
	}))
	t.Cleanup(up.Close)
	s := startServer(t)
	s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/routing-rules", s.admin(),
		map[string]any{"name": "internal", "description": "internal names stay inside", "mode": "BLOCK",
			"matchers": []string{"^/internal/.*", "^/com/example/.*", "^/@example/.*"}}, nil)
	for _, tc := range []struct {
		format, apiFormat, extra string
		allowed, blocked         string
	}{
		{"raw", "raw", "", "public/a.txt", "internal/a.txt"},
		{"maven2", "maven", `,"maven":{"versionPolicy":"RELEASE","layoutPolicy":"PERMISSIVE"}`,
			"org/other/a/1.0/a-1.0.jar", "com/example/a/1.0/a-1.0.jar"},
		{"npm", "npm", "", "pkg/-/pkg-1.0.0.tgz", "@example/pkg"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			proxy, plain, group := tc.format+"-ruled", tc.format+"-plain", tc.format+"-group"
			body := anonProxyBody(proxy, up.URL+"/", 1440)
			s.createRepoOf(tc.apiFormat, "proxy", body[:len(body)-1]+tc.extra+`,"routingRule":"internal"}`)
			body = anonProxyBody(plain, up.URL+"/", 1440)
			s.createRepoOf(tc.apiFormat, "proxy", body[:len(body)-1]+tc.extra+`}`)
			s.createRepoOf(tc.apiFormat, "group", fmt.Sprintf(`{"name":%q,"online":true,`+
				`"storage":{"blobStoreName":"default","strictContentTypeValidation":false},"group":{"memberNames":[%q]},`+
				`"routingRule":"internal"%s}`, group, plain, tc.extra))
			var cfg map[string]any
			s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/"+tc.apiFormat+"/group/"+group, s.admin(), nil, &cfg)
			if cfg["routingRuleName"] != "internal" {
				t.Fatalf("group configuration: routingRuleName %v", cfg["routingRuleName"])
			}
			for _, name := range []string{proxy, group} {
				if r := s.do(http.MethodGet, "/repository/"+name+"/"+tc.allowed, s.admin(), nil, nil); r.status != http.StatusOK {
					t.Errorf("%s: allowed %s: %d %s", name, tc.allowed, r.status, r.body)
				}
				before := hits.Load()
				if r := s.do(http.MethodGet, "/repository/"+name+"/"+tc.blocked, s.admin(), nil, nil); r.status != http.StatusNotFound {
					t.Errorf("%s: blocked %s: %d %s", name, tc.blocked, r.status, r.body)
				}
				if hits.Load() != before {
					t.Errorf("%s: the blocked request reached the upstream", name)
				}
			}
			// The member itself has no rule.
			if r := s.do(http.MethodGet, "/repository/"+plain+"/"+tc.blocked, s.admin(), nil, nil); r.status == http.StatusNotFound {
				t.Errorf("%s without a rule: %s is 404", plain, tc.blocked)
			}
		})
	}
	if r := s.do(http.MethodDelete, "/service/rest/v1/routing-rules/internal", s.admin(), nil, nil); r.status != http.StatusBadRequest {
		t.Errorf("deleting a rule in use: %d %s", r.status, r.body)
	}
}
