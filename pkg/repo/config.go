package repo

import (
	"encoding/json"
	"strings"
)

// Repository types.
const (
	Hosted = "hosted"
	Proxy  = "proxy"
	Group  = "group"
)

// Write policies of hosted repositories.
const (
	WriteAllow     = "allow"
	WriteAllowOnce = "allow_once"
	WriteDeny      = "deny"
)

// Config is a repository's configuration in the JSON of the Nexus REST API.
// Sections belonging to a format ("raw", "docker", "maven", "npm"...) are kept
// verbatim in Sections for that format to read.
type Config struct {
	Name          string         `json:"name"`
	Format        string         `json:"format"`
	Type          string         `json:"type"`
	Online        bool           `json:"online"`
	Storage       Storage        `json:"storage"`
	Proxy         *ProxySettings `json:"proxy,omitempty"`
	NegativeCache *NegativeCache `json:"negativeCache,omitempty"`
	HTTPClient    *HTTPClient    `json:"httpClient,omitempty"`
	Group         *GroupSettings `json:"group,omitempty"`
	// Cleanup names the cleanup policies applied (pkg/cleanup).
	Cleanup *CleanupSettings `json:"cleanup,omitempty"`
	// RoutingRule names the routing rule of a proxy or group (see routing.go).
	RoutingRule string `json:"routingRule,omitempty"`
	// Sections holds every other top-level object, by key.
	Sections map[string]json.RawMessage `json:"-"`
}

// Storage is the "storage" section.
type Storage struct {
	BlobStoreName               string `json:"blobStoreName"`
	StrictContentTypeValidation bool   `json:"strictContentTypeValidation"`
	WritePolicy                 string `json:"writePolicy,omitempty"`
	// LatestPolicy lets allow_once repositories redeploy their formats'
	// "latest" (see LatestTag); nil is unset, shown as it was sent.
	LatestPolicy *bool `json:"latestPolicy,omitempty"`
}

// ProxySettings is the "proxy" section. Ages are in minutes; -1 means forever.
type ProxySettings struct {
	RemoteURL      string `json:"remoteUrl"`
	ContentMaxAge  int    `json:"contentMaxAge"`
	MetadataMaxAge int    `json:"metadataMaxAge"`
}

// NegativeCache is the "negativeCache" section; TimeToLive is in minutes.
type NegativeCache struct {
	Enabled    bool `json:"enabled"`
	TimeToLive int  `json:"timeToLive"`
}

// HTTPClient is the "httpClient" section.
type HTTPClient struct {
	Blocked        bool            `json:"blocked"`
	AutoBlock      bool            `json:"autoBlock"`
	Authentication *Authentication `json:"authentication,omitempty"`
	Connection     *Connection     `json:"connection,omitempty"`
}

// Authentication holds upstream credentials: Type "username" is Basic auth,
// "bearerToken" sends BearerToken, "ntlm" is kept but refused at use (see
// upstream_settings.go).
type Authentication struct {
	Type        string `json:"type"`
	Username    string `json:"username,omitempty"`
	Password    string `json:"password,omitempty"`
	NTLMHost    string `json:"ntlmHost,omitempty"`
	NTLMDomain  string `json:"ntlmDomain,omitempty"`
	BearerToken string `json:"bearerToken,omitempty"`
	// Preemptive is Nexus's choice of sending credentials unasked; ours
	// always are, the field is kept as sent.
	Preemptive *bool `json:"preemptive,omitempty"`
}

// GroupSettings is the "group" section.
type GroupSettings struct {
	MemberNames    []string `json:"memberNames"`
	WritableMember string   `json:"writableMember,omitempty"`
}

var knownKeys = map[string]bool{"name": true, "format": true, "type": true, "online": true, "storage": true,
	"proxy": true, "negativeCache": true, "httpClient": true, "group": true, "cleanup": true,
	"routingRule": true}

type configFields Config

// UnmarshalJSON reads the known sections and keeps the others in Sections.
func (c *Config) UnmarshalJSON(data []byte) error {
	var fields configFields
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	*c = Config(fields)
	for k, v := range all {
		if !knownKeys[k] && strings.HasPrefix(strings.TrimSpace(string(v)), "{") {
			if c.Sections == nil {
				c.Sections = map[string]json.RawMessage{}
			}
			c.Sections[k] = v
		}
	}
	return nil
}

// MarshalJSON writes the known sections and Sections side by side.
func (c Config) MarshalJSON() ([]byte, error) {
	raw, err := json.Marshal(configFields(c))
	if err != nil || len(c.Sections) == 0 {
		return raw, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	for k, v := range c.Sections {
		all[k] = v
	}
	return json.Marshal(all)
}

// Section decodes the format section key into v; it reports whether the
// section was present.
func (c *Config) Section(key string, v any) (bool, error) {
	raw, ok := c.Sections[key]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

// SetSection stores v as the format section key.
func (c *Config) SetSection(key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if c.Sections == nil {
		c.Sections = map[string]json.RawMessage{}
	}
	c.Sections[key] = raw
	return nil
}

// WithoutSecrets is c without the upstream password or token, as c is
// shown to clients (REST, the UI).
func (c Config) WithoutSecrets() Config {
	if c.HTTPClient != nil && c.HTTPClient.Authentication != nil {
		hc, a := *c.HTTPClient, *c.HTTPClient.Authentication
		a.Password, a.BearerToken = "", ""
		hc.Authentication = &a
		c.HTTPClient = &hc
	}
	return c
}
