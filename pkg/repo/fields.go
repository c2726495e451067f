package repo

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// FieldKind is how a configuration field is entered.
type FieldKind string

// Field kinds. Members is the ordered member list of a group, Member one
// of its hosted members; their options are repositories of the format.
const (
	FieldText     FieldKind = "text"
	FieldNumber   FieldKind = "number"
	FieldBool     FieldKind = "bool"
	FieldSelect   FieldKind = "select"
	FieldPassword FieldKind = "password" // write-only: never shown back
	FieldMembers  FieldKind = "members"
	FieldMember   FieldKind = "member"
)

// Field is one setting of a repository configuration, named by its path
// in the Nexus JSON ("proxy.remoteUrl", "docker.httpPort"), the same path
// an errs.FieldError names.
type Field struct {
	Path, Label, Help string
	Kind              FieldKind
	Options           []string // select: the allowed values; members: the candidate repositories
	Default           string   // the value a new repository's form starts with
	// Section is the heading the field is shown under.
	Section string
}

// ConfigFields is implemented by formats with settings of their own: the
// fields of their sections that a repository of type typ has.
type ConfigFields interface {
	Fields(typ string) []Field
}

// GroupWriter is implemented by formats whose groups take uploads, sent
// on to the group's writable member (Docker pushes, npm publishes): only
// their group forms offer a writable member.
type GroupWriter interface {
	WritesThroughGroups() bool
}

// Fields returns every field a repository of format and type has: the
// engine's for the type, then the format's (ConfigFields). Options of
// blob store and member fields are filled from what exists; members are
// the repositories of the format the caller in ctx may see.
func (m *Manager) Fields(ctx context.Context, format, typ string) ([]Field, error) {
	f, ok := m.Format(format)
	if !ok {
		return nil, errs.New(errs.NotFound, "unknown format %s", format)
	}
	if typ != Hosted && typ != Proxy && typ != Group {
		return nil, errs.New(errs.NotFound, "unknown repository type %s", typ)
	}
	var stores []string
	for _, b := range m.BlobStores() {
		stores = append(stores, b.Name())
	}
	const general, storage = "General", "Storage"
	out := []Field{
		{Path: "name", Label: "Name", Kind: FieldText, Section: general,
			Help: "Letters, digits, '.', '_' and '-'; part of the repository's URL."},
		{Path: "online", Label: "Online", Kind: FieldBool, Default: "true", Section: general,
			Help: "Offline repositories answer no requests."},
		{Path: "storage.blobStoreName", Label: "Blob store", Kind: FieldSelect, Options: stores, Default: "default", Section: storage},
		{Path: "storage.strictContentTypeValidation", Label: "Strict content type validation", Kind: FieldBool, Default: "true", Section: storage,
			Help: "Refuse uploads whose content does not match their type."},
	}
	switch typ {
	case Hosted:
		out = append(out, Field{Path: "storage.writePolicy", Label: "Write policy", Kind: FieldSelect, Section: storage,
			Options: []string{"ALLOW", "ALLOW_ONCE", "DENY"}, Default: "ALLOW_ONCE",
			Help: "ALLOW_ONCE keeps published content from being overwritten; DENY makes the repository read-only."})
	case Proxy:
		const proxy, client = "Proxy", "HTTP client"
		out = append(out,
			Field{Path: "proxy.remoteUrl", Label: "Remote URL", Kind: FieldText, Section: proxy,
				Help: "The upstream repository, e.g. https://upstream.example/repository/releases/."},
			Field{Path: "proxy.contentMaxAge", Label: "Content max age (minutes)", Kind: FieldNumber, Default: "1440", Section: proxy,
				Help: "How long cached content is served without asking the upstream; -1 is forever."},
			Field{Path: "proxy.metadataMaxAge", Label: "Metadata max age (minutes)", Kind: FieldNumber, Default: "1440", Section: proxy,
				Help: "The same for metadata (tags, indexes); -1 is forever."},
			Field{Path: "negativeCache.enabled", Label: "Negative cache", Kind: FieldBool, Default: "true", Section: proxy,
				Help: "Remember paths the upstream does not have."},
			Field{Path: "negativeCache.timeToLive", Label: "Negative cache time to live (minutes)", Kind: FieldNumber, Default: "1440", Section: proxy},
			Field{Path: "httpClient.blocked", Label: "Blocked", Kind: FieldBool, Default: "false", Section: client,
				Help: "Send no request to the upstream; serve what is cached."},
			Field{Path: "httpClient.autoBlock", Label: "Auto-block", Kind: FieldBool, Default: "true", Section: client,
				Help: "Stop asking an upstream that fails, for a while."},
			Field{Path: "httpClient.authentication.type", Label: "Upstream authentication", Kind: FieldSelect, Section: client,
				Options: []string{AuthUsername, AuthBearerToken, AuthNTLM}, Default: AuthUsername,
				Help: "username: Basic with the username and password below; bearerToken: the token below; " +
					"ntlm: stored for a later release, refused when used."},
			Field{Path: "httpClient.authentication.username", Label: "Upstream username", Kind: FieldText, Section: client,
				Help: "Leave empty for an upstream without authentication."},
			Field{Path: "httpClient.authentication.password", Label: "Upstream password", Kind: FieldPassword, Section: client,
				Help: "Write-only; leave empty to keep the stored one."},
			Field{Path: "httpClient.authentication.ntlmHost", Label: "NTLM host", Kind: FieldText, Section: client,
				Help: "For ntlm authentication, with the username and password above."},
			Field{Path: "httpClient.authentication.ntlmDomain", Label: "NTLM domain", Kind: FieldText, Section: client},
			Field{Path: "httpClient.authentication.bearerToken", Label: "Upstream bearer token", Kind: FieldPassword, Section: client,
				Help: "For bearerToken authentication. Write-only; leave empty to keep the stored one."},
			Field{Path: "httpClient.connection.timeout", Label: "Timeout (seconds)", Kind: FieldNumber, Section: client,
				Help: "Bounds each upstream exchange, 1 to 3600; empty for the server's proxy.timeout."},
			Field{Path: "httpClient.connection.retries", Label: "Retries", Kind: FieldNumber, Section: client,
				Help: "How often a failed GET is sent again, 0 to 10."},
			Field{Path: "httpClient.connection.userAgentSuffix", Label: "User-Agent suffix", Kind: FieldText, Section: client},
			Field{Path: "httpClient.connection.useTrustStore", Label: "Use the truststore", Kind: FieldBool, Default: "false", Section: client,
				Help: "Trust the truststore's certificates besides the system's."},
			Field{Path: "httpClient.connection.enableCookies", Label: "Keep cookies", Kind: FieldBool, Default: "false", Section: client},
			Field{Path: "httpClient.connection.enableCircularRedirects", Label: "Allow circular redirects", Kind: FieldBool, Default: "false", Section: client},
		)
	case Group:
		members := m.candidates(ctx, format)
		out = append(out, Field{Path: "group.memberNames", Label: "Members", Kind: FieldMembers, Options: members, Section: "Group",
			Help: "Searched in order: the lowest number first."})
		if gw, ok := f.(GroupWriter); ok && gw.WritesThroughGroups() {
			out = append(out, Field{Path: "group.writableMember", Label: "Writable member", Kind: FieldMember, Options: members, Section: "Group",
				Help: "The hosted member that takes uploads sent to the group; none for a read-only group."})
		}
	}
	if typ != Hosted {
		out = append(out, m.routingField())
	}
	if cf, ok := f.(ConfigFields); ok {
		out = append(out, cf.Fields(typ)...)
	}
	return out, nil
}

