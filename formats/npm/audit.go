package npm

import (
	"context"
	"net/http"

	"github.com/nexus-go/nexus-go/pkg/repo"
)

// The audit endpoints npm posts the dependency tree to.
const (
	auditBulk  = "npm/v1/security/advisories/bulk"
	auditQuick = "npm/v1/security/audits/quick"
)

// maxAudit bounds an audit request and answer (gzip bodies of a lockfile
// with thousands of packages are a few MB).
const maxAudit = 64 << 20

// emptyQuick is a quick audit answer with nothing found, in the shape npm
// reads.
const emptyQuick = `{"actions":[],"advisories":{},"muted":[],"metadata":{"vulnerabilities":{"info":0,"low":0,"moderate":0,"high":0,"critical":0},"dependencies":0,"devDependencies":0,"optionalDependencies":0,"totalDependencies":0}}`

// audit handles npm audit: forwarded, body and Content-Encoding as sent,
// to the upstream of a proxy (a group's first proxy member); anywhere else
// and on any failure, an empty answer, so that no install fails on it.
func (f *Format) audit(w http.ResponseWriter, req *http.Request, r repo.Repository, endpoint string) error {
	empty := []byte("{}")
	if endpoint == auditQuick {
		empty = []byte(emptyQuick)
	}
	fw := auditUpstream(r)
	if fw == nil {
		writeRawJSON(w, req, http.StatusOK, empty)
		return nil
	}
	body, err := readBounded(req.Body, maxAudit, "the audit request")
	if err != nil {
		writeRawJSON(w, req, http.StatusOK, empty)
		return nil
	}
	resp, ans, err := forwardAudit(req.Context(), fw, endpoint, body, req.Header)
	if err != nil {
		f.log.Warn("npm audit not forwarded", "repository", r.Name(), "err", err)
		writeRawJSON(w, req, http.StatusOK, empty)
		return nil
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" {
		w.Header().Set("Content-Encoding", ce)
	}
	w.Header().Set("Content-Type", typeJSON)
	w.WriteHeader(http.StatusOK)
	if req.Method != http.MethodHead {
		w.Write(ans)
	}
	return nil
}

// auditUpstream is the proxy whose upstream answers audits for r.
func auditUpstream(r repo.Repository) repo.UpstreamForwarder {
	if r.Config().Type == repo.Proxy {
		fw, _ := r.(repo.UpstreamForwarder)
		return fw
	}
	if gm, ok := r.(repo.GroupMembers); ok && r.Config().Type == repo.Group {
		for _, m := range gm.Members() {
			if m.Config().Type == repo.Proxy {
				fw, _ := m.(repo.UpstreamForwarder)
				return fw
			}
		}
	}
	return nil
}

// forwardAudit posts body upstream and reads a successful answer.
func forwardAudit(ctx context.Context, fw repo.UpstreamForwarder, endpoint string, body []byte, in http.Header) (*http.Response, []byte, error) {
	hdr := http.Header{"Accept": {typeJSON}}
	for _, k := range []string{"Content-Type", "Content-Encoding"} {
		if v := in.Get(k); v != "" {
			hdr.Set(k, v)
		}
	}
	resp, err := fw.Forward(ctx, http.MethodPost, "-/"+endpoint, "", body, hdr)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, &statusError{resp.Status}
	}
	b, err := readBounded(resp.Body, maxAudit, "the audit answer")
	return resp, b, err
}

type statusError struct{ status string }

func (e *statusError) Error() string { return "the upstream answered " + e.status }
