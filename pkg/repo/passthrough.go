package repo

import (
	"context"
	"net/http"
	"net/url"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// Passthrough is implemented by proxy repositories: one upstream exchange
// whose answer is handed to the caller and never cached, for requests
// that name no content (Docker's search). It goes out as every request of
// the proxy does: the configured credentials, the format's transport (its
// token flow), the proxy's deadlines.
type Passthrough interface {
	// Passthrough sends GET path?query to the upstream and returns its
	// answer, whatever the status; the caller closes the body. A blocked
	// or offline proxy does not ask (errs.Upstream). The exchange does
	// not count towards auto-blocking: an endpoint the upstream lacks or
	// breaks must not stop its content from being fetched.
	Passthrough(ctx context.Context, path string, query url.Values) (*http.Response, error)
}

var _ Passthrough = (*proxyRepo)(nil)

func (p *proxyRepo) Passthrough(ctx context.Context, path string, query url.Values) (*http.Response, error) {
	if err := p.online(); err != nil {
		return nil, err
	}
	if blocked, _ := p.blocked(); blocked {
		return nil, errs.New(errs.Upstream, "upstream of %s is blocked", p.cfg.Name)
	}
	req, err := p.newRequest(ctx, http.MethodGet, path, query.Encode())
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, errs.Wrap(errs.Upstream, err, "upstream of %s failed", p.cfg.Name)
	}
	p.noteRateLimit(resp)
	return resp, nil
}