// candidates are the names of the repositories of format the caller may
// see, for a group's member fields.
func (m *Manager) candidates(ctx context.Context, format string) []string {
	var out []string
	for _, r := range m.List() {
		if r.Config().Format == format && m.Visible(ctx, r) {
			out = append(out, r.Name())
		}
	}
	return out
}

// DecodeConfig reads a repository configuration in the Nexus JSON for
// format f and type typ, with the checks the REST API makes of a body
// before the manager validates it: name, online and storage are required.
func DecodeConfig(f Format, typ string, body []byte) (Config, error) {
	var cfg Config
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return cfg, fieldErr("body", "malformed JSON: %s", err)
	}
	if err := json.Unmarshal(body, &cfg); err != nil {
		return cfg, fieldErr("body", "malformed JSON: %s", err)
	}
	for _, required := range []string{"name", "online", "storage"} {
		if v, ok := fields[required]; !ok || string(v) == "null" {
			return cfg, fieldErr(required, "may not be null")
		}
	}
	cfg.Format, cfg.Type = f.Name(), typ
	return cfg, nil
}

// FieldValues flattens cfg into the values of its fields, by path, as a
// form shows them: booleans "true"/"false", numbers in decimal, members
// in order; passwords are never included.
func FieldValues(cfg Config, fields []Field) (map[string][]string, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var tree map[string]any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, f := range fields {
		if f.Kind == FieldPassword {
			continue
		}
		v, ok := lookupPath(tree, f.Path)
		if !ok {
			continue
		}
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					out[f.Path] = append(out[f.Path], s)
				}
			}
		case string:
			// Stored spellings may differ in case from the options
			// (write policies are stored lower-case).
			for _, o := range f.Options {
				if f.Kind == FieldSelect && strings.EqualFold(o, v) {
					v = o
				}
			}
			out[f.Path] = []string{v}
		case bool, float64:
			b, _ := json.Marshal(v)
			out[f.Path] = []string{string(b)}
		}
	}
	return out, nil
}

