package repo

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// record records an event with Options.Audit (nil records nothing).
func (m *Manager) record(ctx context.Context, domain, typ, subject string, attrs map[string]string) {
	m.opts.Audit.Record(ctx, domain, typ, subject, attrs)
}

// consequentKey marks a context whose deletes follow from a change
// audited on its own (see Consequent).
type consequentKey struct{}

// Consequent returns ctx for deletes that follow from a change audited
// on its own, so that they are not audited one by one: a component's
// assets, a deleted manifest's tags and unreferenced layers, metadata a
// format rewrites.
func Consequent(ctx context.Context) context.Context {
	return context.WithValue(ctx, consequentKey{}, true)
}

// auditDelete records a client's delete of the asset at p through its
// protocol (a Docker manifest, an npm unpublish, a raw DELETE). The
// server's own deletes are not, nor the Consequent ones.
func (b *base) auditDelete(ctx context.Context, p string) {
	if ctx.Value(consequentKey{}) != nil || audit.Initiator(ctx) == "system" {
		return
	}
	b.record(ctx, "repository.asset", "deleted", p, map[string]string{"repository": b.cfg.Name, "path": p})
}

// configAttrs describe a repository in audit records: what it is and
// where it points, never its upstream credentials.
func configAttrs(cfg Config) map[string]string {
	out := map[string]string{"name": cfg.Name, "format": cfg.Format, "type": cfg.Type,
		"online": strconv.FormatBool(cfg.Online), "blobStoreName": cfg.Storage.BlobStoreName}
	if cfg.Storage.WritePolicy != "" {
		out["writePolicy"] = cfg.Storage.WritePolicy
	}
	if cfg.Proxy != nil {
		out["remoteUrl"] = bareURL(cfg.Proxy.RemoteURL)
	}
	if cfg.Group != nil {
		out["memberNames"] = strings.Join(cfg.Group.MemberNames, ",")
	}
	if cfg.RoutingRule != "" {
		out["routingRule"] = cfg.RoutingRule
	}
	if cfg.Cleanup != nil {
		out["cleanupPolicies"] = strings.Join(cfg.Cleanup.PolicyNames, ",")
	}
	return out
}

// bareURL is raw without what may be a secret: user info, query and
// fragment.
func bareURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "" // validation refuses such a remote; nothing to show
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

func assetAttrs(a *meta.Asset) map[string]string {
	return map[string]string{"repository": a.Repository, "path": a.Path, "id": a.ID}
}

// componentAttrs describe a component and how many assets went with it.
func componentAttrs(c *meta.Component, assets int) map[string]string {
	return map[string]string{"repository": c.Repository, "format": c.Format, "group": c.Group, "name": c.Name,
		"version": c.Version, "id": c.ID, "assets": strconv.Itoa(assets)}
}

func blobStoreAttrs(c meta.BlobStoreConfig) map[string]string {
	out := map[string]string{"name": c.Name, "type": c.Type, "path": c.Path}
	if c.SoftQuota != nil {
		out["softQuotaType"], out["softQuotaLimit"] = c.SoftQuota.Type, strconv.FormatInt(c.SoftQuota.Limit, 10)
	}
	return out
}

func routingRuleAttrs(r RoutingRule) map[string]string {
	return map[string]string{"name": r.Name, "description": r.Description, "mode": r.Mode,
		"matchers": strings.Join(r.Matchers, ",")}
}
