package api

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/audit"
)

// WithAudit serves /v1/audit from l; without it (audit.enabled off) the
// endpoint is not there.
func (a *API) WithAudit(l *audit.Log) *API {
	a.audit = l
	return a
}

func (a *API) registerAudit(g *echo.Group) {
	if a.audit != nil {
		g.GET("/v1/audit", a.listAudit)
	}
}

// auditPageSize is a page's default number of records.
const auditPageSize = 100

// listAudit answers a page of records, newest first, in audit.log's JSON:
// ?domain= and ?initiator= (a whole initiator or its user) select, ?since=
// (RFC 3339) leaves out older records, and continuationToken continues.
func (a *API) listAudit(c echo.Context) error {
	size, after, err := pageParams(c, auditPageSize)
	if err != nil {
		return fail(c, a.log, err)
	}
	q := audit.Query{Domain: c.QueryParam("domain"), Initiator: c.QueryParam("initiator"), Limit: size}
	if after != "" {
		if q.Before, err = strconv.ParseUint(after, 10, 64); err != nil || q.Before == 0 {
			return fail(c, a.log, invalid("continuationToken", "is not a token this server issued"))
		}
	}
	if raw := c.QueryParam("since"); raw != "" {
		if q.Since, err = time.Parse(time.RFC3339Nano, raw); err != nil {
			return fail(c, a.log, invalid("since", "must be a time such as 2026-12-03T14:00:00Z"))
		}
	}
	recs, next, err := a.audit.List(c.Request().Context(), q)
	if err != nil {
		return fail(c, a.log, err)
	}
	token := ""
	if next != 0 {
		token = strconv.FormatUint(next, 10)
	}
	return a.ok(c, newPage(recs, token))
}
