package repo

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
)

func fieldErr(field, format string, args ...any) error {
	return &errs.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9\-][A-Za-z0-9._\-]*$`)

func (m *Manager) validate(ctx context.Context, cfg *Config) error {
	if !namePattern.MatchString(cfg.Name) || len(cfg.Name) > 200 {
		return fieldErr("name", "must contain only letters, digits, '.', '_' and '-', and not start with '.' or '_'")
	}
	f, ok := m.formats[cfg.Format]
	if !ok {
		return fieldErr("format", "unknown format %q", cfg.Format)
	}
	if cfg.Storage.BlobStoreName == "" {
		return fieldErr("storage.blobStoreName", "may not be empty")
	}
	if _, ok := m.BlobStore(cfg.Storage.BlobStoreName); !ok {
		return fieldErr("storage.blobStoreName", "blob store %s does not exist", cfg.Storage.BlobStoreName)
	}
	switch cfg.Type {
	case Hosted:
		wp := strings.ToLower(cfg.Storage.WritePolicy)
		if wp == "" {
			wp = WriteAllowOnce
		}
		if wp != WriteAllow && wp != WriteAllowOnce && wp != WriteDeny {
			return fieldErr("storage.writePolicy", "must be one of allow, allow_once, deny")
		}
		cfg.Storage.WritePolicy = wp
		cfg.Proxy, cfg.NegativeCache, cfg.HTTPClient, cfg.Group = nil, nil, nil, nil
	case Proxy:
		cfg.Storage.WritePolicy = ""
		cfg.Group = nil
		if err := validateProxy(cfg); err != nil {
			return err
		}
	case Group:
		cfg.Storage.WritePolicy = ""
		cfg.Proxy, cfg.NegativeCache, cfg.HTTPClient = nil, nil, nil
		if err := m.validateGroup(ctx, cfg); err != nil {
			return err
		}
	default:
		return fieldErr("type", "must be hosted, proxy or group")
	}
	if err := m.validateCleanup(cfg); err != nil {
		return err
	}
	if err := m.validateRoutingRule(cfg); err != nil {
		return err
	}
	if err := f.Validate(cfg); err != nil {
		return err
	}
	return m.checkUnique(f, cfg)
}

func validateProxy(cfg *Config) error {
	p := cfg.Proxy
	if p == nil {
		return fieldErr("proxy", "may not be null")
	}
	if p.RemoteURL == "" {
		return fieldErr("proxy.remoteUrl", "may not be empty")
	}
	if p.ContentMaxAge < -1 {
		return fieldErr("proxy.contentMaxAge", "must be -1 or more")
	}
	if p.MetadataMaxAge < -1 {
		return fieldErr("proxy.metadataMaxAge", "must be -1 or more")
	}
	if cfg.NegativeCache == nil {
		cfg.NegativeCache = &NegativeCache{Enabled: true, TimeToLive: 1440}
	}
	if cfg.NegativeCache.TimeToLive < -1 {
		return fieldErr("negativeCache.timeToLive", "must be -1 or more")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &HTTPClient{AutoBlock: true}
	}
	if err := validateHTTPClient(cfg.HTTPClient); err != nil {
		return err
	}
	_, err := newProxy(base{cfg: *cfg}, nil)
	if err != nil {
		return fieldErr("proxy.remoteUrl", "%s", errs.Message(err))
	}
	return nil
}

func (m *Manager) validateGroup(ctx context.Context, cfg *Config) error {
	g := cfg.Group
	if g == nil || len(g.MemberNames) == 0 {
		return fieldErr("group.memberNames", "may not be empty")
	}
	seen := map[string]bool{}
	for _, name := range g.MemberNames {
		member, ok := m.repos[name]
		if !ok {
			return fieldErr("group.memberNames", "repository %s does not exist", name)
		}
		if seen[name] {
			return fieldErr("group.memberNames", "repository %s is listed twice", name)
		}
		seen[name] = true
		if member.Config().Format != cfg.Format {
			return fieldErr("group.memberNames", "repository %s is not a %s repository", name, cfg.Format)
		}
		if m.reaches(name, cfg.Name) {
			return fieldErr("group.memberNames", "repository %s would make the group contain itself", name)
		}
	}
	if g.WritableMember != "" {
		if !seen[g.WritableMember] {
			return fieldErr("group.writableMember", "must be one of the members")
		}
		if m.repos[g.WritableMember].Config().Type != Hosted {
			return fieldErr("group.writableMember", "must be a hosted repository")
		}
	}
	return m.checkMemberPrivileges(ctx, g)
}

// memberActions are what a group hands out on every member: whoever may
// read the group reads the members' content through it.
var memberActions = []string{"browse", "read"}

// checkMemberPrivileges refuses a group whose members the caller in ctx
// could not use directly: a group must never be a way around the members'
// privileges. Uploads to the group go to the writable member, so choosing
// one needs "add" on it too.
func (m *Manager) checkMemberPrivileges(ctx context.Context, g *GroupSettings) error {
	for _, name := range g.MemberNames {
		member := m.repos[name]
		actions := memberActions
		if name == g.WritableMember {
			actions = append(slices.Clip(actions), "add")
		}
		for _, action := range actions {
			if err := member.Authorize(ctx, action); err != nil {
				if errs.KindOf(err) == errs.Unauthorized {
					return err
				}
				return errs.New(errs.Forbidden, "adding repository %s to a group needs privilege %s", name,
					auth.RepositoryView(member.Config().Format, name, action))
			}
		}
	}
	return nil
}

// reaches reports whether repository from is, or contains through groups,
// repository target.
func (m *Manager) reaches(from, target string) bool {
	if from == target {
		return true
	}
	r, ok := m.repos[from]
	if !ok || r.Config().Group == nil {
		return false
	}
	for _, member := range r.Config().Group.MemberNames {
		if m.reaches(member, target) {
			return true
		}
	}
	return false
}
