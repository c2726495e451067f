package repo

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// UpstreamForwarder is implemented by proxy repositories: one upstream
// exchange whose answer is handed to the caller and never cached, for
// requests that name no content (Docker's and npm's search, npm's audit).
// It goes out as every request of the proxy does: the configured
// credentials, the format's hooks and transport (its token flow), the
// proxy's deadlines.
type UpstreamForwarder interface {
	// Forward sends method path?rawQuery with body (nil for none) and the
	// given headers to the upstream and returns its answer, whatever the
	// status; the caller closes the body. A blocked or offline proxy does
	// not ask (errs.Upstream), nor does a failed exchange count towards
	// auto-blocking: an endpoint the upstream lacks or breaks must not
	// stop its content from being fetched.
	Forward(ctx context.Context, method, path, rawQuery string, body []byte, header http.Header) (*http.Response, error)
}

var _ UpstreamForwarder = (*proxyRepo)(nil)

func (p *proxyRepo) Forward(ctx context.Context, method, path, rawQuery string, body []byte, header http.Header) (*http.Response, error) {
	if err := p.online(); err != nil {
		return nil, err
	}
	if err := p.unusable(); err != nil {
		return nil, err
	}
	if blocked, _ := p.blocked(); blocked {
		return nil, errs.New(errs.Upstream, "upstream of %s is blocked", p.cfg.Name)
	}
	req, err := p.newRequest(ctx, method, path, rawQuery)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Body = http.NoBody
		if len(body) > 0 {
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			req.Body, _ = req.GetBody()
		}
		req.ContentLength = int64(len(body))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, errs.Wrap(errs.Upstream, err, "upstream of %s failed", p.cfg.Name)
	}
	p.noteRateLimit(resp)
	return resp, nil
}
