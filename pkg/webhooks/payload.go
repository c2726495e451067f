package webhooks

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Nexus's webhook ids, sent in X-Nexus-Webhook-Id: what kind of payload
// the body is.
var webhookIDs = map[string]string{
	meta.EventAsset:      "rm:repository:asset",
	meta.EventDownload:   "rm:repository:asset",
	meta.EventComponent:  "rm:repository:component",
	meta.EventRepository: "rm:global:repository",
	meta.EventAudit:      "rm:global:audit",
}

// EventTypes are the event types a webhook may ask for; download (an
// asset served, action DOWNLOADED in an asset payload) is optional.
var EventTypes = []string{meta.EventAsset, meta.EventComponent, meta.EventRepository, meta.EventAudit, meta.EventDownload}

// wants reports whether w is to be sent ev.
func wants(w meta.Webhook, ev meta.Event) bool {
	if !slices.Contains(w.EventTypes, ev.Type) {
		return false
	}
	// An endpoint's ignored actions are passed over without rendering,
	// and are not counted as pending.
	if len(w.IgnoredActions) > 0 && ev.Asset != nil && slices.Contains(w.IgnoredActions, repo.RegistryAction(ev)) {
		return false
	}
	// Audit records belong to no repository: a repository filter keeps none.
	return len(w.Repositories) == 0 || ev.Type != meta.EventAudit && slices.Contains(w.Repositories, ev.Repository)
}

// timestampLayout is Nexus's payload timestamp: milliseconds and a numeric zone.
const timestampLayout = "2006-01-02T15:04:05.000-0700"

type assetJSON struct {
	ID      string `json:"id"`
	AssetID string `json:"assetId"`
	Format  string `json:"format"`
	Name    string `json:"name"`
}

type componentJSON struct {
	ID          string `json:"id"`
	ComponentID string `json:"componentId"`
	Format      string `json:"format"`
	Name        string `json:"name"`
	Group       string `json:"group,omitempty"`
	Version     string `json:"version,omitempty"`
}

type repositoryJSON struct {
	Format string `json:"format"`
	Name   string `json:"name"`
	Type   string `json:"type"`
}

// payload is the body of a Nexus webhook request.
type payload struct {
	Timestamp      string          `json:"timestamp"`
	NodeID         string          `json:"nodeId"`
	Initiator      string          `json:"initiator"`
	RepositoryName string          `json:"repositoryName,omitempty"`
	Action         string          `json:"action"`
	Asset          *assetJSON      `json:"asset,omitempty"`
	Component      *componentJSON  `json:"component,omitempty"`
	Repository     *repositoryJSON `json:"repository,omitempty"`
	Audit          *auditJSON      `json:"audit,omitempty"`
}

type auditJSON struct {
	Domain     string            `json:"domain"`
	Type       string            `json:"type"`
	Context    string            `json:"context"`
	Attributes map[string]string `json:"attributes"`
}

// render returns the Nexus payload of ev; format names the format of the
// event's repository when the event does not carry it.
func render(ev meta.Event, nodeID, format string) ([]byte, error) {
	p := payload{Timestamp: ev.Time.In(time.UTC).Format(timestampLayout), NodeID: nodeID,
		Initiator: ev.Initiator, Action: ev.Action}
	switch ev.Type {
	case meta.EventAsset, meta.EventDownload:
		p.RepositoryName = ev.Repository
		p.Asset = &assetJSON{ID: ev.Asset.ID, AssetID: ev.Asset.ID, Format: format, Name: ev.Asset.Path}
	case meta.EventComponent:
		c := ev.Component
		p.RepositoryName = ev.Repository
		p.Component = &componentJSON{ID: c.ID, ComponentID: c.ID, Format: c.Format, Name: c.Name,
			Group: c.Group, Version: c.Version}
	case meta.EventRepository:
		var cfg repositoryJSON
		if err := json.Unmarshal(ev.Config, &cfg); err != nil {
			return nil, err
		}
		cfg.Name = ev.Repository
		p.Repository = &cfg
	case meta.EventAudit:
		r := ev.Audit
		p.Audit = &auditJSON{Domain: r.Domain, Type: r.Type, Context: r.Context, Attributes: r.Attributes}
		p.Timestamp = r.Timestamp.In(time.UTC).Format(timestampLayout)
	}
	return json.Marshal(p)
}

// sign is Nexus's X-Nexus-Webhook-Signature: the hex HMAC-SHA1 of the
// body under the webhook's secret (SHA-1 because receivers written for
// Nexus verify exactly that).
func sign(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