// lookupPath finds the value at a dotted path of a decoded JSON object.
func lookupPath(tree map[string]any, path string) (any, bool) {
	parts := strings.Split(path, ".")
	var cur any = tree
	for _, p := range parts {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// setPath sets the value at a dotted path of a JSON object being built,
// creating the objects on the way.
func setPath(tree map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	cur := tree
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[parts[len(parts)-1]] = v
}

// MemberOrderPrefix prefixes the form value that orders a group member:
// "group.memberOrder.<member>" holds its position number.
const MemberOrderPrefix = "group.memberOrder."

// ConfigJSON builds the Nexus JSON of a configuration from form values
// keyed by field path: an empty text, select or number is left out (the
// engine's default applies), a boolean is true when present with "true" or
// "on", members are ordered by their MemberOrderPrefix numbers, upstream
// credentials are absent without a username, a bearer token or NTLM
// with those types, else Basic ("username"); the engine's validation drops
// settings of the other types. A number that is not one
// is an errs.FieldError of its field.
func ConfigJSON(fields []Field, values map[string][]string) ([]byte, error) {
	tree := map[string]any{}
	for _, f := range fields {
		v := url.Values(values).Get(f.Path)
		switch f.Kind {
		case FieldBool:
			setPath(tree, f.Path, v == "true" || v == "on")
		case FieldNumber:
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return nil, fieldErr(f.Path, "must be a whole number")
			}
			setPath(tree, f.Path, n)
		case FieldMembers:
			members, err := orderedMembers(f.Path, values)
			if err != nil {
				return nil, err
			}
			setPath(tree, f.Path, members)
		default:
			if v != "" {
				setPath(tree, f.Path, v)
			}
		}
	}
	if hc, ok := tree["httpClient"].(map[string]any); ok {
		if a, ok := hc["authentication"].(map[string]any); ok {
			switch {
			case a["type"] == AuthBearerToken:
				// The token may be left out: the stored one is kept.
				delete(a, "username")
				delete(a, "password")
			case a["username"] == nil && a["password"] == nil:
				delete(hc, "authentication")
			case a["type"] == AuthNTLM:
				delete(a, "bearerToken")
			default:
				a["type"] = AuthUsername
				delete(a, "bearerToken")
			}
		}
	}
	return json.Marshal(tree)
}

// orderedMembers are the checked members at path, by their order numbers
// (ties keep the form's order).
func orderedMembers(path string, values map[string][]string) ([]string, error) {
	type member struct {
		name  string
		order int
	}
	var ms []member
	for i, name := range values[path] {
		order := i + 1
		if raw := strings.TrimSpace(url.Values(values).Get(MemberOrderPrefix + name)); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil {
				return nil, fieldErr(path, "the position of %s must be a whole number", name)
			}
			order = n
		}
		ms = append(ms, member{name, order})
	}
	slices.SortStableFunc(ms, func(a, b member) int { return a.order - b.order })
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.name
	}
	return out, nil
}

// HasField reports whether fields has one at path.
func HasField(fields []Field, path string) bool {
	return slices.ContainsFunc(fields, func(f Field) bool { return f.Path == path })
}

// OverFields lays the JSON a form built (ConfigJSON) over the stored
// configuration old, so that an edit changes only what the form shows:
// every setting the form has no field for (a cleanup policy, a routing
// rule, a list the form cannot edit) is kept. The form decides each of its
// fields' paths, absent meaning the default; an object chosen by a
// selected "type" (upstream authentication) is the form's whole when the
// form names another type or none, so no setting of the old type stays
// behind. Stored secrets are left out: the manager keeps those an update
// does not repeat.
func OverFields(old Config, fields []Field, form []byte) ([]byte, error) {
	raw, err := json.Marshal(old.WithoutSecrets())
	if err != nil {
		return nil, err
	}
	var tree, over map[string]any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(form, &over); err != nil {
		return nil, err
	}
	for _, f := range fields {
		parent, ok := strings.CutSuffix(f.Path, ".type")
		if ok && f.Kind == FieldSelect {
			was, _ := lookupPath(tree, f.Path)
			now, _ := lookupPath(over, f.Path)
			if was != now {
				deletePath(tree, parent)
			}
		}
		deletePath(tree, f.Path)
	}
	mergeTrees(tree, over)
	return json.Marshal(tree)
}

// deletePath removes the value at a dotted path, if there is one.
func deletePath(tree map[string]any, path string) {
	parent, last := "", path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent, last = path[:i], path[i+1:]
	}
	obj := tree
	if parent != "" {
		v, ok := lookupPath(tree, parent)
		if obj, ok = v.(map[string]any); !ok {
			return
		}
	}
	delete(obj, last)
}

// mergeTrees copies over into tree, object by object.
func mergeTrees(tree, over map[string]any) {
	for k, v := range over {
		sub, isObj := v.(map[string]any)
		dst, hasObj := tree[k].(map[string]any)
		if isObj && hasObj {
			mergeTrees(dst, sub)
			continue
		}
		tree[k] = v
	}
}
