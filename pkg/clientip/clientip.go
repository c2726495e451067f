// Package clientip decides which address a request came from: the TCP
// peer, or, when that peer is a configured reverse proxy
// (http.trusted-proxies), the client the proxy names in X-Forwarded-For.
// The server decides once per request, at its edge, and records the answer
// in the request's context, where login throttling, the request log and
// the audit log read it.
package clientip

import (
	"context"
	"net"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"
)

// Extractor returns the function that decides the client address (an IP,
// without port) of a request. With no trusted ranges it is the TCP peer's
// address and X-Forwarded-For is ignored, since any client can write one.
// Otherwise the header is believed only when the peer is inside trusted:
// it is read from the right, skipping trusted hops, and the first address
// outside trusted is the client's; entries left of it are the client's own
// words and never count. Only the given ranges are trusted, not echo's
// default loopback, link-local and private ones.
func Extractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{
			IP:   p.Addr().AsSlice(),
			Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
		}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

type ctxKey struct{}

// With returns req carrying addr as its client address.
func With(req *http.Request, addr string) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), ctxKey{}, addr))
}

// Of returns the client address recorded by With, or, for a request that
// did not pass the server's edge (a handler under test), the TCP peer's.
func Of(req *http.Request) string {
	if addr := FromContext(req.Context()); addr != "" {
		return addr
	}
	return echo.ExtractIPDirect()(req)
}

// FromContext returns the client address With recorded in a request's
// context, or "" for a context no request made (the server's own work),
// for code that gets the context and not the request (the audit log).
func FromContext(ctx context.Context) string {
	addr, _ := ctx.Value(ctxKey{}).(string)
	return addr
}
