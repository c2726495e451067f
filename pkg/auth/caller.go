package auth

import (
	"context"
	"net/http"
)

// LoginFailed reports whether the request of ctx presented Basic
// credentials that Resolve rejected: for limits that refuse such callers
// before doing any work for them.
func LoginFailed(ctx context.Context) bool { return loginFailed(ctx) }

// HasBearer reports whether req carries a Bearer token, which Resolve
// leaves to the realm that issued it to check, so its request has no
// principal.
func HasBearer(req *http.Request) bool { return hasBearer(req) }
