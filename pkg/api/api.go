// Package api is the admin REST API, compatible with Nexus Repository 3's
// REST v1: same paths, same JSON field names, same validation error lists.
package api

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/cleanup"
	"github.com/nexus-go/nexus-go/pkg/ldap"
	"github.com/nexus-go/nexus-go/pkg/mail"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/scripts"
	"github.com/nexus-go/nexus-go/pkg/search"
	"github.com/nexus-go/nexus-go/pkg/tasks"
	"github.com/nexus-go/nexus-go/pkg/truststore"
	"github.com/nexus-go/nexus-go/pkg/webhooks"
)

// API serves /service/rest.
type API struct {
	repos *repo.Manager
	auth  *auth.Service
	// finder is the search of /v1/search, the one the UI uses too.
	finder *search.Service
	log    *slog.Logger
	// cleanup and tasks serve /v1/cleanup-policies and /v1/tasks (see WithCleanup, WithTasks).
	cleanup *cleanup.Service
	tasks   *tasks.Service
	// ldap is the LDAP realm's directory (WithLDAP), or nil.
	ldap *ldap.Directory
	// prefix is the context path without its trailing slash.
	prefix string
	trust  *truststore.Store // nil: no /v1/security/ssl
	// scripts serves /v1/script (WithScripts), or is nil.
	scripts *scripts.Service
	// mail serves /v1/email (WithMail), or is nil.
	mail *mail.Service
	// webhooks serves /v1/webhooks (WithWebhooks), or is nil.
	webhooks *webhooks.Service
	// audit serves /v1/audit (WithAudit), or is nil.
	audit *audit.Log
}

// New returns the API over the repository manager, the security service and
// the metadata database (which search reads).
func New(repos *repo.Manager, authn *auth.Service, db *meta.DB, contextPath string, log *slog.Logger) *API {
	if contextPath == "/" {
		contextPath = ""
	}
	return &API{repos: repos, auth: authn, finder: search.New(db, repos, authn), log: log, prefix: contextPath}
}

// Register mounts every endpoint on g, which is mounted at /service/rest.
func (a *API) Register(g *echo.Group) {
	g.Use(a.refuseWhileFrozen)
	a.registerStatus(g)
	a.registerRepositories(g)
	a.registerContent(g)
	a.registerBlobStores(g)
	a.registerRouting(g)
	a.registerReadOnly(g)
	registerSecurity(g, a.auth, a.log)
	a.registerCleanup(g)
	a.registerTasks(g)
	a.registerRealms(g)
	a.registerSSL(g)
	a.registerScripts(g)
	a.registerEmail(g)
	a.registerWebhooks(g)
	a.registerAudit(g)
}

// serverURL is the server's base URL as the client addressed it.
func (a *API) serverURL(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host + a.prefix
}

// Page sizes: Nexus pages components and assets by 10 and search by 50; a
// client may ask for up to maxPageSize with pageSize.
const maxPageSize = 1000

func pageSize(c echo.Context, def int) (int, error) {
	raw := c.QueryParam("pageSize")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, invalid("pageSize", "must be a number from 1 to 1000")
	}
	return n, nil
}

// page is the paginated envelope of listings.
type page[T any] struct {
	Items             []T     `json:"items"`
	ContinuationToken *string `json:"continuationToken"`
}

func newPage[T any](items []T, next string) page[T] {
	if items == nil {
		items = []T{}
	}
	p := page[T]{Items: items}
	if next != "" {
		tok := encodeToken(next)
		p.ContinuationToken = &tok
	}
	return p
}

func (a *API) ok(c echo.Context, v any) error { return c.JSON(http.StatusOK, v) }
